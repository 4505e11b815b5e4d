import type { Config } from '../config/config';
import { startCheckpointer } from './checkpointer';
import { openStore } from './database';
import { migratePostgres, openPostgres, redactUrl } from './postgres';
import { postgresStore, sqliteStore, type SqlStore } from './sql-store';

/** The store a server runs on, with what it needs in the background and how to close it. */
export type ServingStore = {
  store: SqlStore;
  /** Where the data is, for the start-up banner (never a password). */
  where: string;
  /** Stops the store's own background work (the SQLite checkpointer) before the last writes. */
  stopBackground(): Promise<void>;
  close(): Promise<void>;
};

/**
 * `--database postgres://...` (VEXRAIL_DATABASE_URL): PostgreSQL, shared by every instance, migrated by whichever
 * instance takes the migration lock first. Otherwise the embedded SQLite file in the data directory, whose
 * checkpoints run on a worker thread (the serving connection only appends to the WAL: src/store/checkpointer.ts).
 */
export async function openServingStore(config: Config): Promise<ServingStore> {
  if (config.databaseUrl) {
    const pg = await openPostgres(config.databaseUrl, { maxConnections: config.databasePoolSize });
    try {
      await migratePostgres(pg.sql);
    } catch (err) {
      await pg.close();
      throw err;
    }
    return {
      store: postgresStore(pg.sql),
      where: `${redactUrl(config.databaseUrl)} (PostgreSQL, ${config.databasePoolSize} connections)`,
      stopBackground: async () => {},
      close: () => pg.close(),
    };
  }
  const opened = openStore(config.dataDir);
  opened.db.exec('PRAGMA wal_autocheckpoint = 0');
  const checkpointer = startCheckpointer(opened.db, opened.path);
  return {
    store: sqliteStore(opened.db),
    where: opened.path,
    stopBackground: () => checkpointer.stop(),
    close: async () => opened.close(),
  };
}
