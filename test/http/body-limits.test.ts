import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, BASE, createTestApp, type TestApp } from '../helpers/test-app';

/** A chunked body (no Content-Length) that produces `chunks` chunks of `chunkBytes` on demand and counts what was pulled. */
function countingBody(chunks: number, chunkBytes: number) {
  const counter = { pulledBytes: 0 };
  const chunk = new Uint8Array(chunkBytes).fill(0x61);
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) return controller.close();
      sent++;
      counter.pulledBytes += chunkBytes;
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { stream, counter };
}

const LIMIT = 64 * 1024;
const IMPORT_LIMIT = 128 * 1024;
let t: TestApp;
let publisher: Awaited<ReturnType<TestApp['project']>>;
/** Routes that authenticate; `json` when their body is a JSON object (actions such as /pause take none, the import JSON Lines). */
let routes: Array<{ method: string; path: string; json: boolean }>;
/** Routes that take credentials in their body (dashboard sign-in, set-up, sign-up, invites): no auth comes first. */
let credentialRoutes: Array<{ method: string; path: string }>;

beforeAll(async () => {
  t = await createTestApp({ configFile: { limits: { maxBodyBytes: LIMIT, maxImportBytes: IMPORT_LIMIT } } });
  publisher = await t.project('5.00', 'Bodies');
  const spec = (await (await t.call('GET', '/swagger/json')).json()) as { paths: Record<string, Record<string, { security?: unknown[]; requestBody?: { content?: Record<string, unknown> } }>> };
  const all = Object.entries(spec.paths).flatMap(([p, ops]) => Object.entries(ops)
    .filter(([m]) => m === 'post' || m === 'patch' || m === 'put')
    .map(([method, op]) => ({
      method: method.toUpperCase(),
      path: p.replace(/\{[a-z_]+\}/g, (name) => (name === '{id}' ? publisher.id : 'x_0000000000')),
      open: (op.security ?? []).length === 0 && op.requestBody !== undefined,
      json: op.requestBody?.content?.['application/json'] !== undefined,
    })));
  routes = all.filter((r) => !r.open);
  credentialRoutes = all.filter((r) => r.open);
});
afterAll(() => t.close());

const streamed = (method: string, path: string, stream: ReadableStream, headers: Record<string, string> = {}) =>
  t.fetch(new Request(`${BASE}${path}`, { method, body: stream, headers, duplex: 'half' } as RequestInit));

describe('bodies are read only after authentication', () => {
  test('every route that takes a body answers 401 to a malformed body sent without credentials', async () => {
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const route of routes) {
      const res = await t.call(route.method, route.path, { raw: '{', headers: { 'content-type': 'application/json' } });
      expect({ route: `${route.method} ${route.path}`, status: res.status }).toEqual({ route: `${route.method} ${route.path}`, status: 401 });
      expect(((await res.json()) as any).error.type).toBe('authentication_error');
    }
  });

  test('an unauthenticated chunked upload is not read', async () => {
    for (const route of routes) {
      const { stream, counter } = countingBody(1000, 16 * 1024);
      const res = await streamed(route.method, route.path, stream);
      expect(res.status).toBe(401);
      expect({ route: route.path, pulled: counter.pulledBytes <= 16 * 1024 }).toEqual({ route: route.path, pulled: true });
    }
  });
});

describe('routes whose body carries the credentials', () => {
  test('are only the dashboard\'s sign-in, set-up, sign-up and invite acceptance; they read at most 16 KiB', async () => {
    expect(credentialRoutes.map((r) => r.path).sort()).toEqual(['/dashboard/api/v1/auth/accept-invite', '/dashboard/api/v1/auth/login', '/dashboard/api/v1/auth/setup', '/dashboard/api/v1/auth/signup']);
    for (const route of credentialRoutes) {
      const { stream, counter } = countingBody(1000, 4096);
      const res = await streamed(route.method, route.path, stream);
      expect([route.path, res.status]).toEqual([route.path, 413]);
      expect(counter.pulledBytes).toBeLessThanOrEqual(16 * 1024 + 4096);
    }
  });
});

describe('a body that breaks off while it is read', () => {
  /** A body that sends one chunk, then fails (what a client closing the connection mid-upload looks like to a handler). */
  const breaking = () => new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"model":"vexrail-demo","mess'));
    },
    pull(controller) {
      controller.error(new Error('connection closed'));
    },
  });

  test('is a 400 body_incomplete on every route that reads a body, chunked or with a declared length, never a 500', async () => {
    const logged: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    try {
      const cases: Array<{ method: string; path: string; headers: Record<string, string> }> = [
        { method: 'POST', path: '/v1/chat/completions', headers: publisher.headers },
        { method: 'POST', path: '/v1/promotions/search', headers: publisher.headers },
        { method: 'POST', path: '/admin/v1/projects', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
        { method: 'POST', path: '/dashboard/api/v1/auth/login', headers: {} },
      ];
      for (const c of cases)
        for (const declared of [false, true]) {
          const res = await streamed(c.method, c.path, breaking(), { 'content-type': 'application/json', ...c.headers, ...(declared ? { 'content-length': '1000' } : {}) });
          const body = (await res.json()) as any;
          expect({ route: c.path, declared, status: res.status, code: body.error?.code }).toEqual({ route: c.path, declared, status: 400, code: 'body_incomplete' });
        }
    } finally {
      console.error = original;
    }
    expect(logged.filter((line) => line.includes('unhandled error'))).toEqual([]);
  });
});

describe('text no store can keep', () => {
  test('a NUL character in any string of a JSON body is 400 invalid_value naming the field, before anything is stored', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const adminRoutes = routes.filter((r) => r.path.startsWith('/admin/v1/') && r.json);
    expect(adminRoutes.length).toBeGreaterThanOrEqual(10);
    const cases: Array<{ method: string; path: string; headers: Record<string, string> }> = [
      ...adminRoutes.map((r) => ({ ...r, headers: admin })),
      { method: 'POST', path: '/v1/promotions/search', headers: publisher.headers },
      { method: 'POST', path: '/dashboard/api/v1/auth/login', headers: {} },
    ];
    for (const c of cases) {
      const res = await t.call(c.method, c.path, { body: { name: 'ok', nested: { list: ['fine', 'bad\u0000text'] } }, headers: c.headers });
      const body = (await res.json()) as any;
      expect({ route: `${c.method} ${c.path}`, status: res.status, code: body.error?.code, param: body.error?.param }).toEqual({ route: `${c.method} ${c.path}`, status: 400, code: 'invalid_value', param: 'nested.list.1' });
    }
    const created = await t.call('POST', '/admin/v1/projects', { body: { name: 'Nul shop', domain: 'nul-shop.example.org', kind: 'advertiser' }, headers: admin });
    const shop = ((await created.json()) as any).id;
    const product = await t.call('POST', `/admin/v1/projects/${shop}/products`, { body: { name: 'Lamp\u0000', description: 'A lamp', url: 'https://nul-shop.example.org/lamp' }, headers: admin });
    expect([product.status, ((await product.json()) as any).error.param]).toEqual([400, 'name']);
    expect(((await (await t.call('GET', `/admin/v1/projects/${shop}/products`, { headers: admin })).json()) as any).data).toEqual([]);
  });
});

describe('body limits hold while reading, chunked bodies included', () => {
  test('chat: a chunked body past the limit is 413 and reading stops one chunk past the limit', async () => {
    const { stream, counter } = countingBody(1000, 4096);
    const res = await streamed('POST', '/v1/chat/completions', stream, publisher.headers);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('payload_too_large');
    expect(counter.pulledBytes).toBeLessThanOrEqual(LIMIT + 4096);
  });

  test('a declared Content-Length over the limit is refused without reading', async () => {
    const res = await t.call('POST', '/v1/promotions/search', { raw: 'x'.repeat(LIMIT + 1), headers: publisher.headers });
    expect(res.status).toBe(413);
  });

  test('promotion search and admin bodies have the same limit; a body at the limit is read', async () => {
    const { stream, counter } = countingBody(100, 4096);
    const search = await streamed('POST', '/v1/promotions/search', stream, publisher.headers);
    expect(search.status).toBe(413);
    expect(counter.pulledBytes).toBeLessThanOrEqual(LIMIT + 4096);
    const admin = countingBody(100, 4096);
    const res = await streamed('POST', `/admin/v1/projects/${publisher.id}/credits`, admin.stream, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(res.status).toBe(413);
    // Padded with JSON whitespace: the body schema refuses fields it does not define.
    const padded = `{"query": "project management tool"${' '.repeat(LIMIT - 60)}}`;
    expect(Buffer.byteLength(padded)).toBeLessThanOrEqual(LIMIT);
    const atLimit = await t.call('POST', '/v1/promotions/search', { raw: padded, headers: { ...publisher.headers, 'content-type': 'application/json' } });
    expect(atLimit.status).toBe(200);
  });

  test('product import has its own, larger limit', async () => {
    const advertiser = await t.admin('POST', '/projects', { name: 'Importer', domain: 'importer.example', kind: 'advertiser' });
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const over = countingBody(100, 4096);
    const res = await streamed('POST', `/admin/v1/projects/${advertiser.body.id}/products/import`, over.stream, auth);
    expect(res.status).toBe(413);
    expect(over.counter.pulledBytes).toBeLessThanOrEqual(IMPORT_LIMIT + 4096);
    const under = countingBody(20, 4096); // 80 KiB: over the ordinary limit, under the import limit
    const ok = await streamed('POST', `/admin/v1/projects/${advertiser.body.id}/products/import`, under.stream, auth);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).failed).toBeGreaterThan(0);
  });
});

describe('JSON nesting', () => {
  test('a body nested deeper than 64 levels is 400 json_too_deep on every JSON route; 64 levels and brackets in strings are fine', async () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const chat = (extra: string) => `{"model":"vexrail-demo","messages":[{"role":"user","content":"hi ${'['.repeat(200)}"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"x":${extra}}}}]}`;
    const json = { 'content-type': 'application/json' };
    for (const depth of [100, 10_000]) {
      const res = await t.call('POST', '/v1/chat/completions', { raw: chat(nested(depth)), headers: { ...publisher.headers, ...json } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe('json_too_deep');
    }
    const search = await t.call('POST', '/v1/promotions/search', { raw: `{"query":"x","deep":${nested(65)}}`, headers: { ...publisher.headers, ...json } });
    expect(((await search.json()) as any).error.code).toBe('json_too_deep');
    const admin = await t.call('POST', '/admin/v1/projects', { raw: `{"name":${nested(70)}}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...json } });
    expect(((await admin.json()) as any).error.code).toBe('json_too_deep');
    // The body itself, the tools array, its object, function, parameters, x: 6 levels above the nested arrays.
    const ok = await t.call('POST', '/v1/chat/completions', { raw: chat(nested(58)), headers: { ...publisher.headers, ...json } });
    expect(ok.status).toBe(200);
  });
});

