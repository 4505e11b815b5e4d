/**
 * A key's budget under concurrency, through the gateway: requests in flight hold what they may cost, so N
 * concurrent requests on a key with a small budget never spend more than the budget (for total, daily and
 * monthly budgets, streamed or not), and failures, client aborts and timeouts give the held part back.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI, { PermissionDeniedError } from 'openai';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeScenario, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  // fake-model: 1 USD per million prompt tokens, 2 USD per million completion tokens.
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  // On PostgreSQL the first app also starts the throwaway server.
}, 60_000);
afterAll(async () => {
  expect(await auditMoney(t.store)).toEqual([]);
  await t.close();
  await upstream.close();
});

const ask = (extra: Record<string, unknown> = {}) => ({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 60, ...extra });

async function keyWithBudget(name: string, amount: string, period: 'total' | 'daily' | 'monthly') {
  const p = await t.project('5.00', name);
  const key = await t.admin('POST', `/projects/${p.id}/keys`, { name: 'budgeted', budget: { amount, period } });
  expect(key.status).toBe(201);
  return { projectId: p.id, keyId: key.body.id as string, headers: { 'x-publishable-key': key.body.publishable_key, 'x-secret-key': key.body.secret_key } };
}

const spentBy = async (keyId: string) =>
  (await t.store.stmt<{ s: number }>('SELECT CAST(COALESCE(-SUM(amount_micros), 0) AS BIGINT) AS s FROM ledger_entries WHERE key_id = $keyId').get({ keyId }))!.s;

/** Drains a response (JSON or stream); returns its status and error code, if any. */
async function outcome(res: Response): Promise<[number, string | null]> {
  const text = await res.text();
  if (res.status !== 200) return [res.status, JSON.parse(text).error.code];
  return [200, null];
}

describe('N concurrent requests never spend past the key budget', () => {
  for (const period of ['total', 'daily', 'monthly'] as const)
    test(`${period}: 20 at once on a 1 micro-USD budget are all refused and nothing is charged`, async () => {
      const k = await keyWithBudget(`Tiny ${period}`, '0.000001', period);
      upstream.script({ kind: 'normal', chunkDelayMs: 5 });
      const calls = upstream.requests.length;
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.chat(k.headers, ask({ stream: i % 2 === 0 })).then(outcome)));
      expect(results.every(([s, code]) => s === 403 && code === 'key_budget_exceeded')).toBe(true);
      expect(upstream.requests.length).toBe(calls);
      expect(await spentBy(k.keyId)).toBe(0);
    });

  for (const period of ['total', 'daily', 'monthly'] as const)
    test(`${period}: 20 at once on a 300 micro-USD budget: some served, the rest refused, spend at most 300`, async () => {
      const k = await keyWithBudget(`Small ${period}`, '0.000300', period);
      upstream.script({ kind: 'normal', chunkDelayMs: 5 });
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.chat(k.headers, ask({ stream: i % 2 === 0 })).then(outcome)));
      const served = results.filter(([s]) => s === 200).length;
      expect(served).toBeGreaterThanOrEqual(2);
      expect(served).toBeLessThan(20);
      for (const [s, code] of results) if (s !== 200) expect([s, code]).toEqual([403, 'key_budget_exceeded']);
      expect(await spentBy(k.keyId)).toBeGreaterThan(0);
      expect(await spentBy(k.keyId)).toBeLessThanOrEqual(300);
      expect(t.rt.keys.budget.heldMicros(k.keyId)).toBe(0);
      expect((await t.rt.wallet.view(k.projectId, 1, null)).held_micros).toBe(0);
    });

  test('the official SDK over real HTTP: 20 concurrent calls, spend within the budget, refusals typed', async () => {
    const k = await keyWithBudget('SDK concurrent', '0.000100', 'daily');
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: t.fetch });
    try {
      const client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'unused', defaultHeaders: k.headers, maxRetries: 0 });
      upstream.script({ kind: 'normal', chunkDelayMs: 5 });
      const settled = await Promise.allSettled(Array.from({ length: 20 }, () => client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], max_tokens: 60 })));
      const ok = settled.filter((r) => r.status === 'fulfilled').length;
      expect(ok).toBeGreaterThanOrEqual(1);
      for (const r of settled)
        if (r.status === 'rejected') {
          expect(r.reason).toBeInstanceOf(PermissionDeniedError);
          expect(r.reason.code).toBe('key_budget_exceeded');
        }
      expect(await spentBy(k.keyId)).toBeLessThanOrEqual(100);
    } finally {
      server.stop(true);
    }
  });
});

describe('failures give the held budget back', () => {
  test('upstream 500, a dropped stream, a client abort: nothing stays held, and what is left is the budget less the charges', async () => {
    const k = await keyWithBudget('Failures', '0.000200', 'total');
    upstream.script({ kind: 'status', status: 500 });
    expect((await outcome(await t.chat(k.headers, ask())))[0]).toBe(502);
    upstream.script({ kind: 'disconnect_mid_stream', afterChunks: 1 });
    await outcome(await t.chat(k.headers, ask({ stream: true })));
    await outcome(await t.chat(k.headers, ask()));

    upstream.script({ kind: 'gaps', gapMs: 200, content: 'a b c d e f g h' });
    const controller = new AbortController();
    const res = await t.fetch(new Request('http://127.0.0.1:8080/v1/chat/completions', {
      method: 'POST', headers: { ...k.headers, 'content-type': 'application/json' }, body: JSON.stringify(ask({ stream: true })), signal: controller.signal,
    }));
    const reader = res.body!.getReader();
    await reader.read();
    expect(t.rt.keys.budget.heldMicros(k.keyId)).toBeGreaterThan(0);
    await reader.cancel();
    controller.abort();
    for (let i = 0; i < 50 && t.rt.keys.budget.heldMicros(k.keyId) > 0; i++) await Bun.sleep(10);

    expect(t.rt.keys.budget.heldMicros(k.keyId)).toBe(0);
    // The aborted stream's charge is decided at settle and committed with its group: read the ledger after that.
    await t.rt.wallet.commitQueued();
    const caller = await t.rt.keys.authenticate(k.headers['x-publishable-key'], k.headers['x-secret-key']);
    await t.rt.keys.budget.ready(caller);
    expect(t.rt.keys.budget.left(caller)).toBe(200 - (await spentBy(k.keyId)));
    // The whole budget less the charges is usable again: a request holding nearly all of it is served.
    upstream.script({ kind: 'normal' });
    expect((await outcome(await t.chat(k.headers, ask())))[0]).toBe(200);
  });

  test('upstream timeouts, streamed or not, release the hold', async () => {
    const slow = await createTestApp({
      upstreamUrl: upstream.baseUrl,
      configFile: { providers: [{ name: 'fake', base_url: upstream.baseUrl, models: ['fake-model'], first_byte_timeout_ms: 100 }] },
    });
    try {
      const p = await slow.project('5.00', 'Timeouts');
      const key = await slow.admin('POST', `/projects/${p.id}/keys`, { name: 'b', budget: { amount: '0.000200', period: 'daily' } });
      const headers = { 'x-publishable-key': key.body.publishable_key, 'x-secret-key': key.body.secret_key };
      upstream.script({ kind: 'hang' });
      const results = await Promise.all([slow.chat(headers, ask()), slow.chat(headers, ask({ stream: true }))].map((r) => r.then(outcome)));
      expect(results.map(([s]) => s)).toEqual([504, 504]);
      expect(slow.rt.keys.budget.heldMicros(key.body.id)).toBe(0);
      const caller = await slow.rt.keys.authenticate(headers['x-publishable-key'], headers['x-secret-key']);
      await slow.rt.keys.budget.ready(caller);
      expect(slow.rt.keys.budget.left(caller)).toBe(200);
    } finally {
      upstream.script({ kind: 'normal' });
      await slow.close();
    }
  });
});

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('randomized through the gateway', () => {
  const scenarios: FakeScenario[] = [
    { kind: 'normal', chunkDelayMs: 2 },
    { kind: 'normal', content: 'a much longer answer than the others, many words long, it goes on and on for a while yet '.repeat(3), chunkDelayMs: 1 },
    { kind: 'status', status: 500 },
    { kind: 'disconnect_mid_stream', afterChunks: 2 },
    { kind: 'no_usage' },
    { kind: 'malformed_frame', afterChunks: 1 },
  ];
  for (const seed of [11, 12, 13])
    test(`seed ${seed}: batches of concurrent mixed requests keep spend within the budget and release every hold`, async () => {
      const random = rng(seed);
      const int = (n: number) => Math.floor(random() * n);
      const period = (['total', 'daily', 'monthly'] as const)[seed % 3];
      const budget = 200 + int(800);
      const k = await keyWithBudget(`Random ${seed}`, `0.${String(budget).padStart(6, '0')}`, period);
      let served = 0;
      for (let batch = 0; batch < 6; batch++) {
        const n = 1 + int(10);
        for (let i = 0; i < n; i++) upstream.scriptOnce(scenarios[int(scenarios.length)]);
        const results = await Promise.all(Array.from({ length: n }, () =>
          t.chat(k.headers, ask({ stream: int(2) === 0, max_tokens: 16 + int(200) })).then(outcome)));
        served += results.filter(([s]) => s === 200).length;
        for (const [s, code] of results) if (s === 403) expect(code).toBe('key_budget_exceeded');
        expect(t.rt.keys.budget.heldMicros(k.keyId)).toBe(0);
        expect(await spentBy(k.keyId)).toBeLessThanOrEqual(budget);
        expect(await auditMoney(t.store)).toEqual([]);
      }
      expect(served).toBeGreaterThan(0);
      upstream.script({ kind: 'normal' });
    });
});
