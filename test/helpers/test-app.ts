import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config/config';
import { createRuntime, type RuntimeOptions } from '../../src/runtime';
import { openStore } from '../../src/store/database';
import { postgresStore, sqliteStore, type SqlStore } from '../../src/store/sql-store';
import { migratePostgres, openPostgres } from '../../src/store/postgres';
import { createTestDatabase, startThrowawayPostgres, type ThrowawayPostgres } from './postgres';
import type { TxtResolver } from '../../src/projects/domain';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const BASE = 'http://127.0.0.1:8080';

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * Which store the tests run on: the embedded SQLite database (default) or, with VEXRAIL_TEST_STORE=postgres,
 * PostgreSQL: the server at VEXRAIL_TEST_PG_URL, or a throwaway one started once for this test process. Each
 * test app gets a fresh database of its own either way.
 */
export const TEST_STORE: 'sqlite' | 'postgres' = process.env.VEXRAIL_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

let sharedServer: Promise<ThrowawayPostgres> | null = null;
export function postgresServerUrl(): Promise<string> {
  if (process.env.VEXRAIL_TEST_PG_URL) return Promise.resolve(process.env.VEXRAIL_TEST_PG_URL);
  sharedServer ??= startThrowawayPostgres({ log: () => {} });
  return sharedServer.then((s) => s.url);
}

/** A migrated, empty store of the kind the tests run on; close() also drops a PostgreSQL database. */
export async function createTestStore(kind: 'sqlite' | 'postgres' = TEST_STORE): Promise<{ store: SqlStore; close(): Promise<void> }> {
  if (kind === 'sqlite') {
    const opened = openStore(':memory:');
    return { store: sqliteStore(opened.db), close: async () => opened.close() };
  }
  const database = await createTestDatabase(await postgresServerUrl());
  const pg = await openPostgres(database.url, { maxConnections: 8 });
  await migratePostgres(pg.sql);
  return { store: postgresStore(pg.sql), close: async () => { await pg.close(); await database.drop(); } };
}

/**
 * The real app on a real in-memory SQLite database with the real migrations. `upstreamUrl` points the
 * gateway at a fake upstream; without it the offline demo model answers.
 */
export async function createTestApp(opts: {
  /** The store regardless of the test pass (a test of something only one store has, such as migrating from SQLite). */
  store?: 'sqlite' | 'postgres';
  upstreamUrl?: string;
  configFile?: Record<string, unknown>;
  resolver?: TxtResolver;
  runtime?: RuntimeOptions;
  env?: Record<string, string>;
} = {}) {
  const env: Record<string, string> = { VEXRAIL_ADMIN_TOKEN: ADMIN_TOKEN, ...(opts.env ?? {}) };
  const file: Record<string, unknown> = { ...(opts.configFile ?? {}) };
  if (opts.upstreamUrl && !file.providers)
    file.providers = [{ name: 'fake', base_url: opts.upstreamUrl, api_key: 'sk-upstream-secret-XYZ', models: ['gpt-4o-mini', 'fake-model'] }];
  if (!file.prices) file.prices = { 'fake-model': { input: '1.00', output: '2.00' } };
  const config: Config = loadConfig({
    argv: ['--config', 'inline.json'],
    env,
    readFile: () => JSON.stringify(file),
    defaultDataParent: '/tmp',
  });
  const logLines: string[] = [];
  const store = await createTestStore(opts.store);
  const rt = await createRuntime(config, store.store, {
    resolver: opts.resolver ?? (async () => []),
    logSink: (text) => logLines.push(text),
    demoChunkDelayMs: 0,
    ...(opts.runtime ?? {}),
  });
  // As a load balancer would (/readyz): the app is handed out once the promotion index and serving set are loaded
  // (at once on SQLite; after the first reads on PostgreSQL) and providers with "discover" were asked for their models.
  await rt.ready();
  const { fetch } = createApp(rt);

  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; raw?: string } = {}) {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: string | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    return fetch(new Request(`${BASE}${path}`, { method, headers, body }));
  }

  async function admin(method: string, path: string, body?: unknown) {
    const res = await call(method, `/admin/v1${path}`, { body, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  }

  /** A publisher project with a verified domain, `credits` USD and an active key pair. */
  async function project(credits = '10.00', name = 'Test app') {
    const created = await admin('POST', '/projects', { name, domain: `${name.toLowerCase().replace(/\W+/g, '-')}.example.com` });
    const id = created.body.id as string;
    await admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' });
    if (credits !== '0') await admin('POST', `/projects/${id}/credits`, { amount: credits });
    const keys = await admin('POST', `/projects/${id}/keys`, { name: 'Production' });
    const authHeaders = { 'x-publishable-key': keys.body.publishable_key, 'x-secret-key': keys.body.secret_key };
    return { id, keyId: keys.body.id as string, pk: keys.body.publishable_key as string, sk: keys.body.secret_key as string, headers: authHeaders };
  }

  function chat(headers: Record<string, string>, body: unknown, extra: Record<string, string> = {}) {
    return call('POST', '/v1/chat/completions', { body, headers: { ...headers, ...extra } });
  }

  async function close() {
    await rt.stop();
    await store.close();
  }

  return { rt, store: store.store, db: store.store.sqlite!, fetch, call, admin, project, chat, close, logLines, config };
}

/** Reads an SSE body into its data payloads (comments dropped). */
export async function readSse(res: Response): Promise<{ frames: string[]; raw: string }> {
  const raw = await res.text();
  const frames = raw
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6));
  return { frames, raw };
}
