import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, readSse, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
let p: Awaited<ReturnType<TestApp['project']>>;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  p = await t.project('10.00');
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What tools can help me manage my projects?' }] };

describe('non-stream', () => {
  test('answers in the seed format with usage, ids and timing headers', async () => {
    upstream.script({ kind: 'normal', content: 'Try a kanban board.' });
    const res = await t.chat(p.headers, ask);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(Number(res.headers.get('x-vexrail-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(res.headers.get('server-timing')).toContain('gateway;dur=');
    const body = await res.json() as any;
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message).toEqual({ role: 'assistant', content: 'Try a kanban board.' });
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  });

  test('passes unknown OpenAI fields through untouched, sends the upstream key, ignores Authorization', async () => {
    upstream.script({ kind: 'normal' });
    const extra = { stop: ['\n\n'], n: 1, seed: 7, user: 'u-1', metadata: { a: '1' }, response_format: { type: 'text' }, tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] };
    const res = await t.chat(p.headers, { ...ask, ...extra, temperature: 0.3 }, { authorization: 'Bearer sk-whatever-openai-sdk-sends' });
    expect(res.status).toBe(200);
    const seen = upstream.requests.at(-1)!;
    for (const [k, v] of Object.entries(extra)) expect(seen.body[k]).toEqual(v);
    expect(seen.body.temperature).toBe(0.3);
    expect(seen.headers.authorization).toBe('Bearer sk-upstream-secret-XYZ');
    expect(seen.headers['x-secret-key']).toBeUndefined();
  });

  test('special-token text in a prompt is plain text, not an error', async () => {
    upstream.script({ kind: 'normal' });
    const res = await t.chat(p.headers, { ...ask, messages: [{ role: 'user', content: 'What does <|endoftext|> mean in <|im_start|> prompts?' }] });
    expect(res.status).toBe(200);
  });

  test('adds usage when the upstream sent none', async () => {
    upstream.script({ kind: 'no_usage', content: 'four words right here' });
    const body = await (await t.chat(p.headers, ask)).json() as any;
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
  });
});

describe('stream', () => {
  test('relays chunks byte for byte and ends with [DONE]; no usage chunk unless asked', async () => {
    upstream.script({ kind: 'normal', content: 'Alpha beta gamma.' });
    const res = await t.chat(p.headers, { ...ask, stream: true });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const { frames } = await readSse(res);
    expect(frames.at(-1)).toBe('[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Alpha beta gamma.');
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    // The gateway always asked the upstream for usage.
    expect(upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  test('forwards the usage chunk when the client asked for it', async () => {
    upstream.script({ kind: 'normal', content: 'One two.' });
    const { frames } = await readSse(await t.chat(p.headers, { ...ask, stream: true, stream_options: { include_usage: true } }));
    const usage = JSON.parse(frames.at(-2)!);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(2);
  });

  test('sends keep-alive comments during long upstream silences', async () => {
    const quick = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile: { keepalive_ms: 40 } });
    const q = await quick.project('1.00');
    upstream.script({ kind: 'gaps', gapMs: 150, content: 'slow words' });
    const { raw, frames } = await readSse(await quick.chat(q.headers, { ...ask, stream: true }));
    expect(raw).toContain(': keep-alive\n\n');
    expect(frames.at(-1)).toBe('[DONE]');
    quick.close();
  });

  test('a mid-stream disconnect becomes one error frame and charges what was relayed', async () => {
    upstream.script({ kind: 'disconnect_mid_stream', afterChunks: 3 });
    const before = (await t.rt.wallet.view(p.id, 1, null)).balance_micros;
    const { frames } = await readSse(await t.chat(p.headers, { ...ask, stream: true }));
    const last = JSON.parse(frames.at(-1)!);
    expect(last.error.code).toBe('upstream_error');
    expect(frames).not.toContain('[DONE]');
    const after = (await t.rt.wallet.view(p.id, 1, null));
    expect(after.held_micros).toBe(0);
    expect(after.balance_micros).toBeLessThan(before);
  });

  test('a malformed upstream frame becomes an error frame', async () => {
    upstream.script({ kind: 'malformed_frame', afterChunks: 1 });
    const { frames } = await readSse(await t.chat(p.headers, { ...ask, stream: true }));
    expect(JSON.parse(frames.at(-1)!).error.type).toBe('upstream_error');
    expect((await t.rt.wallet.view(p.id, 1, null)).held_micros).toBe(0);
  });

  test('a client abort cancels the upstream request and settles the hold', async () => {
    upstream.script({ kind: 'gaps', gapMs: 200, content: 'a b c d e f g h' });
    const controller = new AbortController();
    const res = await t.fetch(
      new Request('http://127.0.0.1:8080/v1/chat/completions', {
        method: 'POST',
        headers: { ...p.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ ...ask, stream: true }),
        signal: controller.signal,
      }),
    );
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    controller.abort();
    for (let i = 0; i < 50 && !upstream.requests.at(-1)!.aborted; i++) await Bun.sleep(10);
    expect(upstream.requests.at(-1)!.aborted).toBe(true);
    expect((await t.rt.wallet.view(p.id, 1, null)).held_micros).toBe(0);
  });
});

describe('upstream failures', () => {
  const cases: Array<[string, Parameters<FakeUpstream['script']>[0], number, string]> = [
    ['500 becomes 502', { kind: 'status', status: 500 }, 502, 'upstream_error'],
    ['503 becomes 502', { kind: 'status', status: 503 }, 502, 'upstream_error'],
    ['400 keeps its meaning', { kind: 'status', status: 400 }, 400, 'upstream_rejected_request'],
    ['429 keeps its meaning', { kind: 'status', status: 429 }, 429, 'upstream_rate_limited'],
    ['401 is the operator key: 502', { kind: 'status', status: 401 }, 502, 'upstream_auth_failed'],
  ];
  for (const [name, scenario, status, code] of cases)
    test(name, async () => {
      upstream.script(scenario);
      const res = await t.chat(p.headers, ask);
      expect(res.status).toBe(status);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe(code);
      // The upstream's raw body (with its secret-looking detail) never reaches the client.
      expect(text).not.toContain('sk-upstream');
      expect(text).not.toContain('secret detail');
      expect((await t.rt.wallet.view(p.id, 1, null)).held_micros).toBe(0);
    });

  test('connection refused is 502', async () => {
    const dead = await createTestApp({ upstreamUrl: 'http://127.0.0.1:9/v1' });
    const d = await dead.project('1.00');
    const res = await dead.chat(d.headers, ask);
    expect(res.status).toBe(502);
    expect((await res.json() as any).error.code).toBe('upstream_error');
    dead.close();
  });

  test('a hanging upstream times out with 504, and a slow first byte too', async () => {
    const slow = await createTestApp({
      upstreamUrl: upstream.baseUrl,
      configFile: { providers: [{ name: 'fake', base_url: upstream.baseUrl, models: ['gpt-4o-mini'], first_byte_timeout_ms: 100 }] },
    });
    const s = await slow.project('1.00');
    upstream.script({ kind: 'hang' });
    const hung = await slow.chat(s.headers, ask);
    expect(hung.status).toBe(504);
    expect((await hung.json() as any).error.code).toBe('upstream_timeout');
    upstream.script({ kind: 'slow_first_byte', delayMs: 300 });
    expect((await slow.chat(s.headers, { ...ask, stream: true })).status).toBe(504);
    expect((await slow.rt.wallet.view(s.id, 1, null)).held_micros).toBe(0);
    slow.close();
  });

  test('a stream that goes silent past the idle timeout ends with a timeout error frame', async () => {
    const idle = await createTestApp({
      upstreamUrl: upstream.baseUrl,
      configFile: { keepalive_ms: 20, providers: [{ name: 'fake', base_url: upstream.baseUrl, models: ['gpt-4o-mini'], idle_timeout_ms: 120 }] },
    });
    const s = await idle.project('1.00');
    upstream.script({ kind: 'gaps', gapMs: 400, content: 'x y z' });
    const { frames } = await readSse(await idle.chat(s.headers, { ...ask, stream: true }));
    expect(JSON.parse(frames.at(-1)!).error.code).toBe('upstream_timeout');
    expect((await idle.rt.wallet.view(s.id, 1, null)).held_micros).toBe(0);
    idle.close();
  });
});
