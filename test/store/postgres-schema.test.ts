/**
 * The PostgreSQL schema and its migration runner, against a throwaway server made from the machine's own
 * packages. No PostgreSQL, no pass: a server that cannot start fails this file (CI runs it).
 */
import type { Database } from 'bun:sqlite';
import { SQL } from 'bun';
import { expect, test } from 'bun:test';
import { openStore, SQLITE_MIGRATIONS } from '../../src/store/database';
import { MIGRATION_LOCK_KEY, migratePostgres, openPostgres, POSTGRES_MIGRATIONS } from '../../src/store/postgres';
import { createTestDatabase, useThrowawayPostgres } from '../helpers/postgres';

const pg = useThrowawayPostgres();

/** A migrated, empty database of its own; dropped after `body`. */
async function withMigratedDatabase(body: (sql: SQL) => Promise<void>): Promise<void> {
  const database = await createTestDatabase(pg.server.url);
  const store = await openPostgres(database.url);
  try {
    await migratePostgres(store.sql);
    await body(store.sql);
  } finally {
    await store.close();
    await database.drop();
  }
}

const LATEST = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;

const sqliteVersion = () => {
  const store = openStore(':memory:');
  try {
    return (store.db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  } finally {
    store.close();
  }
};

test('both backends number the same migrations: 1, 2, 3, ... with no gap, the same list in each', () => {
  const versions = (list: ReadonlyArray<{ version: number }>) => list.map((m) => m.version);
  expect(versions(POSTGRES_MIGRATIONS)).toEqual(versions(SQLITE_MIGRATIONS));
  expect(versions(SQLITE_MIGRATIONS)).toEqual(SQLITE_MIGRATIONS.map((_, i) => i + 1));
  expect(sqliteVersion()).toBe(LATEST);
});

test('the migrations apply to an empty database, each recorded once, and running them again changes nothing', async () => {
  const database = await createTestDatabase(pg.server.url);
  const store = await openPostgres(database.url);
  try {
    expect(await migratePostgres(store.sql)).toBe(sqliteVersion());
    const first = await store.sql`SELECT version, applied_at FROM schema_version ORDER BY version`;
    expect(first.map((r: { version: number }) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    const tables = async () => (await store.sql`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)[0].n;
    const tableCount = await tables();

    expect(await migratePostgres(store.sql)).toBe(sqliteVersion());
    expect(await store.sql`SELECT version, applied_at FROM schema_version ORDER BY version`).toEqual(first);
    expect(await tables()).toBe(tableCount);
  } finally {
    await store.close();
    await database.drop();
  }
}, 30_000);

test('three instances starting at once apply each migration exactly once', async () => {
  const database = await createTestDatabase(pg.server.url);
  const instances = await Promise.all([1, 2, 3].map(() => openPostgres(database.url)));
  try {
    const versions = await Promise.all(instances.map((i) => migratePostgres(i.sql)));
    expect(versions).toEqual([LATEST, LATEST, LATEST]);
    const rows = await instances[0].sql`SELECT version FROM schema_version ORDER BY version`;
    expect(rows.map((r: { version: number }) => r.version)).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    // Every instance released the lock: a new session takes it at once.
    const probe = await instances[1].sql.reserve();
    try {
      expect((await probe.unsafe(`SELECT pg_try_advisory_lock(${MIGRATION_LOCK_KEY}) AS ok`))[0].ok).toBe(true);
      await probe.unsafe(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    } finally {
      probe.release();
    }
  } finally {
    await Promise.all(instances.map((i) => i.close()));
    await database.drop();
  }
}, 30_000);

test('an instance waits a bounded time for a migration lock held elsewhere, then says why it gave up', async () => {
  const database = await createTestDatabase(pg.server.url);
  const holder = await openPostgres(database.url);
  const waiter = await openPostgres(database.url);
  const held = await holder.sql.reserve();
  try {
    await held.unsafe(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
    const started = performance.now();
    await expect(migratePostgres(waiter.sql, { lockTimeoutMs: 300 })).rejects.toThrow(/migration lock for more than 300 ms/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(await waiter.sql`SELECT to_regclass('public.schema_version') AS t`).toEqual([{ t: null }]);

    await held.unsafe(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`);
    expect(await migratePostgres(waiter.sql, { lockTimeoutMs: 300 })).toBe(LATEST);
  } finally {
    held.release();
    await Promise.all([holder.close(), waiter.close()]);
    await database.drop();
  }
}, 30_000);

test('a database with a newer schema than the binary is refused', async () => {
  await withMigratedDatabase(async (sql) => {
    await sql`INSERT INTO schema_version (version, applied_at) VALUES (${99}, ${Date.now()})`;
    await expect(migratePostgres(sql)).rejects.toThrow(new RegExp(`schema is at version 99, newer than this binary's ${LATEST}`));
  });
}, 30_000);

test('an unreachable server fails to open with a message naming it and never its password', async () => {
  const url = `postgres://postgres:s3cret@127.0.0.1:${pg.server.port}/no_such_database`;
  const error = await openPostgres(url, { connectTimeoutMs: 2_000 }).then(() => null, (err: Error) => err);
  expect(error?.message).toContain('unable to connect to PostgreSQL at postgres://postgres:***@127.0.0.1');
  expect(error?.message).not.toContain('s3cret');
}, 30_000);

// ---- The final schema equals SQLite's ----

type TableShape = {
  columns: string[];
  primaryKey: string;
  uniqueConstraints: string[];
  indexes: string[];
  foreignKeys: string[];
  checks: number;
};

const typeClass = (type: string): string => {
  const t = type.toLowerCase();
  if (['integer', 'bigint', 'smallint'].includes(t)) return 'integer';
  if (['real', 'double precision'].includes(t)) return 'real';
  if (t === 'text') return 'text';
  return `other:${t}`;
};
const column = (name: string, type: string, notNull: boolean, dflt: string | null) =>
  `${name} ${typeClass(type)}${notNull ? ' not null' : ''}${dflt === null ? '' : ` default ${dflt}`}`;
const index = (name: string, columns: string, unique: boolean, partial: boolean) =>
  `${name} (${columns})${unique ? ' unique' : ''}${partial ? ' partial' : ''}`;

function sqliteShapes(db: Database): Map<string, TableShape> {
  const shapes = new Map<string, TableShape>();
  const tables = db.query("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string; sql: string }>;
  for (const { name, sql } of tables) {
    type Col = { name: string; type: string; notnull: number; dflt_value: string | null; pk: number };
    const cols = db.query(`PRAGMA table_info(${name})`).all() as Col[];
    const shape: TableShape = {
      // A PRIMARY KEY column never holds NULL (a rowid alias cannot), whatever table_info's notnull says.
      columns: cols.map((c) => column(c.name, c.type, c.notnull === 1 || c.pk > 0, c.dflt_value)).sort(),
      primaryKey: cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name).join(','),
      uniqueConstraints: [],
      indexes: [],
      foreignKeys: [],
      checks: (sql.match(/\bCHECK\s*\(/gi) ?? []).length,
    };
    type Idx = { name: string; unique: number; origin: string; partial: number };
    for (const idx of db.query(`PRAGMA index_list(${name})`).all() as Idx[]) {
      const columns = (db.query(`PRAGMA index_info(${idx.name})`).all() as Array<{ seqno: number; name: string }>)
        .sort((a, b) => a.seqno - b.seqno).map((c) => c.name).join(',');
      if (idx.origin === 'c') shape.indexes.push(index(idx.name, columns, idx.unique === 1, idx.partial === 1));
      else if (idx.origin === 'u') shape.uniqueConstraints.push(columns);
    }
    type Fk = { id: number; seq: number; table: string; from: string; to: string };
    const fks = new Map<number, Fk[]>();
    for (const fk of db.query(`PRAGMA foreign_key_list(${name})`).all() as Fk[]) fks.set(fk.id, [...(fks.get(fk.id) ?? []), fk]);
    for (const parts of fks.values()) {
      parts.sort((a, b) => a.seq - b.seq);
      shape.foreignKeys.push(`(${parts.map((p) => p.from).join(',')}) -> ${parts[0].table} (${parts.map((p) => p.to).join(',')})`);
    }
    shapes.set(name, sortShape(shape));
  }
  return shapes;
}

async function postgresShapes(sql: SQL): Promise<Map<string, TableShape>> {
  const shapes = new Map<string, TableShape>();
  const tables: Array<{ name: string }> = await sql`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_version'`;
  for (const { name } of tables) {
    shapes.set(name, { columns: [], primaryKey: '', uniqueConstraints: [], indexes: [], foreignKeys: [], checks: 0 });
  }
  const cols: Array<{ table: string; name: string; type: string; nullable: string; dflt: string | null }> = await sql`
    SELECT table_name AS table, column_name AS name, data_type AS type, is_nullable AS nullable, column_default AS dflt
    FROM information_schema.columns WHERE table_schema = 'public'`;
  for (const c of cols) {
    // 'publisher'::text -> 'publisher', as SQLite reports a default.
    shapes.get(c.table)?.columns.push(column(c.name, c.type, c.nullable === 'NO', c.dflt?.replace(/::[a-z ]+$/, '') ?? null));
  }
  const idxs: Array<{ table: string; name: string; columns: string; unique: boolean; primary: boolean; partial: boolean; constraint: boolean }> = await sql`
    SELECT t.relname::text AS table, i.relname::text AS name, ix.indisunique AS unique, ix.indisprimary AS primary,
           ix.indpred IS NOT NULL AS partial,
           EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u')) AS constraint,
           array_to_string(ARRAY(
             SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS columns
    FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'`;
  for (const ix of idxs) {
    const shape = shapes.get(ix.table);
    if (!shape) continue;
    if (ix.primary) shape.primaryKey = ix.columns;
    else if (ix.constraint) shape.uniqueConstraints.push(ix.columns);
    else shape.indexes.push(index(ix.name, ix.columns, ix.unique, ix.partial));
  }
  const cons: Array<{ table: string; type: string; ref: string | null; from: string; to: string }> = await sql`
    SELECT t.relname::text AS table, c.contype::text AS type, r.relname::text AS ref,
           array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS from,
           array_to_string(ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord), ',') AS to
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid LEFT JOIN pg_class r ON r.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public' AND c.contype IN ('f', 'c')`;
  for (const c of cons) {
    const shape = shapes.get(c.table);
    if (!shape) continue;
    if (c.type === 'f') shape.foreignKeys.push(`(${c.from}) -> ${c.ref} (${c.to})`);
    else shape.checks++;
  }
  for (const [name, shape] of shapes) shapes.set(name, sortShape(shape));
  return shapes;
}

const sortShape = (s: TableShape): TableShape => ({
  ...s,
  columns: [...s.columns].sort(),
  uniqueConstraints: [...s.uniqueConstraints].sort(),
  indexes: [...s.indexes].sort(),
  foreignKeys: [...s.foreignKeys].sort(),
});

test('the PostgreSQL schema has the SQLite tables, columns, defaults, keys, indexes and as many CHECKs', async () => {
  const sqlite = openStore(':memory:');
  try {
    const expected = sqliteShapes(sqlite.db);
    expect(expected.size).toBeGreaterThanOrEqual(20);
    await withMigratedDatabase(async (sql) => {
      const actual = await postgresShapes(sql);
      expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [table, shape] of expected) expect({ table, ...actual.get(table) }).toEqual({ table, ...shape });
    });
  } finally {
    sqlite.close();
  }
}, 30_000);

// ---- Constraints reject the same writes in both backends ----

/** Portable SQL (literals only): a publisher with a wallet, an advertiser's campaign, product and impression. */
const FIXTURE = [
  `INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at)
     VALUES ('pub', 'Publisher', 'publisher', 'pub.example', 't1', 1, 1), ('adv', 'Advertiser', 'advertiser', 'adv.example', 't2', 1, 1)`,
  `INSERT INTO wallets (project_id, balance_micros) VALUES ('pub', 5)`,
  `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, idempotency_key, created_at)
     VALUES ('pub', 'top_up', 5, 5, 'topup-1', 1)`,
  `INSERT INTO campaigns (id, project_id, name, base_cpc_micros, budget_micros, budget_type, created_at, updated_at)
     VALUES ('cmp', 'adv', 'Campaign', 100, 1000, 'total', 1, 1)`,
  `INSERT INTO products (id, project_id, name, description, url, created_at) VALUES ('prd', 'adv', 'P', 'D', 'https://adv.example/p', 1)`,
  `INSERT INTO impressions (id, publisher_project_id, advertiser_project_id, campaign_id, product_id, request_id, turn, relevance,
     price_micros, created_at, expires_at) VALUES ('imp', 'pub', 'adv', 'cmp', 'prd', 'req', 1, 0.5, 100, 1, 2)`,
  `INSERT INTO clicks (id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, charged_micros,
     publisher_micros, platform_micros, created_at) VALUES ('clk1', 'imp', 'cmp', 'pub', 'adv', 'charged', 100, 70, 30, 1)`,
];

const REJECTED: Array<{ what: string; statement: string; sqlstate: string }> = [
  { what: 'a wallet debit below zero', statement: `UPDATE wallets SET balance_micros = balance_micros - 6 WHERE project_id = 'pub'`, sqlstate: '23514' },
  {
    what: 'a ledger entry leaving a negative balance',
    statement: `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, created_at) VALUES ('pub', 'consumption', -6, -1, 2)`,
    sqlstate: '23514',
  },
  {
    what: 'a second top-up with the same idempotency key',
    statement: `INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, idempotency_key, created_at) VALUES ('pub', 'top_up', 5, 10, 'topup-1', 2)`,
    sqlstate: '23505',
  },
  {
    what: 'a second charged click on one impression',
    statement: `INSERT INTO clicks (id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, charged_micros,
      publisher_micros, platform_micros, created_at) VALUES ('clk2', 'imp', 'cmp', 'pub', 'adv', 'charged', 100, 70, 30, 2)`,
    sqlstate: '23505',
  },
  {
    what: 'a click whose shares do not add up to its charge',
    statement: `INSERT INTO clicks (id, impression_id, campaign_id, publisher_project_id, advertiser_project_id, status, charged_micros,
      publisher_micros, platform_micros, created_at) VALUES ('clk3', 'imp', 'cmp', 'pub', 'adv', 'invalid', 100, 70, 20, 2)`,
    sqlstate: '23514',
  },
  { what: 'holds above the balance', statement: `UPDATE wallets SET held_micros = 6 WHERE project_id = 'pub'`, sqlstate: '23514' },
  { what: 'a hold on a wallet that does not exist', statement: `INSERT INTO credit_holds (id, project_id, amount_micros, instance_id, created_at, expires_at) VALUES ('h', 'adv', 1, 'i', 1, 2)`, sqlstate: '23503' },
  { what: 'campaign spend below zero', statement: `UPDATE campaigns SET spent_total_micros = -1 WHERE id = 'cmp'`, sqlstate: '23514' },
  { what: 'link domains that are not JSON', statement: `UPDATE projects SET link_domains = 'not json' WHERE id = 'adv'`, sqlstate: '23514' },
  { what: 'link domains that are a JSON object', statement: `UPDATE projects SET link_domains = '{"a":1}' WHERE id = 'adv'`, sqlstate: '23514' },
  { what: 'a wallet of a project that does not exist', statement: `INSERT INTO wallets (project_id, balance_micros) VALUES ('nobody', 1)`, sqlstate: '23503' },
];

test('the same writes are rejected by both backends, and the rows keep their values', async () => {
  const sqlite = openStore(':memory:');
  try {
    for (const statement of FIXTURE) sqlite.db.exec(statement);
    await withMigratedDatabase(async (sql) => {
      for (const statement of FIXTURE) await sql.unsafe(statement);
      for (const { what, statement, sqlstate } of REJECTED) {
        expect({ what, sqlite: (() => { try { sqlite.db.exec(statement); return 'accepted'; } catch { return 'rejected'; } })() }).toEqual({ what, sqlite: 'rejected' });
        const error = await sql.unsafe(statement).then(() => null, (err: { errno?: string }) => err);
        expect({ what, sqlstate: error?.errno }).toEqual({ what, sqlstate });
      }
      expect(await sql`SELECT balance_micros FROM wallets WHERE project_id = 'pub'`).toEqual([{ balance_micros: 5n }]);
      expect(await sql`SELECT id FROM clicks ORDER BY id`).toEqual([{ id: 'clk1' }]);
      // What the same checks let through: a debit to exactly zero, valid link domains.
      await sql.unsafe(`UPDATE wallets SET balance_micros = balance_micros - 5 WHERE project_id = 'pub'`);
      await sql.unsafe(`UPDATE projects SET link_domains = '["shop.example"]' WHERE id = 'adv'`);
      expect(await sql`SELECT balance_micros FROM wallets`).toEqual([{ balance_micros: 0n }]);
    });
  } finally {
    sqlite.close();
  }
}, 30_000);
