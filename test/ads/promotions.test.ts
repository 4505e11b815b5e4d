import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, publisher, trackedLink } from '../helpers/market';
import { createTestApp, readSse, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
let adv: Awaited<ReturnType<typeof advertiser>>;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  adv = await advertiser(t);
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const ask = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });
const question = 'What project management tool can help my team track tasks and deadlines?';

describe('promotions in answers', () => {
  test('non-stream: the organic answer is unchanged and a labeled promotion with a tracked link follows', async () => {
    const pub = await publisher(t, 'Pub NS');
    upstream.script({ kind: 'normal', content: ORGANIC });
    const res = await t.chat(pub.headers, ask(question));
    const body = await res.json() as any;
    const content: string = body.choices[0].message.content;
    expect(content.startsWith(ORGANIC)).toBe(true);
    const extra = content.slice(ORGANIC.length);
    expect(extra).toStartWith('\n\n*Sponsored:*');
    expect(extra).toContain('[Kanbanix Boards](');
    expect(res.headers.get('x-vexrail-impression')).toMatch(/^imp_/);
    // Usage covers the organic answer only.
    expect(body.usage.completion_tokens).toBe(ORGANIC.split(/\s+/).length);
    const link = trackedLink(content)!;
    expect(link).toStartWith('http://127.0.0.1:8080/r/imp_');
  });

  test('stream: organic chunks byte for byte, promotion chunks before finish_reason, then usage and [DONE]', async () => {
    const pub = await publisher(t, 'Pub S');
    upstream.script({ kind: 'normal', content: ORGANIC });
    const res = await t.chat(pub.headers, ask(question, { stream: true, stream_options: { include_usage: true } }));
    const { frames } = await readSse(res);
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    const finishIndex = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    const contentChunks = chunks.slice(0, finishIndex);
    const organic = contentChunks.map((c) => c.choices[0].delta.content ?? '').join('');
    expect(organic.startsWith(ORGANIC)).toBe(true);
    expect(organic.slice(ORGANIC.length)).toContain('*Sponsored:*');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.at(-1).usage.completion_tokens).toBe(ORGANIC.split(/\s+/).length);
    expect(frames.at(-1)).toBe('[DONE]');
    // The upstream's own frames went out unchanged.
    const upstreamFrames = frames.slice(0, ORGANIC.split(/\s+/).length);
    expect(upstreamFrames.every((f) => JSON.parse(f).choices[0].delta.content !== undefined)).toBe(true);
  });

  test('a click charges the advertiser once, credits the publisher 70 % pending, and redirects to the product', async () => {
    const pub = await publisher(t, 'Pub Click');
    upstream.script({ kind: 'normal', content: ORGANIC });
    const content = (await (await t.chat(pub.headers, ask(question))).json() as any).choices[0].message.content;
    const path = new URL(trackedLink(content)!).pathname;
    const before = (await t.admin('GET', `/projects/${adv.id}/wallet`)).body.balance_micros;
    const clicks = await Promise.all(Array.from({ length: 5 }, () => t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } })));
    for (const c of clicks) {
      expect(c.status).toBe(302);
      expect(c.headers.get('location')).toBe('https://kanbanix.example/boards');
    }
    const after = (await t.admin('GET', `/projects/${adv.id}/wallet`)).body;
    const charged = before - after.balance_micros;
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(400_000);
    expect(after.transactions[0]).toMatchObject({ type: 'cpc_cost', amount_micros: -charged });
    const earnings = (await t.admin('GET', `/projects/${pub.id}/earnings`)).body;
    expect(earnings.pending_micros).toBe(Math.floor(charged * 0.7));
    expect(earnings.available_micros).toBe(0);
    await t.rt.flushAll();
    const logged = t.logLines.join('');
    expect(logged).toContain(`"path":"${path.split('.')[0]}"`);
    expect(logged).not.toContain(path.slice(path.indexOf('.')));
    const bot = await t.call('GET', path, { headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0' } });
    expect(bot.status).toBe(302);
    expect((await t.admin('GET', `/projects/${adv.id}/wallet`)).body.balance_micros).toBe(after.balance_micros);
  });

  test('tampered or unknown links are 404 and never redirect', async () => {
    const res = await t.call('GET', '/r/imp_AAAAAAAAAAAAAAAAAAAA.zzzz.AAAAAAAAAAAAAAAAAAAAAA', { headers: { 'user-agent': BROWSER_UA } });
    expect(res.status).toBe(404);
    expect(res.headers.get('location')).toBeNull();
  });

  test('no promotion when monetization is off, on JSON mode, tool calls, sensitive topics, or irrelevant questions', async () => {
    const off = await t.project('1.00', 'Pub Off');
    const on = await publisher(t, 'Pub Gates');
    const cases: Array<[Record<string, string>, Record<string, unknown>]> = [
      [off.headers, ask(question)],
      [on.headers, ask(question, { response_format: { type: 'json_object' } })],
      [on.headers, ask(question, { tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }] })],
      [on.headers, ask('I have chest pain and my left arm is numb, what project tool should I use?')],
      [on.headers, ask('What is the capital of Peru?')],
    ];
    for (const [headers, body] of cases) {
      upstream.script({ kind: 'normal', content: ORGANIC });
      const res = await t.chat(headers, body);
      const content = (await res.json() as any).choices[0].message.content;
      expect(content).toBe(ORGANIC);
      expect(res.headers.get('x-vexrail-impression')).toBeNull();
    }
    await t.rt.flushAll();
    const report = (await t.admin('GET', `/projects/${on.id}/analytics`)).body;
    expect(report.no_fill).toMatchObject({ structured_output: 1, tools: 1, sensitive_topic: 1, no_relevant_product: 1 });
  });

  test('an answer cut short carries no promotion and no impression header; a client gone mid-stream is not an impression', async () => {
    const pub = await publisher(t, 'Pub Cut');
    upstream.script({ kind: 'normal', content: ORGANIC });
    const cut = await t.chat(pub.headers, ask(question, { max_tokens: 3 }));
    const body = await cut.json() as any;
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.choices[0].message.content).not.toContain('Sponsored');
    expect(cut.headers.get('x-vexrail-impression')).toBeNull();
    upstream.script({ kind: 'gaps', gapMs: 60, content: ORGANIC });
    const res = await t.chat(pub.headers, ask(question, { stream: true }));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await Bun.sleep(100);
    await t.rt.flushAll();
    const report = (await t.admin('GET', `/projects/${pub.id}/analytics`)).body;
    expect(report.totals.impressions).toBe(0);
    expect(report.no_fill).toEqual({ answer_not_finished: 1, not_delivered: 1 });
  });

  test('promotion search returns eligible products best first and records nothing', async () => {
    const pub = await publisher(t, 'Pub Search');
    const res = await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query: 'coffee grinder for espresso', limit: 3 } });
    const body = await res.json() as any;
    expect(res.status).toBe(200);
    expect(body.data[0].product.name).toBe('Brewmaster Burr Grinder');
    expect(body.data[0]).toMatchObject({ campaign: { id: adv.campaignId }, advertiser: { id: adv.id } });
    expect(body.data[0].relevance).toBeGreaterThan(0);
    expect(body.data[0].relevance).toBeLessThanOrEqual(1);
    const none = await (await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query: 'history of the roman empire' } })).json() as any;
    expect(none.data).toEqual([]);
    expect((await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { limit: 50, query: 'x' } })).status).toBe(400);
  });
});
