import { createApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config/config';
import { createRuntime, type RuntimeOptions } from '../../src/runtime';
import { openStore } from '../../src/store/database';
import { sqliteStore } from '../../src/store/sql-store';
import type { TxtResolver } from '../../src/projects/domain';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const BASE = 'http://127.0.0.1:8080';

export type TestApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * The real app on a real in-memory SQLite database with the real migrations. `upstreamUrl` points the
 * gateway at a fake upstream; without it the offline demo model answers.
 */
export async function createTestApp(opts: {
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
  const store = openStore(':memory:');
  const rt = createRuntime(config, sqliteStore(store.db), {
    resolver: opts.resolver ?? (async () => []),
    logSink: (text) => logLines.push(text),
    demoChunkDelayMs: 0,
    ...(opts.runtime ?? {}),
  });
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

  function close() {
    rt.stop();
    store.close();
  }

  return { rt, db: store.db, fetch, call, admin, project, chat, close, logLines, config };
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
