import type { Database } from 'bun:sqlite';

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

export function createConversationsRepo(db: Database) {
  const upsert = db.query(
    `INSERT INTO conversations (id, project_id, tracked, end_user, metadata, created_at, updated_at)
     VALUES ($id, $projectId, $tracked, $endUser, $metadata, $at, $at)
     ON CONFLICT (project_id, id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at),
       end_user = coalesce(excluded.end_user, end_user), metadata = coalesce(excluded.metadata, metadata)
     RETURNING message_count`,
  );
  const insertMessage = db.query(
    `INSERT INTO messages (project_id, conversation_id, seq, role, content, model, prompt_tokens, completion_tokens,
       total_tokens, cost_micros, latency_ms, streamed, end_user, metadata, request_id, created_at, content_hash, content_chars)
     VALUES ($projectId, $conversationId, $seq, $role, $content, $model, $prompt_tokens, $completion_tokens,
       $total_tokens, $cost_micros, $latency_ms, $streamed, $end_user, $metadata, $request_id, $created_at, $content_hash, $content_chars)`,
  );
  const setCount = db.query('UPDATE conversations SET message_count = ? WHERE project_id = ? AND id = ?');
  const insertFresh = db.query(
    `INSERT INTO conversations (id, project_id, tracked, end_user, metadata, message_count, created_at, updated_at)
     VALUES ($id, $projectId, $tracked, $endUser, $metadata, $count, $at, $at) ON CONFLICT (project_id, id) DO NOTHING`,
  );
  const page = db.query(
    `SELECT * FROM conversations WHERE project_id = $projectId
       AND ($afterId IS NULL OR updated_at < $afterTs OR (updated_at = $afterTs AND id < $afterId))
     ORDER BY updated_at DESC, id DESC LIMIT $limit`,
  );
  const one = db.query('SELECT * FROM conversations WHERE project_id = ? AND id = ?');
  const recentUser = db.query(
    `SELECT content FROM messages WHERE project_id = ? AND conversation_id = ? AND role = 'user' ORDER BY seq DESC LIMIT ?`,
  );
  const messages = db.query(
    `SELECT seq, role, content, model, prompt_tokens, completion_tokens, total_tokens, cost_micros, latency_ms, streamed,
       end_user, metadata, request_id, created_at
     FROM messages WHERE project_id = ? AND conversation_id = ? AND seq >= ? ORDER BY seq LIMIT ?`,
  );
  // Served by messages_turns_idx alone (a covering index): matching reads no content pages.
  const lastTurns = db.query(
    'SELECT seq, role, content_hash, content_chars FROM messages WHERE project_id = ? AND conversation_id = ? ORDER BY seq DESC LIMIT ?',
  );
  const firstTurns = db.query(
    'SELECT seq, role, content_hash, content_chars FROM messages WHERE project_id = ? AND conversation_id = ? ORDER BY seq LIMIT ?',
  );
  const oneContent = db.query('SELECT content FROM messages WHERE project_id = ? AND conversation_id = ? AND seq = ?');
  const setTurnHash = db.query(
    'UPDATE messages SET content_hash = ?, content_chars = ? WHERE project_id = ? AND conversation_id = ? AND seq = ?',
  );

  return {
    /** Runs fn in one transaction: a batch of a few hundred exchanges costs one commit. */
    inTransaction: <T>(fn: () => T): T => db.transaction(fn)(),
    /** Creates or refreshes a conversation; returns how many messages it holds. */
    touchConversation: (x: ConversationTouch) =>
      (upsert.get({
        id: x.conversationId, projectId: x.projectId, tracked: x.tracked ? 1 : 0,
        endUser: x.endUser, metadata: x.metadata, at: x.atMs,
      }) as { message_count: number }).message_count,
    /**
     * A conversation that cannot exist yet (an untracked request, keyed by its own request id) with all its
     * messages: two statements fewer than touch + append + count. False, writing nothing, if it does exist.
     */
    insertNewConversation: (x: ConversationTouch, rows: NewMessage[]): boolean => {
      const created = insertFresh.run({
        id: x.conversationId, projectId: x.projectId, tracked: x.tracked ? 1 : 0, endUser: x.endUser, metadata: x.metadata, count: rows.length, at: x.atMs,
      });
      if (created.changes === 0) return false;
      let seq = 0;
      for (const row of rows) insertMessage.run({ ...row, projectId: x.projectId, conversationId: x.conversationId, seq: seq++ });
      return true;
    },
    /** Appends messages from position `fromSeq` on and records the new count. */
    appendMessages: (projectId: string, conversationId: string, fromSeq: number, rows: NewMessage[]) => {
      let seq = fromSeq;
      for (const row of rows) insertMessage.run({ ...row, projectId, conversationId, seq: seq++ });
      setCount.run(seq, projectId, conversationId);
    },
    /** The last `limit` turns, oldest first. */
    lastTurns: (projectId: string, id: string, limit: number) => (lastTurns.all(projectId, id, limit) as TurnRow[]).reverse(),
    /** The first `limit` turns. */
    firstTurns: (projectId: string, id: string, limit: number) => firstTurns.all(projectId, id, limit) as TurnRow[],
    messageContent: (projectId: string, id: string, seq: number) =>
      (oneContent.get(projectId, id, seq) as { content: string } | null)?.content ?? '',
    setTurnHash: (projectId: string, id: string, seq: number, hash: number, chars: number) =>
      void setTurnHash.run(hash, chars, projectId, id, seq),
    list: (projectId: string, limit: number, after: { id: string; updatedAt: number } | null) =>
      page.all({ projectId, afterId: after?.id ?? null, afterTs: after?.updatedAt ?? 0, limit }) as ConversationRow[],
    get: (projectId: string, id: string) => one.get(projectId, id) as ConversationRow | null,
    /** The latest user messages, newest first. */
    recentUserMessages: (projectId: string, id: string, limit: number) =>
      (recentUser.all(projectId, id, limit) as Array<{ content: string }>).map((r) => r.content),
    messages: (projectId: string, id: string, fromSeq: number, limit: number) =>
      messages.all(projectId, id, fromSeq, limit) as MessageRow[],
  };
}
export type ConversationsRepo = ReturnType<typeof createConversationsRepo>;
