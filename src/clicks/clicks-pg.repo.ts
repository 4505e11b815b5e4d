import type { SQL } from 'bun';
import { utcDay } from '../campaigns/campaigns.repo';
import { newId } from '../store/ids';
import { micros } from '../wallet/wallet-pg.repo';
import type { ChargeInput, ChargeResult, ClickRow } from './clicks.repo';

/**
 * Click charges in PostgreSQL, shared by every instance of the gateway: the same rows as the SQLite repository
 * (clicks.repo.ts), so that the same audit holds, written by async methods.
 *
 * A charge is ONE transaction of two statements in the usual case (a third when the click is not paid), whose
 * locks are taken in one order (impression, campaign, then day's spend and wallet), the order of every refund
 * too, so that charges and refunds from any number of instances never deadlock:
 *
 * 1. The claim. The click row is inserted as charged with ON CONFLICT DO NOTHING on the partial unique index
 *    clicks_one_charge_idx (one charged or refunded click per impression, migration 002). A concurrent claim of
 *    the same impression waits for this transaction: if it commits the charge, the waiting claim finds the
 *    conflict and records its click as invalid (duplicate); if it ends unbilled (the row becomes 'unbilled' and
 *    leaves the partial index) or rolls back, the waiting claim proceeds. The database, not a cache, decides.
 *    In the same statement, after a successful claim only, the campaign row is locked (SELECT ... FOR UPDATE).
 * 2. The money, ONE statement under that ROW LOCK. Budgets hold by the lock: every writer of a campaign's
 *    spend (charge, refund) takes it first, so this statement's snapshot, taken after the lock was granted,
 *    holds the exact total and day's spend, and the budget check is a plain read in it. (A conditional UPDATE
 *    could guard a total budget, but not a daily one without writing before knowing whether the wallet pays.)
 *    The wallet by a CONDITIONAL UPDATE: it is debited only WHERE balance - held >= price (and the budget
 *    fits), so money held for requests in flight (wallet-pg.repo.ts) is never spent; PostgreSQL re-checks the
 *    condition on the newest row version after waiting for a concurrent writer. The wallet has no campaign
 *    lock to rely on: holds, top-ups and the advertiser's other campaigns write it. The campaign spend, the
 *    day's spend, the cpc_cost ledger entry, the publisher's pending earning and the platform fee are written
 *    from the debit's result in the same statement: all of them or none.
 * 3. When the budget or the wallet cannot pay: the claimed row becomes unbilled (budget_exhausted or
 *    funds_short) and the campaign, if active, is paused by the system with a history entry, in the same
 *    transaction.
 *
 * Money is integer micro-units; BIGINT columns come back as strings and are converted with `micros`.
 */

export type RefundOutcome = ClickRow | 'not_charged' | 'earning_available';

function toClickRow(r: Record<string, unknown>): ClickRow {
  return {
    ...(r as ClickRow),
    charged_micros: micros(r.charged_micros),
    publisher_micros: micros(r.publisher_micros),
    platform_micros: micros(r.platform_micros),
    created_at: micros(r.created_at),
  };
}

type Split = { charged: number; publisher: number; platform: number };
const NOTHING: Split = { charged: 0, publisher: 0, platform: 0 };

export function createPgClicksRepo(sql: SQL) {
  async function insertClick(db: SQL, input: ChargeInput, status: 'invalid' | 'unbilled', reason: string): Promise<ClickRow> {
    const [row] = await db`
      INSERT INTO clicks (id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, reason, charged_micros,
        publisher_micros, platform_micros, user_agent, created_at)
      VALUES (${newId('clk')}, ${input.impressionId}, ${input.campaignId}, ${input.publisherId}, ${input.advertiserId}, ${status}, ${reason},
        0, 0, 0, ${input.userAgent}, ${input.now}::bigint)
      RETURNING *`;
    return toClickRow(row);
  }

  /**
   * The claim and the campaign lock, one statement: the click inserted as charged unless its product is deleted
   * or the impression already has a charged (or refunded) click (then nothing is inserted, nothing locked, and
   * the answer says which); after a successful claim, and only then, the campaign row is locked FOR UPDATE.
   * The lock depends on the claim's result, so it is always taken after any wait on the impression: a click
   * waiting for another charge of its impression holds no campaign lock.
   */
  async function claimAndLock(tx: SQL, input: ChargeInput, split: Split): Promise<{ deleted: boolean; row: ClickRow | null }> {
    const [r] = await tx`
      WITH p AS (
        SELECT EXISTS (SELECT 1 FROM products WHERE id = ${input.productId} AND deleted_at IS NOT NULL) AS deleted
      ), ins AS (
        INSERT INTO clicks (id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, reason, charged_micros,
          publisher_micros, platform_micros, user_agent, created_at)
        SELECT ${newId('clk')}, ${input.impressionId}, ${input.campaignId}, ${input.publisherId}, ${input.advertiserId}, 'charged', NULL,
          ${split.charged}::bigint, ${split.publisher}::bigint, ${split.platform}::bigint, ${input.userAgent}, ${input.now}::bigint
        FROM p WHERE NOT p.deleted
        ON CONFLICT (impression_id) WHERE status IN ('charged', 'refunded') DO NOTHING
        RETURNING *
      ), c AS (
        SELECT id FROM campaigns WHERE id = ${input.campaignId} AND EXISTS (SELECT 1 FROM ins) FOR UPDATE
      )
      SELECT p.deleted, (SELECT to_jsonb(ins) FROM ins) AS row, (SELECT count(*) FROM c)::int AS locked FROM p`;
    const row = r.row === null ? null : typeof r.row === 'string' ? JSON.parse(r.row) : r.row;
    if (row && r.locked !== 1) throw new Error(`click on unknown campaign ${input.campaignId}`);
    return { deleted: r.deleted === true, row: row ? toClickRow(row) : null };
  }

  /**
   * The budget check, the guarded debit and every entry of a charge, in one statement run under the campaign
   * lock: its snapshot, taken after the lock was granted, holds the campaign's exact spend (total, and the day's,
   * whose writers all hold that lock), so the budget check needs no locking read of its own. Nothing is written
   * when the budget or the wallet cannot pay; the answer says which.
   */
  async function moveMoney(tx: SQL, input: ChargeInput, clickId: string, split: Split, day: string): Promise<'charged' | 'budget_exhausted' | 'funds_short'> {
    const [r] = await tx`
      WITH b AS (
        SELECT c.budget_micros - CASE WHEN c.budget_type = 'daily'
            THEN coalesce((SELECT spent_micros FROM campaign_daily_spend WHERE campaign_id = c.id AND day = ${day}), 0)
            ELSE c.spent_total_micros END >= ${split.charged}::bigint AS fits
        FROM campaigns c WHERE c.id = ${input.campaignId}
      ), w AS (
        UPDATE wallets SET balance_micros = balance_micros - ${split.charged}::bigint
        WHERE project_id = ${input.advertiserId} AND balance_micros - held_micros >= ${split.charged}::bigint AND (SELECT fits FROM b)
        RETURNING balance_micros
      ), c AS (
        UPDATE campaigns SET spent_total_micros = spent_total_micros + ${split.charged}::bigint FROM w
        WHERE campaigns.id = ${input.campaignId} RETURNING campaigns.id
      ), d AS (
        INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) SELECT ${input.campaignId}, ${day}, ${split.charged}::bigint FROM w
        ON CONFLICT (campaign_id, day) DO UPDATE SET spent_micros = campaign_daily_spend.spent_micros + EXCLUDED.spent_micros
        RETURNING campaign_id
      ), l AS (
        INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, click_id, note, created_at)
        SELECT ${input.advertiserId}, 'cpc_cost', ${-split.charged}::bigint, w.balance_micros, ${clickId}, NULL, ${input.now}::bigint FROM w
        RETURNING seq
      ), e AS (
        INSERT INTO earnings_entries (id, project_id, type, status, amount_micros, click_id, available_at, created_at)
        SELECT ${newId('earn')}, ${input.publisherId}, 'earning', 'pending', ${split.publisher}::bigint, ${clickId},
          ${input.now + input.earningsHoldMs}::bigint, ${input.now}::bigint FROM w
        RETURNING seq
      ), p AS (
        INSERT INTO platform_entries (click_id, type, amount_micros, created_at)
        SELECT ${clickId}, 'fee', ${split.platform}::bigint, ${input.now}::bigint FROM w
        RETURNING seq
      )
      SELECT (SELECT fits FROM b) AS fits, (SELECT count(*) FROM w)::int AS w, (SELECT count(*) FROM c)::int AS c,
        (SELECT count(*) FROM d)::int AS d, (SELECT count(*) FROM l)::int AS l, (SELECT count(*) FROM e)::int AS e, (SELECT count(*) FROM p)::int AS p`;
    if (r.fits !== true) return 'budget_exhausted';
    if (r.w === 0) return 'funds_short';
    // Every leg or none: a missing one throws, which rolls the whole charge back.
    if (r.c !== 1 || r.d !== 1 || r.l !== 1 || r.e !== 1 || r.p !== 1) throw new Error(`charge of click ${clickId}: incomplete entries ${JSON.stringify(r)}`);
    return 'charged';
  }

  /** The claimed click cannot be paid: it becomes unbilled and its campaign, if active, is paused by the system. */
  async function unbilled(tx: SQL, input: ChargeInput, clickId: string, reason: 'budget_exhausted' | 'funds_short'): Promise<ClickRow> {
    const [row] = await tx`
      WITH u AS (
        UPDATE clicks SET status = 'unbilled', reason = ${reason}, charged_micros = 0, publisher_micros = 0, platform_micros = 0
        WHERE id = ${clickId} RETURNING *
      ), pz AS (
        UPDATE campaigns SET status = 'paused_system', pause_reason = ${reason}, updated_at = ${input.now}::bigint
        WHERE id = ${input.campaignId} AND status = 'active' RETURNING id
      ), h AS (
        INSERT INTO campaign_history (campaign_id, event, actor, detail, created_at)
        SELECT id, 'paused', 'system', ${JSON.stringify({ reason })}, ${input.now}::bigint FROM pz RETURNING id
      )
      SELECT u.* FROM u`;
    return toClickRow(row);
  }

  /**
   * Charges the first valid click of an impression, exactly once whichever instance takes it, or records the
   * click as invalid (product_deleted, duplicate) or unbilled (budget_exhausted, funds_short: the campaign pauses).
   */
  async function charge(input: ChargeInput): Promise<ChargeResult> {
    const price = input.priceMicros;
    if (!Number.isSafeInteger(price) || price <= 0) throw new RangeError(`price must be a positive safe integer, got ${price}`);
    const publisher = Math.floor((price * input.publisherShareBps) / 10_000);
    const split: Split = { charged: price, publisher, platform: price - publisher };
    const day = utcDay(input.now);
    return sql.begin(async (tx) => {
      const claimed = await claimAndLock(tx, input, split);
      if (!claimed.row) return { click: await insertClick(tx, input, 'invalid', claimed.deleted ? 'product_deleted' : 'duplicate'), pausedFor: null };
      const outcome = await moveMoney(tx, input, claimed.row.id, split, day);
      if (outcome === 'charged') return { click: claimed.row, pausedFor: null };
      return { click: await unbilled(tx, input, claimed.row.id, outcome), pausedFor: outcome };
    });
  }

  /**
   * Reverses a charged click while its publisher earning is still pending: the advertiser is credited back and
   * every leg gets its opposite entry, in one transaction taking its locks in the charge's order (the click,
   * then campaign, day, wallet). A second refund, from any instance, finds the click refunded.
   */
  async function refund(clickId: string, reason: string, now: number): Promise<RefundOutcome> {
    return sql.begin(async (tx) => {
      const [found] = await tx`
        SELECT k.*, e.available_at FROM clicks k
        LEFT JOIN earnings_entries e ON e.click_id = k.id AND e.type = 'earning'
        WHERE k.id = ${clickId} FOR UPDATE OF k`;
      if (!found || found.status !== 'charged') return 'not_charged';
      if (found.available_at === null || micros(found.available_at) <= now) return 'earning_available';
      const click = toClickRow(found);
      const [c] = await tx`
        UPDATE campaigns SET spent_total_micros = spent_total_micros - ${click.charged_micros}::bigint WHERE id = ${click.campaign_id} RETURNING id`;
      const d = await tx`
        UPDATE campaign_daily_spend SET spent_micros = spent_micros - ${click.charged_micros}::bigint
        WHERE campaign_id = ${click.campaign_id} AND day = ${utcDay(click.created_at)} RETURNING campaign_id`;
      if (!c || d.length !== 1) throw new Error(`refund of click ${clickId}: its campaign spend is missing`);
      const [r] = await tx`
        WITH w AS (
          UPDATE wallets SET balance_micros = balance_micros + ${click.charged_micros}::bigint
          WHERE project_id = ${click.advertiser_project_id} RETURNING balance_micros
        ), l AS (
          INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, click_id, note, created_at)
          SELECT ${click.advertiser_project_id}, 'refund', ${click.charged_micros}::bigint, w.balance_micros, ${clickId}, ${reason}, ${now}::bigint FROM w
          RETURNING seq
        ), e AS (
          INSERT INTO earnings_entries (id, project_id, type, status, amount_micros, click_id, available_at, created_at)
          SELECT ${newId('earn')}, ${click.publisher_project_id}, 'refund', 'pending', ${-click.publisher_micros}::bigint, ${clickId},
            ${micros(found.available_at)}::bigint, ${now}::bigint FROM w
          RETURNING seq
        ), p AS (
          INSERT INTO platform_entries (click_id, type, amount_micros, created_at)
          SELECT ${clickId}, 'refund', ${-click.platform_micros}::bigint, ${now}::bigint FROM w
          RETURNING seq
        ), k AS (
          UPDATE clicks SET status = 'refunded', reason = ${reason} FROM w WHERE clicks.id = ${clickId} RETURNING clicks.*
        )
        SELECT (SELECT count(*) FROM l)::int + (SELECT count(*) FROM e)::int + (SELECT count(*) FROM p)::int AS entries,
          (SELECT to_jsonb(k) FROM k) AS row`;
      if (r.entries !== 3 || r.row === null) throw new Error(`refund of click ${clickId}: the advertiser's wallet is missing`);
      return toClickRow(typeof r.row === 'string' ? JSON.parse(r.row) : r.row);
    });
  }

  return {
    charge,
    /** A click that moves no money (expired link, non-human agent), recorded as invalid with its reason. */
    recordInvalid: (input: ChargeInput, reason: string) => insertClick(sql, input, 'invalid', reason),
    refund,
    get: async (id: string): Promise<ClickRow | null> => {
      const [row] = await sql`SELECT * FROM clicks WHERE id = ${id}`;
      return row ? toClickRow(row) : null;
    },
  };
}
export type PgClicksRepo = ReturnType<typeof createPgClicksRepo>;

/**
 * The marketplace money invariants of auditMarketMoney (audit.ts), checked in PostgreSQL: each charged click has
 * exactly its three entries (advertiser charge = publisher earning + platform fee), each refunded one their
 * reversals, uncharged clicks move nothing, no impression is charged twice, campaign spend matches the charged
 * clicks and the daily spend and stays within budget, and the three sides of all click money add up exactly.
 * Returns the violations found.
 */
export async function auditMarketMoneyPg(sql: SQL): Promise<string[]> {
  const problems: string[] = [];
  for (const r of await sql`
      SELECT c.id FROM clicks c WHERE c.status IN ('charged', 'refunded') AND (
          (SELECT count(*) FROM ledger_entries l WHERE l.click_id = c.id AND l.type = 'cpc_cost' AND l.amount_micros = -c.charged_micros) <> 1
       OR (SELECT count(*) FROM earnings_entries e WHERE e.click_id = c.id AND e.type = 'earning' AND e.amount_micros = c.publisher_micros) <> 1
       OR (SELECT count(*) FROM platform_entries p WHERE p.click_id = c.id AND p.type = 'fee' AND p.amount_micros = c.platform_micros) <> 1)`)
    problems.push(`charged click ${r.id}: advertiser charge, publisher earning and platform fee entries do not match it`);
  for (const r of await sql`
      SELECT c.id FROM clicks c WHERE c.status = 'refunded' AND (
          (SELECT count(*) FROM ledger_entries l WHERE l.click_id = c.id AND l.type = 'refund' AND l.amount_micros = c.charged_micros) <> 1
       OR (SELECT count(*) FROM earnings_entries e WHERE e.click_id = c.id AND e.type = 'refund' AND e.amount_micros = -c.publisher_micros) <> 1
       OR (SELECT count(*) FROM platform_entries p WHERE p.click_id = c.id AND p.type = 'refund' AND p.amount_micros = -c.platform_micros) <> 1)`)
    problems.push(`refunded click ${r.id}: reversal entries missing or wrong`);
  for (const r of await sql`
      SELECT c.id FROM clicks c WHERE c.status IN ('invalid', 'unbilled') AND (c.charged_micros <> 0
        OR EXISTS (SELECT 1 FROM ledger_entries l WHERE l.click_id = c.id) OR EXISTS (SELECT 1 FROM earnings_entries e WHERE e.click_id = c.id)
        OR EXISTS (SELECT 1 FROM platform_entries p WHERE p.click_id = c.id))`)
    problems.push(`uncharged click ${r.id} moved money`);
  for (const r of await sql`
      SELECT impression_id, count(*) AS n FROM clicks WHERE status IN ('charged', 'refunded') GROUP BY impression_id HAVING count(*) > 1`)
    problems.push(`impression ${r.impression_id} charged ${r.n} times`);
  for (const r of await sql`
      SELECT c.id, c.spent_total_micros, coalesce(k.charged, 0) AS clicks FROM campaigns c
      LEFT JOIN (SELECT campaign_id, sum(charged_micros) AS charged FROM clicks WHERE status = 'charged' GROUP BY campaign_id) k ON k.campaign_id = c.id
      WHERE c.spent_total_micros <> coalesce(k.charged, 0)`)
    problems.push(`campaign ${r.id}: spent ${r.spent_total_micros} != charged clicks ${r.clicks}`);
  for (const r of await sql`
      SELECT c.id FROM campaigns c LEFT JOIN (SELECT campaign_id, sum(spent_micros) AS spent FROM campaign_daily_spend GROUP BY campaign_id) d
        ON d.campaign_id = c.id
      WHERE c.spent_total_micros <> coalesce(d.spent, 0)`)
    problems.push(`campaign ${r.id}: daily spend does not add up to the total`);
  for (const r of await sql`SELECT id, spent_total_micros, budget_micros FROM campaigns WHERE budget_type = 'total' AND spent_total_micros > budget_micros`)
    problems.push(`campaign ${r.id}: spent ${r.spent_total_micros} over its total budget ${r.budget_micros}`);
  for (const r of await sql`
      SELECT d.campaign_id, d.day FROM campaign_daily_spend d JOIN campaigns c ON c.id = d.campaign_id
      WHERE c.budget_type = 'daily' AND d.spent_micros > c.budget_micros`)
    problems.push(`campaign ${r.campaign_id}: spent over its daily budget on ${r.day}`);
  const [money] = await sql`SELECT
      (SELECT coalesce(-sum(amount_micros), 0) FROM ledger_entries WHERE type IN ('cpc_cost', 'refund'))::text AS advertisers,
      (SELECT coalesce(sum(amount_micros), 0) FROM earnings_entries WHERE click_id IS NOT NULL)::text AS publishers,
      (SELECT coalesce(sum(amount_micros), 0) FROM platform_entries)::text AS platform`;
  if (BigInt(money.advertisers) !== BigInt(money.publishers) + BigInt(money.platform))
    problems.push(`advertiser charges ${money.advertisers} != publisher earnings ${money.publishers} + platform ${money.platform}`);
  for (const r of await sql`
      SELECT project_id, sum(amount_micros) AS total FROM earnings_entries WHERE status IN ('pending', 'succeeded')
      GROUP BY project_id HAVING sum(amount_micros) < 0`)
    problems.push(`publisher ${r.project_id}: negative earnings ${r.total}`);
  return problems;
}
