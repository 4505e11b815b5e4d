import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';

const DEFAULT_CONTENT = 'Hello from the fake upstream. It works.';
const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello please' },
];
// 3 + 3 words, plus 3 per message.
const EXPECTED_PROMPT_TOKENS = 12;

let upstream: FakeUpstream;

beforeEach(async () => {
  upstream = await startFakeUpstream();
});

afterEach(async () => {
  await upstream.close();
});

function chat(body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${upstream.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: MESSAGES, ...body }),
    ...init,
  });
}

/** Response.json() is typed `unknown`; tests read fields freely, so widen it once here. */
async function json(res: Response): Promise<any> {
  return res.json();
}

/** SSE payloads in order (the text after `data: `), or '[DONE]'. */
function ssePayloads(text: string): string[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      expect(frame.startsWith('data: ')).toBe(true);
      return frame.slice('data: '.length);
    });
}

function parsedChunks(text: string): any[] {
  return ssePayloads(text)
    .filter((payload) => payload !== '[DONE]')
    .map((payload) => JSON.parse(payload));
}

function joinedContent(chunks: any[]): string {
  return chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('');
}

async function waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error('waitFor: condition not met in time');
    await Bun.sleep(5);
  }
}

/** Reads a body chunk by chunk, recording when each arrived and how the stream ended. */
async function readAll(res: Response): Promise<{ text: string; arrivalsMs: number[]; error?: any }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const started = performance.now();
  const arrivalsMs: number[] = [];
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, arrivalsMs };
      arrivalsMs.push(performance.now() - started);
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, arrivalsMs, error };
  }
}

describe('models', () => {
  test('lists the default models', async () => {
    const res = await fetch(`${upstream.baseUrl}/models`);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.object).toBe('list');
    expect(body.data.map((m: any) => m.id)).toEqual(['gpt-4o-mini', 'fake-model']);
    expect(body.data[0].object).toBe('model');
  });

  test('lists custom models and does not consume a queued scenario', async () => {
    const custom = await startFakeUpstream({ models: ['a', 'b', 'c'] });
    try {
      custom.scriptOnce({ kind: 'status', status: 500 });
      const body = await json(await fetch(`${custom.baseUrl}/models`));
      expect(body.data.map((m: any) => m.id)).toEqual(['a', 'b', 'c']);
      const res = await fetch(`${custom.baseUrl}/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'a', messages: [] }),
      });
      expect(res.status).toBe(500);
    } finally {
      await custom.close();
    }
  });
});

describe('non-stream', () => {
  test('returns an OpenAI chat.completion with deterministic usage', async () => {
    const res = await chat({});
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = await json(res);
    expect(body.id).toStartWith('chatcmpl-fake');
    expect(body.object).toBe('chat.completion');
    expect(typeof body.created).toBe('number');
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: DEFAULT_CONTENT }, finish_reason: 'stop' },
    ]);
    expect(body.usage).toEqual({
      prompt_tokens: EXPECTED_PROMPT_TOKENS,
      completion_tokens: 7,
      total_tokens: EXPECTED_PROMPT_TOKENS + 7,
    });
  });

  test('counts text parts of multi-part message content', async () => {
    const messages = [{ role: 'user', content: [{ type: 'text', text: 'one two' }, { type: 'image_url', image_url: { url: 'x' } }] }];
    const body = await json(await chat({ messages }));
    expect(body.usage.prompt_tokens).toBe(2 + 3);
  });

  test('truncates to max_tokens words with finish_reason length', async () => {
    const body = await json(await chat({ max_tokens: 3 }));
    expect(body.choices[0].message.content).toBe('Hello from the');
    expect(body.choices[0].finish_reason).toBe('length');
    expect(body.usage.completion_tokens).toBe(3);
    expect(body.usage.total_tokens).toBe(EXPECTED_PROMPT_TOKENS + 3);
  });

  test('does not truncate when max_tokens is large enough', async () => {
    const body = await json(await chat({ max_tokens: 7 }));
    expect(body.choices[0].message.content).toBe(DEFAULT_CONTENT);
    expect(body.choices[0].finish_reason).toBe('stop');
  });

  test('uses scripted content', async () => {
    upstream.script({ kind: 'normal', content: 'custom  reply\nhere' });
    const body = await json(await chat({}));
    expect(body.choices[0].message.content).toBe('custom  reply\nhere');
    expect(body.usage.completion_tokens).toBe(3);
  });
});

describe('stream', () => {
  test('streams one word per chunk, a finish chunk and [DONE], without usage by default', async () => {
    const res = await chat({ stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    const payloads = ssePayloads(text);
    expect(payloads.at(-1)).toBe('[DONE]');
    const chunks = parsedChunks(text);
    expect(chunks).toHaveLength(7 + 1);
    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.model).toBe('gpt-4o-mini');
      expect(chunk.id).toBe(chunks[0].id);
      expect(chunk.usage).toBeUndefined();
    }
    expect(chunks[0].choices[0]).toEqual({ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null });
    expect(chunks[1].choices[0].delta).toEqual({ content: ' from' });
    expect(chunks.at(-1).choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(joinedContent(chunks)).toBe(DEFAULT_CONTENT);
  });

  test('adds a usage chunk with empty choices when include_usage is set', async () => {
    const text = await (await chat({ stream: true, stream_options: { include_usage: true } })).text();
    expect(ssePayloads(text).at(-1)).toBe('[DONE]');
    const chunks = parsedChunks(text);
    const usageChunk = chunks.at(-1);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({
      prompt_tokens: EXPECTED_PROMPT_TOKENS,
      completion_tokens: 7,
      total_tokens: EXPECTED_PROMPT_TOKENS + 7,
    });
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
  });

  test('concatenated deltas reproduce content with irregular whitespace exactly', async () => {
    const content = '  leading and\n\ntrailing  ';
    upstream.script({ kind: 'normal', content });
    const text = await (await chat({ stream: true })).text();
    expect(joinedContent(parsedChunks(text))).toBe(content);
  });

  test('truncates to max_tokens with finish_reason length and matching usage', async () => {
    const text = await (await chat({ stream: true, max_tokens: 2, stream_options: { include_usage: true } })).text();
    const chunks = parsedChunks(text);
    expect(joinedContent(chunks)).toBe('Hello from');
    expect(chunks.at(-2).choices[0].finish_reason).toBe('length');
    expect(chunks.at(-1).usage.completion_tokens).toBe(2);
  });

  test('honours chunkDelayMs between chunks', async () => {
    upstream.script({ kind: 'normal', content: 'a b c', chunkDelayMs: 30 });
    const started = performance.now();
    const text = await (await chat({ stream: true })).text();
    // 5 frames (3 words, finish, [DONE]) means 4 pauses.
    expect(performance.now() - started).toBeGreaterThanOrEqual(4 * 30 - 10);
    expect(joinedContent(parsedChunks(text))).toBe('a b c');
  });
});

describe('recording', () => {
  test('records method, path, lower-cased headers and parsed body', async () => {
    await chat({ temperature: 0.5 }, { headers: { Authorization: 'Bearer sk-test', 'X-Custom-Thing': 'Yes', 'Content-Type': 'application/json' } });
    await fetch(`${upstream.baseUrl}/models`);
    expect(upstream.requests).toHaveLength(2);
    const [post, get] = upstream.requests;
    expect(post.method).toBe('POST');
    expect(post.path).toBe('/v1/chat/completions');
    expect(post.headers.authorization).toBe('Bearer sk-test');
    expect(post.headers['x-custom-thing']).toBe('Yes');
    expect(post.body).toEqual({ model: 'gpt-4o-mini', messages: MESSAGES, temperature: 0.5 });
    expect(post.aborted).toBe(false);
    expect(get.method).toBe('GET');
    expect(get.path).toBe('/v1/models');
    expect(get.body).toBeUndefined();
  });

  test('completed requests, streamed or not, are not marked aborted', async () => {
    await (await chat({})).text();
    await (await chat({ stream: true })).text();
    await Bun.sleep(20);
    expect(upstream.requests.map((r) => r.aborted)).toEqual([false, false]);
  });

  test('answers unknown routes with 404 and bad JSON with 400, recording raw text', async () => {
    const missing = await fetch(`${upstream.url}/nope`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.message).toContain('/nope');
    const bad = await fetch(`${upstream.baseUrl}/chat/completions`, { method: 'POST', body: '{oops' });
    expect(bad.status).toBe(400);
    expect(upstream.requests[1].body).toBe('{oops');
  });
});

describe('scripting', () => {
  test('scriptOnce queues FIFO, then falls back to the script()ed scenario', async () => {
    upstream.script({ kind: 'normal', content: 'fallback' });
    upstream.scriptOnce({ kind: 'status', status: 429 });
    upstream.scriptOnce({ kind: 'status', status: 503 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await chat({});
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual([429, 503, 200, 200]);
  });
});

describe('scenarios', () => {
  test('status: default body is an OpenAI error envelope with a secret-looking message', async () => {
    upstream.script({ kind: 'status', status: 500 });
    const res = await chat({ stream: true });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/json');
    const body = await json(res);
    expect(body.error.message).toBe('upstream secret detail sk-upstream-XYZ');
    expect(body.error.type).toBe('server_error');
  });

  test('status: custom body is sent as JSON', async () => {
    upstream.script({ kind: 'status', status: 400, body: { error: { message: 'bad model', type: 'invalid_request_error' } } });
    const res = await chat({});
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ error: { message: 'bad model', type: 'invalid_request_error' } });
  });

  test('slow_first_byte: headers arrive only after delayMs, then a normal response', async () => {
    upstream.script({ kind: 'slow_first_byte', delayMs: 150, content: 'late but fine' });
    const started = performance.now();
    const res = await chat({});
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect((await json(res)).choices[0].message.content).toBe('late but fine');
  });

  test('slow_first_byte: also applies to streams', async () => {
    upstream.script({ kind: 'slow_first_byte', delayMs: 100 });
    const started = performance.now();
    const res = await chat({ stream: true });
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(joinedContent(parsedChunks(await res.text()))).toBe(DEFAULT_CONTENT);
  });

  test('gaps (stream): headers and first chunk at once, then gapMs of silence between chunks', async () => {
    upstream.script({ kind: 'gaps', gapMs: 100, content: 'one two' });
    const started = performance.now();
    const res = await chat({ stream: true });
    expect(performance.now() - started).toBeLessThan(90);
    const { text, arrivalsMs, error } = await readAll(res);
    expect(error).toBeUndefined();
    expect(arrivalsMs[0]).toBeLessThan(90);
    // 4 frames ('one', ' two', finish, [DONE]) are each separated by a gap.
    expect(arrivalsMs).toHaveLength(4);
    for (let i = 1; i < arrivalsMs.length; i++) {
      expect(arrivalsMs[i] - arrivalsMs[i - 1]).toBeGreaterThanOrEqual(90);
    }
    expect(joinedContent(parsedChunks(text))).toBe('one two');
  });

  test('gaps (non-stream): headers at once, body completes after one gap', async () => {
    upstream.script({ kind: 'gaps', gapMs: 100 });
    const started = performance.now();
    const res = await chat({});
    expect(performance.now() - started).toBeLessThan(90);
    const body = await json(res);
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
    expect(body.choices[0].message.content).toBe(DEFAULT_CONTENT);
  });

  test('disconnect_mid_stream: client gets some chunks, then the read rejects (ECONNRESET), no [DONE]', async () => {
    upstream.script({ kind: 'disconnect_mid_stream', afterChunks: 3 });
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const { text, error } = await readAll(res);
    expect(error).toBeDefined();
    expect(error.code).toBe('ECONNRESET');
    expect(text).not.toContain('[DONE]');
    const chunks = parsedChunks(text);
    expect(chunks).toHaveLength(3);
    expect(joinedContent(chunks)).toBe('Hello from the');
    expect(chunks.every((c) => c.usage === undefined && c.choices[0].finish_reason === null)).toBe(true);
    // A drop we caused is not a client abort.
    expect(upstream.requests[0].aborted).toBe(false);
  });

  test('disconnect_mid_stream: also makes res.text() reject', async () => {
    upstream.script({ kind: 'disconnect_mid_stream' });
    const res = await chat({ stream: true });
    await expect(res.text()).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  test('disconnect_mid_stream with afterChunks 0: fetch itself rejects (no headers were sent)', async () => {
    upstream.script({ kind: 'disconnect_mid_stream', afterChunks: 0 });
    await expect(chat({ stream: true })).rejects.toMatchObject({ code: 'ECONNRESET' });
  });

  test('disconnect_mid_stream (non-stream): status 200, body cut off half way', async () => {
    upstream.script({ kind: 'disconnect_mid_stream' });
    const res = await chat({});
    expect(res.status).toBe(200);
    const { text, error } = await readAll(res);
    expect(error?.code).toBe('ECONNRESET');
    expect(text).toStartWith('{"id":"chatcmpl-fake');
  });

  test('malformed_frame: valid chunks, then `data: {not json`, then a clean end without [DONE]', async () => {
    upstream.script({ kind: 'malformed_frame', afterChunks: 1 });
    const res = await chat({ stream: true });
    const { text, error } = await readAll(res);
    expect(error).toBeUndefined();
    const payloads = ssePayloads(text);
    expect(payloads).toHaveLength(2);
    expect(JSON.parse(payloads[0]).choices[0].delta.content).toBe('Hello');
    expect(payloads[1]).toBe('{not json');
    expect(text).not.toContain('[DONE]');
  });

  test('malformed_frame (non-stream): status 200 with an unparseable JSON body', async () => {
    upstream.script({ kind: 'malformed_frame' });
    const res = await chat({});
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{not json');
  });

  test('no_usage: neither non-stream nor stream (even with include_usage) carries usage', async () => {
    upstream.script({ kind: 'no_usage', content: 'no meter' });
    const body = await json(await chat({}));
    expect(body.choices[0].message.content).toBe('no meter');
    expect('usage' in body).toBe(false);
    const text = await (await chat({ stream: true, stream_options: { include_usage: true } })).text();
    expect(ssePayloads(text).at(-1)).toBe('[DONE]');
    const chunks = parsedChunks(text);
    expect(chunks.every((c) => c.usage === undefined && c.choices.length === 1)).toBe(true);
    expect(joinedContent(chunks)).toBe('no meter');
  });
});

describe('aborts and close', () => {
  test('hang: a client abort is recorded on the request', async () => {
    upstream.script({ kind: 'hang' });
    const controller = new AbortController();
    const pending = chat({}, { signal: controller.signal });
    await waitFor(() => upstream.requests.length === 1);
    expect(upstream.requests[0].aborted).toBe(false);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await waitFor(() => upstream.requests[0].aborted);
  });

  test('a client abort mid-stream is recorded on the request', async () => {
    upstream.script({ kind: 'normal', chunkDelayMs: 50 });
    const controller = new AbortController();
    const res = await chat({ stream: true }, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await waitFor(() => upstream.requests[0].aborted);
  });

  test('close() ends pending hang, slow_first_byte and gaps requests quickly without marking them aborted', async () => {
    upstream.scriptOnce({ kind: 'hang' });
    upstream.scriptOnce({ kind: 'slow_first_byte', delayMs: 60_000 });
    upstream.scriptOnce({ kind: 'gaps', gapMs: 60_000 });
    const hung = chat({}).then(
      () => 'resolved',
      (e) => e.code,
    );
    const slow = chat({}).then(
      () => 'resolved',
      (e) => e.code,
    );
    const gappy = await chat({ stream: true });
    const gappyRead = readAll(gappy);
    await waitFor(() => upstream.requests.length === 3);

    const started = performance.now();
    await upstream.close();
    expect(performance.now() - started).toBeLessThan(500);
    expect(await hung).toBe('ECONNRESET');
    expect(await slow).toBe('ECONNRESET');
    const { text, error } = await gappyRead;
    expect(error?.code).toBe('ECONNRESET');
    expect(parsedChunks(text)).toHaveLength(1);
    expect(upstream.requests.map((r) => r.aborted)).toEqual([false, false, false]);

    // Closed for good, and close() stays callable (afterEach calls it again).
    await expect(fetch(`${upstream.baseUrl}/models`)).rejects.toThrow();
    await upstream.close();
  });
});
