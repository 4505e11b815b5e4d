import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';

/**
 * Authorization of every dashboard endpoint, read from the OpenAPI document (a route added later is tried too):
 * each is called as each kind of caller, and the answer must be the one that caller gets.
 */
const API = '/dashboard/api/v1';
let t: TestApp;
let upstream: FakeUpstream;
type Session = { cookie: string; csrf: string; id: string };
const s: Record<'operator' | 'pat' | 'ann' | 'bo', Session> = {} as any;
let pubId = '';
let advId = '';

async function signedIn(res: Response): Promise<Session> {
  const body = (await res.json()) as any;
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0], csrf: body.csrf_token, id: body.account.id };
}
const as = (who: Session, csrf = true): Record<string, string> => (csrf ? { cookie: who.cookie, 'x-csrf-token': who.csrf } : { cookie: who.cookie });
const call = async (who: Session | null, method: string, path: string, body?: unknown, csrf = true) => {
  const res = await t.call(method, `${API}${path}`, { body, headers: who ? as(who, csrf) : {} });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
};

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: 'A plain answer.' });
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  s.operator = await signedIn(await t.call('POST', `${API}/auth/setup`, { body: { admin_token: ADMIN_TOKEN, email: 'ops@example.com', name: 'Ops', password: 'operator password' } }));
  for (const [name, roles] of [['pat', { publisher: true, advertiser: false }], ['ann', { publisher: false, advertiser: true }], ['bo', { publisher: true, advertiser: true }]] as const) {
    const invite = await call(s.operator, 'POST', '/operator/invites', { email: `${name}@example.com`, roles });
    s[name] = await signedIn(await t.call('POST', `${API}/auth/accept-invite`, { body: { token: invite.body.token, name, password: 'a long enough password' } }));
  }
  const pub = await call(s.pat, 'POST', '/projects', { name: 'Pat app', domain: 'pat.example.com' });
  expect(pub.status).toBe(201);
  pubId = pub.body.id;
  const adv = await call(s.ann, 'POST', '/projects', { name: 'Ann shop', domain: 'ann-shop.example.com' });
  expect(adv.body.kind).toBe('advertiser');
  advId = adv.body.id;
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

type Route = { method: string; path: string };
async function dashboardRoutes(): Promise<Route[]> {
  const spec = (await (await t.call('GET', '/swagger/json')).json()) as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(spec.paths)
    .filter(([p]) => p.startsWith(API) && !p.startsWith(`${API}/auth/`))
    .flatMap(([p, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path: p.slice(API.length) })));
}
/** The path with the project of the right kind and made-up ids for the rest (never reached by a refused caller). */
const fill = (path: string) =>
  path.replace('{id}', /\/(campaigns|products)/.test(path) ? advId : pubId).replace(/\{(\w+)\}/g, (_, name: string) => `${name}_made_up`);
const isWrite = (r: Route) => r.method !== 'GET';
const projectScoped = (r: Route) => r.path.startsWith('/projects/{id}');

describe('every dashboard endpoint, as each kind of caller', () => {
  test('signed out: 401 not_signed_in everywhere, before any body is read', async () => {
    const routes = await dashboardRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(40);
    for (const r of routes) {
      const res = await call(null, r.method, fill(r.path), isWrite(r) ? '{not json' : undefined);
      expect(`${r.method} ${r.path}: ${res.status} ${res.body?.error?.code}`).toBe(`${r.method} ${r.path}: 401 not_signed_in`);
    }
  });

  test('another account: every project route is a 404 project_not_found, every operator route a 403', async () => {
    for (const r of await dashboardRoutes()) {
      if (r.path === '/projects') continue; // the account's own collection
      const res = await call(s.bo, r.method, fill(r.path), isWrite(r) ? {} : undefined);
      // A top-up is the operator's whatever the project; any other project route hides the project from others.
      const operatorAction = !projectScoped(r) || r.path.endsWith('/credits');
      const expected = operatorAction ? '403 operator_only' : '404 project_not_found';
      expect(`${r.method} ${r.path}: ${res.status} ${res.body?.error?.code}`).toBe(`${r.method} ${r.path}: ${expected}`);
    }
  });

  test('the owner without its CSRF token: every write is a 403 csrf_token_mismatch', async () => {
    for (const r of (await dashboardRoutes()).filter(isWrite)) {
      const owner = /\/(campaigns|products)/.test(r.path) ? s.ann : s.pat;
      const res = await call(owner, r.method, fill(r.path), {}, false);
      expect(`${r.method} ${r.path}: ${res.status} ${res.body?.error?.code}`).toBe(`${r.method} ${r.path}: 403 csrf_token_mismatch`);
    }
  });

  test('operator actions: refused to the owner, done by the operator', async () => {
    const topUp = { amount: '5.00' };
    expect((await call(s.pat, 'POST', `/projects/${pubId}/credits`, topUp)).body.error.code).toBe('operator_only');
    expect((await call(s.pat, 'POST', `/projects/${pubId}/domain/verify`, { method: 'manual' })).body.error.code).toBe('operator_only');
    expect((await call(s.pat, 'PATCH', `/projects/${pubId}`, { owner_account_id: s.bo.id })).body.error.code).toBe('operator_only');
    for (const path of ['/operator/accounts', '/operator/settings', '/operator/revenue'])
      expect((await call(s.ann, 'GET', path)).status).toBe(403);
    // The operator: manual verification, a top-up, the account list.
    expect((await call(s.operator, 'POST', `/projects/${pubId}/domain/verify`, { method: 'manual' })).body.domain_status).toBe('verified');
    expect((await call(s.operator, 'POST', `/projects/${pubId}/credits`, topUp)).status).toBe(201);
    const accounts = await call(s.operator, 'GET', '/operator/accounts');
    expect(accounts.body.data.map((a: any) => a.email).sort()).toEqual(['ann@example.com', 'bo@example.com', 'ops@example.com', 'pat@example.com']);
    expect(accounts.body.data.find((a: any) => a.email === 'pat@example.com').projects).toBe(1);
    expect(JSON.stringify(accounts.body)).not.toContain('argon2');
    const settings = await call(s.operator, 'GET', '/operator/settings');
    expect(settings.body.models.length).toBeGreaterThan(0);
    expect(typeof settings.body.publisher_share_percent).toBe('number');
  });

  test('the owner is served its own project\'s data: keys, usage, conversations with their cost, wallet', async () => {
    await call(s.operator, 'POST', `/projects/${pubId}/domain/verify`, { method: 'manual' });
    const key = await call(s.pat, 'POST', `/projects/${pubId}/keys`, { name: 'App' });
    expect(key.status).toBe(201);
    const headers = { 'x-publishable-key': key.body.publishable_key, 'x-secret-key': key.body.secret_key };
    const chat = await t.chat(headers, { model: 'fake-model', messages: [{ role: 'user', content: 'Where is the Louvre?' }] }, { 'x-conversation-id': 'trip-42' });
    expect(chat.status).toBe(200);
    await t.rt.flushAll();
    const list = await call(s.pat, 'GET', `/projects/${pubId}/conversations?q=LOUVRE`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((c: any) => [c.id, c.first_user_message])).toEqual([['trip-42', 'Where is the Louvre?']]);
    expect((await call(s.pat, 'GET', `/projects/${pubId}/conversations?q=nothing%25like_this`)).body.data).toEqual([]);
    const one = await call(s.pat, 'GET', `/projects/${pubId}/conversations/trip-42`);
    expect(one.body.messages.map((m: any) => m.role)).toEqual(['user', 'assistant']);
    expect(one.body.messages[1].cost_micros).toBeGreaterThan(0);
    expect(one.body.promotions).toEqual([]);
    const usage = await call(s.pat, 'GET', `/projects/${pubId}/usage`);
    expect(usage.status).toBe(200);
    expect(JSON.stringify(usage.body)).toContain('"requests":1');
    // Another publisher reaches none of it.
    expect((await call(s.bo, 'GET', `/projects/${pubId}/conversations/trip-42`)).status).toBe(404);
    // An advertiser project has no conversations.
    expect((await call(s.ann, 'GET', `/projects/${advId}/conversations`)).body.error.code).toBe('not_a_publisher');
  });

  test('a project of a role the account does not hold is refused', async () => {
    const res = await call(s.pat, 'POST', '/projects', { name: 'Shop', domain: 'shop.example.com', kind: 'advertiser' });
    expect([res.status, res.body.error.code]).toEqual([403, 'role_missing']);
  });
});
