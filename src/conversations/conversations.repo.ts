import { thenOf, type Awaitable, type SqlStore, type Tx } from '../store/sql-store';

export type ConversationRow = {
  id: string;
  project_id: string;
  tracked: number;
  end_user: string | null;
  metadata: string | null;
  message_count: number;
  created_at: number;
  updated_at: number;
};

export type MessageRow = {
  seq: number;
  role: string;
  content: string;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  total_tokens: number | null;
  cost_micros: number | null;
  latency_ms: number | null;
  streamed: number | null;
  end_user: string | null;
  metadata: string | null;
  request_id: string | null;
  created_at: number;
};

/** A message to store: its row, and its content's hash and length (see turn-overlap.ts). */
export type NewMessage = Omit<MessageRow, 'seq'> & { content_hash: number; content_chars: number };

export type ConversationTouch = {
  projectId: string;
  conversationId: string;
  tracked: boolean;
  endUser: string | null;
  metadata: string | null;
  atMs: number;
};

/** A stored turn for matching, without its content; hash and length are null on rows written before schema v3. */
export type TurnRow = { seq: number; role: string; content_hash: number | null; content_chars: number | null };

// ---- Writes: one transaction per batch of exchanges (see ConversationWriter) ----

const UPSERT = `INSERT INTO conversations (id, project_id, tracked, end_user, metadata, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (project_id, id) DO UPDATE SET
    updated_at = CASE WHEN excluded.updated_at > conversations.updated_at THEN excluded.updated_at ELSE conversations.updated_at END,
    end_user = COALESCE(excluded.end_user, conversations.end_user), metadata = COALESCE(excluded.metadata, conversations.metadata)
  RETURNING message_count`;
const MESSAGE_FIELDS = ['seq', 'role', 'content', 'model', 'prompt_tokens', 'completion_tokens', 'total_tokens', 'cost_micros', 'latency_ms',
  'streamed', 'end_user', 'metadata', 'request_id', 'created_at', 'content_hash', 'content_chars'] as const;
/**
 * The text of one INSERT of `n` rows of `columns` positional values each (cached per row count): a round trip per
 * chunk of rows instead of per row, parameters bound in order rather than looked up by name.
 */
function multiRowInsert(head: string, columns: number, tail = ''): (n: number) => string {
  const tuple = `(${Array(columns).fill('?').join(', ')})`;
  const texts = new Map<number, string>();
  return (n) => {
    let text = texts.get(n);
    if (!text) texts.set(n, (text = `${head} VALUES ${Array(n).fill(tuple).join(', ')}${tail}`));
    return text;
  };
}
/** Rows per multi-row message insert (a question and its answer are usually two). */
const MESSAGE_CHUNK = 64;
/** Messages: project, conversation, then MESSAGE_FIELDS (2 + 16 values a row). */
const insertMessages = multiRowInsert(`INSERT INTO messages (project_id, conversation_id, ${MESSAGE_FIELDS.join(', ')})`, 2 + MESSAGE_FIELDS.length);
const SET_COUNT = 'UPDATE conversations SET message_count = ? WHERE project_id = ? AND id = ?';
/** Conversations per multi-row insert of new conversations (8 values each). */
const CONVERSATION_CHUNK = 32;
/** Conversations that cannot exist yet; returns the keys of those it created (not those that existed). */
const insertFresh = multiRowInsert('INSERT INTO conversations (id, project_id, tracked, end_user, metadata, message_count, created_at, updated_at)', 8,
  ' ON CONFLICT (project_id, id) DO NOTHING RETURNING project_id, id');
// Served by messages_turns_idx alone (a covering index): matching reads no content pages.
const LAST_TURNS = 'SELECT seq, role, content_hash, content_chars FROM messages WHERE project_id = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?';
const FIRST_TURNS = 'SELECT seq, role, content_hash, content_chars FROM messages WHERE project_id = ? AND conversation_id = ? ORDER BY seq LIMIT ?';
const ONE_CONTENT = 'SELECT content FROM messages WHERE project_id = ? AND conversation_id = ? AND seq = ?';
const SET_TURN_HASH = 'UPDATE messages SET content_hash = ?, content_chars = ? WHERE project_id = ? AND conversation_id = ? AND seq = ?';

// ---- Reads ----

const PAGE = `SELECT * FROM conversations WHERE project_id = $projectId
    AND (CAST($afterId AS TEXT) IS NULL OR updated_at < $afterTs OR (updated_at = $afterTs AND id < CAST($afterId AS TEXT)))
  ORDER BY updated_at DESC, id DESC LIMIT $limit`;
const ONE = 'SELECT * FROM conversations WHERE project_id = ? AND id = ?';
/** The dashboard's list: each conversation with its first user message; `pattern` (lower case, LIKE) matches an id or any message. */
const SEARCH = `SELECT c.*, (SELECT m.content FROM messages m WHERE m.project_id = c.project_id AND m.conversation_id = c.id AND m.role = 'user'
      ORDER BY m.seq LIMIT 1) AS first_user_message
  FROM conversations c WHERE c.project_id = $projectId
    AND (CAST($pattern AS TEXT) IS NULL OR LOWER(c.id) LIKE CAST($pattern AS TEXT) ESCAPE '!'
      OR EXISTS (SELECT 1 FROM messages m WHERE m.project_id = c.project_id AND m.conversation_id = c.id AND LOWER(m.content) LIKE CAST($pattern AS TEXT) ESCAPE '!'))
    AND (CAST($afterId AS TEXT) IS NULL OR c.updated_at < $afterTs OR (c.updated_at = $afterTs AND c.id < CAST($afterId AS TEXT)))
  ORDER BY c.updated_at DESC, c.id DESC LIMIT $limit`;
const RECENT_USER = `SELECT content FROM messages WHERE project_id = ? AND conversation_id = ? AND role = 'user' ORDER BY seq DESC LIMIT ?`;
const MESSAGES = `SELECT seq, role, content, model, prompt_tokens, completion_tokens, total_tokens, cost_micros, latency_ms, streamed,
    end_user, metadata, request_id, created_at
  FROM messages WHERE project_id = ? AND conversation_id = ? AND seq >= ? ORDER BY seq LIMIT ?`;

/** The statements of a batch write, bound to its transaction. */
function writerOf(tx: Tx) {
  /** Multi-row inserts of messages, several conversations' at once: each entry's rows from position `fromSeq` on. */
  const insertRows = (entries: Array<{ projectId: string; conversationId: string; fromSeq: number; rows: NewMessage[] }>) => {
    const writes = [];
    let params: unknown[] = [];
    let count = 0;
    for (const { projectId, conversationId, fromSeq, rows } of entries) {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i];
        // In the columns' order: project, conversation, then MESSAGE_FIELDS (seq is the row's place).
        params.push(projectId, conversationId);
        for (const f of MESSAGE_FIELDS) params.push(f === 'seq' ? fromSeq + i : r[f] ?? null);
        if (++count === MESSAGE_CHUNK) {
          writes.push(tx.stmt(insertMessages(count)).run(params));
          params = [];
          count = 0;
        }
      }
    }
    if (count > 0) writes.push(tx.stmt(insertMessages(count)).run(params));
    return writes;
  };
  return {
    /** Creates or refreshes a conversation; returns how many messages it holds. */
    touchConversation: async (x: ConversationTouch): Promise<number> =>
      (await tx.stmt<{ message_count: number }>(UPSERT).get([x.conversationId, x.projectId, x.tracked ? 1 : 0, x.endUser, x.metadata, x.atMs, x.atMs]))!.message_count,
    /**
     * Conversations that cannot exist yet (untracked requests, each keyed by its own fresh request id) with all their
     * messages, in multi-row inserts: a handful of statements for a whole run of exchanges instead of touch + append +
     * count for each. Returns, per conversation, whether it was created; nothing is written for one that existed.
     */
    async insertNewConversations(list: Array<{ touch: ConversationTouch; rows: NewMessage[] }>): Promise<boolean[]> {
      const created = new Set<string>();
      for (let start = 0; start < list.length; start += CONVERSATION_CHUNK) {
        const end = Math.min(list.length, start + CONVERSATION_CHUNK);
        const params: unknown[] = [];
        for (let i = start; i < end; i++) {
          const { touch: x, rows } = list[i];
          params.push(x.conversationId, x.projectId, x.tracked ? 1 : 0, x.endUser, x.metadata, rows.length, x.atMs, x.atMs);
        }
        for (const r of await tx.stmt<{ project_id: string; id: string }>(insertFresh(end - start)).all(params)) created.add(`${r.project_id}\u0000${r.id}`);
      }
      const made = list.map(({ touch }) => created.has(`${touch.projectId}\u0000${touch.conversationId}`));
      await Promise.all(insertRows(list.flatMap(({ touch, rows }, i) => (made[i] ? [{ projectId: touch.projectId, conversationId: touch.conversationId, fromSeq: 0, rows }] : []))));
      return made;
    },
    /** Appends messages from position `fromSeq` on and records the new count (sent together). */
    async appendMessages(projectId: string, conversationId: string, fromSeq: number, rows: NewMessage[]): Promise<void> {
      await Promise.all([...insertRows([{ projectId, conversationId, fromSeq, rows }]), tx.stmt(SET_COUNT).run([fromSeq + rows.length, projectId, conversationId])]);
    },
    /** The last `limit` turns, oldest first. */
    lastTurns: async (projectId: string, id: string, limit: number) => (await tx.stmt<TurnRow>(LAST_TURNS).all([projectId, id, limit])).reverse(),
    /** The first `limit` turns. */
    firstTurns: (projectId: string, id: string, limit: number): Awaitable<TurnRow[]> => tx.stmt<TurnRow>(FIRST_TURNS).all([projectId, id, limit]),
    messageContent: async (projectId: string, id: string, seq: number) =>
      (await tx.stmt<{ content: string }>(ONE_CONTENT).get([projectId, id, seq]))?.content ?? '',
    setTurnHash: async (projectId: string, id: string, seq: number, hash: number, chars: number): Promise<void> =>
      void (await tx.stmt(SET_TURN_HASH).run([hash, chars, projectId, id, seq])),
  };
}
/** What a batch write may do, inside its transaction. */
export type ConversationWriter = ReturnType<typeof writerOf>;

export function createConversationsRepo(store: SqlStore) {
  const page = store.stmt<ConversationRow>(PAGE);
  const one = store.stmt<ConversationRow>(ONE);
  const search = store.stmt<ConversationRow & { first_user_message: string | null }>(SEARCH);
  const recentUser = store.stmt<{ content: string }>(RECENT_USER);
  const messages = store.stmt<MessageRow>(MESSAGES);

  return {
    /** Runs `write` in one transaction: a batch of a few hundred exchanges costs one commit. */
    writeInTransaction: <T>(write: (w: ConversationWriter) => Promise<T>): Promise<T> => store.transaction((tx) => write(writerOf(tx))),
    list: (projectId: string, limit: number, after: { id: string; updatedAt: number } | null): Awaitable<ConversationRow[]> =>
      page.all({ projectId, afterId: after?.id ?? null, afterTs: after?.updatedAt ?? 0, limit }),
    get: (projectId: string, id: string): Awaitable<ConversationRow | null> => one.get([projectId, id]),
    /** Conversations whose id or any message contains `text` (any case; null: all), newest first, with their first user message. */
    search: (projectId: string, text: string | null, limit: number, after: { id: string; updatedAt: number } | null) =>
      search.all({ projectId, pattern: text === null ? null : `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`, afterId: after?.id ?? null, afterTs: after?.updatedAt ?? 0, limit }),
    /** The latest user messages, newest first. */
    recentUserMessages: (projectId: string, id: string, limit: number): Awaitable<string[]> =>
      thenOf(recentUser.all([projectId, id, limit]), (rows) => rows.map((r) => r.content)),
    messages: (projectId: string, id: string, fromSeq: number, limit: number): Awaitable<MessageRow[]> => messages.all([projectId, id, fromSeq, limit]),
  };
}
export type ConversationsRepo = ReturnType<typeof createConversationsRepo>;
