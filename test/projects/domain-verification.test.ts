import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { normalizeDomain } from '../../src/projects/domain';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** A resolver the test controls: a map from host to TXT records, or an error code to throw. */
const dns = new Map<string, string[][] | string>();
const resolver = async (host: string) => {
  const value = dns.get(host);
  if (typeof value === 'string') throw Object.assign(new Error(value), { code: value });
  if (!value) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  return value;
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ resolver });
  // On PostgreSQL the first app also starts the throwaway server.
}, 60_000);
afterAll(() => t.close());

describe('domain verification', () => {
  test('a new project starts unverified with a TXT record to publish on the root domain', async () => {
    const res = await t.admin('POST', '/projects', { name: 'Shop', domain: 'https://www.Shop.example.org/path' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ domain: 'www.shop.example.org', domain_status: 'unverified', monetization: false, kind: 'publisher' });
    expect(res.body.verification_record).toEqual({
      type: 'TXT', host: '@', name: 'shop.example.org', value: `vexrail-verification=${res.body.verification_token}`,
    });
  });

  test('dns: pending without records, failed with the wrong record, verified with the right one (split chunks joined)', async () => {
    const { body: project } = await t.admin('POST', '/projects', { name: 'Dns', domain: 'dns.example.net' });
    const verify = () => t.admin('POST', `/projects/${project.id}/domain/verify`, { method: 'dns' });
    expect((await verify()).body.domain_status).toBe('pending');
    dns.set('dns.example.net', [['vexrail-verification=wrong'], ['v=spf1 -all']]);
    const failed = await verify();
    expect(failed.body.domain_status).toBe('failed');
    expect(failed.body.detail).toContain('48 hours');
    dns.set('dns.example.net', 'ESERVFAIL');
    expect((await verify()).body.domain_status).toBe('failed');
    const value = `vexrail-verification=${project.verification_token}`;
    dns.set('dns.example.net', [['v=spf1 -all'], [value.slice(0, 10), value.slice(10)]]);
    const ok = await verify();
    expect(ok.body).toMatchObject({ domain_status: 'verified', domain_verify_method: 'dns' });
    const checks = await t.admin('GET', `/projects/${project.id}/domain/checks`);
    expect(checks.body.data.map((c: any) => c.result)).toEqual(['verified', 'failed', 'failed', 'failed']);
  });

  test('manual verification is the operator override and is recorded as such', async () => {
    const { body: project } = await t.admin('POST', '/projects', { name: 'Manual', domain: 'manual.example.com' });
    const res = await t.admin('POST', `/projects/${project.id}/domain/verify`, { method: 'manual' });
    expect(res.body).toMatchObject({ domain_status: 'verified', domain_verify_method: 'manual' });
    expect((await t.admin('POST', `/projects/${project.id}/domain/verify`, { method: 'email' })).status).toBe(400);
  });

  test('keys need a verified domain; a changed domain must be verified again and blocks the API (403)', async () => {
    const { body: project } = await t.admin('POST', '/projects', { name: 'Gate', domain: 'gate.example.com' });
    const refused = await t.admin('POST', `/projects/${project.id}/keys`, { name: 'Production' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('domain_not_verified');
    await t.admin('POST', `/projects/${project.id}/domain/verify`, { method: 'manual' });
    await t.admin('POST', `/projects/${project.id}/credits`, { amount: '1.00' });
    const keys = await t.admin('POST', `/projects/${project.id}/keys`, { name: 'Production' });
    const headers = { 'x-publishable-key': keys.body.publishable_key, 'x-secret-key': keys.body.secret_key };
    const ask = { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }] };
    expect((await t.chat(headers, ask)).status).toBe(200);
    const moved = await t.admin('PATCH', `/projects/${project.id}`, { domain: 'elsewhere.example.com' });
    expect(moved.body.domain_status).toBe('unverified');
    expect(moved.body.verification_token).not.toBe(project.verification_token);
    const blocked = await t.chat(headers, ask);
    expect(blocked.status).toBe(403);
    expect((await blocked.json() as any).error.code).toBe('domain_not_verified');
  });

  test('domains are validated', async () => {
    // An address or a number is not a host name: its last label would be all digits.
    for (const domain of ['', 'localhost', 'exa mple.com', '-bad.com', 'a'.repeat(70) + '.com', 42, '127.0.0.1', '1.2.3.4', '10.00', 'example.123', 'http://192.168.0.1:8080/'])
      expect((await t.admin('POST', '/projects', { name: 'X', domain })).status).toBe(400);
    expect(normalizeDomain('Example.COM.')).toBe('example.com');
    expect(normalizeDomain('http://example.com:8080/x?y')).toBe('example.com');
    expect(normalizeDomain('123.example.com')).toBe('123.example.com');
    expect(normalizeDomain('example.co2')).toBe('example.co2');
  });
});

describe('the TXT check and what follows from it', () => {
  const asked: string[] = [];
  const recording = async (host: string) => {
    asked.push(host);
    return resolver(host);
  };
  let r: TestApp;
  beforeAll(async () => {
    r = await createTestApp({ resolver: recording });
  });
  afterAll(() => r.close());

  const verifyDns = (app: TestApp, id: string) => app.admin('POST', `/projects/${id}/domain/verify`, { method: 'dns' });

  test('a www. domain is checked on its root, where the record the project names lives', async () => {
    const { body: project } = await r.admin('POST', '/projects', { name: 'Www', domain: 'www.rooted.example.org' });
    expect(project.verification_record.name).toBe('rooted.example.org');
    dns.set('rooted.example.org', [[project.verification_record.value]]);
    asked.length = 0;
    const res = await verifyDns(r, project.id);
    expect(asked).toEqual(['rooted.example.org']);
    expect(res.body).toMatchObject({ domain_status: 'verified', domain: 'www.rooted.example.org' });
  });

  test('only the exact record verifies: one that merely contains it does not', async () => {
    const { body: project } = await r.admin('POST', '/projects', { name: 'Exact', domain: 'exact.example.org' });
    const value = `vexrail-verification=${project.verification_token}`;
    for (const near of [`x${value}y`, `${value}y`, `x${value}`, `${value} ${value}`]) {
      dns.set('exact.example.org', [[near]]);
      expect((await verifyDns(r, project.id)).body.domain_status).toBe('failed');
    }
    dns.set('exact.example.org', [[` ${value} `]]);
    expect((await verifyDns(r, project.id)).body.domain_status).toBe('verified');
  });

  /** A monetized publisher verified by DNS, with a key pair and credits. */
  async function monetized(domain: string) {
    const { body: project } = await r.admin('POST', '/projects', { name: domain, domain });
    dns.set(domain, [[`vexrail-verification=${project.verification_token}`]]);
    expect((await verifyDns(r, project.id)).body.domain_status).toBe('verified');
    await r.admin('POST', `/projects/${project.id}/credits`, { amount: '1.00' });
    const keys = await r.admin('POST', `/projects/${project.id}/keys`, { name: 'Production' });
    const on = await r.admin('PATCH', `/projects/${project.id}`, { monetization: true });
    expect(on.body.monetization).toBe(true);
    const headers = { 'x-publishable-key': keys.body.publishable_key, 'x-secret-key': keys.body.secret_key };
    return { id: project.id as string, token: project.verification_token as string, headers };
  }

  test('a re-check that fails or finds nothing turns monetization off', async () => {
    const failing = await monetized('recheck-failed.example.org');
    dns.set('recheck-failed.example.org', [['vexrail-verification=stale']]);
    const failed = await verifyDns(r, failing.id);
    expect(failed.body).toMatchObject({ domain_status: 'failed', monetization: false });
    expect((await r.admin('GET', `/projects/${failing.id}`)).body.monetization).toBe(false);

    const gone = await monetized('recheck-pending.example.org');
    dns.delete('recheck-pending.example.org');
    const pending = await verifyDns(r, gone.id);
    expect(pending.body).toMatchObject({ domain_status: 'pending', monetization: false });
    expect((await r.admin('GET', `/projects/${gone.id}`)).body.monetization).toBe(false);
  });

  test('a domain change turns monetization off, and it cannot be turned on in the same change', async () => {
    const moving = await monetized('moving.example.org');
    const moved = await r.admin('PATCH', `/projects/${moving.id}`, { domain: 'moved.example.org' });
    expect(moved.body).toMatchObject({ domain_status: 'unverified', monetization: false });
    expect((await r.admin('GET', `/projects/${moving.id}`)).body.monetization).toBe(false);

    const both = await monetized('both.example.org');
    const refused = await r.admin('PATCH', `/projects/${both.id}`, { domain: 'both-new.example.org', monetization: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('domain_not_verified');
  });

  test('the public API serves only a verified domain: unverified, pending and failed are refused with 403', async () => {
    const p = await monetized('gatekeeper.example.org');
    const ask = { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }] };
    const expectRefused = async (status: string) => {
      expect((await r.admin('GET', `/projects/${p.id}`)).body.domain_status).toBe(status);
      const res = await r.chat(p.headers, ask);
      expect(res.status).toBe(403);
      expect((await res.json() as any).error.code).toBe('domain_not_verified');
    };
    expect((await r.chat(p.headers, ask)).status).toBe(200);

    dns.delete('gatekeeper.example.org');
    await verifyDns(r, p.id);
    await expectRefused('pending');

    dns.set('gatekeeper.example.org', [['vexrail-verification=wrong']]);
    await verifyDns(r, p.id);
    await expectRefused('failed');

    dns.set('gatekeeper.example.org', [[`vexrail-verification=${p.token}`]]);
    await verifyDns(r, p.id);
    expect((await r.chat(p.headers, ask)).status).toBe(200);

    await r.admin('PATCH', `/projects/${p.id}`, { domain: 'gatekeeper-two.example.org' });
    await expectRefused('unverified');
  });

  test('text no store can hold (NUL) in a path, a cursor or a name is a 4xx on both stores, never a 500', async () => {
    expect((await t.admin('GET', '/projects/proj_%00')).status).toBe(404);
    const cursor = Buffer.from('1700000000000:proj_\0').toString('base64url');
    const paged = await t.admin('GET', `/projects?cursor=${cursor}`);
    expect([paged.status, paged.body.error.code]).toEqual([400, 'invalid_cursor']);
    // A time that is not written the way the server writes one.
    for (const ts of ['1e12', ' 1700000000000', '+1700000000000', '0x10']) {
      const odd = await t.admin('GET', `/projects?cursor=${Buffer.from(`${ts}:proj_x`).toString('base64url')}`);
      expect([ts, odd.status]).toEqual([ts, 400]);
    }
    const named = await t.admin('POST', '/projects', { name: 'Nul\0name', domain: 'nul-name.example.org' });
    expect([named.status, named.body.error.code]).toEqual([400, 'invalid_name']);
    const { body: project } = await t.admin('POST', '/projects', { name: 'Nul keys', domain: 'nul-keys.example.org' });
    expect((await t.admin('GET', `/projects/${project.id}/keys/key_%00/usage`)).status).toBe(404);
  });
});
