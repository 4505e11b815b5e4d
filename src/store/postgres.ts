import { SQL } from 'bun';
import { StoreOpenError } from './database';
import migration001 from './migrations-pg/001_initial.sql' with { type: 'text' };
import migration002 from './migrations-pg/002_marketplace.sql' with { type: 'text' };
import migration003 from './migrations-pg/003_conversation_turns.sql' with { type: 'text' };
import migration004 from './migrations-pg/004_link_domains.sql' with { type: 'text' };
import migration005 from './migrations-pg/005_judge_costs.sql' with { type: 'text' };
import migration006 from './migrations-pg/006_catalog.sql' with { type: 'text' };
import migration007 from './migrations-pg/007_key_limits.sql' with { type: 'text' };
import migration008 from './migrations-pg/008_credit_holds.sql' with { type: 'text' };
import migration009 from './migrations-pg/009_accounts.sql' with { type: 'text' };

/**
 * PostgreSQL migrations, embedded in the binary and numbered together with the SQLite ones in
 * ./migrations (version N here builds the same schema as version N there). Append only.
 */
export const POSTGRES_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  { version: 1, sql: migration001 },
  { version: 2, sql: migration002 },
  { version: 3, sql: migration003 },
  { version: 4, sql: migration004 },
  { version: 5, sql: migration005 },
  { version: 6, sql: migration006 },
  { version: 7, sql: migration007 },
  { version: 8, sql: migration008 },
  { version: 9, sql: migration009 },
];

/** The session advisory lock that serializes migrations across instances ("vxrail" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x767872_61696c;

export type PostgresStore = { sql: SQL; close(): Promise<void> };

export type PostgresOptions = {
  /** Connections in this instance's pool. */
  maxConnections?: number;
  /** How long opening a connection may take. */
  connectTimeoutMs?: number;
};

/** Connects a pool to `url` and checks that the server answers; the error names the server, never a password. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
  const sql = new SQL(url, {
    max: options.maxConnections ?? 10,
    // int8 (money, times, counts) as BigInt, which the statement layer turns into checked numbers.
    bigint: true,
    connectionTimeout: Math.ceil((options.connectTimeoutMs ?? 10_000) / 1000),
    idleTimeout: 60,
  });
  try {
    await sql`SELECT 1`;
  } catch (err) {
    await sql.close().catch(() => {});
    throw new StoreOpenError(`unable to connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  return { sql, close: () => sql.close() };
}

/**
 * Applies the migrations this database has not seen, each in its own transaction that also records its version
 * in schema_version. Instances that start together queue on one advisory lock, so each migration runs exactly
 * once; the lock belongs to a session, so a crashed instance's connection releases it. Returns the schema
 * version. Refuses a database whose schema is newer than this binary.
 */
export async function migratePostgres(sql: SQL, options: { lockTimeoutMs?: number } = {}): Promise<number> {
  const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version;
  const conn = await sql.reserve();
  try {
    await lockMigrations(conn, options.lockTimeoutMs ?? 60_000);
    await applyMigrations(conn, latest);
  } finally {
    // Also after a failed lock attempt: unlocking a lock this session does not hold only warns.
    await conn.unsafe(`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`).catch(() => {});
    conn.release();
  }
  return latest;
}

async function applyMigrations(conn: SQL, latest: number): Promise<void> {
  await conn`CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`;
  const rows: Array<{ version: number }> = await conn`SELECT version FROM schema_version`;
  const applied = new Set(rows.map((r) => r.version));
  const newest = Math.max(0, ...applied);
  if (newest > latest) {
    throw new StoreOpenError(`the PostgreSQL schema is at version ${newest}, newer than this binary's ${latest}: upgrade the binary`);
  }
  for (const { version, sql: text } of POSTGRES_MIGRATIONS) {
    if (applied.has(version)) continue;
    try {
      await conn.begin(async (tx) => {
        await tx.unsafe(text).simple();
        await tx`INSERT INTO schema_version (version, applied_at) VALUES (${version}, ${Date.now()})`;
      });
    } catch (err) {
      throw new StoreOpenError(`PostgreSQL migration ${version} failed: ${(err as Error).message}`);
    }
  }
}

async function lockMigrations(conn: SQL, timeoutMs: number): Promise<void> {
  // lock_timeout bounds the wait for the advisory lock too: an instance stuck mid-migration cannot hang the others.
  await conn.unsafe(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await conn.unsafe(`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`);
  } catch (err) {
    if ((err as { errno?: string }).errno === '55P03') {
      throw new StoreOpenError(`another instance has held the migration lock for more than ${timeoutMs} ms`);
    }
    throw err;
  } finally {
    await conn.unsafe('RESET lock_timeout');
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    // libpq also takes the password (and an SSL key's) as query parameters.
    for (const name of [...parsed.searchParams.keys()])
      if (/password/i.test(name)) parsed.searchParams.set(name, '***');
    return parsed.toString();
  } catch {
    return '(an invalid URL)';
  }
}
