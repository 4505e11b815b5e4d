import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { countTokens } from '../../src/upstream/bpe-counter';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Holds against an upstream that bills the real prompt: everything it renders, not only messages[].content.
 * fake-model costs 1 USD / 2 USD per million tokens, so a prompt token is 1 micro-USD and an answer token 2.
 */

const ANSWER = 'Sunny and mild.';
const tok = (text: string) => countTokens(text);

/** 512 px tiles after OpenAI's documented scaling (fit in 2048 x 2048, then shortest side at most 768). */
function tiles(w: number, h: number): number {
  const fit = Math.min(1, 2048 / Math.max(w, h));
  const shrink = Math.min(1, 768 / Math.min(w * fit, h * fit));
  return Math.ceil((w * fit * shrink) / 512) * Math.ceil((h * fit * shrink) / 512);
}

/** Images are fetched by the upstream, which knows their size: here the URL names it (https://img.test/2048x768.png). */
function billImage(image: { url: string; detail?: string }): number {
  if (image.detail === 'low') return 85;
  const [, w, h] = /(\d+)x(\d+)/.exec(image.url)!;
  return 85 + 170 * tiles(Number(w), Number(h));
}

/** OpenAI's cookbook tool estimate (gpt-4o constants). */
function billTools(tools: any[]): number {
  let n = 12;
  for (const { function: f } of tools) {
    n += 7 + tok(`${f.name}:${(f.description ?? '').replace(/\.$/, '')}`);
    const props = Object.entries<any>(f.parameters?.properties ?? {});
    if (props.length > 0) n += 3;
    for (const [key, p] of props) n += 3 + tok(`${key}:${p.type}:${(p.description ?? '').replace(/\.$/, '')}`);
  }
  return n;
}

function billPrompt(body: any): number {
  let n = 3;
  for (const m of body.messages) {
    n += 3 + tok(m.role);
    if (typeof m.content === 'string') n += tok(m.content);
    if (Array.isArray(m.content))
      for (const part of m.content) n += part.type === 'image_url' ? billImage(part.image_url) : tok(part.text ?? '');
    if (typeof m.name === 'string') n += 1 + tok(m.name);
    for (const call of m.tool_calls ?? []) n += tok(call.function.name) + tok(call.function.arguments);
    if (typeof m.tool_call_id === 'string') n += tok(m.tool_call_id);
  }
  if (body.tools) n += billTools(body.tools);
  if (body.response_format?.json_schema) n += tok(JSON.stringify(body.response_format.json_schema.schema));
  return n;
}

let requestsSeen = 0;
let billed: { prompt: number; completion: number }[] = [];
const upstream = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  async fetch(req) {
    const body = (await req.json()) as any;
    requestsSeen++;
    const usage = { prompt_tokens: billPrompt(body), completion_tokens: tok(ANSWER), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    billed.push({ prompt: usage.prompt_tokens, completion: usage.completion_tokens });
    const message = { role: 'assistant', content: ANSWER };
    return Response.json({ id: 'chatcmpl-bill', object: 'chat.completion', created: 0, model: body.model, choices: [{ index: 0, message, finish_reason: 'stop' }], usage });
  },
});

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ upstreamUrl: `http://127.0.0.1:${upstream.port}/v1` });
});
afterAll(() => {
  t.close();
  upstream.stop(true);
});

function words(count: number, seed: number): string {
  const pool = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa'.split(' ');
  return Array.from({ length: count }, (_, i) => pool[(i * 7 + seed * 13 + ((i * i) % 5)) % pool.length]).join(' ');
}
const tool = (description: string) => ({
  type: 'function',
  function: { name: 'lookup', description, parameters: { type: 'object', properties: { q: { type: 'string', description: 'query' } } } },
});
const user = (content: unknown = 'What now?') => ({ role: 'user', content });
const image = (size: string, detail?: string) => ({ type: 'image_url', image_url: { url: `https://img.test/${size}.png`, ...(detail ? { detail } : {}) } });

/** Each prompt is far bigger outside messages[].content than inside it; about `tokens` billed tokens each. */
function bigPrompts(tokens: number): Record<string, Record<string, unknown>> {
  const text = words(tokens, 1);
  return {
    tools: { messages: [user()], tools: [tool(text)] },
    'tool_calls arguments': {
      messages: [user(), { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: JSON.stringify({ q: text }) } }] }, { role: 'tool', tool_call_id: 'call_1', content: 'none' }],
    },
    'response_format schema': {
      messages: [user()],
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object', properties: { a: { type: 'string', description: text } } } } },
    },
    'message name': { messages: [{ role: 'user', content: 'hi', name: text.replaceAll(' ', '_') }] },
    'image parts': { messages: [user([{ type: 'text', text: 'Compare these.' }, ...Array.from({ length: Math.ceil(tokens / 1445) }, () => image('2048x768'))])] },
  };
}

describe('prompts outside messages[].content', () => {
  for (const [where, prompt] of Object.entries(bigPrompts(12_000)))
    test(`a prompt bigger than the wallet in its ${where} is refused with 403 before reaching the upstream`, async () => {
      const p = await t.project('0.01');
      const before = requestsSeen;
      const res = await t.chat(p.headers, { model: 'fake-model', max_tokens: 20, ...prompt });
      expect(res.status).toBe(403);
      expect(((await res.json()) as any).error.code).toBe('insufficient_credits');
      expect(requestsSeen).toBe(before);
      expect((await t.rt.wallet.view(p.id, 1, null))).toMatchObject({ balance_micros: 10_000, held_micros: 0 });
    });

  test('a small wallet pays every request in full until it is refused: never negative, nothing uncollected', async () => {
    const p = await t.project('0.01');
    const prompts = Object.values(bigPrompts(1_500));
    billed = [];
    let charged = 0;
    let served = 0;
    for (let i = 0; ; i++) {
      const before = requestsSeen;
      const res = await t.chat(p.headers, { model: 'fake-model', max_tokens: 20, ...prompts[i % prompts.length] });
      if (res.status === 403) {
        expect(requestsSeen).toBe(before);
        break;
      }
      expect(res.status).toBe(200);
      served++;
      const { usage } = (await res.json()) as any;
      expect(usage.prompt_tokens).toBeGreaterThan(1_400);
      charged += usage.prompt_tokens + 2 * usage.completion_tokens;
      const wallet = (await t.rt.wallet.view(p.id, 100, null));
      // Charged exactly what the upstream billed, so the balance only went down by bills.
      expect(wallet.balance_micros).toBe(10_000 - charged);
      expect(wallet.held_micros).toBe(0);
      expect(wallet.transactions.filter((e) => e.note !== null)).toEqual([]);
      expect(await auditMoney(t.store)).toEqual([]);
    }
    expect(served).toBeGreaterThanOrEqual(4);
    expect(billed.length).toBe(served);
    expect((await t.rt.wallet.view(p.id, 1, null)).balance_micros).toBeGreaterThanOrEqual(0);
  });

  test('images held at their worst case are charged what the upstream billed for their real size', async () => {
    const p = await t.project('0.01');
    const res = await t.chat(p.headers, { model: 'fake-model', max_tokens: 20, messages: [user([image('256x256'), image('256x256', 'low')])] });
    expect(res.status).toBe(200);
    const { usage } = (await res.json()) as any;
    expect((await t.rt.wallet.view(p.id, 1, null)).balance_micros).toBe(10_000 - usage.prompt_tokens - 2 * usage.completion_tokens);
  });
});
