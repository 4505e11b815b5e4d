/**
 * `vexrail migrate-store --to postgres://...`: copies the data directory's SQLite database into an empty
 * PostgreSQL database, for an install that moves to several instances.
 *
 * The target's schema is created by the PostgreSQL migrations (the same version as the SQLite store's);
 * a target that already holds Vexrail rows or another application's tables is refused before anything is
 * created in it. Tables are copied parent before child (by their foreign
 * keys) inside ONE PostgreSQL transaction, in batches, with a progress line per table on stderr; identity
 * counters are moved past the copied ids. Before the commit every table's row count and the sum of every
 * money column (`*_micros`, per table, and per wallet for the ledger) are compared with the source: any
 * difference rolls the whole copy back, so the target is either a verified copy or still empty. The SQLite
 * database is only read (after bringing its schema up to date), in one read transaction, so the copy is one
 * consistent snapshot. Stop the server first: rows written after the snapshot would not be in it.
 */
import type { Database } from 'bun:sqlite';
import type { SQL } from 'bun';
import { existsSync } from 'node:fs';
import { databasePath, migrate, openDatabase } from '../store/database';
import { migratePostgres, openPostgres, redactUrl } from '../store/postgres';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;

/** Rows per INSERT: well under PostgreSQL's 65,535 bind parameters for the widest table. */
const BATCH_ROWS = 500;
const PROGRESS_EVERY_MS = 1000;

export type MigrateStoreOptions = {
  dataDir: string;
  to: string;
  stderr?: (text: string) => void;
  stdout?: (text: string) => void;
};

type Table = { name: string; columns: string[]; parents: string[] };

class MigrateError extends Error {}

/** Every table of the SQLite store, parents before children (foreign keys), in a stable order. */
function tablesInOrder(db: Database): Table[] {
  const names = (db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
  const tables = new Map<string, Table>();
  for (const name of names) {
    const columns = (db.query(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(name) as Array<{ name: string }>).map((c) => c.name);
    const parents = [...new Set((db.query(`SELECT "table" AS parent FROM pragma_foreign_key_list(?)`).all(name) as Array<{ parent: string }>).map((f) => f.parent))]
      .filter((p) => p !== name);
    tables.set(name, { name, columns, parents });
  }
  const ordered: Table[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.size) {
    const ready = [...tables.values()].filter((t) => !placed.has(t.name) && t.parents.every((p) => placed.has(p) || !tables.has(p)));
    if (ready.length === 0) throw new MigrateError('the tables\' foreign keys form a cycle; cannot choose a copy order');
    for (const t of ready) {
      ordered.push(t);
      placed.add(t.name);
    }
  }
  return ordered;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Row count and the sum of each money column, as exact integers (BigInt: sums can pass 2^53 in a long-lived ledger). */
type Totals = { rows: bigint; sums: Record<string, bigint> };

function sqliteTotals(db: Database, t: Table): Totals {
  const money = t.columns.filter((c) => c.endsWith('_micros'));
  const select = [`count(*) AS n`, ...money.map((c, i) => `CAST(coalesce(sum(${quote(c)}), 0) AS TEXT) AS s${i}`)].join(', ');
  const row = db.query(`SELECT ${select} FROM ${quote(t.name)}`).get() as Record<string, number | string>;
  return { rows: BigInt(row.n), sums: Object.fromEntries(money.map((c, i) => [c, BigInt(row[`s${i}`] as string)])) };
}

async function pgTotals(tx: SQL, t: Table): Promise<Totals> {
  const money = t.columns.filter((c) => c.endsWith('_micros'));
  const select = [`count(*)::text AS n`, ...money.map((c, i) => `coalesce(sum(${quote(c)}), 0)::text AS s${i}`)].join(', ');
  const [row] = await tx.unsafe(`SELECT ${select} FROM ${quote(t.name)}`);
  return { rows: BigInt(row.n), sums: Object.fromEntries(money.map((c, i) => [c, BigInt(row[`s${i}`])])) };
}

/** Balance and ledger sum per wallet: the ledger must add up to each balance on both sides, and match. */
function sqliteWallets(db: Database): Map<string, string> {
  const rows = db.query(`SELECT w.project_id AS id, w.balance_micros AS balance, CAST(coalesce(sum(l.amount_micros), 0) AS TEXT) AS ledger
    FROM wallets w LEFT JOIN ledger_entries l ON l.project_id = w.project_id GROUP BY w.project_id`).all() as Array<{ id: string; balance: number; ledger: string }>;
  return new Map(rows.map((r) => [r.id, `${r.balance}/${r.ledger}`]));
}

async function pgWallets(tx: SQL): Promise<Map<string, string>> {
  const rows = await tx.unsafe(`SELECT w.project_id AS id, w.balance_micros::text AS balance, coalesce(sum(l.amount_micros), 0)::text AS ledger
    FROM wallets w LEFT JOIN ledger_entries l ON l.project_id = w.project_id GROUP BY w.project_id, w.balance_micros`);
  return new Map(rows.map((r: any) => [r.id as string, `${r.balance}/${r.ledger}`]));
}

export async function migrateStore(opts: MigrateStoreOptions): Promise<number> {
  const err = opts.stderr ?? ((text: string) => void process.stderr.write(text));
  const out = opts.stdout ?? ((text: string) => void process.stdout.write(text));
  const started = performance.now();
  const path = databasePath(opts.dataDir);
  if (!existsSync(path)) {
    err(`vexrail: no database at ${path} (check --data-dir)\n`);
    return EXIT_FAILED;
  }
  let db: Database | null = null;
  let pg: Awaited<ReturnType<typeof openPostgres>> | null = null;
  try {
    db = openDatabase(path);
    const version = migrate(db);
    err(`Source: ${path} (schema version ${version})\n`);
    pg = await openPostgres(opts.to);
    const tables = tablesInOrder(db);
    // Before anything is created there: a database holding another application's tables, or Vexrail rows, is refused.
    const ours = new Set([...tables.map((t) => t.name), 'schema_version']);
    const present = ((await pg.sql`SELECT table_name FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`) as Array<{ table_name: string }>).map((r) => r.table_name);
    const foreign = present.filter((name) => !ours.has(name));
    if (foreign.length > 0)
      throw new MigrateError(`the target database holds tables that are not Vexrail's (${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', ...' : ''}); migrate-store copies into an empty database only`);
    const nonEmpty: string[] = [];
    for (const name of present.filter((n) => n !== 'schema_version')) {
      const [row] = await pg.sql.unsafe(`SELECT EXISTS (SELECT 1 FROM ${quote(name)}) AS any`);
      if (row.any) nonEmpty.push(name);
    }
    if (nonEmpty.length > 0)
      throw new MigrateError(`the target database is not empty (rows in ${nonEmpty.join(', ')}); migrate-store copies into an empty database only`);
    const pgVersion = await migratePostgres(pg.sql);
    if (pgVersion !== version) throw new MigrateError(`schema versions differ: SQLite ${version}, PostgreSQL ${pgVersion}`);
    err(`Target: ${redactUrl(opts.to)} (schema version ${pgVersion})\n`);

    const source = db;
    // One read transaction on the SQLite side: the copy and the totals it is verified against see one snapshot.
    source.exec('BEGIN');
    // Read once, inside the snapshot: the progress lines' totals and what the copy is verified against.
    const sourceTotals = new Map(tables.map((t) => [t.name, sqliteTotals(source, t)]));
    const copied = await pg.sql.begin(async (tx) => {
      let total = 0;
      for (const t of tables) {
        const expected = Number(sourceTotals.get(t.name)!.rows);
        const tableStarted = performance.now();
        let lastReport = tableStarted;
        let done = 0;
        let batch: Record<string, unknown>[] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          try {
            await tx`INSERT INTO ${tx(t.name)} ${tx(batch, ...t.columns)}`;
          } catch (e) {
            const message = (e as Error).message;
            const hint = /0x00/.test(message) ? ' (PostgreSQL text cannot hold the NUL character, which SQLite stores)' : '';
            throw new MigrateError(`copying ${t.name}, rows ${done + 1}-${done + batch.length}: ${message}${hint}; nothing was kept`);
          }
          done += batch.length;
          batch = [];
          if (performance.now() - lastReport >= PROGRESS_EVERY_MS) {
            lastReport = performance.now();
            err(`  ${t.name}: ${done.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} rows\n`);
          }
        };
        for (const row of source.query(`SELECT ${t.columns.map(quote).join(', ')} FROM ${quote(t.name)} ORDER BY rowid`).iterate() as IterableIterator<Record<string, unknown>>) {
          batch.push(row);
          if (batch.length >= BATCH_ROWS) await flush();
        }
        await flush();
        total += done;
        err(`  ${t.name}: ${done.toLocaleString('en-US')} rows (${Math.round(performance.now() - tableStarted)} ms)\n`);
      }

      // Identity columns: the next generated id follows the copied ones, and SQLite's AUTOINCREMENT high-water
      // mark (ids of deleted rows are never given out again).
      const issued = new Map<string, number>();
      if (source.query(`SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'`).get())
        for (const r of source.query('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>) issued.set(r.name, r.seq);
      const identities = await tx`SELECT table_name, column_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND is_identity = 'YES'`;
      for (const { table_name, column_name } of identities)
        await tx.unsafe(`SELECT setval(pg_get_serial_sequence($1, $2), greatest(coalesce((SELECT max(${quote(column_name)}) FROM ${quote(table_name)}), 0), $3::bigint) + 1, false)`,
          [table_name, column_name, issued.get(table_name) ?? 0]);

      // Verification, before the commit: a difference rolls everything back.
      const problems: string[] = [];
      for (const t of tables) {
        const [a, b] = [sourceTotals.get(t.name)!, await pgTotals(tx, t)];
        if (a.rows !== b.rows) problems.push(`${t.name}: ${a.rows} rows in SQLite, ${b.rows} in PostgreSQL`);
        for (const c of Object.keys(a.sums))
          if (a.sums[c] !== b.sums[c]) problems.push(`${t.name}.${c}: sum ${a.sums[c]} in SQLite, ${b.sums[c]} in PostgreSQL`);
      }
      const [wa, wb] = [sqliteWallets(source), await pgWallets(tx)];
      for (const [id, v] of wa) if (wb.get(id) !== v) problems.push(`wallet ${id}: balance/ledger ${v} in SQLite, ${wb.get(id) ?? 'missing'} in PostgreSQL`);
      if (problems.length > 0) throw new MigrateError(`verification failed, nothing was kept:\n  ${problems.join('\n  ')}`);
      return total;
    }).finally(() => source.exec('COMMIT'));
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    out(`Copied ${copied.toLocaleString('en-US')} rows in ${tables.length} tables to ${redactUrl(opts.to)} in ${seconds} s; row counts and money sums verified.\n`);
    return EXIT_OK;
  } catch (e) {
    err(`vexrail: migrate-store failed: ${(e as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    db?.close();
    await pg?.close();
  }
}
