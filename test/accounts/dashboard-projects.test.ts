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
