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

export type NewMessage = Omit<MessageRow, 'seq'>;

export type ExchangeWrite = {
  projectId: string;
  conversationId: string;
  tracked: boolean;
  endUser: string | null;
  metadata: string | null;
  atMs: number;
  /** The request's messages in order; those already stored (by position) are skipped. */
  history: NewMessage[];
  answer: NewMessage;
};

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
       total_tokens, cost_micros, latency_ms, streamed, end_user, metadata, request_id, created_at)
     VALUES ($projectId, $conversationId, $seq, $role, $content, $model, $prompt_tokens, $completion_tokens,
       $total_tokens, $cost_micros, $latency_ms, $streamed, $end_user, $metadata, $request_id, $created_at)`,
  );
  const setCount = db.query('UPDATE conversations SET message_count = ? WHERE project_id = ? AND id = ?');
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
    'SELECT * FROM messages WHERE project_id = ? AND conversation_id = ? AND seq >= ? ORDER BY seq LIMIT ?',
  );

  function writeOne(x: ExchangeWrite): void {
    const { message_count } = upsert.get({
      id: x.conversationId, projectId: x.projectId, tracked: x.tracked ? 1 : 0,
      endUser: x.endUser, metadata: x.metadata, at: x.atMs,
    }) as { message_count: number };
    let seq = message_count;
    for (let i = message_count; i < x.history.length; i++) insertMessage.run({ ...x.history[i], projectId: x.projectId, conversationId: x.conversationId, seq: seq++ });
    insertMessage.run({ ...x.answer, projectId: x.projectId, conversationId: x.conversationId, seq: seq++ });
    setCount.run(seq, x.projectId, x.conversationId);
  }

  return {
    /** One transaction for a whole batch: a few hundred exchanges cost one fsync. */
    writeBatch: db.transaction((batch: ExchangeWrite[]) => {
      for (const x of batch) writeOne(x);
    }),
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
