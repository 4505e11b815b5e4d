import type { Awaitable, SqlStore } from '../store/sql-store';

export type Side = 'publisher' | 'advertiser';
export type DayCampaignRow = { day: string; campaign_id: string; publisher_project_id: string; impressions: number; valid: number; invalid: number; unbilled: number; cost: number; earnings: number };

export type PromotionShownRow = {
  impression_id: string; request_id: string; turn: number; campaign_id: string; product_id: string; product_name: string;
  created_at: number; clicks: number; click_status: string | null;
};

const DAY_MS = 86_400_000;
/** The UTC day of a Unix-millisecond column as a day number (integer division in both dialects); named in JavaScript. */
const DAY_NUMBER = `created_at / ${DAY_MS}`;
const dayName = (dayNumber: number) => new Date(dayNumber * DAY_MS).toISOString().slice(0, 10);
/** Optional filters of a report: one campaign, one publisher project. */
const ROW_FILTER = `(CAST($campaign AS TEXT) IS NULL OR campaign_id = CAST($campaign AS TEXT))
  AND (CAST($publisher AS TEXT) IS NULL OR publisher_project_id = CAST($publisher AS TEXT))`;
const count = (condition: string) => `CAST(SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END) AS BIGINT)`;

/** The ids of a JSON array of strings, as a subquery: the one expression the two dialects spell differently. */
const jsonIds = (store: SqlStore) =>
  store.kind === 'postgres' ? 'SELECT jsonb_array_elements_text(CAST(CAST($ids AS TEXT) AS JSONB))' : 'SELECT value FROM json_each($ids)';

/** Aggregates for analytics, grouped by UTC day and campaign, for one side of the market. */
export function createAnalyticsRepo(store: SqlStore) {
  const column = (side: Side) => (side === 'publisher' ? 'publisher_project_id' : 'advertiser_project_id');
  const impressionsQuery = (side: Side) =>
    store.stmt<{ day_number: number; campaign_id: string; publisher_project_id: string; impressions: number }>(
      `SELECT ${DAY_NUMBER} AS day_number, campaign_id, publisher_project_id, COUNT(*) AS impressions FROM impressions
       WHERE ${column(side)} = $project AND created_at >= $from AND created_at < $to AND ${ROW_FILTER}
       GROUP BY ${DAY_NUMBER}, campaign_id, publisher_project_id`,
    );
  const clicksQuery = (side: Side) =>
    store.stmt<{ day_number: number; campaign_id: string; publisher_project_id: string; valid: number; invalid: number; unbilled: number; cost: number; earnings: number }>(
      `SELECT ${DAY_NUMBER} AS day_number, campaign_id, publisher_project_id,
              ${count(`status = 'charged'`)} AS valid, ${count(`status IN ('invalid', 'refunded')`)} AS invalid, ${count(`status = 'unbilled'`)} AS unbilled,
              CAST(COALESCE(SUM(CASE WHEN status = 'charged' THEN charged_micros END), 0) AS BIGINT) AS cost,
              CAST(COALESCE(SUM(CASE WHEN status = 'charged' THEN publisher_micros END), 0) AS BIGINT) AS earnings
       FROM clicks WHERE ${column(side)} = $project AND created_at >= $from AND created_at < $to AND ${ROW_FILTER}
       GROUP BY ${DAY_NUMBER}, campaign_id, publisher_project_id`,
    );
  const queries = {
    publisher: { impressions: impressionsQuery('publisher'), clicks: clicksQuery('publisher') },
    advertiser: { impressions: impressionsQuery('advertiser'), clicks: clicksQuery('advertiser') },
  };
  const noFill = store.stmt<{ day: string; reason: string; n: number }>(
    `SELECT day, reason, count AS n FROM no_fill_daily WHERE publisher_project_id = ? AND day >= ? AND day <= ?`,
  );
  const judgeCalls = store.stmt<{ outcome: string; calls: number; prompt_tokens: number; completion_tokens: number; cost_micros: number }>(
    `SELECT outcome, COUNT(*) AS calls, CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens, CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens,
       CAST(SUM(cost_micros) AS BIGINT) AS cost_micros
     FROM judge_calls WHERE publisher_project_id = ? AND created_at >= ? AND created_at < ? GROUP BY outcome`,
  );
  const campaignNames = store.stmt<{ id: string; name: string }>(`SELECT id, name FROM campaigns WHERE id IN (${jsonIds(store)})`);
  const projectDomains = store.stmt<{ id: string; domain: string }>(`SELECT id, domain FROM projects WHERE id IN (${jsonIds(store)})`);
  const conversationPromotions = store.stmt<PromotionShownRow>(
    `SELECT i.id AS impression_id, i.request_id, i.turn, i.campaign_id, i.product_id, p.name AS product_name, i.created_at,
            (SELECT COUNT(*) FROM clicks k WHERE k.impression_id = i.id) AS clicks,
            (SELECT k.status FROM clicks k WHERE k.impression_id = i.id ORDER BY CASE WHEN k.status IN ('charged', 'refunded') THEN 0 ELSE 1 END, k.created_at LIMIT 1) AS click_status
     FROM impressions i JOIN products p ON p.id = i.product_id
     WHERE i.publisher_project_id = $project AND i.conversation_id = $conversation ORDER BY i.created_at LIMIT 1000`,
  );
  const platformRevenue = store.stmt<{ day_number: number; fees: number; refunds: number }>(
    `SELECT ${DAY_NUMBER} AS day_number,
            CAST(COALESCE(SUM(CASE WHEN type = 'fee' THEN amount_micros END), 0) AS BIGINT) AS fees,
            CAST(COALESCE(SUM(CASE WHEN type = 'refund' THEN amount_micros END), 0) AS BIGINT) AS refunds
     FROM platform_entries WHERE created_at >= $from AND created_at < $to GROUP BY ${DAY_NUMBER} ORDER BY ${DAY_NUMBER}`,
  );

  return {
    /** Per UTC day, campaign and publisher project; `publisherId` keeps one publisher project's rows. */
    async dayCampaign(side: Side, projectId: string, fromMs: number, toMs: number, campaignId: string | null, publisherId: string | null = null): Promise<DayCampaignRow[]> {
      const params = { project: projectId, from: fromMs, to: toMs, campaign: campaignId, publisher: publisherId };
      const rows = new Map<string, DayCampaignRow>();
      const row = (dayNumber: number, campaign: string, publisher: string) => {
        const key = `${dayNumber}|${campaign}|${publisher}`;
        let r = rows.get(key);
        if (!r) rows.set(key, (r = { day: dayName(dayNumber), campaign_id: campaign, publisher_project_id: publisher, impressions: 0, valid: 0, invalid: 0, unbilled: 0, cost: 0, earnings: 0 }));
        return r;
      };
      for (const r of await queries[side].impressions.all(params)) row(r.day_number, r.campaign_id, r.publisher_project_id).impressions = r.impressions;
      for (const r of await queries[side].clicks.all(params))
        Object.assign(row(r.day_number, r.campaign_id, r.publisher_project_id), { valid: r.valid, invalid: r.invalid, unbilled: r.unbilled, cost: r.cost, earnings: r.earnings });
      return [...rows.values()];
    },
    noFill: (projectId: string, fromDay: string, toDay: string): Awaitable<Array<{ day: string; reason: string; n: number }>> => noFill.all([projectId, fromDay, toDay]),
    /** The LLM judge's calls for a publisher's requests, by outcome: platform cost, never charged to the publisher. */
    judgeCalls: (projectId: string, fromMs: number, toMs: number) => judgeCalls.all([projectId, fromMs, toMs]),
    campaignNames: async (ids: string[]) => new Map((await campaignNames.all({ ids: JSON.stringify(ids) })).map((r) => [r.id, r.name])),
    /** The domains of projects (where an advertiser's promotions ran: public, verified domains). */
    projectDomains: async (ids: string[]) => new Map((await projectDomains.all({ ids: JSON.stringify(ids) })).map((r) => [r.id, r.domain])),
    /** The promotions a publisher's conversation showed, oldest first, each with its clicks. */
    conversationPromotions: (projectId: string, conversationId: string): Awaitable<PromotionShownRow[]> =>
      conversationPromotions.all({ project: projectId, conversation: conversationId }),
    /** What the platform kept of charged clicks (fees) and gave back (refunds, negative), per UTC day. */
    async platformRevenue(fromMs: number, toMs: number): Promise<Array<{ day: string; fees: number; refunds: number }>> {
      return (await platformRevenue.all({ from: fromMs, to: toMs })).map((r) => ({ day: dayName(Number(r.day_number)), fees: Number(r.fees), refunds: Number(r.refunds) }));
    },
  };
}
export type AnalyticsRepo = ReturnType<typeof createAnalyticsRepo>;
