import type { ExchangeRecord } from '../chat/chat.service';
import { badRequest, notFound } from '../http/errors';
import { checkLimit, pageOf } from '../http/paging';
import { formatMicros } from '../money/money';
import { messageText } from '../upstream/tokenizer';
import type { ConversationRow, ConversationsRepo, ExchangeWrite, MessageRow, NewMessage } from './conversations.repo';

export const MAX_CONVERSATIONS_PAGE = 100;
export const MAX_MESSAGES_PAGE = 1000;

const iso = (ms: number) => new Date(ms).toISOString();
const parseJson = (text: string | null) => (text ? JSON.parse(text) : null);

export function toConversationView(c: ConversationRow) {
  return {
    id: c.id,
    object: 'conversation' as const,
    tracked: c.tracked === 1,
    end_user: c.end_user,
    metadata: parseJson(c.metadata),
    message_count: c.message_count,
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}

function toMessageView(m: MessageRow) {
  return {
    seq: m.seq,
    role: m.role,
    content: m.content,
    model: m.model,
    usage: m.total_tokens === null ? null : { prompt_tokens: m.prompt_tokens, completion_tokens: m.completion_tokens, total_tokens: m.total_tokens },
    cost: m.cost_micros === null ? null : formatMicros(m.cost_micros),
    latency_ms: m.latency_ms,
    streamed: m.streamed === null ? null : m.streamed === 1,
    end_user: m.end_user,
    metadata: parseJson(m.metadata),
    request_id: m.request_id,
    created_at: iso(m.created_at),
  };
}

/** Turns a finished exchange into rows: the request's history (stored once) and the assistant answer. */
export function toExchangeWrite(r: ExchangeRecord): ExchangeWrite {
  const metadata = r.request.metadata ? JSON.stringify(r.request.metadata) : null;
  const base = { model: null, prompt_tokens: null, completion_tokens: null, total_tokens: null, cost_micros: null, latency_ms: null, streamed: null, end_user: r.request.endUser, metadata: null, request_id: r.requestId, created_at: r.createdAtMs };
  const history: NewMessage[] = r.request.body.messages.map((m) => ({ ...base, role: m.role, content: messageText(m.content) }));
  const answer: NewMessage = {
    ...base,
    role: 'assistant',
    content: r.answerText,
    model: r.model,
    prompt_tokens: r.usage.prompt_tokens,
    completion_tokens: r.usage.completion_tokens,
    total_tokens: r.usage.total_tokens,
    cost_micros: r.costMicros,
    latency_ms: r.latencyMs,
    streamed: r.streamed ? 1 : 0,
    metadata,
  };
  return {
    projectId: r.projectId,
    conversationId: r.conversationId ?? r.requestId,
    tracked: r.conversationId !== null,
    endUser: r.request.endUser,
    metadata,
    atMs: r.createdAtMs,
    history,
    answer,
  };
}

function decodeCursor(cursor: string | null): { id: string; updatedAt: number } | null {
  if (!cursor) return null;
  const [ts, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const updatedAt = Number(ts);
  if (!Number.isSafeInteger(updatedAt) || rest.length === 0) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
  return { id: rest.join(':'), updatedAt };
}

const encodeCursor = (c: ConversationRow) => Buffer.from(`${c.updated_at}:${c.id}`).toString('base64url');

export function createConversationsService(deps: { repo: ConversationsRepo }) {
  function list(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_CONVERSATIONS_PAGE);
    const { page, has_more, next_cursor } = pageOf(deps.repo.list(projectId, limit + 1, decodeCursor(cursor)), limit, encodeCursor);
    return { object: 'list' as const, data: page.map(toConversationView), has_more, next_cursor };
  }

  function get(projectId: string, id: string, fromSeq: number, limit: number) {
    const row = deps.repo.get(projectId, id);
    if (!row) throw notFound('conversation_not_found', `No conversation with id ${id}`);
    checkLimit(limit, MAX_MESSAGES_PAGE);
    const { page, has_more, next_cursor } = pageOf(deps.repo.messages(projectId, id, fromSeq, limit + 1), limit, (m) => String(m.seq + 1));
    return {
      ...toConversationView(row),
      messages: page.map(toMessageView),
      has_more,
      next_seq: next_cursor === null ? null : Number(next_cursor),
    };
  }

  return { list, get, recentUserMessages: deps.repo.recentUserMessages, writeBatch: (records: ExchangeRecord[]) => deps.repo.writeBatch(records.filter((r) => r.status === 200 || r.answerText.length > 0).map(toExchangeWrite)) };
}
export type ConversationsService = ReturnType<typeof createConversationsService>;
