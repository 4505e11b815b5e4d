/**
 * The stream relay against a real HTTP upstream whose SSE bytes each test scripts exactly: frames the
 * shared fake upstream never sends (content and usage in one chunk, a clean end without [DONE]), and a
 * stream that stays open until the gateway lets go of it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { ProviderConfig } from '../../src/config/config';
import { relayStream, type StreamOutcome } from '../../src/chat/stream-relay';
import { createUpstreamClient } from '../../src/upstream/upstream.client';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, type TestApp } from '../helpers/test-app';

type Scripted = { frames: string[]; holdOpen: boolean };
type Seen = { body: any; aborted: boolean };

const encoder = new TextEncoder();
const scripts: Scripted[] = [];
const seen: Seen[] = [];
/** Releases every stream still held open, so the server can stop. */
const releases = new Set<() => void>();
let server: ReturnType<typeof Bun.serve>;
let provider: ProviderConfig;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const record: Seen = { body: await req.json(), aborted: false };
      seen.push(record);
      req.signal.addEventListener('abort', () => (record.aborted = true), { once: true });
      const script = scripts.shift()!;
      let next = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (next < script.frames.length) return controller.enqueue(encoder.encode(script.frames[next++]));
          if (script.holdOpen)
            await new Promise<void>((resolve) => {
              releases.add(resolve);
              req.signal.addEventListener('abort', () => resolve(), { once: true });
            });
          try {
            controller.close();
          } catch {}
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
    },
  });
  provider = {
    name: 'scripted', kind: 'openai', baseUrl: `http://127.0.0.1:${server.port}/v1`, apiKey: null, models: ['m'],
    requestTimeoutMs: 30_000, firstByteTimeoutMs: 10_000, idleTimeoutMs: 30_000,
    priority: 0, weight: 1, retries: 0, retryBackoffMs: 250, breakerFailures: 5, breakerCooldownMs: 30_000, discover: false,
  };
});
afterAll(() => {
  for (const release of releases) release();
  server.stop(true);
});

const USAGE = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };

function chunk(delta: Record<string, unknown>, finishReason: string | null, usage?: typeof USAGE): string {
  const body = { id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finishReason }] };
  return `data: ${JSON.stringify(usage ? { ...body, usage } : body)}\n\n`;
}
const usageOnly = `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [], usage: USAGE })}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** Opens a scripted upstream stream through the real upstream client and relays it. */
async function relay(script: Scripted, wantsUsage: boolean) {
  scripts.push(script);
  const upstream = await createUpstreamClient({ fetch: (url, init) => fetch(url, init), demo: () => Promise.reject(new Error('unused')) })
    .open({ id: 'm', providers: [provider], price: { inputMicrosPerMTok: 0, outputMicrosPerMTok: 0 } }, { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }, null);
  let outcome: StreamOutcome | null = null;
  const body = relayStream({ upstream, wantsUsage, keepAliveMs: 60_000, idleTimeoutMs: 60_000, decoration: null, onDone: (o) => { outcome = o; } });
  return { body, record: seen.at(-1)!, outcome: () => outcome };
}

const framesOf = (text: string) => text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => b.slice(6));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition()) && performance.now() < deadline) await Bun.sleep(5);
  return condition();
}

describe('stream relay', () => {
  test('a client that cancels the stream (and nothing else) closes the upstream request', async () => {
    const { body, record, outcome } = await relay({ frames: [chunk({ role: 'assistant', content: 'Hello' }, null)], holdOpen: true }, false);
    const reader = body.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('Hello');
    expect(record.aborted).toBe(false);
    await reader.cancel();
    expect(await until(() => record.aborted)).toBe(true);
    expect(await until(() => outcome() !== null)).toBe(true);
    expect(outcome()).toMatchObject({ clientGone: true, relayedText: 'Hello' });
  });

  test('an upstream stream that ends cleanly before [DONE] gives the client an error frame, never [DONE]', async () => {
    const frames = [chunk({ role: 'assistant', content: 'Half' }, null), chunk({ content: ' an answer' }, null)];
    const { body, outcome } = await relay({ frames, holdOpen: false }, false);
    const out = framesOf(await new Response(body).text());
    expect(out).not.toContain('[DONE]');
    expect(JSON.parse(out.at(-1)!).error).toMatchObject({ code: 'upstream_error', type: 'upstream_error' });
    expect(out.slice(0, -1).map((f) => JSON.parse(f).choices[0].delta.content).join('')).toBe('Half an answer');
    expect(outcome()!.error?.code).toBe('upstream_error');
  });

  test('usage carried in a content chunk reaches only a client that asked for usage; the content always does', async () => {
    const frames = [
      chunk({ role: 'assistant', content: 'One' }, null),
      chunk({ content: ' two' }, null, USAGE),
      chunk({ content: ' three' }, 'stop', USAGE),
      DONE,
    ];
    const plain = await relay({ frames, holdOpen: false }, false);
    const out = framesOf(await new Response(plain.body).text());
    expect(out.at(-1)).toBe('[DONE]');
    const chunks = out.slice(0, -1).map((f) => JSON.parse(f));
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('One two three');
    expect(chunks.filter((c) => 'usage' in c)).toEqual([]);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    // The gateway itself still bills by the upstream's reported usage.
    expect(plain.outcome()!.usage).toEqual(USAGE);

    const asked = await relay({ frames, holdOpen: false }, true);
    const withUsage = framesOf(await new Response(asked.body).text()).slice(0, -1).map((f) => JSON.parse(f));
    expect(withUsage.some((c) => c.usage?.total_tokens === 10)).toBe(true);
    expect(withUsage.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('One two three');
  });

  test('a usage-only chunk is dropped unless asked for', async () => {
    const frames = [chunk({ role: 'assistant', content: 'Hi' }, null), chunk({}, 'stop'), usageOnly, DONE];
    const plain = framesOf(await new Response((await relay({ frames, holdOpen: false }, false)).body).text());
    expect(plain.some((f) => f.includes('"usage"'))).toBe(false);
    const asked = framesOf(await new Response((await relay({ frames, holdOpen: false }, true)).body).text());
    expect(JSON.parse(asked.at(-2)!)).toMatchObject({ choices: [], usage: USAGE });
  });
});

describe('through the gateway', () => {
  let fake: FakeUpstream;
  let t: TestApp;
  beforeAll(async () => {
    fake = await startFakeUpstream();
    t = await createTestApp({ upstreamUrl: fake.baseUrl });
  });
  afterAll(async () => {
    t.close();
    await fake.close();
  });

  test('cancelling the response body alone (no request signal) aborts the upstream and releases the hold', async () => {
    const p = await t.project('1.00');
    // After the first frame the upstream is silent far longer than the test waits: only an abort can end it.
    fake.script({ kind: 'gaps', gapMs: 20_000, content: 'a b c d e f g h' });
    const res = await t.chat(p.headers, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    const request = fake.requests.at(-1)!;
    expect(await until(() => request.aborted)).toBe(true);
    expect(await until(async () => (await t.rt.wallet.view(p.id, 1, null)).held_micros === 0)).toBe(true);
  });
});
