import { Type as T } from '@sinclair/typebox';

import type { Limits } from '../config/config';
import { StringEnum, validator, type Validator } from '../http/schema';

export const CHAT_ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'] as const;

/** A number field of the seed: 400 invalid_type when it is not a number, 422 invalid_value out of range. */
const range = (kind: 'number' | 'integer', min: number, max?: number, description?: string) => {
  const options = { minimum: min, ...(max === undefined ? {} : { maximum: max }), description, 'x-error-codes': { type: 'invalid_type' }, 'x-error-status': 422 };
  return T.Optional(T.Union([kind === 'integer' ? T.Integer(options) : T.Number(options), T.Null()], { 'x-error-codes': { type: 'invalid_type' }, 'x-error-status': 422 }));
};

const ContentPart = T.Object(
  { type: T.String({ minLength: 1, example: 'text', description: 'text, image_url, input_audio, file, ...' }), text: T.Optional(T.String()) },
  { additionalProperties: true, 'x-error-codes': { type: 'invalid_type', required: 'invalid_type' } },
);

/**
 * The chat completions body: validates the request (compiled once per set of limits), types it, and is its
 * OpenAPI schema. Fields the gateway does not read pass through to the upstream untouched, so unknown
 * fields are allowed here (the OpenAI contract), unlike the admin API. What a schema can't state stays in
 * chat.validate.ts: content required except for assistant turns, the total content size, metadata's size.
 */
function chatRequestSchema(limits: Limits) {
  const Message = T.Object(
    {
      role: StringEnum(CHAT_ROLES, { 'x-error-codes': { type: 'invalid_type', required: 'invalid_type' } }),
      content: T.Optional(T.Union([T.String(), T.Array(ContentPart), T.Null()], { 'x-error-codes': { type: 'invalid_type' }, 'x-error-code': 'invalid_type', description: 'A string or content parts; required except for assistant messages with tool calls' })),
      name: T.Optional(T.String()),
    },
    { additionalProperties: true, 'x-error-codes': { type: 'invalid_type' } },
  );
  return T.Object(
    {
      model: T.String({ minLength: 1, maxLength: limits.maxModelChars, description: 'A model from GET /v1/models', example: 'vexrail-demo', 'x-error-codes': { required: 'missing_model', type: 'invalid_type', minLength: 'invalid_type' } }),
      messages: T.Array(Message, { minItems: 1, maxItems: limits.maxMessages, 'x-error-codes': { required: 'missing_messages', type: 'invalid_type', minItems: 'empty_messages', maxItems: 'too_many_messages' } }),
      stream: T.Optional(T.Union([T.Boolean({ default: false }), T.Null()], { 'x-error-codes': { type: 'invalid_type' } })),
      temperature: range('number', 0, 2),
      top_p: range('number', 0, 1),
      presence_penalty: range('number', -2, 2),
      frequency_penalty: range('number', -2, 2),
      n: range('integer', 1, 128),
      max_tokens: range('integer', 1, undefined, 'Output cap; the hold on the wallet is sized from it'),
      max_completion_tokens: range('integer', 1, undefined, 'Output cap (newer name of max_tokens)'),
      top_logprobs: range('integer', 0, 20),
      stream_options: T.Optional(T.Union([T.Object({ include_usage: T.Optional(T.Boolean()) }, { additionalProperties: true }), T.Null()], { 'x-error-codes': { type: 'invalid_type' }, 'x-error-code': 'invalid_type' })),
      user: T.Optional(T.String({ maxLength: 256, description: 'End-user id, stored with the conversation', 'x-error-code': 'invalid_type' })),
      // An open object, not T.Record: its patternProperties read as "no keys allowed" to client generators.
      metadata: T.Optional(T.Union([T.Object({}, { additionalProperties: true }), T.Null()], { description: 'Stored with the conversation message (at most 16 KiB as JSON)', 'x-error-codes': { type: 'invalid_type' } })),
    },
    {
      additionalProperties: true,
      // Swagger UI otherwise builds its sample from the bounds (temperature 2, max_tokens 1): a useless first call.
      example: {
        model: 'vexrail-demo',
        messages: [
          { role: 'system', content: 'You are a concise assistant.' },
          { role: 'user', content: 'Suggest three names for a bakery that sells sourdough.' },
        ],
        temperature: 0.7,
        max_tokens: 256,
        stream: false,
        user: 'user-1234',
      },
    },
  );
}

export type ChatRequestSchema = ReturnType<typeof chatRequestSchema>;
const compiled = new WeakMap<Limits, Validator<ChatRequestSchema>>();

/** The chat body's validator for these limits (compiled on first use, then cached). */
export function chatInput(limits: Limits): Validator<ChatRequestSchema> {
  let v = compiled.get(limits);
  if (!v) compiled.set(limits, (v = validator(chatRequestSchema(limits))));
  return v;
}

const Usage = T.Object({ prompt_tokens: T.Integer(), completion_tokens: T.Integer(), total_tokens: T.Integer() });

export const ChatCompletionSchema = T.Object({
  id: T.String({ example: 'chatcmpl-abc123' }),
  object: T.Literal('chat.completion'),
  created: T.Integer(),
  model: T.String(),
  choices: T.Array(
    T.Object({
      index: T.Integer(),
      message: T.Object({ role: T.Literal('assistant'), content: T.Union([T.String(), T.Null()]) }),
      finish_reason: T.Union([T.String(), T.Null()]),
    }),
  ),
  usage: Usage,
});

export const ChatCompletionChunkSchema = T.Object({
  id: T.String(),
  object: T.Literal('chat.completion.chunk'),
  created: T.Integer(),
  model: T.String(),
  choices: T.Array(
    T.Object({
      index: T.Integer(),
      delta: T.Object({ role: T.Optional(T.String()), content: T.Optional(T.String()) }),
      finish_reason: T.Union([T.String(), T.Null()]),
    }),
  ),
  usage: T.Optional(Usage),
});
