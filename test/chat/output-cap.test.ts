import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The worst-case hold is clamped to the model's maximum output. Both models cost 1 USD / 2 USD per million tokens
 * (a prompt token is 1 micro-USD, an answer token 2); fake-model can write at most 100 tokens, gpt-4o-mini keeps
 * its default cap (16,384) and "wide-model" is priced but unlisted (the default cap for priced models, 32,768).
 */
const CAP = 100;
let upstream: FakeUpstream;
let t: TestApp;

beforeAll(async () => {
  upstream = await startFakeUpstream({ models: ['fake-model', 'gpt-4o-mini', 'wide-model'] });
  const price = { input: '1.00', output: '2.00' };
  t = await createTestApp({
    upstreamUrl: upstream.baseUrl,
    configFile: {
      providers: [{ name: 'fake', base_url: upstream.baseUrl, api_key: 'sk-upstream-secret-XYZ', models: ['fake-model', 'gpt-4o-mini', 'wide-model'] }],
      prices: { 'fake-model': price, 'gpt-4o-mini': price, 'wide-model': price },
      max_output_tokens: { 'fake-model': CAP },
    },
  });
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const ask = (extra: Record<string, unknown>, model = 'fake-model') => ({ model, messages: [{ role: 'user', content: 'Tell me a long story' }], ...extra });
const sentBody = () => upstream.requests.at(-1)!.body;
/** An answer longer than the cap: the fake upstream stops at max_tokens words, one token each. */
const LONG_ANSWER = Array.from({ length: 300 }, (_, i) => `w${i}`).join(' ');

describe('max output clamp', () => {
  test('max_tokens 1000000 on a small wallet is served: held and sent upstream at the cap', async () => {
    const p = await t.project('0.01');
    upstream.script({ kind: 'slow_first_byte', delayMs: 150, content: LONG_ANSWER });
    const pending = t.chat(p.headers, ask({ max_tokens: 1_000_000 }));
    await Bun.sleep(60);
    const held = (await t.rt.wallet.view(p.id, 1, null)).held_micros;
    const res = await pending;
    expect(res.status).toBe(200);
    expect(sentBody().max_tokens).toBe(CAP);
    // The hold is the prompt (a few tokens) plus CAP answer tokens, not the whole wallet.
    expect(held).toBeGreaterThanOrEqual(2 * CAP);
    expect(held).toBeLessThan(2 * CAP + 100);
    const { usage } = (await res.json()) as any;
    expect(usage.completion_tokens).toBe(CAP);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('concurrent max_tokens 1000000 requests on a small wallet spend most of it instead of being refused', async () => {
    const p = await t.project('0.01');
    upstream.script({ kind: 'slow_first_byte', delayMs: 200, content: LONG_ANSWER });
    const results = await Promise.all(Array.from({ length: 40 }, () => t.chat(p.headers, ask({ max_tokens: 1_000_000 }))));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBe(40);
    const wallet = (await t.rt.wallet.view(p.id, 100, null));
    expect(wallet.held_micros).toBe(0);
    expect(wallet.balance_micros).toBeGreaterThanOrEqual(0);
    expect(wallet.balance_micros).toBeLessThan(0.2 * 10_000);
    expect(wallet.transactions.filter((e) => e.note !== null)).toEqual([]);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('without max_tokens the model may write up to its cap: that is held, and a wallet that cannot pay it sends a lowered max_tokens', async () => {
    const p = await t.project('0.01');
    // wide-model may write 32,768 tokens: 65,536 micro-USD of answer, more than the wallet holds.
    upstream.script({ kind: 'normal', content: Array.from({ length: 6000 }, (_, i) => `w${i}`).join(' ') });
    const res = await t.chat(p.headers, ask({}, 'wide-model'));
    expect(res.status).toBe(200);
    const sent = sentBody().max_tokens as number;
    expect(sent).toBeGreaterThan(4000);
    expect(sent).toBeLessThan(5000);
    const wallet = (await t.rt.wallet.view(p.id, 10, null));
    // Everything the upstream wrote was paid for: no uncollected shortfall, nothing held.
    expect(wallet.transactions.filter((e) => e.note !== null)).toEqual([]);
    expect(wallet.held_micros).toBe(0);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('the cap applies to max_completion_tokens in its own field', async () => {
    const p = await t.project('1.00');
    upstream.script({ kind: 'normal', content: 'short' });
    expect((await t.chat(p.headers, ask({ max_completion_tokens: 5000 }))).status).toBe(200);
    expect(sentBody().max_completion_tokens).toBe(CAP);
    expect(sentBody().max_tokens).toBeUndefined();
  });

  test('a max_tokens within the cap, or none, is sent as the client gave it', async () => {
    const p = await t.project('1.00');
    upstream.script({ kind: 'normal', content: 'short' });
    await t.chat(p.headers, ask({ max_tokens: 40 }));
    expect(sentBody().max_tokens).toBe(40);
    await t.chat(p.headers, ask({}));
    expect(sentBody().max_tokens).toBeUndefined();
  });

  test('a priced model missing from the cap list is clamped at the default cap', async () => {
    const p = await t.project('10.00');
    upstream.script({ kind: 'normal', content: 'short' });
    expect((await t.chat(p.headers, ask({ max_tokens: 1_000_000 }, 'wide-model'))).status).toBe(200);
    expect(sentBody().max_tokens).toBe(t.config.limits.defaultMaxOutputTokens);
    expect((await t.chat(p.headers, ask({ max_tokens: 1_000_000 }, 'gpt-4o-mini'))).status).toBe(200);
    expect(sentBody().max_tokens).toBe(16_384);
  });
});

describe('several choices', () => {
  test('n answers are held n times: a wallet that covers one answer but not four lowers max_tokens', async () => {
    const p = await t.project('0.005'); // 5,000 micros: 1,000 answer tokens fit, 4 x 1,000 do not
    upstream.script({ kind: 'normal', content: 'short' });
    const res = await t.chat(p.headers, ask({ max_tokens: 1000, n: 4 }, 'gpt-4o-mini'));
    expect(res.status).toBe(200);
    const sent = sentBody().max_tokens;
    expect(sent).toBeLessThan(1000);
    expect(4 * 2 * sent).toBeLessThanOrEqual(5_000);
    expect(sent).toBeGreaterThan(550);
  });
});
