import type { Database } from 'bun:sqlite';
import { newId } from '../store/ids';

export type WalletRow = { project_id: string; balance_micros: number; held_micros: number };
export type LedgerRow = {
  seq: number;
  id: string;
  project_id: string;
  type: 'top_up' | 'consumption';
  amount_micros: number;
  balance_after_micros: number;
  request_id: string | null;
  hold_id: string | null;
  idempotency_key: string | null;
  note: string | null;
  created_at: number;
};
export type HoldRow = { id: string; project_id: string; amount_micros: number; status: 'open' | 'settled' };

/**
 * Every money movement is one short IMMEDIATE transaction that updates the wallet and appends a ledger
 * entry together; the CHECK constraints on wallets make a negative balance impossible even if a caller
 * gets its arithmetic wrong. Each statement maps one-to-one onto PostgreSQL.
 */
export function createWalletRepo(db: Database) {
  const ensure = db.query('INSERT INTO wallets (project_id) VALUES (?) ON CONFLICT (project_id) DO NOTHING');
  const get = db.query('SELECT * FROM wallets WHERE project_id = ?');
  const byIdempotency = db.query('SELECT * FROM ledger_entries WHERE project_id = ? AND idempotency_key = ?');
  const credit = db.query('UPDATE wallets SET balance_micros = balance_micros + ? WHERE project_id = ? RETURNING balance_micros');
  const insertEntry = db.query(
    `INSERT INTO ledger_entries (id, project_id, type, amount_micros, balance_after_micros, request_id, hold_id, idempotency_key, note, created_at)
     VALUES ($id, $projectId, $type, $amount, $balanceAfter, $requestId, $holdId, $idempotencyKey, $note, $now)`,
  );
  const addHeld = db.query(
    `UPDATE wallets SET held_micros = held_micros + $amount
     WHERE project_id = $projectId AND balance_micros - held_micros >= $amount`,
  );
  const insertHold = db.query(
    'INSERT INTO holds (id, project_id, amount_micros, request_id, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const openHold = db.query(`SELECT * FROM holds WHERE id = ? AND status = 'open'`);
  const closeHold = db.query(
    `UPDATE holds SET status = 'settled', charged_micros = ?, settled_at = ? WHERE id = ? AND status = 'open'`,
  );
  const release = db.query(
    `UPDATE wallets SET held_micros = held_micros - $held, balance_micros = balance_micros - $charge
     WHERE project_id = $projectId RETURNING balance_micros`,
  );
  const entries = db.query(
    `SELECT * FROM ledger_entries WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
  );
  const openHoldIds = db.query(`SELECT id FROM holds WHERE status = 'open'`);

  const insertEntryRow = (e: {
    projectId: string; type: LedgerRow['type']; amount: number; balanceAfter: number; requestId?: string | null;
    holdId?: string | null; idempotencyKey?: string | null; note?: string | null; now: number;
  }) =>
    insertEntry.run({
      id: newId('txn'), projectId: e.projectId, type: e.type, amount: e.amount, balanceAfter: e.balanceAfter,
      requestId: e.requestId ?? null, holdId: e.holdId ?? null, idempotencyKey: e.idempotencyKey ?? null,
      note: e.note ?? null, now: e.now,
    });

  const topUp = db.transaction(
    (projectId: string, amount: number, idempotencyKey: string | null, now: number): { entry: LedgerRow; replayed: boolean } => {
      if (idempotencyKey) {
        const existing = byIdempotency.get(projectId, idempotencyKey) as LedgerRow | null;
        if (existing) return { entry: existing, replayed: true };
      }
      ensure.run(projectId);
      const { balance_micros } = credit.get(amount, projectId) as { balance_micros: number };
      insertEntryRow({ projectId, type: 'top_up', amount, balanceAfter: balance_micros, idempotencyKey, now });
      return { entry: byIdSeq(db, projectId), replayed: false };
    },
  );

  /** Reserves what `size(available)` asks for; null when it declines (too little money). */
  const reserve = db.transaction(
    (projectId: string, requestId: string, size: (availableMicros: number) => number | null, now: number) => {
      const wallet = get.get(projectId) as WalletRow | null;
      const available = wallet ? wallet.balance_micros - wallet.held_micros : 0;
      const amount = size(available);
      if (amount === null || amount < 0 || amount > available) return null;
      if (addHeld.run({ amount, projectId }).changes !== 1) return null;
      const holdId = newId('hold');
      insertHold.run(holdId, projectId, amount, requestId, now);
      return { holdId, amountMicros: amount };
    },
  );

  /**
   * Settles a hold exactly once: charges min(cost, what the wallet can pay) and releases the rest.
   * Returns null when the hold was already settled.
   */
  const settle = db.transaction((holdId: string, costMicros: number, requestId: string | null, now: number) => {
    const hold = openHold.get(holdId) as HoldRow | null;
    if (!hold) return null;
    const wallet = get.get(hold.project_id) as WalletRow;
    const payable = wallet.balance_micros - (wallet.held_micros - hold.amount_micros);
    const charge = Math.max(0, Math.min(costMicros, payable));
    closeHold.run(charge, now, holdId);
    const { balance_micros } = release.get({ held: hold.amount_micros, charge, projectId: hold.project_id }) as {
      balance_micros: number;
    };
    if (charge > 0) {
      const note = charge < costMicros ? `uncollected ${costMicros - charge} micros` : null;
      insertEntryRow({ projectId: hold.project_id, type: 'consumption', amount: -charge, balanceAfter: balance_micros, requestId, holdId, note, now });
    }
    return { chargedMicros: charge, uncollectedMicros: costMicros - charge };
  });

  return {
    ensureWallet: (projectId: string) => void ensure.run(projectId),
    getWallet: (projectId: string) => (get.get(projectId) as WalletRow | null) ?? { project_id: projectId, balance_micros: 0, held_micros: 0 },
    topUp: (projectId: string, amount: number, idempotencyKey: string | null, now: number) =>
      topUp.immediate(projectId, amount, idempotencyKey, now),
    reserve: (projectId: string, requestId: string, size: (available: number) => number | null, now: number) =>
      reserve.immediate(projectId, requestId, size, now),
    settle: (holdId: string, costMicros: number, requestId: string | null, now: number) =>
      settle.immediate(holdId, costMicros, requestId, now),
    listEntries: (projectId: string, limit: number, beforeSeq: number) =>
      entries.all(projectId, beforeSeq, limit) as LedgerRow[],
    openHoldIds: () => (openHoldIds.all() as Array<{ id: string }>).map((r) => r.id),
  };
}

function byIdSeq(db: Database, projectId: string): LedgerRow {
  return db.query('SELECT * FROM ledger_entries WHERE project_id = ? ORDER BY seq DESC LIMIT 1').get(projectId) as LedgerRow;
}

export type WalletRepo = ReturnType<typeof createWalletRepo>;

/** Money invariants, checked by tests after concurrent and randomized runs. Returns the violations found. */
export function auditMoney(db: Database): string[] {
  const problems: string[] = [];
  const q = (sql: string) => db.query(sql).all() as any[];
  for (const r of q('SELECT project_id, balance_micros, held_micros FROM wallets WHERE balance_micros < 0 OR held_micros < 0 OR held_micros > balance_micros'))
    problems.push(`wallet ${r.project_id} out of bounds: balance ${r.balance_micros}, held ${r.held_micros}`);
  for (const r of q(`SELECT w.project_id, w.balance_micros, coalesce(sum(l.amount_micros), 0) AS ledger
                     FROM wallets w LEFT JOIN ledger_entries l ON l.project_id = w.project_id
                     GROUP BY w.project_id HAVING w.balance_micros != coalesce(sum(l.amount_micros), 0)`))
    problems.push(`wallet ${r.project_id}: balance ${r.balance_micros} != ledger sum ${r.ledger}`);
  for (const r of q(`SELECT w.project_id, w.held_micros, coalesce((SELECT sum(amount_micros) FROM holds h
                     WHERE h.project_id = w.project_id AND h.status = 'open'), 0) AS open FROM wallets w
                     WHERE w.held_micros != coalesce((SELECT sum(amount_micros) FROM holds h
                     WHERE h.project_id = w.project_id AND h.status = 'open'), 0)`))
    problems.push(`wallet ${r.project_id}: held ${r.held_micros} != open holds ${r.open}`);
  for (const r of q(`SELECT hold_id, count(*) AS n FROM ledger_entries WHERE hold_id IS NOT NULL GROUP BY hold_id HAVING n > 1`))
    problems.push(`hold ${r.hold_id} settled ${r.n} times`);
  for (const r of q(`SELECT l.hold_id FROM ledger_entries l JOIN holds h ON h.id = l.hold_id
                     WHERE h.status != 'settled' OR -l.amount_micros != h.charged_micros`))
    problems.push(`hold ${r.hold_id}: ledger entry does not match the hold`);
  for (const r of q(`SELECT project_id, seq, balance_after_micros, (SELECT sum(amount_micros) FROM ledger_entries x
                     WHERE x.project_id = l.project_id AND x.seq <= l.seq) AS running FROM ledger_entries l
                     WHERE balance_after_micros != (SELECT sum(amount_micros) FROM ledger_entries x
                     WHERE x.project_id = l.project_id AND x.seq <= l.seq)`))
    problems.push(`ledger ${r.project_id}#${r.seq}: balance_after ${r.balance_after_micros} != running sum ${r.running}`);
  return problems;
}
