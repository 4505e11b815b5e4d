import { Type as T } from '@sinclair/typebox';

/** Wire schemas for the OpenAPI document (OpenAI's snake_case). */
const Message = T.Object({
  role: T.Union([T.Literal('system'), T.Literal('developer'), T.Literal('user'), T.Literal('assistant'), T.Literal('tool')]),
  content: T.Union([T.String(), T.Array(T.Object({ type: T.String(), text: T.Optional(T.String()) })), T.Null()]),
  name: T.Optional(T.String()),
});

export const ChatCompletionRequestSchema = T.Object(
  {
    model: T.String({ description: 'A model from GET /v1/models', example: 'vexrail-demo' }),
    messages: T.Array(Message, { minItems: 1, maxItems: 1000 }),
    stream: T.Optional(T.Boolean({ default: false })),
    temperature: T.Optional(T.Number({ minimum: 0, maximum: 2 })),
    top_p: T.Optional(T.Number({ minimum: 0, maximum: 1 })),
    max_tokens: T.Optional(T.Integer({ minimum: 1 })),
    max_completion_tokens: T.Optional(T.Integer({ minimum: 1 })),
    n: T.Optional(T.Integer({ minimum: 1, maximum: 128 })),
    stream_options: T.Optional(T.Object({ include_usage: T.Optional(T.Boolean()) })),
    user: T.Optional(T.String({ maxLength: 256, description: 'End-user id, stored with the conversation' })),
    // An open object, not T.Record: its patternProperties read as "no keys allowed" to client generators.
    metadata: T.Optional(T.Object({}, { additionalProperties: true, description: 'Stored with the conversation message' })),
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
