import type { Awaitable, SqlStore, Tx } from '../store/sql-store';
import type { JudgeCallRow } from './judge';

export type ImpressionRow = {
  id: string;
  publisher_project_id: string;
  advertiser_project_id: string;
  campaign_id: string;
  product_id: string;
  conversation_id: string | null;
  request_id: string;
  turn: number;
  relevance: number;
  price_micros: number;
  created_at: number;
  expires_at: number;
};

/** No-fill counts by (publisher, UTC day, reason). */
export type NoFillCount = { publisherProjectId: string; day: string; reason: string; count: number };

const IMPRESSION_COLUMNS = [
  'id', 'publisher_project_id', 'advertiser_project_id', 'campaign_id', 'product_id', 'conversation_id',
  'request_id', 'turn', 'relevance', 'price_micros', 'created_at', 'expires_at',
] as const satisfies ReadonlyArray<keyof ImpressionRow>;
const JUDGE_CALL_COLUMNS = [
  'request_id', 'publisher_project_id', 'impression_id', 'model', 'outcome', 'prompt_tokens', 'completion_tokens',
  'usage_reported', 'cost_micros', 'latency_ms', 'created_at',
] as const satisfies ReadonlyArray<keyof JudgeCallRow>;

const ADD_NO_FILL = `INSERT INTO no_fill_daily (publisher_project_id, day, reason, count) VALUES ($publisher, $day, $reason, $count)
  ON CONFLICT (publisher_project_id, day, reason) DO UPDATE SET count = no_fill_daily.count + excluded.count`;
const BY_ID = 'SELECT * FROM impressions WHERE id = $id';
const LAST_IN_CONVERSATION =
  'SELECT * FROM impressions WHERE publisher_project_id = $project AND conversation_id = $conversation ORDER BY created_at DESC LIMIT 1';

/** Most rows in one INSERT; a batch is written as statements of 256, 128, ..., 1 rows (few distinct texts). */
const MAX_ROWS_PER_INSERT = 256;

/**
 * `INSERT ... VALUES (...), (...) ON CONFLICT (key) DO NOTHING` for `rows` rows of `columns`: the same text on
 * both stores (positional parameters), and a write that is repeated (a retried batch) changes nothing.
 */
function multiRowInsert(table: string, columns: readonly string[], key: string, rows: number): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')} ON CONFLICT (${key}) DO NOTHING`;
}

/** Inserts `rows` with as few statements as their count allows (power-of-two sizes up to MAX_ROWS_PER_INSERT). */
async function insertRows<R>(tx: Tx, table: string, columns: readonly (keyof R & string)[], key: string, rows: readonly R[], texts: Map<number, string>): Promise<void> {
  let at = 0;
  while (at < rows.length) {
    let size = MAX_ROWS_PER_INSERT;
    while (size > rows.length - at) size >>= 1;
    let text = texts.get(size);
    if (!text) texts.set(size, (text = multiRowInsert(table, columns, key, size)));
    const values: unknown[] = [];
    for (let i = at; i < at + size; i++) for (const c of columns) values.push(rows[i][c]);
    await tx.stmt(text).run(values);
    at += size;
  }
}

/** Impressions, no-fill counts and the LLM judge's calls: written in batches by the background flusher, read by clicks and analytics. */
export function createImpressionsRepo(store: SqlStore) {
  const byId = store.stmt<ImpressionRow>(BY_ID);
  const lastInConversation = store.stmt<ImpressionRow>(LAST_IN_CONVERSATION);
  const impressionTexts = new Map<number, string>();
  const judgeCallTexts = new Map<number, string>();
  return {
    /** Impressions and no-fill counts, in one transaction; an impression written twice stays one row. */
    writeBatch: (impressions: readonly ImpressionRow[], noFills: readonly NoFillCount[]): Promise<void> =>
      store.transaction(async (tx) => {
        await insertRows(tx, 'impressions', IMPRESSION_COLUMNS, 'id', impressions, impressionTexts);
        const add = tx.stmt(ADD_NO_FILL);
        for (const n of noFills) await add.run({ publisher: n.publisherProjectId, day: n.day, reason: n.reason, count: n.count });
      }),
    /** The LLM judge's requests: platform cost, kept apart from anything charged to a wallet. */
    writeJudgeCalls: (calls: readonly JudgeCallRow[]): Promise<void> =>
      store.transaction((tx) => insertRows(tx, 'judge_calls', JUDGE_CALL_COLUMNS, 'request_id', calls, judgeCallTexts)),
    get: (id: string): Awaitable<ImpressionRow | null> => byId.get({ id }),
    lastInConversation: (projectId: string, conversationId: string): Awaitable<ImpressionRow | null> =>
      lastInConversation.get({ project: projectId, conversation: conversationId }),
  };
}
export type ImpressionsRepo = ReturnType<typeof createImpressionsRepo>;
