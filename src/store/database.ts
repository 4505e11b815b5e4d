import { Database } from 'bun:sqlite';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import migration001 from './migrations/001_initial.sql' with { type: 'text' };

/** Numbered migrations, embedded in the binary. Append only; never edit a shipped one. */
const MIGRATIONS: Array<{ version: number; sql: string }> = [{ version: 1, sql: migration001 }];

export type Store = { db: Database; path: string; close(): void };

export function openDatabase(path: string): Database {
  const db = new Database(path, { create: true, strict: true });
  // busy_timeout first: any later statement may meet a lock held by a backup or another process.
  db.exec('PRAGMA busy_timeout = 5000');
  if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
  // NORMAL in WAL mode: a committed transaction survives a process kill; only power loss may drop the last ones.
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA foreign_keys = ON');
  return db;
}

export function migrate(db: Database): number {
  const current = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version;
  for (const { version, sql } of MIGRATIONS) {
    if (version <= current) continue;
    db.transaction(() => {
      db.exec(sql);
      db.exec(`PRAGMA user_version = ${version}`);
    })();
  }
  return MIGRATIONS[MIGRATIONS.length - 1].version;
}

/** Opens (creating when needed) the data directory's database and brings its schema up to date. */
export function openStore(dataDir: string | ':memory:'): Store {
  let path = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    path = join(dataDir, 'vexrail.db');
  }
  const db = openDatabase(path);
  migrate(db);
  return { db, path, close: () => db.close() };
}

/** A consistent online copy: VACUUM INTO reads one snapshot while the server keeps writing. */
export function backupDatabase(db: Database, targetPath: string): void {
  db.query('VACUUM INTO ?').run(targetPath);
}
