import { Database } from 'bun:sqlite';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import migration001 from './migrations/001_initial.sql' with { type: 'text' };
import migration002 from './migrations/002_marketplace.sql' with { type: 'text' };
import migration003 from './migrations/003_conversation_turns.sql' with { type: 'text' };
import migration004 from './migrations/004_link_domains.sql' with { type: 'text' };
import migration005 from './migrations/005_judge_costs.sql' with { type: 'text' };
import migration006 from './migrations/006_catalog.sql' with { type: 'text' };
import migration007 from './migrations/007_key_limits.sql' with { type: 'text' };
import migration008 from './migrations/008_credit_holds.sql' with { type: 'text' };
import migration009 from './migrations/009_accounts.sql' with { type: 'text' };

/** Numbered migrations, embedded in the binary. Append only; never edit a shipped one. */
export const SQLITE_MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
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

export type Store = { db: Database; path: string; close(): void };

export function openDatabase(path: string): Database {
  let db: Database | null = null;
  try {
    db = new Database(path, { create: true, strict: true });
    // busy_timeout first: any later statement may meet a lock held by a backup or another process.
    db.exec('PRAGMA busy_timeout = 5000');
    if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode: a committed transaction survives a process kill; only power loss may drop the last ones.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    return db;
  } catch (err) {
    db?.close();
    // SQLite's own message ("unable to open database file", "file is not a database") never says which file.
    throw new StoreOpenError(`unable to open database ${path}: ${(err as Error).message}`);
  }
}

export function migrate(db: Database): number {
  const current = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  for (const { version, sql } of SQLITE_MIGRATIONS) {
    if (version <= current) continue;
    db.transaction(() => {
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${version}`);
    })();
  }
  return SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;
}

/** Opens (creating when needed) the data directory's database and brings its schema up to date. */
export function openStore(dataDir: string | ':memory:'): Store {
  let path = ':memory:';
  if (dataDir !== ':memory:') {
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      throw new StoreOpenError(`unable to create data directory ${dataDir}: ${(err as Error).message}`);
    }
    path = databasePath(dataDir);
  }
  const db = openDatabase(path);
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw new StoreOpenError(`unable to migrate database ${path}: ${(err as Error).message}`);
  }
  return { db, path, close: () => db.close() };
}

/** Opening the data directory or its database failed; the message always names the path. */
export class StoreOpenError extends Error {}

export function databasePath(dataDir: string): string {
  return join(dataDir, 'vexrail.db');
}

/**
 * A consistent online copy: VACUUM INTO reads one snapshot while a server keeps writing. Opens the
 * existing database read-only and never migrates it, so a backup cannot change a live server's schema.
 */
export function backupDatabase(dataDir: string, targetPath: string): void {
  const source = databasePath(dataDir);
  if (!existsSync(source)) throw new BackupError(`no database at ${source} (check --data-dir)`);
  if (existsSync(targetPath)) throw new BackupError(`${targetPath} already exists; choose a new file name`);
  const db = new Database(source, { readonly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    db.query('VACUUM INTO ?').run(targetPath);
  } finally {
    db.close();
  }
}

export class BackupError extends Error {}
