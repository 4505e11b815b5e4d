import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { generateKey, isWellFormedKey, PUBLISHABLE_PREFIX, SECRET_PREFIX } from '../../src/keys/key-format';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // On PostgreSQL the first app also starts the throwaway server.
}, 60_000);
afterAll(() => t.close());

const ask = { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }] };

async function code(res: Response) {
  return [res.status, (await res.json() as any).error.code];
}

describe('key format', () => {
  test('keys carry a checksum: a single changed character is refused without a lookup', () => {
    const key = generateKey(SECRET_PREFIX);
    expect(key).toMatch(/^sk_live_[0-9A-Za-z]{38}$/);
    expect(isWellFormedKey(key, SECRET_PREFIX)).toBe(true);
    const i = 12;
    const flipped = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(isWellFormedKey(flipped, SECRET_PREFIX)).toBe(false);
    expect(isWellFormedKey(key, PUBLISHABLE_PREFIX)).toBe(false);
    expect(isWellFormedKey(key.slice(0, -1), SECRET_PREFIX)).toBe(false);
  });
});

describe('authentication', () => {
  test('each 401 has its own code, checked before the body', async () => {
    const a = await t.project('1.00', 'Auth A');
    const b = await t.project('1.00', 'Auth B');
    expect(await code(await t.chat({}, ask))).toEqual([401, 'missing_api_key']);
    expect(await code(await t.chat({ 'x-publishable-key': a.pk }, ask))).toEqual([401, 'missing_api_key']);
    expect(await code(await t.chat({ ...a.headers, 'x-secret-key': 'sk_live_nope' }, ask))).toEqual([401, 'invalid_api_key']);
    expect(await code(await t.chat({ ...a.headers, 'x-secret-key': generateKey(SECRET_PREFIX) }, ask))).toEqual([401, 'invalid_api_key']);
    expect(await code(await t.chat({ ...a.headers, 'x-publishable-key': generateKey(PUBLISHABLE_PREFIX) }, ask))).toEqual([401, 'invalid_api_key']);
    expect(await code(await t.chat({ 'x-publishable-key': a.pk, 'x-secret-key': b.sk }, ask))).toEqual([401, 'key_pair_mismatch']);
    // Invalid JSON with bad keys is still a 401: auth comes first.
    const bad = await t.call('POST', '/v1/chat/completions', { raw: '{oops', headers: { 'x-publishable-key': a.pk } });
    expect(bad.status).toBe(401);
  });

  test('deactivation takes effect on the very next request; the list never shows secrets', async () => {
    const p = await t.project('1.00', 'Auth C');
    expect((await t.chat(p.headers, ask)).status).toBe(200);
    const off = await t.admin('POST', `/projects/${p.id}/keys/${p.keyId}/deactivate`);
    expect(off.body.status).toBe('inactive');
    expect(await code(await t.chat(p.headers, ask))).toEqual([401, 'inactive_key']);
    await t.rt.keys.flushTouches();
    const list = await t.admin('GET', `/projects/${p.id}/keys`);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(p.sk);
    expect(list.body.data[0]).toMatchObject({ id: p.keyId, publishable_key: p.pk, status: 'inactive', secret_prefix: p.sk.slice(0, 12) });
    expect(list.body.data[0].last_used_at).not.toBeNull();
    expect(list.body.data[0].secret_key).toBeUndefined();
  });

  test('secrets are stored hashed', async () => {
    const p = await t.project('1.00', 'Auth D');
    const dump = JSON.stringify(await t.store.stmt('SELECT * FROM api_keys').all()) + JSON.stringify(await t.store.stmt('SELECT * FROM settings').all());
    expect(dump).not.toContain(p.sk);
    expect(dump).not.toContain('test-admin-token');
  });

  test('the admin API needs the bearer token', async () => {
    expect((await t.call('GET', '/admin/v1/projects')).status).toBe(401);
    const wrong = await t.call('GET', '/admin/v1/projects', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json() as any).error.code).toBe('invalid_admin_token');
    expect((await t.admin('GET', '/projects')).status).toBe(200);
  });
});
