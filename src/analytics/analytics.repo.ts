import type { Database } from 'bun:sqlite';

export type Side = 'publisher' | 'advertiser';
export type DayCampaignRow = { day: string; campaign_id: string; impressions: number; valid: number; invalid: number; unbilled: number; cost: number; earnings: number };

const DAY = `strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')`;

/** Aggregates for analytics, grouped by UTC day and campaign, for one side of the market. */
export function createAnalyticsRepo(db: Database) {
  const column = (side: Side) => (side === 'publisher' ? 'publisher_project_id' : 'advertiser_project_id');
  const impressionsQuery = (side: Side) =>
    db.query(
      `SELECT ${DAY} AS day, campaign_id, count(*) AS impressions FROM impressions
       WHERE ${column(side)} = $project AND created_at >= $from AND created_at < $to AND ($campaign IS NULL OR campaign_id = $campaign)
       GROUP BY day, campaign_id`,
    );
  const clicksQuery = (side: Side) =>
    db.query(
      `SELECT ${DAY} AS day, campaign_id,
              sum(status = 'charged') AS valid, sum(status IN ('invalid', 'refunded')) AS invalid, sum(status = 'unbilled') AS unbilled,
              coalesce(sum(CASE WHEN status = 'charged' THEN charged_micros END), 0) AS cost,
              coalesce(sum(CASE WHEN status = 'charged' THEN publisher_micros END), 0) AS earnings
       FROM clicks WHERE ${column(side)} = $project AND created_at >= $from AND created_at < $to AND ($campaign IS NULL OR campaign_id = $campaign)
       GROUP BY day, campaign_id`,
    );
  const queries = {
    publisher: { impressions: impressionsQuery('publisher'), clicks: clicksQuery('publisher') },
    advertiser: { impressions: impressionsQuery('advertiser'), clicks: clicksQuery('advertiser') },
  };
  const noFill = db.query(
    `SELECT day, reason, count AS n FROM no_fill_daily WHERE publisher_project_id = ? AND day >= ? AND day <= ?`,
  );
  const judgeCalls = db.query(
    `SELECT outcome, count(*) AS calls, sum(prompt_tokens) AS prompt_tokens, sum(completion_tokens) AS completion_tokens, sum(cost_micros) AS cost_micros
     FROM judge_calls WHERE publisher_project_id = ? AND created_at >= ? AND created_at < ? GROUP BY outcome`,
  );
  const campaignNames = db.query('SELECT id, name FROM campaigns WHERE id IN (SELECT value FROM json_each(?))');

  return {
    dayCampaign(side: Side, projectId: string, fromMs: number, toMs: number, campaignId: string | null): DayCampaignRow[] {
      const params = { project: projectId, from: fromMs, to: toMs, campaign: campaignId };
      const rows = new Map<string, DayCampaignRow>();
      const row = (day: string, campaign: string) => {
        const key = `${day}|${campaign}`;
        let r = rows.get(key);
        if (!r) rows.set(key, (r = { day, campaign_id: campaign, impressions: 0, valid: 0, invalid: 0, unbilled: 0, cost: 0, earnings: 0 }));
        return r;
      };
      for (const r of queries[side].impressions.all(params) as any[]) row(r.day, r.campaign_id).impressions = r.impressions;
      for (const r of queries[side].clicks.all(params) as any[]) Object.assign(row(r.day, r.campaign_id), { valid: r.valid, invalid: r.invalid, unbilled: r.unbilled, cost: r.cost, earnings: r.earnings });
      return [...rows.values()];
    },
    noFill: (projectId: string, fromDay: string, toDay: string) => noFill.all(projectId, fromDay, toDay) as Array<{ day: string; reason: string; n: number }>,
    /** The LLM judge's calls for a publisher's requests, by outcome: platform cost, never charged to the publisher. */
    judgeCalls: (projectId: string, fromMs: number, toMs: number) =>
      judgeCalls.all(projectId, fromMs, toMs) as Array<{ outcome: string; calls: number; prompt_tokens: number; completion_tokens: number; cost_micros: number }>,
    campaignNames: (ids: string[]) => new Map((campaignNames.all(JSON.stringify(ids)) as Array<{ id: string; name: string }>).map((r) => [r.id, r.name])),
  };
}
export type AnalyticsRepo = ReturnType<typeof createAnalyticsRepo>;
