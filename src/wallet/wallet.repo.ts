import type { Database } from 'bun:sqlite';

export type LedgerType = 'top_up' | 'consumption' | 'cpc_cost' | 'refund';
export type LedgerRow = {
  seq: number;
  project_id: string;
  type: LedgerType;
  amount_micros: number;
  balance_after_micros: number;
  request_id: string | null;
  idempotency_key: string | null;
  click_id: string | null;
  note: string | null;
  created_at: number;
};

/**
 * Wallet balances and their append-only ledger. Every movement is one short IMMEDIATE transaction that
 * changes the balance with a guarded UPDATE and appends its ledger entry; the CHECK constraint on
 * wallets makes a negative balance impossible even if a caller gets its arithmetic wrong. Each statement
 * maps one-to-one onto PostgreSQL.
 */
export function createWalletRepo(db: Database) {
  const ensure = db.query('INSERT INTO wallets (project_id) VALUES (?) ON CONFLICT (project_id) DO NOTHING');
  const balance = db.query('SELECT balance_micros FROM wallets WHERE project_id = ?');
  const byIdempotency = db.query('SELECT * FROM ledger_entries WHERE project_id = ? AND idempotency_key = ?');
  const credit = db.query('UPDATE wallets SET balance_micros = balance_micros + ? WHERE project_id = ? RETURNING balance_micros');
  const debit = db.query(
    `UPDATE wallets SET balance_micros = balance_micros - $amount
     WHERE project_id = $projectId AND balance_micros >= $amount RETURNING balance_micros`,
  );
  const insertEntry = db.query(
    `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, request_id, idempotency_key, note, created_at)
     VALUES ($projectId, $type, $amount, $balanceAfter, $requestId, $idempotencyKey, $note, $now) RETURNING *`,
  );
  const entries = db.query('SELECT * FROM ledger_entries WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?');

  const topUp = db.transaction((projectId: string, amount: number, idempotencyKey: string | null, now: number) => {
    if (idempotencyKey) {
      const existing = byIdempotency.get(projectId, idempotencyKey) as LedgerRow | null;
      if (existing) return { entry: existing, replayed: true };
    }
    ensure.run(projectId);
    const { balance_micros } = credit.get(amount, projectId) as { balance_micros: number };
    const entry = insertEntry.get({ projectId, type: 'top_up', amount, balanceAfter: balance_micros, requestId: null, idempotencyKey, note: null, now }) as LedgerRow;
    return { entry, replayed: false };
  });

  /** Charges a request's consumption; null (nothing written) when the balance cannot cover `amount`. */
  const consume = db.transaction((projectId: string, amount: number, requestId: string, note: string | null, now: number) => {
    const after = debit.get({ amount, projectId }) as { balance_micros: number } | null;
    if (!after) return null;
    return insertEntry.get({ projectId, type: 'consumption', amount: -amount, balanceAfter: after.balance_micros, requestId, idempotencyKey: null, note, now }) as LedgerRow;
  });

  return {
    ensureWallet: (projectId: string) => void ensure.run(projectId),
    balance: (projectId: string) => (balance.get(projectId) as { balance_micros: number } | null)?.balance_micros ?? 0,
    topUp: (projectId: string, amount: number, idempotencyKey: string | null, now: number) => topUp.immediate(projectId, amount, idempotencyKey, now),
    consume: (projectId: string, amount: number, requestId: string, note: string | null, now: number) =>
      consume.immediate(projectId, amount, requestId, note, now),
    listEntries: (projectId: string, limit: number, beforeSeq: number) => entries.all(projectId, beforeSeq, limit) as LedgerRow[],
  };
}
export type WalletRepo = ReturnType<typeof createWalletRepo>;

/** Money invariants, checked by tests after concurrent and randomized runs. Returns the violations found. */
export function auditMoney(db: Database): string[] {
  const problems: string[] = [];
  const q = (sql: string) => db.query(sql).all() as any[];
  for (const r of q('SELECT project_id, balance_micros FROM wallets WHERE balance_micros < 0'))
    problems.push(`wallet ${r.project_id} negative: ${r.balance_micros}`);
  for (const r of q(`SELECT w.project_id, w.balance_micros, coalesce(sum(l.amount_micros), 0) AS ledger
                     FROM wallets w LEFT JOIN ledger_entries l ON l.project_id = w.project_id
                     GROUP BY w.project_id HAVING w.balance_micros != coalesce(sum(l.amount_micros), 0)`))
    problems.push(`wallet ${r.project_id}: balance ${r.balance_micros} != ledger sum ${r.ledger}`);
  for (const r of q(`SELECT request_id, count(*) AS n FROM ledger_entries WHERE type = 'consumption' GROUP BY request_id HAVING n > 1`))
    problems.push(`request ${r.request_id} charged ${r.n} times`);
  for (const r of q(`SELECT project_id, seq, balance_after_micros, (SELECT sum(amount_micros) FROM ledger_entries x
                     WHERE x.project_id = l.project_id AND x.seq <= l.seq) AS running FROM ledger_entries l
                     WHERE balance_after_micros != (SELECT sum(amount_micros) FROM ledger_entries x
                     WHERE x.project_id = l.project_id AND x.seq <= l.seq)`))
    problems.push(`ledger ${r.project_id}#${r.seq}: balance_after ${r.balance_after_micros} != running sum ${r.running}`);
  return problems;
}
