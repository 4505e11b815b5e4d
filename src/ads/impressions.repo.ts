import type { Database } from 'bun:sqlite';

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

export type DecisionRow = { publisherProjectId: string; requestId: string; outcome: 'filled' | 'no_fill'; reason: string | null; impressionId: string | null; createdAt: number };

/** Impressions and ad decisions: written in batches by the background flusher, read by clicks and analytics. */
export function createImpressionsRepo(db: Database) {
  const insertImpression = db.query(
    `INSERT OR IGNORE INTO impressions (id, publisher_project_id, advertiser_project_id, campaign_id, product_id, conversation_id,
       request_id, turn, relevance, price_micros, created_at, expires_at)
     VALUES ($id, $publisher_project_id, $advertiser_project_id, $campaign_id, $product_id, $conversation_id,
       $request_id, $turn, $relevance, $price_micros, $created_at, $expires_at)`,
  );
  const insertDecision = db.query(
    'INSERT INTO ad_decisions (publisher_project_id, request_id, outcome, reason, impression_id, created_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const byId = db.query('SELECT * FROM impressions WHERE id = ?');
  const lastInConversation = db.query(
    'SELECT * FROM impressions WHERE publisher_project_id = ? AND conversation_id = ? ORDER BY created_at DESC LIMIT 1',
  );
  return {
    writeBatch: db.transaction((impressions: ImpressionRow[], decisions: DecisionRow[]) => {
      for (const i of impressions) insertImpression.run(i as any);
      for (const d of decisions) insertDecision.run(d.publisherProjectId, d.requestId, d.outcome, d.reason, d.impressionId, d.createdAt);
    }),
    get: (id: string) => byId.get(id) as ImpressionRow | null,
    lastInConversation: (projectId: string, conversationId: string) => lastInConversation.get(projectId, conversationId) as ImpressionRow | null,
  };
}
export type ImpressionsRepo = ReturnType<typeof createImpressionsRepo>;
