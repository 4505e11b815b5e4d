import { afterAll, beforeAll, expect, test } from 'bun:test';
import OpenAI, { RateLimitError, PermissionDeniedError, AuthenticationError } from 'openai';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** The official SDK, talking to the in-process app, sees key limits as its own typed errors. */
let t: TestApp;
/** The keys' clock runs ahead of the real one by `skewMs`, so a test can put a rate window near its end. */
let skewMs = 0;
beforeAll(async () => {
  t = await createTestApp({ runtime: { keysNow: () => Date.now() + skewMs } });
  // On PostgreSQL the first app also starts the throwaway server.
}, 60_000);
afterAll(() => t.close());

async function sdkFor(limits: Record<string, unknown>, name: string, options: { maxRetries?: number; seen?: Array<{ status: number; atMs: number; retryAfterMs: string | null }> } = {}) {
  const p = await t.project('5.00', name);
  const key = await t.admin('POST', `/projects/${p.id}/keys`, { name: 'sdk', ...limits });
  const headers = { 'x-publishable-key': key.body.publishable_key, 'x-secret-key': key.body.secret_key };
  const client = new OpenAI({
    baseURL: 'http://127.0.0.1:8080/v1', apiKey: 'unused', defaultHeaders: headers, maxRetries: options.maxRetries ?? 0,
    fetch: async (url: any, init?: any) => {
      const res = await t.fetch(new Request(url, init));
      options.seen?.push({ status: res.status, atMs: performance.now(), retryAfterMs: res.headers.get('retry-after-ms') });
      return res;
    },
  });
  return { client, projectId: p.id, keyId: key.body.id as string };
}

const ask = { model: 'vexrail-demo', messages: [{ role: 'user' as const, content: 'hi' }] };

test('over rpm_limit the SDK throws RateLimitError with code rate_limit_exceeded and the headers it retries on', async () => {
  const { client } = await sdkFor({ rpm_limit: 1 }, 'SDK rpm');
  const ok = await client.chat.completions.create(ask).withResponse();
  expect(ok.response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  const err = await client.chat.completions.create(ask).catch((e) => e);
  expect(err).toBeInstanceOf(RateLimitError);
  expect(err.status).toBe(429);
  expect(err.code).toBe('rate_limit_exceeded');
  expect(Number(err.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(err.headers.get('x-ratelimit-limit-requests')).toBe('1');
});

test('budget, allowed models and expiry arrive as the SDK typed 403 and 401 errors with our codes', async () => {
  const models = await sdkFor({ allowed_models: ['other-model'] }, 'SDK models');
  const denied = await models.client.chat.completions.create(ask).catch((e) => e);
  expect(denied).toBeInstanceOf(PermissionDeniedError);
  expect(denied.code).toBe('model_not_allowed');

  const budget = await sdkFor({ budget: { amount: '0.000001' } }, 'SDK budget');
  const broke = await budget.client.chat.completions.create(ask).catch((e) => e);
  expect(broke).toBeInstanceOf(PermissionDeniedError);
  expect(broke.code).toBe('key_budget_exceeded');

  const expired = await sdkFor({ expires_at: '2001-01-01T00:00:00Z' }, 'SDK expired');
  const gone = await expired.client.chat.completions.create(ask).catch((e) => e);
  expect(gone).toBeInstanceOf(AuthenticationError);
  expect(gone.code).toBe('expired_key');
});

test('the SDK retries a 429 from rpm_limit by itself, waiting what retry-after-ms says, and then succeeds', async () => {
  const seen: Array<{ status: number; atMs: number; retryAfterMs: string | null }> = [];
  const { client } = await sdkFor({ rpm_limit: 1 }, 'SDK retry', { maxRetries: 2, seen });
  skewMs = 0;
  await client.chat.completions.create(ask);
  // The key's minute is 59.7 s old on its clock: the next request is refused for the last 300 ms of it.
  skewMs = 59_700;
  const started = performance.now();
  const answer = await client.chat.completions.create(ask);
  const elapsedMs = performance.now() - started;
  expect(answer.choices[0].message.content!.length).toBeGreaterThan(0);
  expect(seen.map((s) => s.status)).toEqual([200, 429, 200]);
  const advisedMs = Number(seen[1].retryAfterMs);
  expect(advisedMs).toBeGreaterThan(0);
  expect(advisedMs).toBeLessThanOrEqual(300);
  // The SDK slept what retry-after-ms advised (not the whole second retry-after rounds up to) before retrying.
  const gapMs = seen[2].atMs - seen[1].atMs;
  expect(gapMs).toBeGreaterThanOrEqual(advisedMs - 5);
  expect(gapMs).toBeLessThan(advisedMs + 500);
  expect(elapsedMs).toBeLessThan(5000);
  skewMs = 0;
});
