import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, readSse, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // fake-model costs 1 USD / 2 USD per million tokens: easy numbers to reason about.
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'fake-model', messages: [{ role: 'user', content }], ...extra });

describe('credit wallet', () => {
  test('charges exact usage, releases the rest of the hold, records one consumption entry', async () => {
    const p = await t.project('1.00');
    upstream.script({ kind: 'normal', content: 'one two three four' });
    const res = await t.chat(p.headers, ask('hello there', { max_tokens: 100 }));
    const body = await res.json() as any;
    const cost = Math.ceil((body.usage.prompt_tokens * 1_000_000 + body.usage.completion_tokens * 2_000_000) / 1_000_000);
    const wallet = (await t.rt.wallet.view(p.id, 10, null));
    expect(wallet.held_micros).toBe(0);
    expect(wallet.balance_micros).toBe(1_000_000 - cost);
    expect(wallet.transactions[0]).toMatchObject({ type: 'consumption', amount_micros: -cost, request_id: res.headers.get('x-request-id') });
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('a zero balance is refused with 403 insufficient_credits before calling the upstream', async () => {
    const p = await t.project('0');
    const calls = upstream.requests.length;
    const res = await t.chat(p.headers, ask('hi'));
    expect(res.status).toBe(403);
    expect((await res.json() as any).error.code).toBe('insufficient_credits');
    expect(upstream.requests.length).toBe(calls);
  });

  test('a balance too small for max_tokens lowers the upstream max_tokens instead of refusing', async () => {
    const p = await t.project('0.000100'); // 100 micros: ~40 output tokens at 2 USD/M after the prompt
    upstream.script({ kind: 'normal', content: 'short answer' });
    const res = await t.chat(p.headers, ask('hi', { max_tokens: 5000 }));
    expect(res.status).toBe(200);
    const sent = upstream.requests.at(-1)!.body.max_tokens;
    expect(sent).toBeLessThan(5000);
    expect(sent).toBeGreaterThanOrEqual(16);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('a balance that cannot cover the prompt and a minimal answer is refused', async () => {
    const p = await t.project('0.000010');
    const res = await t.chat(p.headers, ask('a much longer prompt '.repeat(20)));
    expect(res.status).toBe(403);
    expect((await res.json() as any).error.code).toBe('insufficient_credits');
  });

  test('top-ups are idempotent by key and refuse malformed amounts', async () => {
    const p = await t.project('0');
    const first = await t.admin('POST', `/projects/${p.id}/credits`, { amount: '2.50', idempotency_key: 'order-1' });
    const again = await t.admin('POST', `/projects/${p.id}/credits`, { amount: '2.50', idempotency_key: 'order-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.transaction.id).toBe(first.body.transaction.id);
    expect((await t.admin('POST', `/projects/${p.id}/credits`, { amount: '9.00', idempotency_key: 'order-1' })).status).toBe(409);
    for (const amount of ['-1', '0', '1.0000001', 'abc', 12, '1e3'])
      expect((await t.admin('POST', `/projects/${p.id}/credits`, { amount })).status).toBe(400);
    const wallet = await t.admin('GET', `/projects/${p.id}/wallet`);
    expect(wallet.body.balance).toBe('2.50');
    expect(wallet.body.available).toBe('2.50');
    expect(wallet.body.transactions).toHaveLength(1);
  });

  test('wallet transactions page newest first with a cursor', async () => {
    const p = await t.project('0');
    for (let i = 1; i <= 5; i++) await t.admin('POST', `/projects/${p.id}/credits`, { amount: `${i}.00` });
    const first = await t.admin('GET', `/projects/${p.id}/wallet?limit=2`);
    expect(first.body.transactions.map((x: any) => x.amount)).toEqual(['5.00', '4.00']);
    const second = await t.admin('GET', `/projects/${p.id}/wallet?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.transactions.map((x: any) => x.amount)).toEqual(['3.00', '2.00']);
    expect((await t.admin('GET', `/projects/${p.id}/wallet?limit=1001`)).status).toBe(400);
  });
});

describe('invariants under concurrency', () => {
  test('many concurrent requests on a small balance never overdraw it', async () => {
    const p = await t.project('0.002000'); // 2000 micros
    upstream.script({ kind: 'normal', content: 'word '.repeat(200).trim() });
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        t.chat(p.headers, ask(`question ${i}`, { max_tokens: 300, stream: i % 2 === 0 })).then(async (r) => {
          if (r.status === 200) await r.text();
          return r.status;
        }),
      ),
    );
    expect(results.every((s) => s === 200 || s === 403)).toBe(true);
    expect(results.filter((s) => s === 403).length).toBeGreaterThan(0);
    const wallet = (await t.rt.wallet.view(p.id, 1000, null));
    expect(wallet.balance_micros).toBeGreaterThanOrEqual(0);
    expect(wallet.held_micros).toBe(0);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('randomized mix of outcomes keeps every invariant', async () => {
    const projects = await Promise.all([t.project('0.010000', 'Rand A'), t.project('0.003000', 'Rand B'), t.project('0.000500', 'Rand C')]);
    const scenarios = [
      { kind: 'normal', content: 'alpha beta gamma delta' },
      { kind: 'no_usage', content: 'no usage here at all' },
      { kind: 'status', status: 500 },
      { kind: 'disconnect_mid_stream', afterChunks: 2 },
      { kind: 'malformed_frame', afterChunks: 1 },
    ] as const;
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 6; round++) {
      const batch = Array.from({ length: 20 }, () => {
        const p = projects[rand(projects.length)];
        upstream.scriptOnce(scenarios[rand(scenarios.length)] as any);
        return t.chat(p.headers, ask(`r${round}`, { stream: rand(2) === 0, max_tokens: 1 + rand(400) })).then((r) => r.text());
      });
      await Promise.all(batch);
    }
    for (const p of projects) {
      const w = (await t.rt.wallet.view(p.id, 1000, null));
      expect(w.balance_micros).toBeGreaterThanOrEqual(0);
      expect(w.held_micros).toBe(0);
    }
    expect(await auditMoney(t.store)).toEqual([]);
  });
});
