import { utcDay } from '../campaigns/campaigns.repo';
import { timeOrderedBase62, newId } from '../store/ids';
import { thenOf, type Awaitable, type SqlStore, type Tx } from '../store/sql-store';
import { writeWalletOutside } from '../wallet/money-sync';

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
/** Key-set position of the last click of a page (newest first: created_at, then id). */
export type ClickCursor = { createdAt: number; id: string };

export type ChargeInput = {
  /** The promoted product: a click on a product deleted since the answer was shown is recorded, never charged. */
  productId: string;
  impressionId: string; campaignId: string; publisherId: string; advertiserId: string; priceMicros: number;
  publisherShareBps: number; earningsHoldMs: number; userAgent: string | null; now: number;
};
export type ChargeResult = { click: ClickRow; pausedFor: 'budget_exhausted' | 'funds_short' | null };
export type RefundOutcome = ClickRow | 'not_charged' | 'earning_available';

let lastClickId = '';
/**
 * Click ids grow strictly within a process (time-ordered, and larger than the previous one within the same
 * millisecond), so that clicks recorded in the same millisecond list in the order they were recorded.
 */
function nextClickId(): string {
  let id = `clk_${timeOrderedBase62()}`;
  if (id <= lastClickId) id = successor(lastClickId);
  lastClickId = id;
  return id;
}
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** The next base62 string of the same length (its random tail has room: 12 digits). */
function successor(id: string): string {
  const chars = id.split('');
  for (let i = chars.length - 1; i >= 4; i--) {
    const d = DIGITS.indexOf(chars[i]);
    if (d < 61) {
      chars[i] = DIGITS[d + 1];
      return chars.join('');
    }
    chars[i] = DIGITS[0];
  }
  throw new Error('click id space exhausted');
}

// ---- The statements of a charge and a refund, one text for both stores ----

const CLICK_COLUMNS = `id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, reason, charged_micros,
  publisher_micros, platform_micros, user_agent, created_at`;
/** A click that moves no money (invalid or unbilled from the start). */
const INSERT_UNCHARGED = `INSERT INTO clicks (${CLICK_COLUMNS})
  VALUES ($id, $impressionId, $campaignId, $publisherId, $advertiserId, $status, $reason, 0, 0, 0, $ua, $now) RETURNING *`;
/**
 * The claim: the click inserted as charged unless its product is deleted or the impression already has a
 * charged (or refunded) click. The partial unique index clicks_one_charge_idx decides: on PostgreSQL a claim of
 * the same impression by another instance waits for this transaction and then finds the conflict (or, if this
 * click ends unbilled or rolls back, proceeds). No row back: product deleted or duplicate.
 */
const CLAIM = `INSERT INTO clicks (${CLICK_COLUMNS})
  SELECT $id, $impressionId, $campaignId, $publisherId, $advertiserId, 'charged', NULL, CAST($charged AS BIGINT),
    CAST($publisher AS BIGINT), CAST($platform AS BIGINT), CAST($ua AS TEXT), CAST($now AS BIGINT)
  WHERE NOT EXISTS (SELECT 1 FROM products WHERE id = $productId AND deleted_at IS NOT NULL)
  ON CONFLICT (impression_id) WHERE status IN ('charged', 'refunded') DO NOTHING
  RETURNING *`;
const PRODUCT_DELETED = 'SELECT 1 AS deleted FROM products WHERE id = $productId AND deleted_at IS NOT NULL';
/**
 * The campaign's budget, read under its row lock on PostgreSQL: every writer of a campaign's spend (charge,
 * refund) takes it first, so the spend read after it (total here, the day's next) is exact. SQLite's IMMEDIATE
 * transaction already excludes every other writer. The one statement the two stores spell differently.
 */
const campaignForCharge = (store: SqlStore) =>
  `SELECT budget_micros, budget_type, spent_total_micros FROM campaigns WHERE id = $campaignId${store.kind === 'postgres' ? ' FOR UPDATE' : ''}`;
const SPENT_TODAY = 'SELECT spent_micros FROM campaign_daily_spend WHERE campaign_id = $campaignId AND day = $day';
/** Guarded debit: never below zero, never into money held for requests in flight (held_micros; 0 on SQLite). */
const DEBIT = `UPDATE wallets SET balance_micros = balance_micros - $amount
  WHERE project_id = $projectId AND balance_micros - held_micros >= $amount RETURNING balance_micros`;
const CREDIT = 'UPDATE wallets SET balance_micros = balance_micros + $amount WHERE project_id = $projectId RETURNING balance_micros';
const ADD_SPEND = 'UPDATE campaigns SET spent_total_micros = spent_total_micros + $amount WHERE id = $campaignId';
const ADD_DAILY = `INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) VALUES ($campaignId, $day, $amount)
  ON CONFLICT (campaign_id, day) DO UPDATE SET spent_micros = campaign_daily_spend.spent_micros + excluded.spent_micros`;
const REMOVE_DAILY = 'UPDATE campaign_daily_spend SET spent_micros = spent_micros - $amount WHERE campaign_id = $campaignId AND day = $day';
const LEDGER = `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, click_id, note, created_at)
  VALUES ($projectId, $type, $amount, $balanceAfter, $clickId, $note, $now)`;
const EARNING = `INSERT INTO earnings_entries (id, project_id, type, status, amount_micros, click_id, available_at, created_at)
  VALUES ($id, $projectId, $type, 'pending', $amount, $clickId, $availableAt, $now)`;
const PLATFORM = 'INSERT INTO platform_entries (click_id, type, amount_micros, created_at) VALUES ($clickId, $type, $amount, $now)';
const MARK_UNBILLED = `UPDATE clicks SET status = 'unbilled', reason = $reason, charged_micros = 0, publisher_micros = 0, platform_micros = 0
  WHERE id = $id RETURNING *`;
const PAUSE = `UPDATE campaigns SET status = 'paused_system', pause_reason = $reason, updated_at = $now WHERE id = $campaignId AND status = 'active'`;
const PAUSE_HISTORY = `INSERT INTO campaign_history (campaign_id, event, actor, detail, created_at) VALUES ($campaignId, 'paused', 'system', $detail, $now)`;
const CLICK_BY_ID = 'SELECT * FROM clicks WHERE id = $id';
const EARNING_OF = `SELECT available_at FROM earnings_entries WHERE click_id = $id AND type = 'earning'`;
const MARK_REFUNDED = `UPDATE clicks SET status = 'refunded', reason = $reason WHERE id = $id AND status = 'charged' RETURNING *`;

/** One statement per combination of filters (at most 2 x 16), each prepared once. */
function listSql(f: ClickFilter, after: boolean, byteOrder: string): string {
  const where = [f.side === 'advertiser' ? 'advertiser_project_id = $project' : 'publisher_project_id = $project'];
  if (f.campaignId !== undefined) where.push('campaign_id = $campaign');
  if (f.status !== undefined) where.push('status = $status');
  if (f.reason !== undefined) where.push('reason = $reason');
  if (after) where.push(`(created_at < $at OR (created_at = $at AND id${byteOrder} < $after))`);
  return `SELECT * FROM clicks WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id${byteOrder} DESC LIMIT $limit`;
}

type Split = { charged: number; publisher: number; platform: number };

/**
 * Clicks and the money they move, on either store. A charge is ONE transaction: the claim of the impression
 * (the partial unique index on clicks makes a second charge of an impression impossible, however many clicks
 * race, on however many instances), the campaign's budget read under its lock, the advertiser's guarded debit
 * (never negative, never into held money), the campaign spend, the publisher's pending earning and the
 * platform's fee, which add up to the charge to the micro-unit. When the budget or the wallet cannot pay, the
 * click becomes unbilled and the campaign is paused by the system, in the same transaction. A click on a
 * deleted product is recorded as invalid (product_deleted) and moves no money.
 *
 * Locks are taken in one order by charges and refunds alike (the click, the campaign, then the day's spend and
 * the wallet), so concurrent charges and refunds on PostgreSQL never deadlock.
 */
export function createClicksRepo(store: SqlStore) {
  const byId = store.stmt<ClickRow>(CLICK_BY_ID);
  const campaignSql = campaignForCharge(store);
  const byteOrder = store.kind === 'postgres' ? ' COLLATE "C"' : '';

  function uncharged(db: Tx | SqlStore, input: ChargeInput, status: 'invalid' | 'unbilled', reason: string): Awaitable<ClickRow> {
    return thenOf(
      db.stmt<ClickRow>(INSERT_UNCHARGED).get({
        id: nextClickId(), impressionId: input.impressionId, campaignId: input.campaignId, publisherId: input.publisherId,
        advertiserId: input.advertiserId, status, reason, ua: input.userAgent, now: input.now,
      }),
      (row) => row!,
    );
  }

  async function chargeIn(tx: Tx, input: ChargeInput, split: Split): Promise<ChargeResult> {
    const day = utcDay(input.now);
    // The claim, then the campaign's lock and budget, then the day's spend: sent together (one round trip on
    // PostgreSQL), run one after the other. Each statement reads a snapshot taken when it starts, so the spend is
    // read after the lock is granted, and the lock is requested only after any wait on the impression's claim.
    const [claimed, c, today] = await Promise.all([
      tx.stmt<ClickRow>(CLAIM).get({
        id: nextClickId(), impressionId: input.impressionId, campaignId: input.campaignId, publisherId: input.publisherId,
        advertiserId: input.advertiserId, charged: split.charged, publisher: split.publisher, platform: split.platform,
        ua: input.userAgent, now: input.now, productId: input.productId,
      }),
      tx.stmt<{ budget_micros: number; budget_type: string; spent_total_micros: number }>(campaignSql).get({ campaignId: input.campaignId }),
      tx.stmt<{ spent_micros: number }>(SPENT_TODAY).get({ campaignId: input.campaignId, day }),
    ]);
    if (!claimed) {
      const deleted = await tx.stmt(PRODUCT_DELETED).get({ productId: input.productId });
      return { click: await uncharged(tx, input, 'invalid', deleted ? 'product_deleted' : 'duplicate'), pausedFor: null };
    }
    if (!c) throw new Error(`click on unknown campaign ${input.campaignId}`);
    const spent = c.budget_type === 'daily' ? (today?.spent_micros ?? 0) : c.spent_total_micros;
    const price = split.charged;
    let pausedFor: ChargeResult['pausedFor'] = spent + price > c.budget_micros ? 'budget_exhausted' : null;
    const after = pausedFor ? null : await tx.stmt<{ balance_micros: number }>(DEBIT).get({ amount: price, projectId: input.advertiserId });
    if (!pausedFor && !after) pausedFor = 'funds_short';
    if (pausedFor) {
      const click = await tx.stmt<ClickRow>(MARK_UNBILLED).get({ reason: pausedFor, id: claimed.id });
      const paused = await tx.stmt(PAUSE).run({ reason: pausedFor, now: input.now, campaignId: input.campaignId });
      if (paused.changes === 1) await tx.stmt(PAUSE_HISTORY).run({ campaignId: input.campaignId, detail: JSON.stringify({ reason: pausedFor }), now: input.now });
      return { click: click!, pausedFor };
    }
    // The legs of the charge, sent together: any failure rolls the whole charge back.
    await Promise.all([
      tx.stmt(ADD_SPEND).run({ amount: price, campaignId: input.campaignId }),
      tx.stmt(ADD_DAILY).run({ campaignId: input.campaignId, day, amount: price }),
      tx.stmt(LEDGER).run({
        projectId: input.advertiserId, type: 'cpc_cost', amount: -price, balanceAfter: after!.balance_micros, clickId: claimed.id, note: null, now: input.now,
      }),
      tx.stmt(EARNING).run({
        id: newId('earn'), projectId: input.publisherId, type: 'earning', amount: split.publisher, clickId: claimed.id,
        availableAt: input.now + input.earningsHoldMs, now: input.now,
      }),
      tx.stmt(PLATFORM).run({ clickId: claimed.id, type: 'fee', amount: split.platform, now: input.now }),
    ]);
    return { click: claimed, pausedFor: null };
  }

  async function refundIn(tx: Tx, clickId: string, reason: string, now: number): Promise<RefundOutcome> {
    const found = await tx.stmt<ClickRow>(CLICK_BY_ID).get({ id: clickId });
    if (!found || found.status !== 'charged') return 'not_charged';
    const earned = await tx.stmt<{ available_at: number }>(EARNING_OF).get({ id: clickId });
    if (!earned || earned.available_at <= now) return 'earning_available';
    // Conditional: of concurrent refunds of one click (several instances), exactly one finds it charged.
    const click = await tx.stmt<ClickRow>(MARK_REFUNDED).get({ reason, id: clickId });
    if (!click) return 'not_charged';
    const spend = await tx.stmt(ADD_SPEND).run({ amount: -click.charged_micros, campaignId: click.campaign_id });
    const daily = await tx.stmt(REMOVE_DAILY).run({ amount: click.charged_micros, campaignId: click.campaign_id, day: utcDay(click.created_at) });
    if (spend.changes !== 1 || daily.changes !== 1) throw new Error(`refund of click ${clickId}: its campaign spend is missing`);
    const wallet = await tx.stmt<{ balance_micros: number }>(CREDIT).get({ amount: click.charged_micros, projectId: click.advertiser_project_id });
    if (!wallet) throw new Error(`refund of click ${clickId}: the advertiser's wallet is missing`);
    await tx.stmt(LEDGER).run({
      projectId: click.advertiser_project_id, type: 'refund', amount: click.charged_micros, balanceAfter: wallet.balance_micros, clickId, note: reason, now,
    });
    await tx.stmt(EARNING).run({
      id: newId('earn'), projectId: click.publisher_project_id, type: 'refund', amount: -click.publisher_micros, clickId, availableAt: earned.available_at, now,
    });
    await tx.stmt(PLATFORM).run({ clickId, type: 'refund', amount: -click.platform_micros, now });
    return click;
  }

  return {
    /**
     * Charges the first valid click of an impression, exactly once whichever instance takes it, or records the
     * click as invalid (product_deleted, duplicate) or unbilled (budget_exhausted, funds_short: the campaign pauses).
     */
    charge(input: ChargeInput): Promise<ChargeResult> {
      const price = input.priceMicros;
      if (!Number.isSafeInteger(price) || price < 0) return Promise.reject(new RangeError(`price must be a non-negative safe integer, got ${price}`));
      const publisher = Math.floor((price * input.publisherShareBps) / 10_000);
      const split: Split = { charged: price, publisher, platform: price - publisher };
      return Promise.resolve(writeWalletOutside(store, input.advertiserId, () => store.transaction((tx) => chargeIn(tx, input, split))));
    },
    /** A click that moves no money (expired link, non-human agent), recorded as invalid with its reason. */
    recordInvalid: (input: ChargeInput, reason: string): Awaitable<ClickRow> => uncharged(store, input, 'invalid', reason),
    /** Reverses a charged click while its earning is still pending: every leg gets its opposite entry, once. */
    async refund(clickId: string, reason: string, now: number): Promise<RefundOutcome> {
      const click = await byId.get({ id: clickId });
      if (!click || click.status !== 'charged') return 'not_charged';
      // The refunded wallet is the click's advertiser's.
      return writeWalletOutside(store, click.advertiser_project_id, () => store.transaction((tx) => refundIn(tx, clickId, reason, now)));
    },
    get: (id: string): Awaitable<ClickRow | null> => byId.get({ id }),
    /** Newest first, at most `limit` clicks older than `cursor`. */
    list(filter: ClickFilter, cursor: ClickCursor | null, limit: number): Awaitable<ClickRow[]> {
      const params: Record<string, string | number> = { project: filter.projectId, limit };
      if (filter.campaignId !== undefined) params.campaign = filter.campaignId;
      if (filter.status !== undefined) params.status = filter.status;
      if (filter.reason !== undefined) params.reason = filter.reason;
      if (cursor) Object.assign(params, { at: cursor.createdAt, after: cursor.id });
      return store.stmt<ClickRow>(listSql(filter, cursor !== null, byteOrder)).all(params);
    },
  };
}
export type ClicksRepo = ReturnType<typeof createClicksRepo>;
