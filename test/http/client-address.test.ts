import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** A stand-in for Bun's server that counts the address look-ups and answers `address`. */
function server(address: string) {
  const seen = { lookups: 0 };
  return { seen, requestIP: () => (seen.lookups++, { address }) };
}

const login = (email: string, path = '/dashboard/api/v1/auth/login') =>
  new Request(`http://127.0.0.1:8080${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'not the password' }) });

describe('client address', () => {
  test('looked up for sign-in only: a chat completion, a health check and the models list do not ask for it', async () => {
    const p = await t.project('1.00');
    const s = server('10.0.0.1');
    const chat = new Request('http://127.0.0.1:8080/v1/chat/completions', {
      method: 'POST', headers: { ...p.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ model: t.rt.catalog.ids()[0], messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect((await t.fetch(chat, s)).status).toBe(200);
    expect((await t.fetch(new Request('http://127.0.0.1:8080/healthz'), s)).status).toBe(200);
    expect((await t.fetch(new Request('http://127.0.0.1:8080/v1/models', { headers: p.headers }), s)).status).toBe(200);
    expect(s.seen.lookups).toBe(0);
    expect((await t.fetch(login('someone@example.com'), s)).status).toBe(401);
    expect(s.seen.lookups).toBe(1);
  });

  test('sign-in failures are limited per address: the 21st from one address waits, another address does not', async () => {
    const busy = server('10.0.0.7');
    for (let i = 0; i < 20; i++) expect((await t.fetch(login(`guess${i}@example.com`), busy)).status).toBe(401);
    const limited = await t.fetch(login('guess20@example.com'), busy);
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as any).error.code).toBe('too_many_sign_in_attempts');
    // The same through a trailing-slash variant of the path, which the router also serves.
    const variant = await t.fetch(login('guess21@example.com', '/dashboard/api/v1/auth/login/'), busy);
    expect(variant.status).toBe(429);
    expect((await t.fetch(login('guess22@example.com'), server('10.0.0.8'))).status).toBe(401);
  }, 60_000);
});
