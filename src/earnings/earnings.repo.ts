import type { Awaitable, SqlStore } from '../store/sql-store';

export type EarningRow = {
  seq: number; id: string; project_id: string; type: 'earning' | 'withdrawal' | 'refund' | 'adjustment';
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled'; amount_micros: number; click_id: string | null; available_at: number; created_at: number;
};

export function createEarningsRepo(store: SqlStore) {
  const mature = store.stmt(`UPDATE earnings_entries SET status = 'succeeded' WHERE project_id = ? AND status = 'pending' AND available_at <= ?`);
  const sums = store.stmt<{ available: number; pending: number }>(
    `SELECT CAST(COALESCE(SUM(CASE WHEN status = 'succeeded' THEN amount_micros END), 0) AS BIGINT) AS available,
            CAST(COALESCE(SUM(CASE WHEN status = 'pending' THEN amount_micros END), 0) AS BIGINT) AS pending
     FROM earnings_entries WHERE project_id = ?`,
  );
  const page = store.stmt<EarningRow>('SELECT * FROM earnings_entries WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?');
  return {
    /** Pending entries whose hold period is over become available (succeeded). */
    mature: (projectId: string, now: number): Awaitable<unknown> => mature.run([projectId, now]),
    sums: async (projectId: string) => (await sums.get([projectId]))!,
    list: (projectId: string, beforeSeq: number, limit: number): Awaitable<EarningRow[]> => page.all([projectId, beforeSeq, limit]),
  };
}
export type EarningsRepo = ReturnType<typeof createEarningsRepo>;
