import type { SQL } from 'bun';
import type { ChargeTag, LedgerRow } from './wallet.repo';

/**
 * Credit holds and wallet movements in PostgreSQL, shared by every instance of the gateway.
 *
 * A wallet row carries `held_micros`, the sum of its holds, next to its balance; the CHECK
 * `held_micros <= balance_micros` (migration 008) makes an oversubscribed wallet impossible. Reserving is ONE
 * conditional statement: an UPDATE of the wallet row WHERE balance - held >= amount, which PostgreSQL re-checks
 * against the newest row version after waiting for a concurrent writer, so no two instances can reserve the
 * same money, and which inserts the hold row in the same statement. `size` is the caller's function of the
 * money available, so reserve reads that first and then runs the statement for size's answer; if another
 * instance took money in between, the statement reserves nothing and reserve sizes again on what is left
 * (after a few lost races, under the wallet row's lock). The row is never locked across a round trip in the
 * usual case, which is what lets one busy wallet serve several instances.
 *
 * Settling deletes the hold (exactly once: the DELETE finds it or not), debits the charge and appends the
 * consumption entry atomically: in one statement when the charge is within the hold (the usual case: the
 * chat service never lets a request cost more than it held), in one transaction that reads the wallet under
 * its lock when the charge is larger and may take only money no other hold reserved.
 *
 * Holds carry `expires_at`. A live instance renews its holds (`renew`) well within their time to live; those of
 * an instance that died stop being renewed, expire, and `releaseExpired` (any instance, one at a time) gives
 * their money back. An expired hold keeps its money held until that sweep: a hold never disappears from under
 * a request that is still settling it. A settle that comes after the sweep removed its hold is refused (null,
 * nothing charged), exactly like a second settle: the sweep has already returned the money to the wallet, and
 * charging it again could take money that a later hold counts on. Renewal keeps this from happening to a live
 * instance, whatever its requests' length.
 *
 * Money is an integer number of micro-units below 2^53: BIGINT columns come back from Bun's client as strings
 * and are converted with `micros`, which refuses anything that is not a safe integer.
 */

export type PgHold = { holdId: string; amountMicros: number };

/** A settled hold: what the wallet paid, what it could not pay, and the balance after. */
export type PgSettlement = { projectId: string; chargedMicros: number; uncollectedMicros: number; balanceAfterMicros: number };

export type PgWalletOptions = {
  /** The clock for created_at and expiry (Unix ms). Instances' clocks must agree within a small part of the ttl. */
  now?: () => number;
  /**
   * Reserve sizes a hold against the wallet's available money read just before; when another instance took
   * money in between, the conditional statement reserves nothing and reserve sizes again. After this many
   * lost races it sizes under the wallet row's lock, where it cannot lose.
   */
  optimisticAttempts?: number;
  /** Holds removed per statement by releaseExpired. */
  sweepBatch?: number;
};

/** Serializes expiry sweeps across instances ("vxrhold" in ASCII): two sweeps never update wallets in crossed order. */
export const HOLD_SWEEP_LOCK_KEY = 0x767872_686f6c64;

const UNIQUE_VIOLATION = '23505';

/** A BIGINT (string), INTEGER (number) or bigint from the client as a JavaScript number, refusing any unsafe one. */
export function micros(value: unknown): number {
  const n = typeof value === 'number' ? value
    : typeof value === 'bigint' || (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) ? Number(value)
    : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`not a safe integer amount: ${String(value)}`);
  return n;
}
const nullableInt = (value: unknown) => (value === null || value === undefined ? null : micros(value));

function toLedgerRow(r: Record<string, unknown>): LedgerRow {
  return {
    ...(r as LedgerRow),
    seq: micros(r.seq),
    amount_micros: micros(r.amount_micros),
    balance_after_micros: micros(r.balance_after_micros),
    created_at: micros(r.created_at),
    prompt_tokens: nullableInt(r.prompt_tokens),
    completion_tokens: nullableInt(r.completion_tokens),
  };
}

function assertAmount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
}

export function createPgWalletRepo(sql: SQL, options: PgWalletOptions = {}) {
  const clock = options.now ?? Date.now;
  const optimisticAttempts = options.optimisticAttempts ?? 3;
  const sweepBatch = options.sweepBatch ?? 1000;

  /** The conditional reservation: the wallet's held_micros grows and the hold row is written, or nothing happens. */
  async function tryReserve(db: SQL, projectId: string, amount: number, ttlMs: number, instanceId: string): Promise<PgHold | null> {
    const id = `hold_${crypto.randomUUID()}`;
    const now = clock();
    const rows = await db`
      WITH w AS (
        UPDATE wallets SET held_micros = held_micros + ${amount}::bigint
        WHERE project_id = ${projectId} AND balance_micros - held_micros >= ${amount}::bigint
        RETURNING project_id
      )
      INSERT INTO credit_holds (id, project_id, amount_micros, instance_id, created_at, expires_at)
      SELECT ${id}, w.project_id, ${amount}::bigint, ${instanceId}, ${now}::bigint, ${now + ttlMs}::bigint FROM w
      RETURNING id`;
    return rows.length === 1 ? { holdId: id, amountMicros: amount } : null;
  }

  /** Balance minus holds, or null when the project has no wallet. */
  async function availableOf(db: SQL, projectId: string, lock = false): Promise<number | null> {
    const rows = lock
      ? await db`SELECT balance_micros - held_micros AS available FROM wallets WHERE project_id = ${projectId} FOR UPDATE`
      : await db`SELECT balance_micros - held_micros AS available FROM wallets WHERE project_id = ${projectId}`;
    return rows.length === 0 ? null : micros(rows[0].available);
  }

  /** size's answer, or null when it declines or asks for more than is available. */
  function sized(size: (availableMicros: number) => number | null, available: number): number | null {
    const amount = size(available);
    if (amount === null) return null;
    assertAmount('hold size', amount);
    return amount > available ? null : amount;
  }

  /**
   * Places a hold of `size(available)` on the wallet, expiring ttlMs from now unless renewed; null when size
   * declines (or asks for more than is available) or the project has no wallet. `size` may be called more than
   * once (after a lost race, with less available); the hold is its last answer.
   */
  async function reserve(projectId: string, size: (availableMicros: number) => number | null, ttlMs: number, instanceId: string): Promise<PgHold | null> {
    assertAmount('ttlMs', ttlMs);
    // First without reading the wallet: when its money does not bound the size (the usual case: a request asks
    // for far less than the wallet holds), the size is what it would be for an unlimited wallet and the
    // conditional statement alone decides, in one round trip. Only when it finds too little does reserve read.
    // (A size that declines, or grows with the money, is not for this path: it goes on to the read below.)
    const unbounded = size(Number.MAX_SAFE_INTEGER);
    if (unbounded !== null && Number.isSafeInteger(unbounded) && unbounded >= 0 && unbounded < Number.MAX_SAFE_INTEGER / 2) {
      const direct = await tryReserve(sql, projectId, unbounded, ttlMs, instanceId);
      if (direct) return direct;
    }
    for (let attempt = 0; attempt < optimisticAttempts; attempt++) {
      const available = await availableOf(sql, projectId);
      if (available === null) return null;
      const amount = sized(size, available);
      if (amount === null) return null;
      const hold = await tryReserve(sql, projectId, amount, ttlMs, instanceId);
      if (hold) return hold;
    }
    // Lost every race: size under the wallet row's lock, where the conditional statement cannot fail.
    return sql.begin(async (tx) => {
      const available = await availableOf(tx, projectId, true);
      if (available === null) return null;
      const amount = sized(size, available);
      if (amount === null) return null;
      const hold = await tryReserve(tx, projectId, amount, ttlMs, instanceId);
      if (!hold) throw new Error(`hold of ${amount} on ${projectId} refused under the wallet lock`);
      return hold;
    });
  }

  /** The consumption entry's time and who made the charge (ChargeTag), as bind values. */
  const entryFields = (tag: ChargeTag | null) => ({
    now: clock(), keyId: tag?.keyId ?? null, model: tag?.model ?? null,
    promptTokens: tag?.promptTokens ?? null, completionTokens: tag?.completionTokens ?? null,
  });

  /**
   * The usual settlement, a charge within what the hold reserved, in ONE statement (its own transaction): the hold
   * is deleted, the wallet debited and the entry written, and the wallet row is locked only while it runs. The
   * debit needs no read: a hold's own money is always there. Null when the hold is gone or reserved less.
   */
  async function settleWithinHold(holdId: string, chargeMicros: number, requestId: string, tag: ChargeTag | null, costMicros: number): Promise<PgSettlement | null> {
    const c = entryFields(tag);
    const note = chargeMicros < costMicros ? `uncollected ${costMicros - chargeMicros} micros` : null;
    const rows = await sql`
      WITH h AS (
        DELETE FROM credit_holds WHERE id = ${holdId} AND amount_micros >= ${chargeMicros}::bigint RETURNING project_id, amount_micros
      ), w AS (
        UPDATE wallets SET balance_micros = balance_micros - ${chargeMicros}::bigint, held_micros = held_micros - h.amount_micros
        FROM h WHERE wallets.project_id = h.project_id
        RETURNING wallets.project_id, wallets.balance_micros
      ), e AS (
        INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, request_id, note, created_at,
          key_id, model, prompt_tokens, completion_tokens)
        SELECT w.project_id, 'consumption', ${-chargeMicros}::bigint, w.balance_micros, ${requestId}, ${note}, ${c.now}::bigint,
          ${c.keyId}, ${c.model}, ${c.promptTokens}::bigint, ${c.completionTokens}::bigint
        FROM w WHERE ${chargeMicros}::bigint > 0
        RETURNING seq
      )
      SELECT w.project_id, w.balance_micros FROM w`;
    if (rows.length === 0) return null;
    return { projectId: rows[0].project_id, chargedMicros: chargeMicros, uncollectedMicros: costMicros - chargeMicros, balanceAfterMicros: micros(rows[0].balance_micros) };
  }

  /**
   * A charge above what the hold reserved: under the wallet row's lock, read what the wallet holds beyond the
   * other holds and charge up to that, in one transaction. Null when the hold is gone.
   */
  async function settleBeyondHold(holdId: string, chargeMicros: number, requestId: string, tag: ChargeTag | null, costMicros: number): Promise<PgSettlement | null> {
    return sql.begin(async (tx) => {
      // The hold goes first (a concurrent settle of it waits, then finds nothing); then the wallet row is locked
      // and read as its newest version, so the charge is decided on what is really there.
      const taken = await tx`
        WITH h AS (DELETE FROM credit_holds WHERE id = ${holdId} RETURNING project_id, amount_micros)
        SELECT h.project_id, h.amount_micros, w.balance_micros, w.held_micros
        FROM h JOIN wallets w ON w.project_id = h.project_id FOR UPDATE OF w`;
      if (taken.length === 0) return null;
      const projectId: string = taken[0].project_id;
      const holdMicros = micros(taken[0].amount_micros);
      const payable = Math.max(0, micros(taken[0].balance_micros) - (micros(taken[0].held_micros) - holdMicros));
      const charge = Math.min(chargeMicros, payable);
      const c = entryFields(tag);
      const note = charge < costMicros ? `uncollected ${costMicros - charge} micros` : null;
      const rows = await tx`
        WITH w AS (
          UPDATE wallets SET balance_micros = balance_micros - ${charge}::bigint, held_micros = held_micros - ${holdMicros}::bigint
          WHERE project_id = ${projectId} AND balance_micros - (held_micros - ${holdMicros}::bigint) >= ${charge}::bigint
          RETURNING balance_micros
        ), e AS (
          INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, request_id, note, created_at,
            key_id, model, prompt_tokens, completion_tokens)
          SELECT ${projectId}, 'consumption', ${-charge}::bigint, w.balance_micros, ${requestId}, ${note}, ${c.now}::bigint,
            ${c.keyId}, ${c.model}, ${c.promptTokens}::bigint, ${c.completionTokens}::bigint
          FROM w WHERE ${charge}::bigint > 0
          RETURNING seq
        )
        SELECT w.balance_micros FROM w`;
      // Under the row lock the guard cannot fail; if it ever did, throwing rolls the hold's removal back too.
      if (rows.length !== 1) throw new Error(`settling ${holdId}: the guarded debit of ${charge} on ${projectId} found less`);
      return { projectId, chargedMicros: charge, uncollectedMicros: costMicros - charge, balanceAfterMicros: micros(rows[0].balance_micros) };
    });
  }

  /**
   * Settles a hold exactly once: removes it and charges min(chargeMicros, what the wallet holds beyond the other
   * holds) with a consumption ledger entry (none for a zero charge), atomically. Null when the hold is gone:
   * settled or released already, or removed by the expiry sweep. `costMicros` (default: the charge) is what the
   * request cost: a charge below it writes the rest as uncollected on the entry.
   */
  async function settle(holdId: string, chargeMicros: number, requestId: string, tag: ChargeTag | null, costMicros = chargeMicros): Promise<PgSettlement | null> {
    assertAmount('charge', chargeMicros);
    // Nothing returned: the hold is gone (the locked path finds that out too) or the charge exceeds it.
    return (await settleWithinHold(holdId, chargeMicros, requestId, tag, costMicros)) ?? settleBeyondHold(holdId, chargeMicros, requestId, tag, costMicros);
  }

  /** Gives a hold's money back without charging (a request that never reached the upstream); false if it was gone. */
  async function release(holdId: string): Promise<boolean> {
    const rows = await sql`
      WITH h AS (DELETE FROM credit_holds WHERE id = ${holdId} RETURNING project_id, amount_micros)
      UPDATE wallets w SET held_micros = w.held_micros - h.amount_micros FROM h WHERE w.project_id = h.project_id
      RETURNING w.project_id`;
    return rows.length === 1;
  }

  /** Moves the expiry of this instance's unexpired holds to ttlMs from now (never earlier); returns how many. */
  async function renew(instanceId: string, ttlMs: number): Promise<number> {
    assertAmount('ttlMs', ttlMs);
    const now = clock();
    const rows = await sql`
      UPDATE credit_holds SET expires_at = greatest(expires_at, ${now + ttlMs}::bigint)
      WHERE instance_id = ${instanceId} AND expires_at > ${now}::bigint RETURNING id`;
    return rows.length;
  }

  /**
   * Removes every hold that expired at or before `now` and gives its money back to its wallet; returns how many.
   * One instance sweeps at a time (an advisory lock; the others return 0 at once), in batches of sweepBatch;
   * holds being settled or renewed right now are skipped, not waited for.
   */
  async function releaseExpired(now: number = clock()): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await sql.begin(async (tx) => {
        const [{ locked }] = await tx`SELECT pg_try_advisory_xact_lock(${HOLD_SWEEP_LOCK_KEY}::bigint) AS locked`;
        if (!locked) return -1;
        const [{ n }] = await tx`
          WITH gone AS (
            DELETE FROM credit_holds WHERE id IN (
              SELECT id FROM credit_holds WHERE expires_at <= ${now}::bigint
              ORDER BY expires_at LIMIT ${sweepBatch} FOR UPDATE SKIP LOCKED)
            RETURNING project_id, amount_micros
          ), per AS (
            SELECT project_id, sum(amount_micros)::bigint AS amount, count(*) AS n FROM gone GROUP BY project_id
          ), upd AS (
            UPDATE wallets w SET held_micros = w.held_micros - per.amount FROM per WHERE w.project_id = per.project_id
            RETURNING w.project_id
          )
          SELECT coalesce(sum(per.n), 0)::int AS n FROM per`;
        return n as number;
      });
      if (removed < 0) return total;
      total += removed;
      if (removed < sweepBatch) return total;
    }
  }

  /**
   * Credits a top-up and its ledger entry in one statement (creating the wallet when needed). With an
   * idempotency key, a repeat returns the first entry (replayed) instead of crediting again, also when two
   * instances receive it at once: the unique index rejects the second, whose whole statement then undoes.
   */
  async function topUp(projectId: string, amount: number, idempotencyKey: string | null): Promise<{ entry: LedgerRow; replayed: boolean }> {
    assertAmount('top-up', amount);
    const existing = async () => {
      if (idempotencyKey === null) return null;
      const rows = await sql`SELECT * FROM ledger_entries WHERE project_id = ${projectId} AND idempotency_key = ${idempotencyKey}`;
      return rows.length === 0 ? null : { entry: toLedgerRow(rows[0]), replayed: true };
    };
    const first = await existing();
    if (first) return first;
    try {
      const [row] = await sql`
        WITH w AS (
          INSERT INTO wallets (project_id, balance_micros) VALUES (${projectId}, ${amount}::bigint)
          ON CONFLICT (project_id) DO UPDATE SET balance_micros = wallets.balance_micros + EXCLUDED.balance_micros
          RETURNING balance_micros
        )
        INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, idempotency_key, created_at)
        SELECT ${projectId}, 'top_up', ${amount}::bigint, w.balance_micros, ${idempotencyKey}, ${clock()}::bigint FROM w
        RETURNING *`;
      return { entry: toLedgerRow(row), replayed: false };
    } catch (err) {
      if ((err as { errno?: string }).errno === UNIQUE_VIOLATION) {
        const replay = await existing();
        if (replay) return replay;
      }
      throw err;
    }
  }

  const walletRow = async (projectId: string) =>
    (await sql`SELECT balance_micros, held_micros FROM wallets WHERE project_id = ${projectId}`)[0] as { balance_micros: string; held_micros: string } | undefined;

  return {
    reserve,
    settle,
    release,
    renew,
    releaseExpired,
    topUp,
    ensureWallet: async (projectId: string) => void (await sql`INSERT INTO wallets (project_id) VALUES (${projectId}) ON CONFLICT (project_id) DO NOTHING`),
    /** Balance minus every hold still in the store (expired ones too, until the sweep removes them); 0 without a wallet. */
    available: async (projectId: string) => (await availableOf(sql, projectId)) ?? 0,
    balance: async (projectId: string) => {
      const row = await walletRow(projectId);
      return row ? micros(row.balance_micros) : 0;
    },
    held: async (projectId: string) => {
      const row = await walletRow(projectId);
      return row ? micros(row.held_micros) : 0;
    },
  };
}
export type PgWalletRepo = ReturnType<typeof createPgWalletRepo>;

/**
 * The money invariants of auditMoney (wallet.repo.ts), checked in PostgreSQL, plus those of shared holds: each
 * wallet's held_micros is the sum of its holds and at most its balance, and no hold outlived its expiry by more
 * than `graceMs` at `nowMs` (call it after releaseExpired). Returns the violations found.
 */
export async function auditMoneyPg(sql: SQL, options: { nowMs?: number; graceMs?: number } = {}): Promise<string[]> {
  const nowMs = options.nowMs ?? Date.now();
  const graceMs = options.graceMs ?? 0;
  const problems: string[] = [];
  for (const r of await sql`SELECT project_id, balance_micros FROM wallets WHERE balance_micros < 0`)
    problems.push(`wallet ${r.project_id} negative: ${r.balance_micros}`);
  for (const r of await sql`
      SELECT w.project_id, w.balance_micros, coalesce(sum(l.amount_micros), 0) AS ledger
      FROM wallets w LEFT JOIN ledger_entries l ON l.project_id = w.project_id
      GROUP BY w.project_id, w.balance_micros HAVING w.balance_micros <> coalesce(sum(l.amount_micros), 0)`)
    problems.push(`wallet ${r.project_id}: balance ${r.balance_micros} != ledger sum ${r.ledger}`);
  for (const r of await sql`
      SELECT request_id, count(*) AS n FROM ledger_entries WHERE type = 'consumption' GROUP BY request_id HAVING count(*) > 1`)
    problems.push(`request ${r.request_id} charged ${r.n} times`);
  for (const r of await sql`
      SELECT project_id, seq, balance_after_micros, running FROM (
        SELECT project_id, seq, balance_after_micros, sum(amount_micros) OVER (PARTITION BY project_id ORDER BY seq) AS running
        FROM ledger_entries) l
      WHERE balance_after_micros <> running`)
    problems.push(`ledger ${r.project_id}#${r.seq}: balance_after ${r.balance_after_micros} != running sum ${r.running}`);
  for (const r of await sql`
      SELECT w.project_id, w.held_micros, coalesce(sum(h.amount_micros), 0) AS holds
      FROM wallets w LEFT JOIN credit_holds h ON h.project_id = w.project_id
      GROUP BY w.project_id, w.held_micros HAVING w.held_micros <> coalesce(sum(h.amount_micros), 0)`)
    problems.push(`wallet ${r.project_id}: held ${r.held_micros} != sum of its holds ${r.holds}`);
  for (const r of await sql`SELECT project_id, held_micros, balance_micros FROM wallets WHERE held_micros > balance_micros`)
    problems.push(`wallet ${r.project_id} oversubscribed: held ${r.held_micros} > balance ${r.balance_micros}`);
  for (const r of await sql`SELECT id, expires_at FROM credit_holds WHERE expires_at + ${graceMs}::bigint < ${nowMs}::bigint`)
    problems.push(`hold ${r.id} expired at ${r.expires_at}, more than ${graceMs} ms before ${nowMs}, still held`);
  return problems;
}
