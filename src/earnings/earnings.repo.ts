import type { Database } from 'bun:sqlite';

export type EarningRow = {
  seq: number; id: string; project_id: string; type: 'earning' | 'withdrawal' | 'refund' | 'adjustment';
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled'; amount_micros: number; click_id: string | null; available_at: number; created_at: number;
};

export function createEarningsRepo(db: Database) {
  const mature = db.query(`UPDATE earnings_entries SET status = 'succeeded' WHERE project_id = ? AND status = 'pending' AND available_at <= ?`);
  const sums = db.query(
    `SELECT coalesce(sum(CASE WHEN status = 'succeeded' THEN amount_micros END), 0) AS available,
            coalesce(sum(CASE WHEN status = 'pending' THEN amount_micros END), 0) AS pending
     FROM earnings_entries WHERE project_id = ?`,
  );
  const page = db.query('SELECT * FROM earnings_entries WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?');
  return {
    /** Pending entries whose hold period is over become available (succeeded). */
    mature: (projectId: string, now: number) => void mature.run(projectId, now),
    sums: (projectId: string) => sums.get(projectId) as { available: number; pending: number },
    list: (projectId: string, beforeSeq: number, limit: number) => page.all(projectId, beforeSeq, limit) as EarningRow[],
  };
}
export type EarningsRepo = ReturnType<typeof createEarningsRepo>;
