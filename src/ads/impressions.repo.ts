import type { Database } from 'bun:sqlite';
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

/** Impressions, no-fill counts and the LLM judge's calls: written in batches by the background flusher, read by clicks and analytics. */
export function createImpressionsRepo(db: Database) {
  const insertImpression = db.query(
    `INSERT OR IGNORE INTO impressions (id, publisher_project_id, advertiser_project_id, campaign_id, product_id, conversation_id,
       request_id, turn, relevance, price_micros, created_at, expires_at)
     VALUES ($id, $publisher_project_id, $advertiser_project_id, $campaign_id, $product_id, $conversation_id,
       $request_id, $turn, $relevance, $price_micros, $created_at, $expires_at)`,
  );
  const addNoFill = db.query(
    `INSERT INTO no_fill_daily (publisher_project_id, day, reason, count) VALUES (?, ?, ?, ?)
     ON CONFLICT (publisher_project_id, day, reason) DO UPDATE SET count = count + excluded.count`,
  );
  const insertJudgeCall = db.query(
    `INSERT OR IGNORE INTO judge_calls (request_id, publisher_project_id, impression_id, model, outcome, prompt_tokens, completion_tokens,
       usage_reported, cost_micros, latency_ms, created_at)
     VALUES ($request_id, $publisher_project_id, $impression_id, $model, $outcome, $prompt_tokens, $completion_tokens,
       $usage_reported, $cost_micros, $latency_ms, $created_at)`,
  );
  const byId = db.query('SELECT * FROM impressions WHERE id = ?');
  const lastInConversation = db.query(
    'SELECT * FROM impressions WHERE publisher_project_id = ? AND conversation_id = ? ORDER BY created_at DESC LIMIT 1',
  );
  return {
    writeBatch: db.transaction((impressions: ImpressionRow[], noFills: NoFillCount[]) => {
      for (const i of impressions) insertImpression.run(i as any);
      for (const n of noFills) addNoFill.run(n.publisherProjectId, n.day, n.reason, n.count);
    }),
    /** The LLM judge's requests: platform cost, kept apart from anything charged to a wallet. */
    writeJudgeCalls: db.transaction((calls: JudgeCallRow[]) => {
      for (const c of calls) insertJudgeCall.run(c as any);
    }),
    get: (id: string) => byId.get(id) as ImpressionRow | null,
    lastInConversation: (projectId: string, conversationId: string) => lastInConversation.get(projectId, conversationId) as ImpressionRow | null,
  };
}
export type ImpressionsRepo = ReturnType<typeof createImpressionsRepo>;
