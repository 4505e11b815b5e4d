import type { Database } from 'bun:sqlite';
import { thenOf, type SqlStore } from '../store/sql-store';
import { auditMoneyPg, createPgWalletRepo, type PgWalletOptions } from './wallet-pg.repo';

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
  key_id: string | null;
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
};

/** Who made a consumption charge and for what: written on its ledger entry, read by the usage reports. */
export type ChargeTag = { keyId: string; model: string; promptTokens: number; completionTokens: number };

/** One consumption charge of a group commit (wallet.repo consumeGroup). */
export type GroupCharge = { projectId: string; amount: number; requestId: string; note: string | null; now: number; tag: ChargeTag | null };

export type UsageRow = { day: string; model: string; requests: number; prompt_tokens: number; completion_tokens: number; cost_micros: number };

/** The UTC day (YYYY-MM-DD) of a Unix-millisecond column: the one expression the two dialects spell differently. */
export function utcDayOf(store: { kind: 'sqlite' | 'postgres' }, column: string): string {
  return store.kind === 'sqlite'
    ? `strftime('%Y-%m-%d', ${column} / 1000, 'unixepoch')`
    : `to_char(to_timestamp(${column} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;
}

/**
 * Wallet balances and their append-only ledger, on either store. Reads and reports share one SQL text. Money
 * moves differ by store, each kept here:
 * - `local` (embedded SQLite, one process): the synchronous writes of the wallet service's in-memory holds and
 *   group commit. Every movement is one short IMMEDIATE transaction with a guarded UPDATE and its ledger entry;
 *   the CHECK constraint on wallets makes a negative balance impossible even if a caller gets its arithmetic wrong.
 * - `shared` (PostgreSQL, several instances): holds in the store, reserved by one conditional statement and
 *   settled atomically (wallet-pg.repo.ts).
 * Exactly one of the two is set.
 */
export function createWalletRepo(store: SqlStore, options: PgWalletOptions = {}) {
  const ensure = store.stmt('INSERT INTO wallets (project_id) VALUES (?) ON CONFLICT (project_id) DO NOTHING');
  const balance = store.stmt<{ balance_micros: number }>('SELECT balance_micros FROM wallets WHERE project_id = ?');
  const spentByKey = store.stmt<{ spent: number }>(
    `SELECT CAST(COALESCE(-SUM(amount_micros), 0) AS BIGINT) AS spent FROM ledger_entries
     WHERE key_id = ? AND created_at >= ? AND type = 'consumption'`,
  );
  // Charged requests by UTC day and model; a request the wallet charged nothing for is not in the ledger.
  const usageSql = (keyFilter: string) =>
    `SELECT ${utcDayOf(store, 'created_at')} AS day, COALESCE(model, 'unknown') AS model,
       COUNT(*) AS requests, CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens,
       CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS completion_tokens, CAST(-SUM(amount_micros) AS BIGINT) AS cost_micros
     FROM ledger_entries
     WHERE project_id = $projectId AND type = 'consumption' AND created_at >= $fromMs AND created_at < $toMs ${keyFilter}
     GROUP BY 1, 2 ORDER BY 1, 2`;
  const usageByProject = store.stmt<UsageRow>(usageSql(''));
  const usageByKey = store.stmt<UsageRow>(usageSql('AND key_id = $keyId'));
  const entries = store.stmt<LedgerRow>('SELECT * FROM ledger_entries WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?');

  const local = store.sqlite ? createLocalLedger(store.sqlite) : null;
  const shared = store.postgres ? createPgWalletRepo(store.postgres, options) : null;

  return {
    local,
    shared,
    ensureWallet: (projectId: string) => thenOf(ensure.run([projectId]), () => undefined),
    balance: (projectId: string) => thenOf(balance.get([projectId]), (r) => r?.balance_micros ?? 0),
    /** Credits a top-up and its entry atomically; with an idempotency key a repeat returns the first entry (replayed). */
    topUp: (projectId: string, amount: number, idempotencyKey: string | null, now: number): Promise<{ entry: LedgerRow; replayed: boolean }> | { entry: LedgerRow; replayed: boolean } =>
      local ? store.exclusive(() => local.topUp(projectId, amount, idempotencyKey, now)) : shared!.topUp(projectId, amount, idempotencyKey),
    spentByKey: (keyId: string, sinceMs: number) => thenOf(spentByKey.get([keyId, sinceMs]), (r) => r!.spent),
    /** Usage by day and model in [fromMs, toMs), for a project or one of its keys. */
    usage: (projectId: string, keyId: string | null, fromMs: number, toMs: number) =>
      keyId === null ? usageByProject.all({ projectId, fromMs, toMs }) : usageByKey.all({ projectId, keyId, fromMs, toMs }),
    listEntries: (projectId: string, limit: number, beforeSeq: number) => entries.all([projectId, beforeSeq, limit]),
  };
}

/** Ledger entries per multi-row insert of a group commit (10 values each, well under SQLite's parameter limit). */
const CHARGE_CHUNK = 32;

/** The embedded store's synchronous money writes (one process owns its wallets; see createWalletRepo). */
function createLocalLedger(db: Database) {
  const ensure = db.query('INSERT INTO wallets (project_id) VALUES (?) ON CONFLICT (project_id) DO NOTHING');
  const byIdempotency = db.query('SELECT * FROM ledger_entries WHERE project_id = ? AND idempotency_key = ?');
  const credit = db.query('UPDATE wallets SET balance_micros = balance_micros + ? WHERE project_id = ? RETURNING balance_micros');
  const insertEntry = db.query(
    `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, request_id, idempotency_key, note, created_at)
     VALUES ($projectId, $type, $amount, $balanceAfter, $requestId, $idempotencyKey, $note, $now) RETURNING *`,
  );

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

  /** The guarded debit (amount, project): never below zero. */
  const debitBy = db.query('UPDATE wallets SET balance_micros = balance_micros - ?1 WHERE project_id = ?2 AND balance_micros >= ?1 RETURNING balance_micros');
  const CHARGE_TUPLE = "(?, 'consumption', ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const chargeRowsSql = (n: number) =>
    `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, request_id, note, created_at,
       key_id, model, prompt_tokens, completion_tokens) VALUES ${Array(n).fill(CHARGE_TUPLE).join(', ')}`;
  /** Multi-row inserts of consumption entries, by row count (1 to CHARGE_CHUNK, prepared when first needed). */
  const chargeRows: Array<ReturnType<typeof db.query>> = [];
  const insertChargeRows = (params: unknown[], rows: number) => {
    const stmt = (chargeRows[rows] ??= db.query(chargeRowsSql(rows)));
    stmt.run(...(params as never[]));
  };

  /**
   * Several requests' consumption charges in one transaction (a group commit). Each project's charges are
   * debited by one guarded statement for their sum, and every charge gets its own ledger entry with the running
   * balance after it (in the group's order); the entries go in by multi-row inserts of up to CHARGE_CHUNK rows.
   * A project whose balance cannot cover its sum (holds make that impossible in one process) is charged one
   * guarded debit at a time instead, as before, so only the charges that do not fit fail. Returns, per charge,
   * whether it was written (false: the balance could not cover it, nothing written for it).
   */
  const consumeGroup = db.transaction((charges: GroupCharge[]): boolean[] => {
    const sums = new Map<string, number>();
    for (const c of charges) sums.set(c.projectId, (sums.get(c.projectId) ?? 0) + c.amount);
    /** Per project debited as a whole: its balance before the group's charges, lowered as entries are made. */
    const running = new Map<string, number>();
    for (const [projectId, sum] of sums) {
      const after = debitBy.get(sum, projectId) as { balance_micros: number } | null;
      if (after) running.set(projectId, after.balance_micros + sum);
    }
    const written: boolean[] = new Array(charges.length);
    let params: unknown[] = [];
    let rows = 0;
    for (let i = 0; i < charges.length; i++) {
      const c = charges[i];
      let balanceAfter: number;
      const before = running.get(c.projectId);
      if (before !== undefined) {
        balanceAfter = before - c.amount;
        running.set(c.projectId, balanceAfter);
      } else {
        const after = debitBy.get(c.amount, c.projectId) as { balance_micros: number } | null;
        if (!after) {
          written[i] = false;
          continue;
        }
        balanceAfter = after.balance_micros;
      }
      written[i] = true;
      const tag = c.tag;
      params.push(c.projectId, -c.amount, balanceAfter, c.requestId, c.note, c.now,
        tag?.keyId ?? null, tag?.model ?? null, tag?.promptTokens ?? null, tag?.completionTokens ?? null);
      if (++rows === CHARGE_CHUNK) {
        insertChargeRows(params, rows);
        params = [];
        rows = 0;
      }
    }
    if (rows > 0) insertChargeRows(params, rows);
    return written;
  });
  const balanceOf = db.query('SELECT balance_micros FROM wallets WHERE project_id = ?');

  return {
    /** Synchronous: the caller runs it through SqlStore.exclusive, never inside an open transaction. */
    consumeGroup: (charges: GroupCharge[]): boolean[] => consumeGroup.immediate(charges),
    balance: (projectId: string) => (balanceOf.get(projectId) as { balance_micros: number } | null)?.balance_micros ?? 0,
    topUp: (projectId: string, amount: number, idempotencyKey: string | null, now: number) => topUp.immediate(projectId, amount, idempotencyKey, now),
  };
}
export type LocalLedger = ReturnType<typeof createLocalLedger>;
export type WalletRepo = ReturnType<typeof createWalletRepo>;

/** Money invariants, checked by tests after concurrent and randomized runs, on either store. Returns the violations found. */
export async function auditMoney(store: SqlStore): Promise<string[]> {
  if (store.postgres) return auditMoneyPg(store.postgres);
  await store.idle();
  return auditMoneySqlite(store.sqlite!);
}

function auditMoneySqlite(db: Database): string[] {
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
