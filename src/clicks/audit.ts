import type { Database } from 'bun:sqlite';

/**
 * Marketplace money invariants, checked by tests after randomized and concurrent runs (the wallet ledger
 * has its own audit in wallet.repo). Returns the violations found.
 */
export function auditMarketMoney(db: Database): string[] {
  const problems: string[] = [];
  const rows = (sql: string) => db.query(sql).all() as any[];
  const report = (sql: string, say: (r: any) => string) => {
    for (const r of rows(sql)) problems.push(say(r));
  };
  report(`SELECT c.id FROM clicks c WHERE c.status IN ('charged', 'refunded') AND (
      (SELECT count(*) FROM ledger_entries l WHERE l.click_id = c.id AND l.type = 'cpc_cost' AND l.amount_micros = -c.charged_micros) != 1
   OR (SELECT count(*) FROM earnings_entries e WHERE e.click_id = c.id AND e.type = 'earning' AND e.amount_micros = c.publisher_micros) != 1
   OR (SELECT count(*) FROM platform_entries p WHERE p.click_id = c.id AND p.type = 'fee' AND p.amount_micros = c.platform_micros) != 1)`,
    (r) => `charged click ${r.id}: advertiser charge, publisher earning and platform fee entries do not match it`);
  report(`SELECT c.id FROM clicks c WHERE c.status = 'refunded' AND (
      (SELECT count(*) FROM ledger_entries l WHERE l.click_id = c.id AND l.type = 'refund' AND l.amount_micros = c.charged_micros) != 1
   OR (SELECT count(*) FROM earnings_entries e WHERE e.click_id = c.id AND e.type = 'refund' AND e.amount_micros = -c.publisher_micros) != 1
   OR (SELECT count(*) FROM platform_entries p WHERE p.click_id = c.id AND p.type = 'refund' AND p.amount_micros = -c.platform_micros) != 1)`,
    (r) => `refunded click ${r.id}: reversal entries missing or wrong`);
  report(`SELECT c.id FROM clicks c WHERE c.status IN ('invalid', 'unbilled') AND (c.charged_micros != 0
      OR EXISTS (SELECT 1 FROM ledger_entries l WHERE l.click_id = c.id) OR EXISTS (SELECT 1 FROM earnings_entries e WHERE e.click_id = c.id))`,
    (r) => `uncharged click ${r.id} moved money`);
  report(`SELECT impression_id, count(*) AS n FROM clicks WHERE status IN ('charged', 'refunded') GROUP BY impression_id HAVING n > 1`,
    (r) => `impression ${r.impression_id} charged ${r.n} times`);
  report(`SELECT c.id, c.spent_total_micros, coalesce((SELECT sum(charged_micros) FROM clicks k WHERE k.campaign_id = c.id AND k.status = 'charged'), 0) AS clicks
          FROM campaigns c WHERE c.spent_total_micros != coalesce((SELECT sum(charged_micros) FROM clicks k WHERE k.campaign_id = c.id AND k.status = 'charged'), 0)`,
    (r) => `campaign ${r.id}: spent ${r.spent_total_micros} != charged clicks ${r.clicks}`);
  report(`SELECT c.id FROM campaigns c WHERE c.spent_total_micros != coalesce((SELECT sum(spent_micros) FROM campaign_daily_spend d WHERE d.campaign_id = c.id), 0)`,
    (r) => `campaign ${r.id}: daily spend does not add up to the total`);
  report(`SELECT id, spent_total_micros, budget_micros FROM campaigns WHERE budget_type = 'total' AND spent_total_micros > budget_micros`,
    (r) => `campaign ${r.id}: spent ${r.spent_total_micros} over its total budget ${r.budget_micros}`);
  report(`SELECT d.campaign_id, d.day FROM campaign_daily_spend d JOIN campaigns c ON c.id = d.campaign_id
          WHERE c.budget_type = 'daily' AND d.spent_micros > c.budget_micros`,
    (r) => `campaign ${r.campaign_id}: spent over its daily budget on ${r.day}`);
  const [money] = rows(`SELECT
      (SELECT coalesce(-sum(amount_micros), 0) FROM ledger_entries WHERE type IN ('cpc_cost', 'refund')) AS advertisers,
      (SELECT coalesce(sum(amount_micros), 0) FROM earnings_entries WHERE click_id IS NOT NULL) AS publishers,
      (SELECT coalesce(sum(amount_micros), 0) FROM platform_entries) AS platform`);
  if (money.advertisers !== money.publishers + money.platform)
    problems.push(`advertiser charges ${money.advertisers} != publisher earnings ${money.publishers} + platform ${money.platform}`);
  report(`SELECT project_id, sum(amount_micros) AS total FROM earnings_entries WHERE status IN ('pending', 'succeeded') GROUP BY project_id HAVING total < 0`,
    (r) => `publisher ${r.project_id}: negative earnings ${r.total}`);
  return problems;
}
