import { badRequest, conflict } from '../http/errors';
import { checkLimit, pageOf, seqCursor } from '../http/paging';
import { formatMicros, parseUsdToMicros } from '../money/money';
import { createHoldBook } from './hold-book';
import type { Database } from 'bun:sqlite';
import { registerWalletSync } from './money-sync';
import { writeGateOf } from '../store/write-gate';
import type { ChargeTag, GroupCharge, LedgerRow, WalletRepo } from './wallet.repo';

/** Largest single top-up: a typo of a few zeros should not mint a fortune. */
const MAX_TOP_UP_MICROS = 1_000_000 * 1_000_000; // 1,000,000 USD
export const MAX_PAGE = 1000;

export function toTransactionView(e: LedgerRow) {
  return {
    id: `txn_${e.seq}`,
    type: e.type,
    amount: formatMicros(e.amount_micros),
    amount_micros: e.amount_micros,
    balance_after: formatMicros(e.balance_after_micros),
    balance_after_micros: e.balance_after_micros,
    request_id: e.request_id,
    click_id: e.click_id,
    idempotency_key: e.idempotency_key,
    note: e.note,
    created_at: new Date(e.created_at).toISOString(),
  };
}

/** A settled request's charge: decided at once, durable when `committed` resolves (its group's transaction). */
export type Settlement = { chargedMicros: number; uncollectedMicros: number; committed: Promise<void> };

const CACHED_BALANCES = 100_000;
/** Under load, consecutive group commits are at least this far apart (a lone request never waits for it). */
const GROUP_WINDOW_MS = 1;

/**
 * Credit wallets: holds in memory, balances cached in memory, every movement a ledger entry.
 *
 * Consumption charges are committed in groups: settle() decides the charge at once (so the next request sees
 * it), queues it, and one IMMEDIATE transaction writes every charge queued during the current turn of the
 * event loop. The request's answer completes only once its `committed` promise resolves, so a charge is
 * durable before its answer is. Balances are cached as committed and the charges still queued are kept
 * apart, so the money available is always committed - queued - held.
 */
export function createWalletService(deps: { repo: WalletRepo; db?: Database; now?: () => number }) {
  const now = deps.now ?? Date.now;
  const holds = createHoldBook();
  /** Committed balances, read from the store once and then kept up to date by this service's own writes. */
  const committedBalance = new Map<string, number>();
  /** Charges decided but not yet committed, per wallet. */
  const queuedByProject = new Map<string, number>();
  type Queued = GroupCharge & { done: () => void; failed: (err: unknown) => void };
  let queue: Queued[] = [];
  let scheduled = false;
  let lastCommitMs = -Infinity;

  function committedOf(projectId: string): number {
    let balance = committedBalance.get(projectId);
    if (balance === undefined) {
      if (committedBalance.size >= CACHED_BALANCES) committedBalance.clear();
      balance = deps.repo.balance(projectId);
      committedBalance.set(projectId, balance);
    }
    return balance;
  }
  const balanceOf = (projectId: string) => committedOf(projectId) - (queuedByProject.get(projectId) ?? 0);
  const available = (projectId: string) => balanceOf(projectId) - holds.held(projectId);

  function unqueue(c: GroupCharge, written: boolean) {
    const left = (queuedByProject.get(c.projectId) ?? 0) - c.amount;
    if (left === 0) queuedByProject.delete(c.projectId);
    else queuedByProject.set(c.projectId, left);
    const cached = committedBalance.get(c.projectId);
    if (!written) committedBalance.delete(c.projectId);
    else if (cached !== undefined) committedBalance.set(c.projectId, cached - c.amount);
  }

  /** Writes every queued charge in one transaction; if it fails, each alone, so one bad charge fails alone. */
  function commitQueued() {
    scheduled = false;
    if (queue.length === 0) return;
    lastCommitMs = performance.now();
    const group = queue;
    queue = [];
    let written: boolean[];
    try {
      written = deps.repo.consumeGroup(group);
    } catch {
      for (const c of group) {
        try {
          const [ok] = deps.repo.consumeGroup([c]);
          unqueue(c, ok);
          c.done();
        } catch (err) {
          unqueue(c, false);
          c.failed(err);
        }
      }
      return;
    }
    group.forEach((c, i) => {
      unqueue(c, written[i]);
      // Not written: the guarded debit found less than the charge, which holds make impossible in one process.
      if (!written[i]) console.error(JSON.stringify({ level: 'error', msg: 'consumption not collected', request_id: c.requestId, amount_micros: c.amount }));
      c.done();
    });
  }

  // While the checkpointer holds writes (a few ms, so that the WAL can start over) the group waits for it.
  const gate = deps.db ? writeGateOf(deps.db) : null;
  const commitWhenOpen = () => (gate ? gate.whenOpen(commitQueued) : commitQueued());

  function queueCharge(charge: GroupCharge): Promise<void> {
    queuedByProject.set(charge.projectId, (queuedByProject.get(charge.projectId) ?? 0) + charge.amount);
    const committed = new Promise<void>((done, failed) => queue.push({ ...charge, done, failed }));
    if (!scheduled) {
      scheduled = true;
      // Other requests in flight: at most one group per GROUP_WINDOW_MS, so groups grow with the load. A lone
      // request (nothing else holding credit) waits for no timer: its charge commits right after this turn.
      const wait = holds.count() === 0 ? 0 : lastCommitMs + GROUP_WINDOW_MS - performance.now();
      if (wait <= 0) setImmediate(commitWhenOpen);
      else setTimeout(commitWhenOpen, wait);
    }
    return committed;
  }

  if (deps.db) registerWalletSync(deps.db, { commitPending: commitQueued, balanceChanged: (id) => committedBalance.delete(id) });

  function topUp(projectId: string, input: { amount?: unknown; idempotency_key?: unknown }) {
    const amount = typeof input.amount === 'string' ? parseUsdToMicros(input.amount) : null;
    if (amount === null || amount <= 0)
      throw badRequest('invalid_amount', 'amount must be a positive decimal string in USD, e.g. "10.00" (at most 6 decimals)', 'amount');
    if (amount > MAX_TOP_UP_MICROS) throw badRequest('invalid_amount', 'amount is larger than the 1,000,000.00 USD top-up limit', 'amount');
    const key = input.idempotency_key;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200))
      throw badRequest('invalid_value', 'idempotency_key must be a string of 1 to 200 characters', 'idempotency_key');
    const { entry, replayed } = deps.repo.topUp(projectId, amount, (key as string | undefined) ?? null, now());
    committedBalance.delete(projectId);
    if (replayed && entry.amount_micros !== amount)
      throw conflict('idempotency_key_reused', 'This idempotency_key was already used with a different amount');
    return { transaction: toTransactionView(entry), replayed };
  }

  function view(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_PAGE);
    const beforeSeq = seqCursor(cursor, Number.MAX_SAFE_INTEGER);
    commitQueued(); // the transactions listed and the balance shown include every charge decided so far
    const balance = committedOf(projectId);
    const held = holds.held(projectId);
    const { page, has_more, next_cursor } = pageOf(deps.repo.listEntries(projectId, limit + 1, beforeSeq), limit, (e) => String(e.seq));
    return {
      object: 'wallet' as const,
      project_id: projectId,
      currency: 'USD',
      balance: formatMicros(balance),
      held: formatMicros(held),
      available: formatMicros(balance - held),
      balance_micros: balance,
      held_micros: held,
      available_micros: balance - held,
      transactions: page.map(toTransactionView),
      has_more,
      next_cursor,
    };
  }

  return {
    topUp,
    view,
    ensureWallet: deps.repo.ensureWallet,
    /** Consumption charged to a key since `sinceMs`: seeds the keys' in-memory budget counters. */
    spentByKeyMicros: (keyId: string, sinceMs: number) => (commitQueued(), deps.repo.spentByKey(keyId, sinceMs)),
    usage: (projectId: string, keyId: string | null, fromMs: number, toMs: number) => (commitQueued(), deps.repo.usage(projectId, keyId, fromMs, toMs)),
    /** Commits the queued charges now (shutdown, and readers that need the ledger as of this moment). */
    commitQueued,
    /** Balance, held and available, without the transactions (the publisher's own view). */
    credits(projectId: string) {
      const balance = balanceOf(projectId);
      const held = holds.held(projectId);
      return {
        object: 'credits' as const, currency: 'USD',
        balance: formatMicros(balance), held: formatMicros(held), available: formatMicros(balance - held),
        balance_micros: balance, held_micros: held, available_micros: balance - held,
      };
    },
    availableMicros: available,
    /**
     * Places a hold sized by `size(available)`; null when it declines. Check and reserve happen without
     * an await in between, so concurrent requests can never reserve the same money twice.
     */
    reserve(projectId: string, size: (availableMicros: number) => number | null) {
      const free = available(projectId);
      const amount = size(free);
      if (amount === null || amount < 0 || amount > free) return null;
      const hold = holds.add(projectId, amount);
      return { holdId: hold.id, amountMicros: amount };
    },
    /**
     * Settles a hold exactly once: charges min(cost, what the wallet can pay without touching other
     * holds, `capMicros` when given: what the calling key's budget still allows) and releases the rest. The
     * charge is decided here and counted at once; it is written with the other charges of this turn (group
     * commit), and `committed` resolves when it is durable. Null when the hold was already settled.
     */
    settle(holdId: string, costMicros: number, requestId: string, tag?: ChargeTag, capMicros: number | null = null): Settlement | null {
      const hold = holds.take(holdId);
      if (!hold) return null;
      const payable = Math.max(0, available(hold.projectId));
      const charge = Math.min(costMicros, payable, capMicros ?? Number.MAX_SAFE_INTEGER);
      let committed = Promise.resolve();
      if (charge > 0) {
        const note = charge < costMicros ? `uncollected ${costMicros - charge} micros` : null;
        committed = queueCharge({ projectId: hold.projectId, amount: charge, requestId, note, now: now(), tag: tag ?? null });
      }
      return { chargedMicros: charge, uncollectedMicros: costMicros - charge, committed };
    },
  };
}
export type WalletService = ReturnType<typeof createWalletService>;
