import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';
import { rawHttp, rawRequest } from '../helpers/raw-http';

/**
 * The admin API over raw HTTP: whatever the Host header and however the path is spelled, no admin route
 * answers without the token, and the router and the checks always agree on the path.
 */
const HOST_LINES: Array<{ name: string; line: string; version?: '1.0' }> = [
  { name: 'empty Host', line: 'Host:' },
  { name: 'Host a/bc', line: 'Host: a/bc' },
  { name: 'Host a?b', line: 'Host: a?b' },
  { name: 'Host a@b', line: 'Host: a@b' },
  { name: 'Host x y', line: 'Host: x y' },
  { name: 'Host é (UTF-8 bytes)', line: 'Host: \u00c3\u00a9' },
  { name: 'HTTP/1.0 without Host', line: '', version: '1.0' },
  { name: 'three-letter Host', line: 'Host: api' },
  { name: 'normal Host', line: 'Host: 127.0.0.1' },
];

function pathTricks(path: string, port: number): Array<{ name: string; target: string }> {
  return [
    { name: 'plain', target: path },
    { name: 'junk prefix', target: `/aaaaaaa/bb${path}` },
    { name: 'double slash', target: `/${path}` },
    { name: 'percent-encoded letter', target: path.replace('/admin', '/%61dmin') },
    { name: 'dot segment', target: `/.${path}` },
    { name: 'semicolon', target: path.replace('/admin/v1', '/admin;/v1') },
    { name: 'absolute form', target: `http://127.0.0.1:${port}${path}` },
    { name: 'absolute form, short host', target: `http://api${path}` },
  ];
}

const BODY = JSON.stringify({ amount: '1000000', name: 'Intruder', domain: 'intruder.example', method: 'manual', reason: 'x' });

let t: TestApp;
let server: ReturnType<typeof Bun.serve>;
let routes: Array<{ method: string; path: string }>;
let publisher: Awaited<ReturnType<TestApp['project']>>;

beforeAll(async () => {
  t = await createTestApp();
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: t.fetch });
  publisher = await t.project('5.00', 'Guarded');
  const advertiser = await t.admin('POST', '/projects', { name: 'Adv', domain: 'adv.example', kind: 'advertiser' });
  const spec = (await (await t.call('GET', '/swagger/json')).json()) as { paths: Record<string, Record<string, unknown>> };
  const fill = (p: string) => p
    .replace('{id}', p.includes('campaign') || p.includes('products') ? advertiser.body.id : publisher.id)
    .replace('{campaign_id}', 'cmp_00000000000000000000').replace('{key_id}', publisher.keyId).replace('{click_id}', 'clk_00000000000000000000');
  routes = Object.entries(spec.paths)
    .filter(([p]) => p.startsWith('/admin/'))
    .flatMap(([p, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path: fill(p) })));
});

afterAll(() => {
  server.stop(true);
  t.close();
});

const send = (method: string, target: string, host: (typeof HOST_LINES)[number], headers: string[] = []) =>
  rawHttp(server.port!, Buffer.from(rawRequest({ method, target, hostLine: host.line, version: host.version, headers, body: method === 'GET' ? undefined : BODY }), 'latin1'));

describe('admin API access over raw HTTP', () => {
  test('the spec lists the admin routes this test walks', () => {
    expect(routes.length).toBeGreaterThanOrEqual(25);
  });

  test('no admin route answers without the token, for any Host header or path spelling', async () => {
    const before = { projects: (await t.admin('GET', '/projects')).body.data.length, wallet: (await t.admin('GET', `/projects/${publisher.id}/wallet`)).body };
    const leaks: string[] = [];
    for (const route of routes)
      for (const host of HOST_LINES)
        for (const trick of pathTricks(route.path, server.port!)) {
          const res = await send(route.method, trick.target, host);
          // 401 when the admin route is reached, 404 when the spelling names no route, 400 for a bad target.
          if (![400, 401, 404].includes(res.status)) leaks.push(`${route.method} ${trick.target} [${host.name}, ${trick.name}] -> ${res.status}`);
          if (res.status >= 400 && !res.body.includes('"error"')) leaks.push(`${route.method} ${trick.target} [${host.name}]: not the error envelope`);
        }
    expect(leaks).toEqual([]);
    const after = { projects: (await t.admin('GET', '/projects')).body.data.length, wallet: (await t.admin('GET', `/projects/${publisher.id}/wallet`)).body };
    expect(after.projects).toBe(before.projects);
    expect(after.wallet.balance_micros).toBe(before.wallet.balance_micros);
    expect(after.wallet.transactions.length).toBe(before.wallet.transactions.length);
  }, 120_000);

  test('plain targets reach the guarded route under every Host: 401 without the token, served with it', async () => {
    for (const host of HOST_LINES) {
      const denied = await send('GET', '/admin/v1/projects', host);
      expect({ host: host.name, status: denied.status }).toEqual({ host: host.name, status: 401 });
      expect(JSON.parse(denied.body).error.code).toBe('invalid_admin_token');
      const served = await send('GET', `/admin/v1/projects/${publisher.id}`, host, [`Authorization: Bearer ${ADMIN_TOKEN}`]);
      expect({ host: host.name, status: served.status }).toEqual({ host: host.name, status: 200 });
      expect(JSON.parse(served.body).id).toBe(publisher.id);
    }
  });

  test('the request log records the path the router served', async () => {
    t.rt.log.flush();
    t.logLines.length = 0;
    await send('GET', '/aaaaaaa/bb/admin/v1/projects', HOST_LINES[0]);
    await send('GET', '/admin/v1/projects', HOST_LINES[0]);
    t.rt.log.flush();
    const entries = t.logLines.join('').trim().split('\n').map((line) => JSON.parse(line));
    expect(entries.map((e) => [e.path, e.status])).toEqual([['/aaaaaaa/bb/admin/v1/projects', 404], ['/admin/v1/projects', 401]]);
  });

  test('public routes route correctly on short and empty Host headers', async () => {
    expect((await send('GET', '/healthz', { name: 'api', line: 'Host: api' })).status).toBe(200);
    expect((await send('GET', '/healthz', HOST_LINES[0])).status).toBe(200);
    const chat = await rawHttp(server.port!, rawRequest({
      method: 'POST', target: '/v1/chat/completions', hostLine: 'Host:',
      headers: [`x-publishable-key: ${publisher.pk}`, `x-secret-key: ${publisher.sk}`],
      body: JSON.stringify({ model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }] }),
    }));
    expect(chat.status).toBe(200);
    expect(JSON.parse(chat.body).object).toBe('chat.completion');
  });

  test('a target that cannot be parsed is a 400 in the error envelope', async () => {
    for (const target of ['/r/%E0%A4%A', '/r/%', '/r/%C0%AF', '/r/%uFFFF', '/v1/models?x=%ZZ', '/a#b']) {
      const res = await send('GET', target, HOST_LINES[8]);
      expect({ target, status: res.status }).toEqual({ target, status: 400 });
      expect(JSON.parse(res.body).error.code).toBe('invalid_request_target');
    }
  });
});
