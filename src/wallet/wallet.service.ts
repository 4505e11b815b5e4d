import { badRequest, conflict } from '../http/errors';
import { formatMicros, parseUsdToMicros } from '../money/money';
import type { LedgerRow, WalletRepo } from './wallet.repo';

/** Largest single top-up: a typo of a few zeros should not mint a fortune. */
const MAX_TOP_UP_MICROS = 1_000_000 * 1_000_000; // 1,000,000 USD
export const MAX_PAGE = 1000;

export function toTransactionView(e: LedgerRow) {
  return {
    id: e.id,
    type: e.type,
    amount: formatMicros(e.amount_micros),
    amount_micros: e.amount_micros,
    balance_after: formatMicros(e.balance_after_micros),
    request_id: e.request_id,
    idempotency_key: e.idempotency_key,
    note: e.note,
    created_at: new Date(e.created_at).toISOString(),
  };
}

export function createWalletService(deps: { repo: WalletRepo; now?: () => number }) {
  const now = deps.now ?? Date.now;

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
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
      throw badRequest('invalid_value', `limit must be an integer from 1 to ${MAX_PAGE}`, 'limit');
    const beforeSeq = cursor === null ? Number.MAX_SAFE_INTEGER : Number(cursor);
    if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 0) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
    const wallet = deps.repo.getWallet(projectId);
    const rows = deps.repo.listEntries(projectId, limit + 1, beforeSeq);
    const page = rows.slice(0, limit);
    return {
      object: 'wallet' as const,
      project_id: projectId,
      currency: 'USD',
      balance: formatMicros(wallet.balance_micros),
      held: formatMicros(wallet.held_micros),
      available: formatMicros(wallet.balance_micros - wallet.held_micros),
      balance_micros: wallet.balance_micros,
      held_micros: wallet.held_micros,
      available_micros: wallet.balance_micros - wallet.held_micros,
      transactions: page.map(toTransactionView),
      has_more: rows.length > limit,
      next_cursor: rows.length > limit ? String(page[page.length - 1].seq) : null,
    };
  }

  return {
    topUp,
    view,
    ensureWallet: deps.repo.ensureWallet,
    availableMicros(projectId: string): number {
      const w = deps.repo.getWallet(projectId);
      return w.balance_micros - w.held_micros;
    },
    reserve: (projectId: string, requestId: string, size: (available: number) => number | null) =>
      deps.repo.reserve(projectId, requestId, size, now()),
    settle: (holdId: string, costMicros: number, requestId: string | null) => deps.repo.settle(holdId, costMicros, requestId, now()),
    /** Holds left open by a process that died mid-request are released at start-up, charging nothing. */
    releaseStaleHolds(): number {
      const ids = deps.repo.openHoldIds();
      for (const id of ids) deps.repo.settle(id, 0, null, now());
      return ids.length;
    },
  };
}
export type WalletService = ReturnType<typeof createWalletService>;
