import { formatMicros } from '../money/money';
import type { ProjectRow } from '../projects/projects.repo';
import { usageRange } from '../usage/usage.service';
import type { AnalyticsRepo, DayCampaignRow } from './analytics.repo';

type Totals = { impressions: number; valid: number; invalid: number; unbilled: number; cost: number; earnings: number };

const TOTAL_KEYS: Array<keyof Totals> = ['impressions', 'valid', 'invalid', 'unbilled', 'cost', 'earnings'];

function sum(rows: DayCampaignRow[]): Totals {
  const t: Totals = { impressions: 0, valid: 0, invalid: 0, unbilled: 0, cost: 0, earnings: 0 };
  for (const r of rows) for (const k of TOTAL_KEYS) t[k] += r[k];
  return t;
}

/**
 * Totals per key (a day, a campaign, a publisher project) in one pass over the rows, keys in first-seen order:
 * an advertiser's rows are per day, campaign and publisher project, so filtering them once per key would
 * grow with the product of the three.
 */
function sumBy(rows: DayCampaignRow[], keyOf: (r: DayCampaignRow) => string): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const r of rows) {
    const key = keyOf(r);
    let t = out.get(key);
    if (!t) out.set(key, (t = { impressions: 0, valid: 0, invalid: 0, unbilled: 0, cost: 0, earnings: 0 }));
    for (const k of TOTAL_KEYS) t[k] += r[k];
  }
  return out;
}

function metrics(t: Totals, side: 'publisher' | 'advertiser') {
  const avgCpcMicros = t.valid === 0 ? 0 : Math.round(t.cost / t.valid);
  const base = {
    impressions: t.impressions,
    clicks: t.valid + t.invalid + t.unbilled,
    valid_clicks: t.valid,
    invalid_clicks: t.invalid,
    unbilled_clicks: t.unbilled,
    ctr: t.impressions === 0 ? 0 : Math.round((t.valid / t.impressions) * 10_000) / 10_000,
    avg_cpc: formatMicros(avgCpcMicros),
    avg_cpc_micros: avgCpcMicros,
  };
  return side === 'advertiser'
    ? { ...base, cost: formatMicros(t.cost), cost_micros: t.cost }
    : { ...base, earnings: formatMicros(t.earnings), earnings_micros: t.earnings, advertiser_spend: formatMicros(t.cost), advertiser_spend_micros: t.cost };
}

/** The LLM judge's calls on a publisher's answers; their cost is the platform's (the publisher is never charged it). */
function judgeSummary(rows: Awaited<ReturnType<AnalyticsRepo['judgeCalls']>>) {
  const outcomes: Record<string, number> = {};
  let calls = 0, promptTokens = 0, completionTokens = 0, costMicros = 0;
  for (const r of rows) {
    outcomes[r.outcome] = r.calls;
    calls += r.calls;
    promptTokens += r.prompt_tokens;
    completionTokens += r.completion_tokens;
    costMicros += r.cost_micros;
  }
  return { calls, outcomes, prompt_tokens: promptTokens, completion_tokens: completionTokens, platform_cost: formatMicros(costMicros), platform_cost_micros: costMicros };
}

/** Impressions, clicks (valid, invalid, unbilled), cost or earnings, average CPC, CTR no-fill reasons and, for publishers, the LLM judge's platform cost. */
export function createAnalyticsService(deps: { repo: AnalyticsRepo; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    /** The promotions shown in one of a publisher's conversations, each with its product and click status. */
    async conversationPromotions(projectId: string, conversationId: string) {
      return (await deps.repo.conversationPromotions(projectId, conversationId)).map((r) => ({
        impression_id: r.impression_id, request_id: r.request_id, turn: r.turn, campaign_id: r.campaign_id,
        product_id: r.product_id, product_name: r.product_name, created_at: new Date(Number(r.created_at)).toISOString(),
        clicks: Number(r.clicks), click_status: r.click_status,
      }));
    },
    /** The platform's share of charged clicks per UTC day (fees less refunds), over a range of whole days. */
    async platformRevenue(query: { from?: string; to?: string }) {
      const r = usageRange(query.from, query.to, now());
      const rows = await deps.repo.platformRevenue(r.fromMs, r.toMs);
      const total = rows.reduce((n, x) => n + x.fees + x.refunds, 0);
      return {
        object: 'platform_revenue', from: r.from, to: r.to,
        total: formatMicros(total), total_micros: total,
        daily: rows.map((x) => ({ date: x.day, revenue: formatMicros(x.fees + x.refunds), revenue_micros: x.fees + x.refunds, fees_micros: x.fees, refunds_micros: x.refunds })),
      };
    },
    async report(project: ProjectRow, query: { from?: string; to?: string; campaign_id?: string; publisher_project_id?: string }) {
      const side = project.kind;
      const r = usageRange(query.from, query.to, now());
      const rows = await deps.repo.dayCampaign(side, project.id, r.fromMs, r.toMs, query.campaign_id ?? null, side === 'advertiser' ? query.publisher_project_id ?? null : null);
      const byDay = sumBy(rows, (x) => x.day);
      const byCampaign = sumBy(rows, (x) => x.campaign_id);
      const names = await deps.repo.campaignNames([...byCampaign.keys()]);
      const report: Record<string, unknown> = {
        object: 'analytics',
        project_id: project.id,
        kind: side,
        from: r.from,
        to: r.to,
        totals: metrics(sum(rows), side),
        daily: [...byDay.keys()].sort().map((day) => ({ date: day, ...metrics(byDay.get(day)!, side) })),
        campaigns: [...byCampaign].map(([id, t]) => ({ campaign_id: id, name: names.get(id) ?? null, ...metrics(t, side) })),
      };
      if (side === 'advertiser') {
        // Where the promotions ran: each publisher project by its (verified, public) domain.
        const byPublisher = sumBy(rows, (x) => x.publisher_project_id);
        const domains = await deps.repo.projectDomains([...byPublisher.keys()]);
        report.publishers = [...byPublisher].map(([id, t]) => ({ publisher_project_id: id, domain: domains.get(id) ?? null, ...metrics(t, side) }));
      }
      if (side === 'publisher') {
        const noFill: Record<string, number> = {};
        const dailyNoFill: Record<string, Record<string, number>> = {};
        for (const n of await deps.repo.noFill(project.id, r.from, r.to)) {
          noFill[n.reason] = (noFill[n.reason] ?? 0) + n.n;
          (dailyNoFill[n.day] ??= {})[n.reason] = n.n;
        }
        report.no_fill = noFill;
        report.daily_no_fill = dailyNoFill;
        report.judge = judgeSummary(await deps.repo.judgeCalls(project.id, r.fromMs, r.toMs));
      }
      return report;
    },
  };
}
export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
