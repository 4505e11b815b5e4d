import type { Limits } from '../config/config';
import { badRequest, unprocessable } from '../http/errors';

/** The request after validation: the raw body (passed upstream untouched) plus what the gateway reads. */
export type ChatRequest = {
  body: Record<string, unknown> & { model: string; messages: ChatMessage[] };
  stream: boolean;
  wantsUsage: boolean;
  maxTokens: number | null;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  endUser: string | null;
  metadata: Record<string, unknown> | null;
};
export type ChatMessage = { role: string; content?: unknown; name?: unknown };

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

type Range = { min: number; max: number; integer?: boolean };
const RANGES: Record<string, Range> = {
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1 },
  presence_penalty: { min: -2, max: 2 },
  frequency_penalty: { min: -2, max: 2 },
  n: { min: 1, max: 128, integer: true },
  max_tokens: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  max_completion_tokens: { min: 1, max: Number.MAX_SAFE_INTEGER, integer: true },
  top_logprobs: { min: 0, max: 20, integer: true },
};

function checkNumber(body: Record<string, unknown>, field: string, range: Range): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw badRequest('invalid_type', `${field} must be a number`, field);
  if (range.integer && !Number.isInteger(value)) throw badRequest('invalid_type', `${field} must be an integer`, field);
  if (value < range.min || value > range.max)
    throw unprocessable('invalid_value', `${field} must be between ${range.min} and ${range.max}, got ${value}`, field);
}

function contentLength(content: unknown, index: number): number {
  if (content === undefined || content === null) return 0;
  if (typeof content === 'string') return content.length;
  if (Array.isArray(content)) {
    let total = 0;
    for (const part of content) {
      if (!part || typeof part !== 'object' || typeof part.type !== 'string')
        throw badRequest('invalid_type', `messages[${index}].content parts must be objects with a type`, `messages[${index}].content`);
      if (typeof part.text === 'string') total += part.text.length;
    }
    return total;
  }
  throw badRequest('invalid_type', `messages[${index}].content must be a string or an array of content parts`, `messages[${index}].content`);
}

function checkMessages(messages: unknown, limits: Limits): ChatMessage[] {
  if (messages === undefined || messages === null) throw badRequest('missing_messages', 'messages is required', 'messages');
  if (!Array.isArray(messages)) throw badRequest('invalid_type', 'messages must be an array', 'messages');
  if (messages.length === 0) throw badRequest('empty_messages', 'messages must contain at least one message', 'messages');
  if (messages.length > limits.maxMessages)
    throw badRequest('too_many_messages', `messages has ${messages.length} entries; the limit is ${limits.maxMessages}`, 'messages');
  let totalChars = 0;
  messages.forEach((m, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw badRequest('invalid_type', `messages[${i}] must be an object`, `messages[${i}]`);
    if (typeof m.role !== 'string') throw badRequest('invalid_type', `messages[${i}].role must be a string`, `messages[${i}].role`);
    if (!ROLES.has(m.role))
      throw badRequest('invalid_value', `messages[${i}].role must be one of ${[...ROLES].join(', ')}`, `messages[${i}].role`);
    if (m.content === undefined && m.role !== 'assistant')
      throw badRequest('missing_content', `messages[${i}].content is required`, `messages[${i}].content`);
    totalChars += contentLength(m.content, i);
  });
  if (totalChars > limits.maxContentChars)
    throw badRequest('content_too_long', `messages hold ${totalChars} characters of content; the limit is ${limits.maxContentChars}`, 'messages');
  return messages as ChatMessage[];
}

/** Field checks in a fixed order; 400 for shape and type, 422 for values out of range. */
export function validateChatBody(body: Record<string, unknown>, limits: Limits): ChatRequest {
  if (body.model === undefined || body.model === null) throw badRequest('missing_model', 'model is required', 'model');
  if (typeof body.model !== 'string' || body.model.length === 0) throw badRequest('invalid_type', 'model must be a non-empty string', 'model');
  if (body.model.length > limits.maxModelChars) throw badRequest('invalid_value', 'model name is too long', 'model');
  const messages = checkMessages(body.messages, limits);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean')
    throw badRequest('invalid_type', 'stream must be a boolean', 'stream');
  for (const [field, range] of Object.entries(RANGES)) checkNumber(body, field, range);
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions)))
    throw badRequest('invalid_type', 'stream_options must be an object', 'stream_options');
  if (body.user !== undefined && (typeof body.user !== 'string' || body.user.length > 256))
    throw badRequest('invalid_type', 'user must be a string of at most 256 characters', 'user');
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
    throw badRequest('invalid_type', 'metadata must be an object', 'metadata');
  if (metadata && JSON.stringify(metadata).length > 16 * 1024) throw badRequest('invalid_value', 'metadata is larger than 16 KiB', 'metadata');
  const useCompletionField = typeof body.max_completion_tokens === 'number';
  const maxTokens = (useCompletionField ? body.max_completion_tokens : body.max_tokens) as number | undefined;
  return {
    body: body as ChatRequest['body'],
    stream: body.stream === true,
    wantsUsage: (streamOptions as { include_usage?: unknown } | undefined)?.include_usage === true,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : null,
    maxTokensField: useCompletionField ? 'max_completion_tokens' : 'max_tokens',
    endUser: typeof body.user === 'string' ? body.user : null,
    metadata: (metadata as Record<string, unknown> | undefined) ?? null,
  };
}

const CONVERSATION_ID = /^[\x21-\x7e]+$/;

/** x-conversation-id: printable ASCII without spaces, bounded; null when absent. */
export function validateConversationId(value: string | null, limits: Limits): string | null {
  if (value === null || value === '') return null;
  if (value.length > limits.maxConversationIdChars || !CONVERSATION_ID.test(value))
    throw badRequest(
      'invalid_conversation_id',
      `x-conversation-id must be 1 to ${limits.maxConversationIdChars} printable ASCII characters without spaces`,
      'x-conversation-id',
    );
  return value;
}
