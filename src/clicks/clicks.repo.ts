import type { Database } from 'bun:sqlite';
import { writeWalletOutside } from '../wallet/money-sync';
import { utcDay } from '../campaigns/campaigns.repo';
import { newId } from '../store/ids';

export type ClickStatus = 'charged' | 'invalid' | 'unbilled' | 'refunded';
export type ClickRow = {
  id: string; impression_id: string; campaign_id: string; publisher_project_id: string; advertiser_project_id: string;
  status: ClickStatus; reason: string | null; charged_micros: number; publisher_micros: number; platform_micros: number;
  user_agent: string | null; created_at: number;
};

/** Which clicks a list shows: one advertiser's or one publisher's, optionally narrowed. */
export type ClickFilter = {
  side: 'advertiser' | 'publisher';
  projectId: string;
  campaignId?: string;
  status?: ClickStatus;
  reason?: string;
};
/** Key-set position of the last click of a page (newest first: created_at, then insertion order). */
export type ClickCursor = { createdAt: number; seq: number };
export type ClickListRow = ClickRow & { seq: number };

/** One statement per combination of filters (at most 2 x 16), each cached by SQLite's statement cache. */
function listSql(f: ClickFilter, after: boolean): string {
  const where = [f.side === 'advertiser' ? 'advertiser_project_id = $project' : 'publisher_project_id = $project'];
  if (f.campaignId !== undefined) where.push('campaign_id = $campaign');
  if (f.status !== undefined) where.push('status = $status');
  if (f.reason !== undefined) where.push('reason = $reason');
  if (after) where.push('(created_at, rowid) < ($at, $seq)');
  return `SELECT rowid AS seq, * FROM clicks WHERE ${where.join(' AND ')} ORDER BY created_at DESC, rowid DESC LIMIT $limit`;
}

export type ChargeInput = {
  /** The promoted product: a click on a product deleted since the answer was shown is recorded, never charged. */
  productId: string;
  impressionId: string; campaignId: string; publisherId: string; advertiserId: string; priceMicros: number;
  publisherShareBps: number; earningsHoldMs: number; userAgent: string | null; now: number;
};
export type ChargeResult = { click: ClickRow; pausedFor: 'budget_exhausted' | 'funds_short' | null };

/**
 * A charged click moves money in one IMMEDIATE transaction: advertiser wallet debit (guarded, never
 * negative), campaign spend (never past its budget), the publisher's pending earning and the platform's
 * fee, which add up to the charge to the micro-unit. A click on a deleted product is recorded as invalid
 * (product_deleted) and moves no money. The partial unique index on clicks makes a second
 * charge for the same impression impossible, however many clicks race.
 */
export function createClicksRepo(db: Database) {
  // Deleted products keep their row (soft delete), so a link shown before the deletion still resolves.
  const productDeleted = db.query('SELECT 1 FROM products WHERE id = ? AND deleted_at IS NOT NULL');
  const chargedFor = db.query(`SELECT id FROM clicks WHERE impression_id = ? AND status IN ('charged', 'refunded')`);
  const insertClick = db.query(
    `INSERT INTO clicks (id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, reason, charged_micros,
       publisher_micros, platform_micros, user_agent, created_at)
     VALUES ($id, $impressionId, $campaignId, $publisherId, $advertiserId, $status, $reason, $charged, $publisher, $platform, $ua, $now)`,
  );
  const campaign = db.query('SELECT budget_micros, budget_type, spent_total_micros, status FROM campaigns WHERE id = ?');
  const spentToday = db.query('SELECT spent_micros FROM campaign_daily_spend WHERE campaign_id = ? AND day = ?');
  const debit = db.query(
    `UPDATE wallets SET balance_micros = balance_micros - $amount
     WHERE project_id = $projectId AND balance_micros >= $amount RETURNING balance_micros`,
  );
  const credit = db.query('UPDATE wallets SET balance_micros = balance_micros + ? WHERE project_id = ? RETURNING balance_micros');
  const addSpend = db.query('UPDATE campaigns SET spent_total_micros = spent_total_micros + ? WHERE id = ?');
  const addDaily = db.query(
    `INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) VALUES (?, ?, ?)
     ON CONFLICT (campaign_id, day) DO UPDATE SET spent_micros = spent_micros + excluded.spent_micros`,
  );
  const ledger = db.query(
    `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, click_id, note, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const earning = db.query(
    `INSERT INTO earnings_entries (id, project_id, type, status, amount_micros, click_id, available_at, created_at)
     VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)`,
  );
  const platform = db.query('INSERT INTO platform_entries (click_id, type, amount_micros, created_at) VALUES (?, ?, ?, ?)');
  const removeDaily = db.query('UPDATE campaign_daily_spend SET spent_micros = spent_micros - ? WHERE campaign_id = ? AND day = ?');
  const pause = db.query(`UPDATE campaigns SET status = 'paused_system', pause_reason = ?, updated_at = ? WHERE id = ? AND status = 'active'`);
  const history = db.query(`INSERT INTO campaign_history (campaign_id, event, actor, detail, created_at) VALUES (?, 'paused', 'system', ?, ?)`);
  const byId = db.query('SELECT * FROM clicks WHERE id = ?');
  const earningOf = db.query(`SELECT * FROM earnings_entries WHERE click_id = ? AND type = 'earning'`);
  const markRefunded = db.query(`UPDATE clicks SET status = 'refunded', reason = ? WHERE id = ? AND status = 'charged'`);
  const clickDay = (ms: number) => utcDay(ms);

  function record(input: ChargeInput, status: ClickStatus, reason: string | null, split = { charged: 0, publisher: 0, platform: 0 }): ClickRow {
    const id = newId('clk');
    insertClick.run({
      id, impressionId: input.impressionId, campaignId: input.campaignId, publisherId: input.publisherId, advertiserId: input.advertiserId,
      status, reason, charged: split.charged, publisher: split.publisher, platform: split.platform, ua: input.userAgent, now: input.now,
    });
    return byId.get(id) as ClickRow;
  }

  const charge = db.transaction((input: ChargeInput): ChargeResult => {
    if (productDeleted.get(input.productId)) return { click: record(input, 'invalid', 'product_deleted'), pausedFor: null };
    if (chargedFor.get(input.impressionId)) return { click: record(input, 'invalid', 'duplicate'), pausedFor: null };
    const c = campaign.get(input.campaignId) as { budget_micros: number; budget_type: string; spent_total_micros: number; status: string };
    const day = clickDay(input.now);
    const spent = c.budget_type === 'daily' ? ((spentToday.get(input.campaignId, day) as { spent_micros: number } | null)?.spent_micros ?? 0) : c.spent_total_micros;
    const price = input.priceMicros;
    let pausedFor: ChargeResult['pausedFor'] = null;
    if (spent + price > c.budget_micros) pausedFor = 'budget_exhausted';
    const after = pausedFor ? null : (debit.get({ amount: price, projectId: input.advertiserId }) as { balance_micros: number } | null);
    if (!pausedFor && !after) pausedFor = 'funds_short';
    if (pausedFor) {
      if (pause.run(pausedFor, input.now, input.campaignId).changes === 1) history.run(input.campaignId, JSON.stringify({ reason: pausedFor }), input.now);
      return { click: record(input, 'unbilled', pausedFor), pausedFor };
    }
    const publisherShare = Math.floor((price * input.publisherShareBps) / 10_000);
    const click = record(input, 'charged', null, { charged: price, publisher: publisherShare, platform: price - publisherShare });
    addSpend.run(price, input.campaignId);
    addDaily.run(input.campaignId, day, price);
    ledger.run(input.advertiserId, 'cpc_cost', -price, after!.balance_micros, click.id, null, input.now);
    earning.run(newId('earn'), input.publisherId, 'earning', publisherShare, click.id, input.now + input.earningsHoldMs, input.now);
    platform.run(click.id, 'fee', price - publisherShare, input.now);
    return { click, pausedFor: null };
  });

  /** Reverses a charged click while its earning is still pending: every leg gets its opposite entry. */
  const refund = db.transaction((clickId: string, reason: string, now: number): ClickRow | 'not_charged' | 'earning_available' => {
    const click = byId.get(clickId) as ClickRow | null;
    if (!click || click.status !== 'charged') return 'not_charged';
    const earned = earningOf.get(clickId) as { available_at: number; status: string } | null;
    if (!earned || earned.available_at <= now) return 'earning_available';
    markRefunded.run(reason, clickId);
    const { balance_micros } = credit.get(click.charged_micros, click.advertiser_project_id) as { balance_micros: number };
    ledger.run(click.advertiser_project_id, 'refund', click.charged_micros, balance_micros, clickId, reason, now);
    addSpend.run(-click.charged_micros, click.campaign_id);
    removeDaily.run(click.charged_micros, click.campaign_id, clickDay(click.created_at));
    earning.run(newId('earn'), click.publisher_project_id, 'refund', -click.publisher_micros, clickId, earned.available_at, now);
    platform.run(clickId, 'refund', -click.platform_micros, now);
    return byId.get(clickId) as ClickRow;
  });

  return {
    charge: (input: ChargeInput) => writeWalletOutside(db, input.advertiserId, () => charge.immediate(input)),
    recordInvalid: (input: ChargeInput, reason: string) => record(input, 'invalid', reason),
    // The refunded wallet is the click's advertiser's.
    refund: (clickId: string, reason: string, now: number) =>
      writeWalletOutside(db, (byId.get(clickId) as ClickRow | null)?.advertiser_project_id ?? '', () => refund.immediate(clickId, reason, now)),
    get: (id: string) => byId.get(id) as ClickRow | null,
    /** Newest first, at most `limit` clicks older than `cursor`. */
    list(filter: ClickFilter, cursor: ClickCursor | null, limit: number): ClickListRow[] {
      const params: Record<string, string | number> = { project: filter.projectId, limit };
      if (filter.campaignId !== undefined) params.campaign = filter.campaignId;
      if (filter.status !== undefined) params.status = filter.status;
      if (filter.reason !== undefined) params.reason = filter.reason;
      if (cursor) Object.assign(params, { at: cursor.createdAt, seq: cursor.seq });
      return db.query(listSql(filter, cursor !== null)).all(params) as ClickListRow[];
    },
  };
}
export type ClicksRepo = ReturnType<typeof createClicksRepo>;
