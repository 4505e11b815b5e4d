import type { Database, Statement } from 'bun:sqlite';
import type { SQL } from 'bun';

/**
 * One statement interface over the two stores: the embedded SQLite database (bun:sqlite, synchronous) and
 * PostgreSQL (Bun's SQL client, asynchronous). Repository modules write their SQL once, in the subset both
 * dialects accept, with `$name` parameters (or `?` in order); services await what the repositories return and
 * never know which store answered.
 *
 * - SQLite statements run synchronously and return plain values (awaiting a plain value costs one microtask),
 *   so the embedded store keeps its speed.
 * - On PostgreSQL the text is rewritten once per statement to `$1..$n`; `int8` values (counts, ids, micro-units,
 *   Unix milliseconds) arrive as BigInt and are returned as numbers, refusing any that is not a safe integer.
 *   Aggregates of BIGINT columns (SUM) are NUMERIC there: write `CAST(SUM(x) AS BIGINT)`, which SQLite accepts too.
 * - Transactions: `transaction(body)` runs `body` with a handle whose statements belong to the transaction. On
 *   SQLite, while a transaction is open, statements from outside it wait until it ends, so nothing another
 *   request does between two awaits of the body can slip into it (or be rolled back with it).
 */

export type Awaitable<T> = T | Promise<T>;

/** `f` of an Awaitable's value: synchronous when the value is (the embedded store), a promise when it is not. */
export function thenOf<T, U>(value: Awaitable<T>, f: (v: T) => U | Promise<U>): Awaitable<U> {
  return value instanceof Promise ? value.then(f) : f(value);
}
export type Params = Record<string, unknown> | readonly unknown[];
export type RunResult = { changes: number };
export type Row = Record<string, unknown>;

export interface Stmt<R = Row> {
  get(params?: Params): Awaitable<R | null>;
  all(params?: Params): Awaitable<R[]>;
  run(params?: Params): Awaitable<RunResult>;
}

/** What a transaction body can do: statements inside it, on the same connection. */
export interface Tx {
  readonly kind: 'sqlite' | 'postgres';
  stmt<R = Row>(text: string): Stmt<R>;
}

export interface SqlStore extends Tx {
  /** The embedded database when `kind` is sqlite (SQLite-only features: checkpoints, backup); else null. */
  readonly sqlite: Database | null;
  /** The PostgreSQL pool when `kind` is postgres (LISTEN/NOTIFY, advisory locks); else null. */
  readonly postgres: SQL | null;
  /** Runs `body` in one transaction (SQLite: BEGIN IMMEDIATE); commits when it resolves, rolls back when it throws. */
  transaction<T>(body: (tx: Tx) => Promise<T> | T): Promise<T>;
  /** Resolves once no transaction is open (SQLite); at once on PostgreSQL. */
  idle(): Promise<void>;
  /**
   * Runs `fn` now when no transaction of this interface is open, else right after it ends: for SQLite-only code
   * that uses the embedded database's own synchronous transactions (which must never nest inside an open one).
   */
  exclusive<T>(fn: () => T): Awaitable<T>;
}

// ---------------------------------------------------------------------------------------------------------------
// SQLite

export function sqliteStore(db: Database): SqlStore {
  const cache = new Map<string, Statement>();
  const prepared = (text: string) => {
    let s = cache.get(text);
    if (!s) {
      s = db.query(text);
      cache.set(text, s);
    }
    return s;
  };
  let open = false;
  let waiting: Array<() => void> = [];
  const whenIdle = () => new Promise<void>((resolve) => waiting.push(resolve));
  function release() {
    open = false;
    // Wake waiters in order; one of them may open the next transaction, and the rest then wait again.
    const ready = waiting;
    waiting = [];
    for (const wake of ready) wake();
  }
  const bind = (params?: Params): any[] => (params === undefined ? [] : Array.isArray(params) ? params.map(sqliteValue) : [sqliteParams(params as Row)]);
  const direct = <R>(text: string): Stmt<R> => ({
    get: (p) => (prepared(text).get(...bind(p)) as R | null) ?? null,
    all: (p) => prepared(text).all(...bind(p)) as R[],
    run: (p) => ({ changes: prepared(text).run(...bind(p)).changes }),
  });
  const txHandle: Tx = { kind: 'sqlite', stmt: direct };
  function gated<R>(text: string): Stmt<R> {
    const d = direct<R>(text);
    const self: Stmt<R> = {
      get: (p) => (open ? whenIdle().then(() => self.get(p)) : d.get(p)),
      all: (p) => (open ? whenIdle().then(() => self.all(p)) : d.all(p)),
      run: (p) => (open ? whenIdle().then(() => self.run(p)) : d.run(p)),
    };
    return self;
  }
  return {
    kind: 'sqlite',
    sqlite: db,
    postgres: null,
    stmt: gated,
    async transaction<T>(body: (tx: Tx) => Promise<T> | T): Promise<T> {
      while (open) await whenIdle();
      open = true;
      try {
        db.run('BEGIN IMMEDIATE');
      } catch (err) {
        release();
        throw err;
      }
      try {
        const result = await body(txHandle);
        db.run('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.run('ROLLBACK');
        throw err;
      } finally {
        release();
      }
    },
    idle: () => (open ? whenIdle() : Promise.resolve()),
    exclusive<T>(fn: () => T): Awaitable<T> {
      if (!open) return fn();
      return (async () => {
        while (open) await whenIdle();
        return fn();
      })();
    },
  };
}

const sqliteValue = (v: unknown) => (v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v);
function sqliteParams(params: Row): Row {
  const out: Row = {};
  for (const k in params) out[k] = sqliteValue(params[k]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

/** A statement's text with `$name` / `?` placeholders turned into `$1..$n`, and the parameter order. */
export type Rewritten = { text: string; names: string[]; positional: number };

/**
 * Rewrites SQLite-style placeholders for PostgreSQL: each distinct `$name` (or `:name`/`@name`) becomes one
 * `$k`, and each `?` the next `$k` in order. String literals, quoted identifiers and comments are left alone,
 * and so is `::type` (a cast, not a parameter).
 */
export function rewritePlaceholders(sql: string): Rewritten {
  const names: string[] = [];
  let positional = 0;
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = closing(sql, i, c);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      positional++;
      out += `$${positional}`;
      i++;
    } else if ((c === '$' || c === '@' || (c === ':' && sql[i - 1] !== ':' && sql[i + 1] !== ':')) && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      let k = names.indexOf(name);
      if (k < 0) k = names.push(name) - 1;
      out += `$${k + 1}`;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error('a statement may use named or positional parameters, not both');
  return { text: out, names, positional };
}

function closing(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

/**
 * PostgreSQL text cannot hold U+0000 (SQLite's can): a NUL in a value (a fuzzer's header, a pasted message) is
 * stored as U+FFFD instead of failing the statement; an id containing one then simply matches nothing.
 */
const pgValue = (v: unknown) =>
  v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\uFFFD') : v;

/** int8 values come as BigInt (the pool is opened with `bigint: true`); every one must fit a JavaScript number. */
function toNumbers(row: Row): Row {
  for (const k in row) {
    const v = row[k];
    if (typeof v === 'bigint') {
      const n = Number(v);
      if (!Number.isSafeInteger(n)) throw new RangeError(`column ${k}: ${v} is not a safe integer`);
      row[k] = n;
    }
  }
  return row;
}

const rewrites = new Map<string, Rewritten>();

function pgStatements(run: (text: string, values: unknown[]) => Promise<any>): Tx['stmt'] {
  return <R>(text: string): Stmt<R> => {
    let r = rewrites.get(text);
    if (!r) {
      r = rewritePlaceholders(text);
      rewrites.set(text, r);
    }
    const shape = r;
    const values = (params?: Params): unknown[] => {
      if (params === undefined) return [];
      if (Array.isArray(params)) return params.map(pgValue);
      const p = params as Row;
      return shape.names.map((n) => {
        if (!(n in p) && !(`$${n}` in p)) throw new Error(`missing SQL parameter $${n}`);
        return pgValue(n in p ? p[n] : p[`$${n}`]);
      });
    };
    return {
      async get(p) {
        const rows = await run(shape.text, values(p));
        return rows.length === 0 ? null : (toNumbers(rows[0]) as R);
      },
      async all(p) {
        const rows = await run(shape.text, values(p));
        return Array.from(rows as Row[], (row) => toNumbers(row) as R);
      },
      async run(p) {
        const result = await run(shape.text, values(p));
        return { changes: Number(result.count ?? 0) };
      },
    };
  };
}

export function postgresStore(sql: SQL): SqlStore {
  const stmt = pgStatements((text, values) => sql.unsafe(text, values));
  return {
    kind: 'postgres',
    sqlite: null,
    postgres: sql,
    stmt,
    transaction<T>(body: (tx: Tx) => Promise<T> | T): Promise<T> {
      return sql.begin(async (conn) => body({ kind: 'postgres', stmt: pgStatements((text, values) => conn.unsafe(text, values)) })) as Promise<T>;
    },
    idle: () => Promise.resolve(),
    exclusive: <T>(fn: () => T) => fn(),
  };
}
