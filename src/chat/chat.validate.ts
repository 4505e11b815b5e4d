import type { Limits } from '../config/config';
import { badRequest } from '../http/errors';
import { chatInput } from './chat.model';

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

function contentLength(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let total = 0;
  for (const part of content) if (typeof part.text === 'string') total += part.text.length;
  return total;
}

/**
 * The body's shape, types and ranges are checked by its schema (chatInput in chat.model.ts: 400 for shape
 * and type, 422 for values out of range); then the rules a schema can't state, in order.
 */
export function validateChatBody(input: Record<string, unknown>, limits: Limits): ChatRequest {
  const body = chatInput(limits).check(input);
  let totalChars = 0;
  body.messages.forEach((m, i) => {
    if (m.content === undefined && m.role !== 'assistant')
      throw badRequest('missing_content', `messages[${i}].content is required`, `messages[${i}].content`);
    totalChars += contentLength(m.content);
  });
  if (totalChars > limits.maxContentChars)
    throw badRequest('content_too_long', `messages hold ${totalChars} characters of content; the limit is ${limits.maxContentChars}`, 'messages');
  const metadata = body.metadata ?? null;
  if (metadata && JSON.stringify(metadata).length > 16 * 1024) throw badRequest('invalid_value', 'metadata is larger than 16 KiB', 'metadata');
  const useCompletionField = typeof body.max_completion_tokens === 'number';
  const maxTokens = useCompletionField ? body.max_completion_tokens : body.max_tokens;
  return {
    body: input as ChatRequest['body'],
    stream: body.stream === true,
    wantsUsage: body.stream_options?.include_usage === true,
    maxTokens: typeof maxTokens === 'number' ? maxTokens : null,
    maxTokensField: useCompletionField ? 'max_completion_tokens' : 'max_tokens',
    endUser: typeof body.user === 'string' ? body.user : null,
    metadata: metadata as Record<string, unknown> | null,
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
