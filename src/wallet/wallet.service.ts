import { badRequest, conflict } from '../http/errors';
import { checkLimit, pageOf, seqCursor } from '../http/paging';
import { formatMicros, parseUsdToMicros } from '../money/money';
import { thenOf, type SqlStore } from '../store/sql-store';
import { createCreditBook, type SharedBookOptions } from './credit-book';
import type { ChargeTag, LedgerRow, WalletRepo } from './wallet.repo';

export type { Settlement } from './credit-book';

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

/**
 * Credit wallets: every movement a ledger entry. Holds and the way charges reach the ledger belong to the credit
 * book the store calls for (credit-book.ts): in memory with group commits on the embedded store, in the store on
 * PostgreSQL. Either way a request's charge is durable before its answer completes (`Settlement.committed`).
 */
export function createWalletService(deps: { repo: WalletRepo; store: SqlStore; now?: () => number; shared?: SharedBookOptions }) {
  const now = deps.now ?? Date.now;
  const book = createCreditBook(deps.store, deps.repo, now, deps.shared);

  async function topUp(projectId: string, input: { amount?: unknown; idempotency_key?: unknown }) {
    const amount = typeof input.amount === 'string' ? parseUsdToMicros(input.amount) : null;
    if (amount === null || amount <= 0)
      throw badRequest('invalid_amount', 'amount must be a positive decimal string in USD, e.g. "10.00" (at most 6 decimals)', 'amount');
    if (amount > MAX_TOP_UP_MICROS) throw badRequest('invalid_amount', 'amount is larger than the 1,000,000.00 USD top-up limit', 'amount');
    const key = input.idempotency_key;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200))
      throw badRequest('invalid_value', 'idempotency_key must be a string of 1 to 200 characters', 'idempotency_key');
    const { entry, replayed } = await deps.repo.topUp(projectId, amount, (key as string | undefined) ?? null, now());
    book.balanceChanged(projectId);
    if (replayed && entry.amount_micros !== amount)
      throw conflict('idempotency_key_reused', 'This idempotency_key was already used with a different amount');
    return { transaction: toTransactionView(entry), replayed };
  }

  async function view(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_PAGE);
    const beforeSeq = seqCursor(cursor, Number.MAX_SAFE_INTEGER);
    await book.commitPending(); // the transactions listed and the balance shown include every charge decided so far
    const { balance, held } = await book.funds(projectId);
    const { page, has_more, next_cursor } = pageOf(await deps.repo.listEntries(projectId, limit + 1, beforeSeq), limit, (e) => String(e.seq));
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
    spentByKeyMicros: (keyId: string, sinceMs: number) => thenOf(book.commitPending(), () => deps.repo.spentByKey(keyId, sinceMs)),
    usage: (projectId: string, keyId: string | null, fromMs: number, toMs: number) =>
      thenOf(book.commitPending(), () => deps.repo.usage(projectId, keyId, fromMs, toMs)),
    /** Commits the decided charges now (shutdown, and readers that need the ledger as of this moment). */
    commitQueued: () => book.commitPending(),
    /** Balance, held and available, without the transactions (the publisher's own view). */
    credits: (projectId: string) =>
      thenOf(book.funds(projectId), ({ balance, held }) => ({
        object: 'credits' as const, currency: 'USD',
        balance: formatMicros(balance), held: formatMicros(held), available: formatMicros(balance - held),
        balance_micros: balance, held_micros: held, available_micros: balance - held,
      })),
    availableMicros: (projectId: string) => thenOf(book.funds(projectId), ({ balance, held }) => balance - held),
    /** Holds of this process's requests in flight. */
    inFlight: () => book.inFlight(),
    /**
     * Places a hold sized by `size(available)`; null when it declines. `size` may run more than once on a shared
     * store (after another instance took money in between); the hold is its last answer.
     */
    reserve: (projectId: string, size: (availableMicros: number) => number | null) => book.reserve(projectId, size),
    /**
     * Settles a hold exactly once: charges min(cost, what the wallet can pay, `capMicros` when given: what the
     * calling key's budget still allows) and releases the rest. The charge is decided here; `committed` resolves
     * when it is durable. Null when the hold was already settled.
     */
    settle: (holdId: string, costMicros: number, requestId: string, tag?: ChargeTag, capMicros: number | null = null) =>
      book.settle(holdId, costMicros, requestId, tag ?? null, capMicros),
    stop: () => book.stop(),
  };
}
export type WalletService = ReturnType<typeof createWalletService>;
