/**
 * limits.minAnswerTokens (16): a wallet that can pay the prompt but not 16 answer tokens is refused before
 * the upstream is called; one that can pay exactly 16 is served with max_tokens lowered to 16.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
beforeAll(async () => {
  upstream = await startFakeUpstream();
  // fake-model: 1 micro-USD per prompt token, 2 per answer token.
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const MIN_ANSWER_TOKENS = 16;
const OUTPUT_MICROS_PER_TOKEN = 2;
const PROMPT = 'Please summarise the main causes of the French revolution in a few sentences.';
const ask = (maxTokens: number) => ({ model: 'fake-model', max_tokens: maxTokens, messages: [{ role: 'user', content: PROMPT }] });
const usd = (micros: number) => (micros / 1_000_000).toFixed(6);

/** What the gateway holds for this prompt, read from the wallet while a slow upstream keeps the request open. */
async function promptHoldMicros(): Promise<number> {
  const rich = await t.project('1.00', 'Min Probe');
  upstream.scriptOnce({ kind: 'slow_first_byte', delayMs: 300 });
  const pending = t.chat(rich.headers, ask(100));
  let held = 0;
  for (let i = 0; i < 200 && held === 0; i++) {
    await Bun.sleep(5);
    held = (await t.rt.wallet.view(rich.id, 1, null)).held_micros;
  }
  await (await pending).text();
  expect(held).toBeGreaterThan(100 * OUTPUT_MICROS_PER_TOKEN);
  return held - 100 * OUTPUT_MICROS_PER_TOKEN;
}

describe('the 16-token minimum answer', () => {
  test('exactly 16 affordable answer tokens are served with max_tokens lowered; 15 are refused with 403', async () => {
    const promptMicros = await promptHoldMicros();
    upstream.script({ kind: 'normal', content: 'The short answer.' });

    const enough = await t.project(usd(promptMicros + MIN_ANSWER_TOKENS * OUTPUT_MICROS_PER_TOKEN), 'Min Enough');
    const served = await t.chat(enough.headers, ask(1000));
    expect(served.status).toBe(200);
    expect(upstream.requests.at(-1)!.body.max_tokens).toBe(MIN_ANSWER_TOKENS);
    await served.text();

    const short = await t.project(usd(promptMicros + MIN_ANSWER_TOKENS * OUTPUT_MICROS_PER_TOKEN - 1), 'Min Short');
    const calls = upstream.requests.length;
    const refused = await t.chat(short.headers, ask(1000));
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as any).error.code).toBe('insufficient_credits');
    expect(upstream.requests.length).toBe(calls);
    expect((await t.rt.wallet.view(short.id, 1, null))).toMatchObject({ balance_micros: promptMicros + 31, held_micros: 0 });
    expect(await auditMoney(t.store)).toEqual([]);
  });
});
