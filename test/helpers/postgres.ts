/**
 * PostgreSQL for tests: a throwaway server (scripts/pg-local.ts) and a fresh, empty database on it per test
 * file or case, so that tests never see each other's rows or schema.
 */
import { SQL } from 'bun';
import { afterAll, beforeAll } from 'bun:test';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../../scripts/pg-local';
import { migratePostgres } from '../../src/store/postgres';

export { startThrowawayPostgres, type ThrowawayPostgres };

let databases = 0;

/** Creates an empty database on the server at `serverUrl` (any database URL of it); drop() removes it. */
export async function createTestDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `vexrail_test_${process.pid}_${++databases}`;
  const admin = new SQL(serverUrl, { max: 1 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = new SQL(serverUrl, { max: 1 });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.close();
      }
    },
  };
}

/**
 * A throwaway server for the enclosing file, started before its tests and stopped after them (quietly). Read
 * `pg.server` inside the tests. No PostgreSQL, no pass: a server that cannot start fails the file (CI runs it).
 */
export function useThrowawayPostgres(): { server: ThrowawayPostgres } {
  const env = {} as { server: ThrowawayPostgres };
  beforeAll(async () => {
    env.server = await startThrowawayPostgres({ log: () => {} });
  }, 60_000);
  afterAll(async () => {
    await env.server?.stop();
  }, 30_000);
  return env;
}

/**
 * A migrated database of its own and `instances` connection pools on it, one per simulated gateway instance;
 * all closed, and the database dropped, after `body`.
 */
export async function withInstances(serverUrl: string, instances: number, body: (pools: SQL[]) => Promise<void>, poolSize = 4): Promise<void> {
  const database = await createTestDatabase(serverUrl);
  const pools = Array.from({ length: instances }, () => new SQL(database.url, { max: poolSize }));
  try {
    await migratePostgres(pools[0]);
    await body(pools);
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await database.drop();
  }
}
