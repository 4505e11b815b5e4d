import { badRequest } from '../http/errors';
import { formatMicros } from '../money/money';
import type { EarningsRepo } from './earnings.repo';

export const MAX_EARNINGS_PAGE = 1000;

/** The publisher's earnings wallet: pending until the hold period ends, then available. */
export function createEarningsService(deps: { repo: EarningsRepo; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    view(projectId: string, limit: number, cursor: string | null) {
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EARNINGS_PAGE)
        throw badRequest('invalid_value', `limit must be an integer from 1 to ${MAX_EARNINGS_PAGE}`, 'limit');
      const before = cursor === null ? Number.MAX_SAFE_INTEGER : Number(cursor);
      if (!Number.isSafeInteger(before) || before < 0) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
      deps.repo.mature(projectId, now());
      const { available, pending } = deps.repo.sums(projectId);
      const rows = deps.repo.list(projectId, before, limit + 1);
      const page = rows.slice(0, limit);
      return {
        object: 'earnings' as const,
        project_id: projectId,
        currency: 'USD',
        available: formatMicros(available),
        pending: formatMicros(pending),
        total: formatMicros(available + pending),
        available_micros: available,
        pending_micros: pending,
        transactions: page.map((e) => ({
          id: e.id, type: e.type, status: e.status, amount: formatMicros(e.amount_micros), amount_micros: e.amount_micros,
          click_id: e.click_id, available_at: new Date(e.available_at).toISOString(), created_at: new Date(e.created_at).toISOString(),
        })),
        has_more: rows.length > limit,
        next_cursor: rows.length > limit ? String(page[page.length - 1].seq) : null,
      };
    },
  };
}
export type EarningsService = ReturnType<typeof createEarningsService>;
