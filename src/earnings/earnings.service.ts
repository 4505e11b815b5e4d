import { checkLimit, pageOf, seqCursor } from '../http/paging';
import { formatMicros } from '../money/money';
import type { EarningsRepo } from './earnings.repo';

export const MAX_EARNINGS_PAGE = 1000;

/** The publisher's earnings wallet: pending until the hold period ends, then available. */
export function createEarningsService(deps: { repo: EarningsRepo; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    async view(projectId: string, limit: number, cursor: string | null) {
      checkLimit(limit, MAX_EARNINGS_PAGE);
      const before = seqCursor(cursor, Number.MAX_SAFE_INTEGER);
      await deps.repo.mature(projectId, now());
      const { available, pending } = await deps.repo.sums(projectId);
      const { page, has_more, next_cursor } = pageOf(await deps.repo.list(projectId, before, limit + 1), limit, (e) => String(e.seq));
      return {
        object: 'earnings' as const,
        project_id: projectId,
        currency: 'USD',
        available: formatMicros(available),
        pending: formatMicros(pending),
        total: formatMicros(available + pending),
        available_micros: available,
        pending_micros: pending,
        total_micros: available + pending,
        transactions: page.map((e) => ({
          id: e.id, type: e.type, status: e.status, amount: formatMicros(e.amount_micros), amount_micros: e.amount_micros,
          click_id: e.click_id, available_at: new Date(e.available_at).toISOString(), created_at: new Date(e.created_at).toISOString(),
        })),
        has_more,
        next_cursor,
      };
    },
  };
}
export type EarningsService = ReturnType<typeof createEarningsService>;
