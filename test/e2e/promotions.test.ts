/**
 * Promotions end to end: the COMPILED binary, a scripted fake upstream, an advertiser with products and an
 * active campaign, and monetized publishers, driven by the official `openai` SDK and the Vercel AI SDK.
 * Checks the labeled promotion after the untouched organic answer (stream and non-stream), the tracked link
 * (302, charged once, 70 % to the publisher), the gates that suppress promotions, and that an impression only
 * counts once it was delivered.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { BROWSER_UA, CATALOG, catalogDomains, trackedLink } from '../helpers/market';
import { eventually, leakedSecrets, sleep, startGateway, type Gateway, type Project } from './binary.helpers';

const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const SENSITIVE = 'I have chest pain and my left arm is numb, what project tool should I use?';
const KANBANIX = CATALOG[0];
const PROMO_LABEL = '\n\n*Sponsored:*';
/** The publisher's share of a click (config default ads.publisherShare 70 %). */
const PUBLISHER_SHARE = 0.7;
const MAX_CPC_MICROS = 400_000;

let upstream: FakeUpstream;
let gw: Gateway;
let advertiserId: string;

/** The fake upstream's token counting: one token per word. */
const words = (text: string) => (text.match(/\S+/g) ?? []).length;

/** The question, tagged with a marker that must never show up in the process output. */
const ask = (label: string, text = QUESTION) => `${text} (ref ${gw.marker(label)})`;

async function ok(res: Promise<{ status: number; text: string; body: any }>, expected: number, what: string) {
  const r = await res;
  if (r.status !== expected) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body;
}

/** The same advertiser as test/helpers/market.ts, set up over HTTP against the binary. */
async function createAdvertiser(): Promise<string> {
  const slug = crypto.randomUUID().slice(0, 8);
  const project = await ok(gw.admin('POST', '/projects', { name: `Acme Ads ${slug}`, domain: `acme-${slug}.example.com`, kind: 'advertiser' }), 201, 'advertiser');
  const id = project.id as string;
  await ok(gw.admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' }), 200, 'verify');
  await ok(gw.admin('PATCH', `/projects/${id}`, { link_domains: catalogDomains(CATALOG) }), 200, 'link domains');
  await ok(gw.admin('POST', `/projects/${id}/credits`, { amount: '100.00' }), 201, 'credits');
  const productIds: string[] = [];
  for (const p of CATALOG) productIds.push((await ok(gw.admin('POST', `/projects/${id}/products`, p), 201, 'product')).id);
  const campaign = await ok(
    gw.admin('POST', `/projects/${id}/campaigns`, {
      name: 'Acme campaign', context: 'tools for teams and outdoor gear', base_cpc: '0.40', budget: '50.00', budget_type: 'total', product_ids: productIds,
    }),
    201,
    'campaign',
  );
  expect(campaign.status).toBe('paused_user');
  await ok(gw.admin('POST', `/projects/${id}/campaigns/${campaign.id}/activate`), 200, 'activate');
  return id;
}

/** A publisher project with credits and a key pair; monetized unless told otherwise. */
async function createPublisher(monetization = true): Promise<Project> {
  const p = await gw.createProject('10.00');
  if (monetization) await ok(gw.admin('PATCH', `/projects/${p.id}`, { monetization: true }), 200, 'monetization');
  return p;
}

function openai(p: Project) {
  return new OpenAI({ baseURL: gw.apiBase, apiKey: 'unused', defaultHeaders: p.headers, maxRetries: 0, timeout: 10_000 });
}

function aiProvider(p: Project) {
  return createOpenAICompatible({ name: 'vexrail', baseURL: gw.apiBase, apiKey: 'unused', headers: p.headers });
}

async function earnings(projectId: string): Promise<{ pending_micros: number; available_micros: number }> {
  return ok(gw.admin('GET', `/projects/${projectId}/earnings`), 200, 'earnings');
}

async function impressionsOf(projectId: string): Promise<number> {
  const report = await ok(gw.admin('GET', `/projects/${projectId}/analytics`), 200, 'analytics');
  return report.totals.impressions;
}

const cpcCosts = (w: { transactions: any[] }) => w.transactions.filter((t) => t.type === 'cpc_cost');

/** The part after the organic answer: a labeled Kanbanix promotion with a tracked link on this gateway. */
function expectPromotion(content: string, impressionId?: string | null): string {
  expect(content.startsWith(ORGANIC)).toBe(true);
  const extra = content.slice(ORGANIC.length);
  expect(extra).toStartWith(PROMO_LABEL);
  expect(extra).toContain(`[${KANBANIX.name}](`);
  const link = trackedLink(extra);
  expect(link).not.toBeNull();
  expect(link!).toStartWith(`${gw.url}/r/imp_`);
  if (impressionId !== undefined) {
    expect(impressionId).toMatch(/^imp_[0-9A-Za-z]{20}$/);
    expect(link!).toStartWith(`${gw.url}/r/${impressionId}.`);
  }
  // Only the product name is linked, and it is the only link.
  expect(extra.match(/\]\(/g)?.length).toBe(1);
  return link!;
}

const click = (link: string, userAgent: string) => fetch(link, { redirect: 'manual', headers: { 'user-agent': userAgent } });

/**
 * Five concurrent browser clicks: all redirect to the product, exactly one charge, 70 % (floored) pending for the
 * publisher; link previews and scripts afterwards are redirected but charge nothing.
 */
async function expectChargedOnce(link: string, publisherId: string) {
  const before = await gw.wallet(advertiserId);
  const earningsBefore = await earnings(publisherId);
  const clicks = await Promise.all(Array.from({ length: 5 }, () => click(link, BROWSER_UA)));
  for (const c of clicks) {
    expect(c.status).toBe(302);
    expect(c.headers.get('location')).toBe(KANBANIX.url);
    await c.arrayBuffer();
  }
  const after = await gw.wallet(advertiserId);
  const charged = before.balance_micros - after.balance_micros;
  expect(charged).toBeGreaterThan(0);
  expect(charged).toBeLessThanOrEqual(MAX_CPC_MICROS);
  expect(cpcCosts(after).length - cpcCosts(before).length).toBe(1);
  expect(cpcCosts(after)[0]).toMatchObject({ type: 'cpc_cost', amount_micros: -charged });
  const earned = await earnings(publisherId);
  expect(earned.pending_micros - earningsBefore.pending_micros).toBe(Math.floor(charged * PUBLISHER_SHARE));
  expect(earned.available_micros).toBe(0);

  for (const ua of ['Slackbot-LinkExpanding 1.0', 'curl/8.5.0']) {
    const res = await click(link, ua);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(KANBANIX.url);
  }
  expect((await gw.wallet(advertiserId)).balance_micros).toBe(after.balance_micros);
  expect((await earnings(publisherId)).pending_micros).toBe(earned.pending_micros);
  return charged;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // Each prompt carries a random marker (a UUID). The classifiers read an identifier-like run as one word whatever
  // its characters (src/ads/classifier-features.ts), so the marker no longer moves the intent score and these tests
  // run at the shipped gates (before that, its hex n-grams moved the score across the threshold and a pin was needed).
  gw = await startGateway({ upstreamUrl: upstream.baseUrl });
  advertiserId = await createAdvertiser();
});

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

describe('promotions through the binary: openai SDK', () => {
  test('non-stream: organic answer byte for byte, then a labeled promotion; the link is charged once for 5 concurrent clicks', async () => {
    const pub = await createPublisher();
    upstream.script({ kind: 'normal', content: ORGANIC });
    const { data, response } = await openai(pub)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: ask('ns') }] })
      .withResponse();
    expect(response.status).toBe(200);
    const content = data.choices[0].message.content!;
    const link = expectPromotion(content, response.headers.get('x-vexrail-impression'));
    expect(data.choices[0].finish_reason).toBe('stop');
    // Usage covers the organic answer only.
    expect(data.usage!.completion_tokens).toBe(words(ORGANIC));
    // The upstream was asked the unchanged question.
    expect(upstream.requests.at(-1)!.body.messages).toEqual([{ role: 'user', content: expect.stringContaining(QUESTION) }]);

    await expectChargedOnce(link, pub.id);
  });

  test('stream: organic deltas first, promotion chunk(s) with the same id before finish_reason, one tracked link', async () => {
    const pub = await createPublisher();
    upstream.script({ kind: 'normal', content: ORGANIC });
    const { data: stream, response } = await openai(pub)
      .chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: ask('stream') }] })
      .withResponse();
    expect(response.headers.get('content-type')).toStartWith('text/event-stream');
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    const finishIndex = chunks.findIndex((c) => c.choices[0]?.finish_reason);
    expect(finishIndex).toBeGreaterThan(0);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    const deltas = chunks.slice(0, finishIndex).map((c) => c.choices[0].delta.content ?? '');
    const text = deltas.join('');
    const link = expectPromotion(text, response.headers.get('x-vexrail-impression'));
    // The organic part arrived as its own chunks, untouched: the promotion starts on a chunk boundary.
    let organicChunks = 0;
    for (let acc = ''; acc.length < ORGANIC.length; organicChunks++) acc += deltas[organicChunks];
    expect(deltas.slice(0, organicChunks).join('')).toBe(ORGANIC);
    expect(deltas.slice(organicChunks).join('')).toStartWith(PROMO_LABEL);
    // Nothing after finish_reason but the usage chunk, which counts the organic answer only.
    expect(chunks.slice(finishIndex + 1).every((c) => c.choices.length === 0)).toBe(true);
    expect(chunks.at(-1)!.usage!.completion_tokens).toBe(words(ORGANIC));
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    await expectChargedOnce(link, pub.id);
  });
});

describe('promotions through the binary: Vercel AI SDK', () => {
  test('generateText: organic prefix intact, labeled promotion with a working tracked link, no warnings', async () => {
    const pub = await createPublisher();
    upstream.script({ kind: 'normal', content: ORGANIC });
    const result = await generateText({ model: aiProvider(pub).chatModel('gpt-4o-mini'), prompt: ask('ai-gen'), maxRetries: 0 });
    expect(result.finishReason).toBe('stop');
    expect(result.warnings ?? []).toEqual([]);
    const link = expectPromotion(result.text, result.response.headers?.['x-vexrail-impression']);
    expect(result.usage.outputTokens).toBe(words(ORGANIC));
    await expectChargedOnce(link, pub.id);
  });

  test('streamText: organic prefix intact, labeled promotion with a working tracked link, no error parts or warnings', async () => {
    const pub = await createPublisher();
    upstream.script({ kind: 'normal', content: ORGANIC });
    const errors: unknown[] = [];
    const result = streamText({
      model: aiProvider(pub).chatModel('gpt-4o-mini'),
      prompt: ask('ai-stream'),
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    let text = '';
    const partTypes = new Set<string>();
    for await (const part of result.fullStream) {
      partTypes.add(part.type);
      if (part.type === 'text-delta') text += part.text;
      if (part.type === 'error') errors.push(part.error);
    }
    expect(errors).toEqual([]);
    expect(partTypes.has('error')).toBe(false);
    expect(await result.finishReason).toBe('stop');
    expect((await result.warnings) ?? []).toEqual([]);
    const headers = (await result.response).headers;
    const link = expectPromotion(text, headers?.['x-vexrail-impression']);
    expect(await result.text).toBe(text);
    await expectChargedOnce(link, pub.id);
  });
});

describe('no promotion (openai SDK)', () => {
  type Case = { name: string; monetized: boolean; prompt: string; extra: Record<string, unknown>; reason: string };
  const tools = [{ type: 'function', function: { name: 'lookup', description: 'Looks something up', parameters: { type: 'object', properties: {} } } }];
  const cases: Case[] = [
    { name: 'monetization off', monetized: false, prompt: QUESTION, extra: {}, reason: 'monetization_off' },
    { name: 'JSON mode', monetized: true, prompt: QUESTION, extra: { response_format: { type: 'json_object' } }, reason: 'structured_output' },
    { name: 'tools', monetized: true, prompt: QUESTION, extra: { tools }, reason: 'tools' },
    { name: 'sensitive topic', monetized: true, prompt: SENSITIVE, extra: {}, reason: 'sensitive_topic' },
  ];

  for (const c of cases)
    test(`${c.name}: content is exactly the organic answer, no impression header (non-stream and stream)`, async () => {
      const pub = await createPublisher(c.monetized);
      const client = openai(pub);
      upstream.script({ kind: 'normal', content: ORGANIC });
      const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: ask(`nf-${c.reason}`, c.prompt) }], ...c.extra } as OpenAI.ChatCompletionCreateParamsNonStreaming;

      const { data, response } = await client.chat.completions.create(body).withResponse();
      const message = data.choices[0].message;
      expect(message.content).toBe(ORGANIC);
      expect(message.tool_calls ?? []).toEqual([]);
      expect(response.headers.get('x-vexrail-impression')).toBeNull();
      // The request reached the upstream with its gate-relevant fields intact.
      const sent = upstream.requests.at(-1)!.body;
      for (const [k, v] of Object.entries(c.extra)) expect(sent[k]).toEqual(v);

      const { data: stream, response: streamResponse } = await client.chat.completions.create({ ...body, stream: true }).withResponse();
      let text = '';
      const finishes: string[] = [];
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      }
      expect(text).toBe(ORGANIC);
      expect(finishes).toEqual(['stop']);
      expect(streamResponse.headers.get('x-vexrail-impression')).toBeNull();

      // Both requests were recorded as a no-fill with the gate's reason, and no impression.
      const report = await eventually(async () => {
        const r = await ok(gw.admin('GET', `/projects/${pub.id}/analytics`), 200, 'analytics');
        return r.no_fill?.[c.reason] === 2 ? r : null;
      }, 3_000, 50);
      expect(report).not.toBeNull();
      expect(report.no_fill).toEqual({ [c.reason]: 2 });
      expect(report.totals.impressions).toBe(0);
    });
});

describe('an impression counts only when delivered', () => {
  test('a stream aborted after the first organic chunk records 0 impressions; a completed one records 1', async () => {
    const pub = await createPublisher();
    const client = openai(pub);
    // Slow enough that the abort certainly happens long before the upstream finishes.
    upstream.script({ kind: 'normal', content: ORGANIC, chunkDelayMs: 80 });
    const requestsBefore = upstream.requests.length;
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: ask('abort') }] }, { signal: controller.signal })
      .withResponse();
    // The request did carry a promotion decision.
    expect(response.headers.get('x-vexrail-impression')).toMatch(/^imp_/);
    let received = '';
    try {
      for await (const chunk of stream) {
        received += chunk.choices[0]?.delta?.content ?? '';
        if (received.length > 0) controller.abort();
      }
    } catch (err) {
      expect(err).toBeInstanceOf(OpenAI.APIUserAbortError);
    }
    expect(ORGANIC.startsWith(received)).toBe(true);
    expect(received.length).toBeLessThan(ORGANIC.length);
    expect(received).not.toContain('Sponsored');
    const upstreamRequest = upstream.requests[requestsBefore];
    expect(await eventually(() => upstreamRequest.aborted, 3_000)).toBe(true);
    await sleep(300); // the background flush
    expect(await impressionsOf(pub.id)).toBe(0);

    upstream.script({ kind: 'normal', content: ORGANIC });
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: ask('complete') }] }))
      text += chunk.choices[0]?.delta?.content ?? '';
    expectPromotion(text);
    expect(await eventually(async () => (await impressionsOf(pub.id)) === 1, 3_000, 50)).toBe(true);
    await sleep(300);
    expect(await impressionsOf(pub.id)).toBe(1);
  });
});

// Runs last: everything above went through the process.
describe('process output', () => {
  test('no secret key, upstream key, admin token, prompt or answer content in what the binary printed', async () => {
    await eventually(() => gw.stdout().includes('"path":"/v1/chat/completions"') && gw.stdout().includes('"path":"/r/'), 2_000);
    const output = gw.stdout() + '\n' + gw.stderr();
    expect(output).toContain('"path":"/v1/chat/completions"');
    // Every prompt carried a marker; several key pairs were created.
    expect(gw.secrets().length).toBeGreaterThanOrEqual(15);
    expect(leakedSecrets(output, gw.secrets())).toEqual([]);
    // Neither the organic answer, nor the promotion, nor the product's landing page.
    expect(output).not.toContain(ORGANIC);
    expect(output).not.toContain('Sponsored');
    expect(output).not.toContain(KANBANIX.url);
    // No promotion or analytics failure was logged.
    expect(gw.stderr()).not.toContain('"level":"error"');
  });
});
