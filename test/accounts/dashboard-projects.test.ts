import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

const API = '/dashboard/api/v1';
let t: TestApp;
type Session = { cookie: string; csrf: string; id: string };
let operator: Session;
const people: Record<string, Session> = {};

async function signedIn(res: Response): Promise<Session> {
  const body = (await res.json()) as any;
  return { cookie: (res.headers.get('set-cookie') ?? '').split(';')[0], csrf: body.csrf_token, id: body.account.id };
}

async function invited(email: string, roles: { publisher: boolean; advertiser: boolean }): Promise<Session> {
  const invite = await t.call('POST', `${API}/operator/invites`, { body: { email, roles }, headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf } });
  const { token } = (await invite.json()) as any;
  return signedIn(await t.call('POST', `${API}/auth/accept-invite`, { body: { token, name: email.split('@')[0], password: 'a long enough password' } }));
}

const projectsOf = async (s: Session, query = '') =>
  (await (await t.call('GET', `${API}/projects${query}`, { headers: { cookie: s.cookie } })).json()) as any;

beforeAll(async () => {
  t = await createTestApp();
  operator = await signedIn(await t.call('POST', `${API}/auth/setup`, { body: { admin_token: ADMIN_TOKEN, email: 'ops@example.com', name: 'Ops', password: 'operator password' } }));
  people.pat = await invited('pat@example.com', { publisher: true, advertiser: false });
  people.ann = await invited('ann@example.com', { publisher: false, advertiser: true });
  people.bo = await invited('bo@example.com', { publisher: true, advertiser: true });
});
afterAll(() => t.close());

describe('project owners', () => {
  test('the admin API names an owner at creation or later; the owner must exist and hold the role of the project\'s kind', async () => {
    const owned = await t.admin('POST', '/projects', { name: 'Pat App', domain: 'pat.example.com', owner_account_id: people.pat.id });
    expect([owned.status, owned.body.owner_account_id]).toEqual([201, people.pat.id]);
    const wrongRole = await t.admin('POST', '/projects', { name: 'Ann App', domain: 'ann-app.example.com', owner_account_id: people.ann.id });
    expect([wrongRole.status, wrongRole.body.error.code, wrongRole.body.error.param]).toEqual([400, 'invalid_owner', 'owner_account_id']);
    const nobody = await t.admin('POST', '/projects', { name: 'X', domain: 'x.example.com', owner_account_id: 'acct_missing' });
    expect(nobody.body.error.code).toBe('invalid_owner');
    const shop = await t.admin('POST', '/projects', { name: 'Ann Shop', domain: 'ann.example.com', kind: 'advertiser' });
    expect(shop.body.owner_account_id).toBeNull();
    const assigned = await t.admin('PATCH', `/projects/${shop.body.id}`, { owner_account_id: people.ann.id });
    expect(assigned.body.owner_account_id).toBe(people.ann.id);
    const both = await t.admin('POST', '/projects', { name: 'Bo Shop', domain: 'bo.example.com', kind: 'advertiser', owner_account_id: people.bo.id });
    await t.admin('POST', '/projects', { name: 'Bo App', domain: 'bo-app.example.com', owner_account_id: people.bo.id });
    const unassigned = await t.admin('PATCH', `/projects/${both.body.id}`, { owner_account_id: null });
    expect(unassigned.body.owner_account_id).toBeNull();
    await t.admin('PATCH', `/projects/${both.body.id}`, { owner_account_id: people.bo.id });
  });

  test('each account lists only its own projects; the operator lists all; pages follow the cursor', async () => {
    expect((await projectsOf(people.pat)).data.map((p: any) => p.name)).toEqual(['Pat App']);
    expect((await projectsOf(people.ann)).data.map((p: any) => p.name)).toEqual(['Ann Shop']);
    // Newest first; two projects made in the same millisecond may come in either order.
    expect((await projectsOf(people.bo)).data.map((p: any) => p.name).sort()).toEqual(['Bo App', 'Bo Shop']);
    const all = await projectsOf(operator);
    expect(all.data.map((p: any) => p.name).sort()).toEqual(['Ann Shop', 'Bo App', 'Bo Shop', 'Pat App']);
    const first = await projectsOf(people.bo, '?limit=1');
    expect(first.has_more).toBe(true);
    const second = await projectsOf(people.bo, `?limit=1&cursor=${first.next_cursor}`);
    expect([[first.data[0].name, second.data[0].name].sort(), second.has_more]).toEqual([['Bo App', 'Bo Shop'], false]);
    expect((await t.call('GET', `${API}/projects`)).status).toBe(401);
    expect((await t.call('GET', `${API}/projects?cursor=%00`, { headers: { cookie: people.bo.cookie } })).status).toBe(400);
  });
});

describe('account-scoped project API', () => {
  test('every project endpoint, tried as each kind of caller: signed out 401, another account 404, no CSRF 403, owner and operator served', async () => {
    const pat = (await projectsOf(people.pat)).data[0].id as string;
    // Key pairs need a verified domain (the operator's manual verification stands in for DNS here).
    expect((await t.admin('POST', `/projects/${pat}/domain/verify`, { method: 'manual' })).status).toBe(200);
    const key = await t.admin('POST', `/projects/${pat}/keys`, { name: 'Existing' });
    expect(key.status).toBe(201);
    const endpoints: Array<{ method: 'GET' | 'POST'; path: string; body?: unknown; ok: number }> = [
      { method: 'GET', path: `/projects/${pat}`, ok: 200 },
      { method: 'GET', path: `/projects/${pat}/keys`, ok: 200 },
      { method: 'GET', path: `/projects/${pat}/wallet`, ok: 200 },
      { method: 'POST', path: `/projects/${pat}/keys`, body: { name: 'From the dashboard' }, ok: 201 },
      { method: 'POST', path: `/projects/${pat}/keys/${key.body.id}/deactivate`, ok: 200 },
    ];
    const callers: Array<[string, Record<string, string>, (e: (typeof endpoints)[number]) => number]> = [
      ['signed out', {}, () => 401],
      ['another publisher', { cookie: people.bo.cookie, 'x-csrf-token': people.bo.csrf }, () => 404],
      ['an advertiser', { cookie: people.ann.cookie, 'x-csrf-token': people.ann.csrf }, () => 404],
      ['the owner without the CSRF token', { cookie: people.pat.cookie }, (e) => (e.method === 'POST' ? 403 : e.ok)],
      ['the owner with another session\'s CSRF token', { cookie: people.pat.cookie, 'x-csrf-token': people.bo.csrf }, (e) => (e.method === 'POST' ? 403 : e.ok)],
      ['the owner', { cookie: people.pat.cookie, 'x-csrf-token': people.pat.csrf }, (e) => e.ok],
      ['the operator', { cookie: operator.cookie, 'x-csrf-token': operator.csrf }, (e) => e.ok],
    ];
    const seen: string[] = [];
    for (const [who, headers, expected] of callers)
      for (const e of endpoints) {
        const res = await t.call(e.method, `${API}${e.path}`, { body: e.body, headers });
        seen.push(`${who} ${e.method} ${e.path}: ${res.status}`);
        expect(`${who} ${e.method} ${e.path}: ${res.status}`).toBe(`${who} ${e.method} ${e.path}: ${expected(e)}`);
        if (res.status === 404) expect(((await res.json()) as any).error.code).toBe('project_not_found');
      }
    // A made-up project id answers exactly like another account's project.
    const missing = await t.call('GET', `${API}/projects/proj_doesnotexist`, { headers: { cookie: people.pat.cookie } });
    expect(missing.status).toBe(404);
    expect(seen).toHaveLength(callers.length * endpoints.length);
  });

  test('keys made in the dashboard show their secret once; the list never does', async () => {
    const pat = (await projectsOf(people.pat)).data[0].id as string;
    const made = await t.call('POST', `${API}/projects/${pat}/keys`, { body: { name: 'Shown once' }, headers: { cookie: people.pat.cookie, 'x-csrf-token': people.pat.csrf } });
    expect(made.status, await made.clone().text()).toBe(201);
    expect(made.headers.get('cache-control')).toBe('no-store');
    const pair = (await made.json()) as any;
    expect(pair.secret_key).toStartWith('sk_');
    const list = await (await t.call('GET', `${API}/projects/${pat}/keys`, { headers: { cookie: people.pat.cookie } })).text();
    expect(list).not.toContain(pair.secret_key);
    expect(list).toContain(pair.publishable_key);
  });
});
