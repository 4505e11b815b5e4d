import type { ExchangeRecord } from '../chat/chat.service';
import { badRequest, notFound } from '../http/errors';
import { checkLimit, pageOf } from '../http/paging';
import { formatMicros } from '../money/money';
import { messageText } from '../upstream/tokenizer';
import type { ConversationRow, ConversationsRepo, ConversationTouch, ConversationWriter, MessageRow, NewMessage, TurnRow } from './conversations.repo';
import { contentHash, isInstruction, leadingInstructionCount, overlapLength, type SentTurn, type StoredTurn } from './turn-overlap';

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
    cost_micros: m.cost_micros,
    latency_ms: m.latency_ms,
    streamed: m.streamed === null ? null : m.streamed === 1,
    end_user: m.end_user,
    metadata: parseJson(m.metadata),
    request_id: m.request_id,
    created_at: iso(m.created_at),
  };
}

/** One finished exchange, ready to store: the request's messages with their hashes, and the answer's row. */
export type ExchangeWrite = ConversationTouch & {
  /** The request's messages in order; those the conversation already holds are not stored again. */
  history: SentTurn[];
  /** What a stored request message carries besides role and content. */
  requestFields: Omit<NewMessage, 'role' | 'content' | 'content_hash' | 'content_chars'>;
  answer: NewMessage;
};

const sentTurn = (role: string, content: string): SentTurn => ({ role, content, hash: contentHash(content) });
const toStoredFields = (t: SentTurn) => ({ role: t.role, content: t.content, content_hash: t.hash, content_chars: t.content.length });

/** Turns a finished exchange into what to store: the request's messages (each stored once) and the answer. */
export function toExchangeWrite(r: ExchangeRecord): ExchangeWrite {
  const metadata = r.request.metadata ? JSON.stringify(r.request.metadata) : null;
  const requestFields = { model: null, prompt_tokens: null, completion_tokens: null, total_tokens: null, cost_micros: null, latency_ms: null, streamed: null, end_user: r.request.endUser, metadata: null, request_id: r.requestId, created_at: r.createdAtMs };
  const history = r.request.body.messages.map((m) => sentTurn(m.role, messageText(m.content)));
  const answer: NewMessage = {
    ...requestFields,
    ...toStoredFields(sentTurn('assistant', r.answerText)),
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
    requestFields,
    answer,
  };
}

/**
 * The last turns (role, hash, length) of conversations this process wrote recently, with the message count they
 * end at. A continuing conversation then needs no read of its stored turns: the count the conversation's upsert
 * returns shows whether the tail is still the conversation's end. Messages are only ever appended, so an equal
 * count means nothing was added since, by this process or by another instance on a shared store; a different
 * count means the tail is stale and the turns are read from the store as before. Bounded: at most
 * MAX_TAIL_TURNS turns per conversation (a longer read falls back to the store) and MAX_TAIL_CONVERSATIONS
 * conversations (the least recently written go first).
 */
type TurnTail = { count: number; turns: StoredTurn[] };
export const MAX_TAIL_TURNS = 64;
export const MAX_TAIL_CONVERSATIONS = 4_096;

/** One batch's view of the tails: what the batch wrote so far over what earlier batches committed. */
type TailView = { get(key: string): TurnTail | undefined; set(key: string, tail: TurnTail): void };

function createTailCache() {
  const committed = new Map<string, TurnTail>();
  return {
    /** A view for one batch; its tails reach the cache only through commit(), once the batch is stored. */
    view(): TailView & { commit(): void } {
      const pending = new Map<string, TurnTail>();
      return {
        get: (key) => pending.get(key) ?? committed.get(key),
        set: (key, tail) => void pending.set(key, tail),
        commit() {
          for (const [key, tail] of pending) {
            committed.delete(key);
            committed.set(key, tail);
            if (committed.size > MAX_TAIL_CONVERSATIONS) committed.delete(committed.keys().next().value!);
          }
        },
      };
    },
    size: () => committed.size,
  };
}

const tailKey = (x: ExchangeWrite) => `${x.projectId}\u0000${x.conversationId}`;
const storedTurnOf = (m: NewMessage): StoredTurn => ({ role: m.role, hash: m.content_hash, chars: m.content_chars });

/** An untracked exchange as a conversation of its own: its request's messages, then the answer. */
const freshOf = (x: ExchangeWrite) => ({ touch: x, rows: [...x.history.map((t): NewMessage => ({ ...x.requestFields, ...toStoredFields(t) })), x.answer] });

/**
 * Stores what is new in one exchange: the request's messages the conversation does not hold yet, then the answer.
 * For tracked exchanges, and for an untracked one whose conversation insert was refused (its id exists).
 */
async function storeExchange(repo: ConversationWriter, x: ExchangeWrite, tails: TailView): Promise<void> {
  const storedCount = await repo.touchConversation(x);
  const key = tailKey(x);
  const known = storedCount === 0 ? { count: 0, tail: [] as StoredTurn[] } : await knownCount(repo, x, storedCount, tails.get(key));
  const fresh = x.history.slice(known.count);
  const rows = fresh.map((t): NewMessage => ({ ...x.requestFields, ...toStoredFields(t) }));
  await repo.appendMessages(x.projectId, x.conversationId, storedCount, [...rows, x.answer]);
  const turns = known.tail.concat(rows.map(storedTurnOf), storedTurnOf(x.answer));
  tails.set(key, { count: storedCount + rows.length + 1, turns: turns.length > MAX_TAIL_TURNS ? turns.slice(turns.length - MAX_TAIL_TURNS) : turns });
}

/**
 * How many of the request's first messages the conversation holds: the longest overlap with its last turns.
 * A leading system or developer prompt equal to the one the conversation opened with is a repeat, not a turn
 * (clients that send only the latest message resend it every time), so when the overlap does not reach past
 * that prompt the request is read without it. Reads at most as many stored turns as the request holds
 * (bounded by the request's message limit), and no stored content; none when `cached` still ends the
 * conversation and holds enough turns. Also returns the stored tail it compared against.
 */
async function knownCount(repo: ConversationWriter, x: ExchangeWrite, storedCount: number, cached: TurnTail | undefined): Promise<{ count: number; tail: StoredTurn[] }> {
  const want = Math.min(storedCount, x.history.length);
  const tail = cached !== undefined && cached.count === storedCount && cached.turns.length >= want
    ? cached.turns.slice(cached.turns.length - want)
    : await storedTurns(repo, x, await repo.lastTurns(x.projectId, x.conversationId, want));
  const overlap = overlapLength(tail, x.history);
  // Without the prompt at least `lead` messages are known: worth a look only if the plain reading found fewer.
  const lead = leadingInstructionCount(x.history);
  if (lead > overlap && (await opensWith(repo, x, lead))) return { count: lead + overlapLength(tail, x.history.slice(lead)), tail };
  return { count: overlap, tail };
}

/** Whether the conversation opened with exactly the request's first `lead` (instruction) messages. */
async function opensWith(repo: ConversationWriter, x: ExchangeWrite, lead: number): Promise<boolean> {
  const head = await storedTurns(repo, x, await repo.firstTurns(x.projectId, x.conversationId, lead + 1));
  if (head.length < lead || (head.length > lead && isInstruction(head[lead].role))) return false;
  return x.history.slice(0, lead).every((t, i) => head[i].role === t.role && head[i].hash === t.hash && head[i].chars === t.content.length);
}

/** Stored turns with their hashes; rows written before schema v3 get theirs computed and saved, once. */
async function storedTurns(repo: ConversationWriter, x: ExchangeWrite, rows: TurnRow[]): Promise<StoredTurn[]> {
  const turns: StoredTurn[] = [];
  for (const row of rows) {
    if (row.content_hash !== null && row.content_chars !== null) {
      turns.push({ role: row.role, hash: row.content_hash, chars: row.content_chars });
      continue;
    }
    const content = await repo.messageContent(x.projectId, x.conversationId, row.seq);
    const turn = { role: row.role, hash: contentHash(content), chars: content.length };
    await repo.setTurnHash(x.projectId, x.conversationId, row.seq, turn.hash, turn.chars);
    turns.push(turn);
  }
  return turns;
}

function decodeCursor(cursor: string | null): { id: string; updatedAt: number } | null {
  if (!cursor) return null;
  const [ts, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split(':');
  const updatedAt = Number(ts);
  if (!Number.isSafeInteger(updatedAt) || rest.length === 0) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
  return { id: rest.join(':'), updatedAt };
}

const encodeCursor = (c: ConversationRow) => Buffer.from(`${c.updated_at}:${c.id}`).toString('base64url');

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function createConversationsService(deps: { repo: ConversationsRepo }) {
  const tails = createTailCache();
  async function list(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_CONVERSATIONS_PAGE);
    const { page, has_more, next_cursor } = pageOf(await deps.repo.list(projectId, limit + 1, decodeCursor(cursor)), limit, encodeCursor);
    return { object: 'list' as const, data: page.map(toConversationView), has_more, next_cursor };
  }

  /** The dashboard's list: conversations matching `text` (an id or any message; any case), with their first user message. */
  async function search(projectId: string, text: string | null, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_CONVERSATIONS_PAGE);
    const rows = await deps.repo.search(projectId, text, limit + 1, decodeCursor(cursor));
    const { page, has_more, next_cursor } = pageOf(rows, limit, encodeCursor);
    return {
      object: 'list' as const,
      data: page.map((c) => ({ ...toConversationView(c), first_user_message: c.first_user_message === null ? null : c.first_user_message.slice(0, 300) })),
      has_more, next_cursor,
    };
  }

  async function get(projectId: string, id: string, fromSeq: number, limit: number) {
    const row = await deps.repo.get(projectId, id);
    if (!row) throw notFound('conversation_not_found', `No conversation with id ${id}`);
    checkLimit(limit, MAX_MESSAGES_PAGE);
    const { page, has_more, next_cursor } = pageOf(await deps.repo.messages(projectId, id, fromSeq, limit + 1), limit, (m) => String(m.seq + 1));
    return {
      ...toConversationView(row),
      messages: page.map(toMessageView),
      has_more,
      next_seq: next_cursor === null ? null : Number(next_cursor),
    };
  }

  /**
   * Stores a batch of finished exchanges in one transaction, each conversation's in the order they finished: an
   * exchange sees the turns that earlier exchanges of its conversation (in this batch or before) stored. The
   * conversations are written in a fixed order (project, then id), so that batches of several instances on one
   * store, which lock the conversations they touch until they commit, never wait for each other in a cycle.
   * Resolves once the batch is stored; the caller writes the next batch after that (write-behind.ts).
   */
  async function writeBatch(records: ExchangeRecord[]): Promise<void> {
    const writes = records.filter((r) => r.status === 200 || r.answerText.length > 0).map(toExchangeWrite);
    // Array.prototype.sort is stable: the exchanges of one conversation keep their order.
    writes.sort((a, b) => compare(a.projectId, b.projectId) || compare(a.conversationId, b.conversationId));
    // The batch's tails are kept only if the batch is stored: a rolled-back batch leaves the cache as it was.
    const view = tails.view();
    await deps.repo.writeInTransaction(async (w) => {
      // An untracked request is its own conversation, keyed by its fresh request id: nothing to match against. Runs
      // of them are inserted together, at their place in the order, so the batch still takes its conversations in
      // (project, id) order; tracked exchanges one at a time. An untracked exchange whose id exists already (only a
      // client sending a request id as its conversation id can cause that) is written the long way right after its run.
      for (let i = 0; i < writes.length; ) {
        if (writes[i].tracked) {
          await storeExchange(w, writes[i++], view);
          continue;
        }
        let end = i + 1;
        while (end < writes.length && !writes[end].tracked) end++;
        const run = writes.slice(i, end);
        const created = await w.insertNewConversations(run.map(freshOf));
        for (let k = 0; k < run.length; k++) if (!created[k]) await storeExchange(w, run[k], view);
        i = end;
      }
    });
    view.commit();
  }

  return { list, search, get, recentUserMessages: deps.repo.recentUserMessages, writeBatch, cachedTails: tails.size };
}
export type ConversationsService = ReturnType<typeof createConversationsService>;
