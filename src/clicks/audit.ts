import type { SqlStore } from '../store/sql-store';

/**
 * Marketplace money invariants, checked by tests after randomized and concurrent runs, on either store (the
 * wallet ledger has its own audit in wallet.repo): each charged click has exactly its three entries (advertiser
 * charge = publisher earning + platform fee), each refunded one their reversals, uncharged clicks move nothing,
 * no impression is charged twice, campaign spend matches the charged clicks and the daily spend and stays
 * within budget, and the three sides of all click money add up exactly. Returns the violations found.
 */
export async function auditMarketMoney(store: SqlStore): Promise<string[]> {
  const problems: string[] = [];
  const report = async (sql: string, say: (r: any) => string) => {
    for (const r of await store.stmt<any>(sql).all()) problems.push(say(r));
  };
  await report(`SELECT c.id FROM clicks c WHERE c.status IN ('charged', 'refunded') AND (
      (SELECT count(*) FROM ledger_entries l WHERE l.click_id = c.id AND l.type = 'cpc_cost' AND l.amount_micros = -c.charged_micros) <> 1
   OR (SELECT count(*) FROM earnings_entries e WHERE e.click_id = c.id AND e.type = 'earning' AND e.amount_micros = c.publisher_micros) <> 1
   OR (SELECT count(*) FROM platform_entries p WHERE p.click_id = c.id AND p.type = 'fee' AND p.amount_micros = c.platform_micros) <> 1)`,
    (r) => `charged click ${r.id}: advertiser charge, publisher earning and platform fee entries do not match it`);
  await report(`SELECT c.id FROM clicks c WHERE c.status = 'refunded' AND (
      (SELECT count(*) FROM ledger_entries l WHERE l.click_id = c.id AND l.type = 'refund' AND l.amount_micros = c.charged_micros) <> 1
   OR (SELECT count(*) FROM earnings_entries e WHERE e.click_id = c.id AND e.type = 'refund' AND e.amount_micros = -c.publisher_micros) <> 1
   OR (SELECT count(*) FROM platform_entries p WHERE p.click_id = c.id AND p.type = 'refund' AND p.amount_micros = -c.platform_micros) <> 1)`,
    (r) => `refunded click ${r.id}: reversal entries missing or wrong`);
  await report(`SELECT c.id FROM clicks c WHERE c.status IN ('invalid', 'unbilled') AND (c.charged_micros <> 0
      OR EXISTS (SELECT 1 FROM ledger_entries l WHERE l.click_id = c.id) OR EXISTS (SELECT 1 FROM earnings_entries e WHERE e.click_id = c.id)
      OR EXISTS (SELECT 1 FROM platform_entries p WHERE p.click_id = c.id))`,
    (r) => `uncharged click ${r.id} moved money`);
  await report(`SELECT impression_id, count(*) AS n FROM clicks WHERE status IN ('charged', 'refunded') GROUP BY impression_id HAVING count(*) > 1`,
    (r) => `impression ${r.impression_id} charged ${r.n} times`);
  await report(`SELECT c.id, c.spent_total_micros, CAST(COALESCE(k.charged, 0) AS BIGINT) AS clicks FROM campaigns c
      LEFT JOIN (SELECT campaign_id, SUM(charged_micros) AS charged FROM clicks WHERE status = 'charged' GROUP BY campaign_id) k ON k.campaign_id = c.id
      WHERE c.spent_total_micros <> COALESCE(k.charged, 0)`,
    (r) => `campaign ${r.id}: spent ${r.spent_total_micros} != charged clicks ${r.clicks}`);
  await report(`SELECT c.id FROM campaigns c
      LEFT JOIN (SELECT campaign_id, SUM(spent_micros) AS spent FROM campaign_daily_spend GROUP BY campaign_id) d ON d.campaign_id = c.id
      WHERE c.spent_total_micros <> COALESCE(d.spent, 0)`,
    (r) => `campaign ${r.id}: daily spend does not add up to the total`);
  await report(`SELECT id, spent_total_micros, budget_micros FROM campaigns WHERE budget_type = 'total' AND spent_total_micros > budget_micros`,
    (r) => `campaign ${r.id}: spent ${r.spent_total_micros} over its total budget ${r.budget_micros}`);
  await report(`SELECT d.campaign_id, d.day FROM campaign_daily_spend d JOIN campaigns c ON c.id = d.campaign_id
      WHERE c.budget_type = 'daily' AND d.spent_micros > c.budget_micros`,
    (r) => `campaign ${r.campaign_id}: spent over its daily budget on ${r.day}`);
  const money = (await store.stmt<{ advertisers: number; publishers: number; platform: number }>(`SELECT
      (SELECT CAST(COALESCE(-SUM(amount_micros), 0) AS BIGINT) FROM ledger_entries WHERE type IN ('cpc_cost', 'refund')) AS advertisers,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) FROM earnings_entries WHERE click_id IS NOT NULL) AS publishers,
      (SELECT CAST(COALESCE(SUM(amount_micros), 0) AS BIGINT) FROM platform_entries) AS platform`).get())!;
  if (money.advertisers !== money.publishers + money.platform)
    problems.push(`advertiser charges ${money.advertisers} != publisher earnings ${money.publishers} + platform ${money.platform}`);
  await report(`SELECT project_id, CAST(SUM(amount_micros) AS BIGINT) AS total FROM earnings_entries WHERE status IN ('pending', 'succeeded')
      GROUP BY project_id HAVING SUM(amount_micros) < 0`,
    (r) => `publisher ${r.project_id}: negative earnings ${r.total}`);
  return problems;
}
