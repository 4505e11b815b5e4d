import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

const API = '/dashboard/api/v1';
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ configFile: { public_url: 'https://gw.example.com' } });
});
afterAll(() => t.close());

type Session = { cookie: string; csrf: string; setCookie: string };

async function post(path: string, body: unknown, session?: Session, csrf = session?.csrf) {
  const headers: Record<string, string> = {};
  if (session) headers.cookie = session.cookie;
  if (csrf) headers['x-csrf-token'] = csrf;
  const res = await t.call('POST', `${API}${path}`, { body, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, setCookie: res.headers.get('set-cookie') ?? '' };
}

function sessionOf(res: { body: any; setCookie: string }): Session {
  const cookie = res.setCookie.split(';')[0];
  return { cookie, csrf: res.body.csrf_token, setCookie: res.setCookie };
}

let operator: Session;
let publisher: Session;

describe('dashboard sign-in', () => {
  test('first visit: the operator account is made with the admin token, once; the cookie is HttpOnly, Lax and Secure on https', async () => {
    expect(await (await t.call('GET', `${API}/auth/setup`)).json()).toEqual({ needs_operator: true, signup: 'invite' });
    expect((await post('/auth/setup', { admin_token: 'wrong', email: 'ops@example.com', name: 'Ops', password: 'operator password' })).status).toBe(401);
    const made = await post('/auth/setup', { admin_token: ADMIN_TOKEN, email: 'ops@example.com', name: 'Ops', password: 'operator password' });
    expect(made.status).toBe(201);
    expect(made.body.account).toMatchObject({ email: 'ops@example.com', operator: true });
    expect(made.setCookie).toMatch(/^vexrail_session=vxs_\w+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800; Secure$/);
    operator = sessionOf(made);
    const again = await post('/auth/setup', { admin_token: ADMIN_TOKEN, email: 'ops2@example.com', name: 'Ops', password: 'operator password' });
    expect([again.status, again.body.error.code]).toEqual([403, 'operator_exists']);
    expect(await (await t.call('GET', `${API}/auth/setup`)).json()).toEqual({ needs_operator: false, signup: 'invite' });
  });

  test('invite, accept, sign in; the same answer for a wrong email and a wrong password; unknown fields refused', async () => {
    const invite = await post('/operator/invites', { email: 'pat@example.com', roles: { publisher: true, advertiser: false } }, operator);
    expect(invite.status).toBe(201);
    expect(invite.body.token).toStartWith('vxi_');
    const accepted = await post('/auth/accept-invite', { token: invite.body.token, name: 'Pat', password: 'publisher password' });
    expect(accepted.status).toBe(201);
    expect(accepted.body.account).toMatchObject({ email: 'pat@example.com', publisher: true, advertiser: false, operator: false });
    const wrongPassword = await post('/auth/login', { email: 'pat@example.com', password: 'not the password' });
    const wrongEmail = await post('/auth/login', { email: 'nobody@example.com', password: 'not the password' });
    expect(wrongPassword.status).toBe(401);
    expect(wrongEmail.body).toEqual(wrongPassword.body);
    const login = await post('/auth/login', { email: 'PAT@example.com', password: 'publisher password' });
    expect(login.status).toBe(200);
    publisher = sessionOf(login);
    const me = await t.call('GET', `${API}/auth/session`, { headers: { cookie: publisher.cookie } });
    expect(((await me.json()) as any).account.email).toBe('pat@example.com');
    const typo = await post('/auth/login', { email: 'pat@example.com', password: 'publisher password', remember: true });
    expect([typo.status, typo.body.error.code, typo.body.error.param]).toEqual([400, 'unknown_field', 'remember']);
    const list = await t.call('GET', `${API}/operator/invites`, { headers: { cookie: operator.cookie } });
    const invites = ((await list.json()) as any).data;
    expect(invites[0]).toMatchObject({ email: 'pat@example.com', roles: { publisher: true, advertiser: false } });
    expect(invites[0].used_at).not.toBeNull();
    expect(JSON.stringify(invites)).not.toContain('vxi_');
  });

  test('authorization on every dashboard endpoint, before any body is read: signed out, without the CSRF token, as a non-operator', async () => {
    const cases: Array<[string, string, unknown]> = [
      ['POST', '/auth/logout', undefined], ['POST', '/auth/logout-everywhere', undefined],
      ['POST', '/auth/password', { current_password: 'publisher password', new_password: 'a new password!' }],
      ['POST', '/operator/invites', { email: 'x@example.com', roles: { publisher: true, advertiser: false } }],
    ];
    for (const [method, path, body] of cases) {
      // Signed out: 401, even with a body that is not JSON at all.
      const out = await t.call(method, `${API}${path}`, { raw: '{not json' });
      expect([path, out.status, ((await out.json()) as any).error.code]).toEqual([path, 401, 'not_signed_in']);
      // Signed in without the session's CSRF token, or with another session's: 403.
      for (const csrf of ['', operator.csrf]) {
        const res = await post(path, body, publisher, csrf);
        expect([path, res.status, res.body.error.code]).toEqual([path, 403, 'csrf_token_mismatch']);
      }
    }
    const notOperator = await post('/operator/invites', { email: 'x@example.com', roles: { publisher: true, advertiser: false } }, publisher);
    expect([notOperator.status, notOperator.body.error.code]).toEqual([403, 'operator_only']);
    const readList = await t.call('GET', `${API}/operator/invites`, { headers: { cookie: publisher.cookie } });
    expect(readList.status).toBe(403);
    expect((await t.call('GET', `${API}/operator/invites`)).status).toBe(401);
    expect((await t.call('GET', `${API}/auth/session`, { headers: { cookie: 'vexrail_session=vxs_forged' } })).status).toBe(401);
  });

  test('password change keeps this session and ends the others; sign out and sign out everywhere clear the cookie', async () => {
    const second = sessionOf(await post('/auth/login', { email: 'pat@example.com', password: 'publisher password' }));
    const changed = await post('/auth/password', { current_password: 'publisher password', new_password: 'changed password 2' }, publisher);
    expect(changed.status).toBe(204);
    expect((await t.call('GET', `${API}/auth/session`, { headers: { cookie: publisher.cookie } })).status).toBe(200);
    expect((await t.call('GET', `${API}/auth/session`, { headers: { cookie: second.cookie } })).status).toBe(401);
    const third = sessionOf(await post('/auth/login', { email: 'pat@example.com', password: 'changed password 2' }));
    const out = await post('/auth/logout', undefined, third);
    expect(out.status).toBe(204);
    expect(out.setCookie).toContain('vexrail_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    expect((await t.call('GET', `${API}/auth/session`, { headers: { cookie: third.cookie } })).status).toBe(401);
    expect((await t.call('GET', `${API}/auth/session`, { headers: { cookie: publisher.cookie } })).status).toBe(200);
    expect((await post('/auth/logout-everywhere', undefined, publisher)).status).toBe(204);
    expect((await t.call('GET', `${API}/auth/session`, { headers: { cookie: publisher.cookie } })).status).toBe(401);
  });

  test('open sign-up is off by default; sign-in attempts are limited with a clear message', async () => {
    const closed = await post('/auth/signup', { email: 'new@example.com', name: 'N', password: 'new password 1', roles: { publisher: true, advertiser: false } });
    expect([closed.status, closed.body.error.code]).toEqual([403, 'signup_closed']);
    let last: Awaited<ReturnType<typeof post>> | null = null;
    for (let i = 0; i < 6; i++) last = await post('/auth/login', { email: 'ops@example.com', password: `guess number ${i}` });
    expect([last!.status, last!.body.error.code]).toEqual([429, 'too_many_sign_in_attempts']);
    expect(last!.body.error.message).toMatch(/try again in 15 minutes/);
    expect(JSON.stringify(t.logLines)).not.toContain('guess number');
  });
});
