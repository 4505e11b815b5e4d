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
});
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
    for (const domain of ['', 'localhost', 'exa mple.com', '-bad.com', 'a'.repeat(70) + '.com', 42])
      expect((await t.admin('POST', '/projects', { name: 'X', domain })).status).toBe(400);
    expect(normalizeDomain('Example.COM.')).toBe('example.com');
    expect(normalizeDomain('http://example.com:8080/x?y')).toBe('example.com');
  });
});
