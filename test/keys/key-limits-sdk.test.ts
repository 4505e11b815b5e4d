import { afterAll, beforeAll, expect, test } from 'bun:test';
import OpenAI, { RateLimitError, PermissionDeniedError, AuthenticationError } from 'openai';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** The official SDK, talking to the in-process app, sees key limits as its own typed errors. */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function sdkFor(limits: Record<string, unknown>, name: string) {
  const p = await t.project('5.00', name);
  const key = await t.admin('POST', `/projects/${p.id}/keys`, { name: 'sdk', ...limits });
  const headers = { 'x-publishable-key': key.body.publishable_key, 'x-secret-key': key.body.secret_key };
  const client = new OpenAI({
    baseURL: 'http://127.0.0.1:8080/v1', apiKey: 'unused', defaultHeaders: headers, maxRetries: 0,
    fetch: (url: any, init?: any) => t.fetch(new Request(url, init)),
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
  await budget.client.chat.completions.create(ask);
  const broke = await budget.client.chat.completions.create(ask).catch((e) => e);
  expect(broke).toBeInstanceOf(PermissionDeniedError);
  expect(broke.code).toBe('key_budget_exceeded');

  const expired = await sdkFor({ expires_at: '2001-01-01T00:00:00Z' }, 'SDK expired');
  const gone = await expired.client.chat.completions.create(ask).catch((e) => e);
  expect(gone).toBeInstanceOf(AuthenticationError);
  expect(gone.code).toBe('expired_key');
});
