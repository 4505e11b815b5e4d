import { badRequest, conflict } from '../http/errors';
import { checkLimit, pageOf, seqCursor } from '../http/paging';
import { formatMicros, parseUsdToMicros } from '../money/money';
import { createHoldBook } from './hold-book';
import type { ChargeTag, LedgerRow, WalletRepo } from './wallet.repo';

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

export function createWalletService(deps: { repo: WalletRepo; now?: () => number }) {
  const now = deps.now ?? Date.now;
  const holds = createHoldBook();
  const available = (projectId: string) => deps.repo.balance(projectId) - holds.held(projectId);

  function topUp(projectId: string, input: { amount?: unknown; idempotency_key?: unknown }) {
    const amount = typeof input.amount === 'string' ? parseUsdToMicros(input.amount) : null;
    if (amount === null || amount <= 0)
      throw badRequest('invalid_amount', 'amount must be a positive decimal string in USD, e.g. "10.00" (at most 6 decimals)', 'amount');
    if (amount > MAX_TOP_UP_MICROS) throw badRequest('invalid_amount', 'amount is larger than the 1,000,000.00 USD top-up limit', 'amount');
    const key = input.idempotency_key;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 200))
      throw badRequest('invalid_value', 'idempotency_key must be a string of 1 to 200 characters', 'idempotency_key');
    const { entry, replayed } = deps.repo.topUp(projectId, amount, (key as string | undefined) ?? null, now());
    if (replayed && entry.amount_micros !== amount)
      throw conflict('idempotency_key_reused', 'This idempotency_key was already used with a different amount');
    return { transaction: toTransactionView(entry), replayed };
  }

  function view(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_PAGE);
    const beforeSeq = seqCursor(cursor, Number.MAX_SAFE_INTEGER);
    const balance = deps.repo.balance(projectId);
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
    spentByKeyMicros: deps.repo.spentByKey,
    usage: deps.repo.usage,
    /** Balance, held and available, without the transactions (the publisher's own view). */
    credits(projectId: string) {
      const balance = deps.repo.balance(projectId);
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
     * holds, `capMicros` when given: what the calling key's budget still allows) in one transaction and
     * releases the rest. Null when the hold was already settled.
     */
    settle(holdId: string, costMicros: number, requestId: string, tag?: ChargeTag, capMicros: number | null = null) {
      const hold = holds.take(holdId);
      if (!hold) return null;
      const payable = Math.max(0, available(hold.projectId));
      const charge = Math.min(costMicros, payable, capMicros ?? Number.MAX_SAFE_INTEGER);
      if (charge > 0) {
        const note = charge < costMicros ? `uncollected ${costMicros - charge} micros` : null;
        if (tag) deps.repo.consumeForKey(hold.projectId, charge, requestId, note, now(), tag);
        else deps.repo.consume(hold.projectId, charge, requestId, note, now());
      }
      return { chargedMicros: charge, uncollectedMicros: costMicros - charge };
    },
  };
}
export type WalletService = ReturnType<typeof createWalletService>;
