import { describe, expect, test } from 'bun:test';
import { anthropicApi } from '../../src/upstream/providers/anthropic-api';
import { geminiApi } from '../../src/upstream/providers/gemini-api';
import type { ProviderApi } from '../../src/upstream/providers/provider-api';

const ctx = { model: 'm', defaultMaxTokens: 1024, id: 'chatcmpl-test', created: 1_700_000_000 };
const enc = new TextEncoder();

/** Runs `text` through the adapter's stream translation, cut into pieces at the given byte offsets. */
async function translate(api: ProviderApi, text: string, cuts: number[]): Promise<string> {
  const bytes = enc.encode(text);
  const bounds = [0, ...cuts, bytes.length];
  const source = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i + 1 < bounds.length; i++) c.enqueue(bytes.slice(bounds[i], bounds[i + 1]));
      c.close();
    },
  });
  return new Response(source.pipeThrough(api.translateStream(ctx))).text();
}

const frames = (out: string) => out.split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''));

const anthropicStream = [
  ['message_start', { type: 'message_start', message: { id: 'msg_01', type: 'message', role: 'assistant', content: [], model: 'm', usage: { input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 } } }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Héllo ✓' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'f', input: {} } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }],
  ['message_stop', { type: 'message_stop' }],
].map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');

const geminiStream = [
  { candidates: [{ content: { parts: [{ text: 'Hé' }], role: 'model' }, index: 0 }] },
  { candidates: [{ content: { parts: [{ text: 'llo ✓' }, { functionCall: { name: 'f', args: { a: 1 } } }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, thoughtsTokenCount: 2 } },
].map((d) => `data: ${JSON.stringify(d)}\r\n\r\n`).join('');

describe('stream translation', () => {
  for (const [name, api, text] of [['anthropic', anthropicApi, anthropicStream], ['gemini', geminiApi, geminiStream]] as const) {
    test(`${name}: the same OpenAI frames wherever the bytes are cut (every offset, and byte by byte)`, async () => {
      const whole = await translate(api, text, []);
      const out = frames(whole);
      expect(out.at(-1)).toBe('[DONE]');
      const chunks = out.slice(0, -1).map((f) => JSON.parse(f));
      for (const c of chunks) expect(c).toMatchObject({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'm' });
      expect(chunks[0].choices[0].delta.role).toBe('assistant');
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe('Héllo ✓');
      const calls = chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []);
      expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'f' } });
      expect(calls.map((c: any) => c.function.arguments).join('')).toBe('{"a":1}');
      expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
      const usage = chunks.at(-1);
      expect(usage.choices).toEqual([]);
      expect(usage.usage).toEqual(name === 'anthropic' ? { prompt_tokens: 15, completion_tokens: 7, total_tokens: 22 } : { prompt_tokens: 9, completion_tokens: 6, total_tokens: 15 });
      const length = enc.encode(text).length;
      for (let cut = 1; cut < length; cut++) expect(await translate(api, text, [cut])).toBe(whole);
      expect(await translate(api, text, Array.from({ length: length - 1 }, (_, i) => i + 1))).toBe(whole);
    });
  }

  test('a stream that breaks off before its end gives no [DONE] (Anthropic without message_stop, Gemini with an error)', async () => {
    const cut = anthropicStream.slice(0, anthropicStream.indexOf('event: message_stop'));
    expect(frames(await translate(anthropicApi, cut, []))).not.toContain('[DONE]');
    const failed = frames(await translate(geminiApi, `${geminiStream.split('\r\n\r\n')[0]}\r\n\r\ndata: {"error":{"code":503,"status":"UNAVAILABLE","message":"x"}}\r\n\r\n`, []));
    expect(JSON.parse(failed.at(-1)!).error.type).toBe('upstream_error');
    expect(failed).not.toContain('[DONE]');
    expect(frames(await translate(geminiApi, '', []))).toHaveLength(1);
  });
});

describe('non-stream translation', () => {
  test('anthropic: finish reasons and cache tokens', () => {
    for (const [reason, finish] of [['end_turn', 'stop'], ['stop_sequence', 'stop'], ['max_tokens', 'length'], ['tool_use', 'tool_calls'], ['refusal', 'content_filter']]) {
      const out: any = anthropicApi.translateResponse({ content: [{ type: 'text', text: 'x' }], stop_reason: reason, usage: { input_tokens: 3, cache_creation_input_tokens: 2, output_tokens: 1 } }, ctx);
      expect(out.choices[0].finish_reason).toBe(finish);
      expect(out.usage).toEqual({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 });
    }
    expect(() => anthropicApi.translateResponse({ nope: 1 }, ctx)).toThrow();
  });

  test('gemini: safety and length finishes, a blocked prompt, thinking tokens billed', () => {
    const answer = (finishReason: string) => (geminiApi.translateResponse({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason }], usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 1, thoughtsTokenCount: 4 } }, ctx) as any);
    expect(answer('MAX_TOKENS').choices[0].finish_reason).toBe('length');
    expect(answer('SAFETY').choices[0].finish_reason).toBe('content_filter');
    expect(answer('STOP').usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    const blocked: any = geminiApi.translateResponse({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 2 } }, ctx);
    expect(blocked.choices).toEqual([{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: 'content_filter' }]);
  });

  test('errors map to the statuses of an OpenAI upstream', () => {
    expect(anthropicApi.errorFrom(529, null).status).toBe(502);
    expect(anthropicApi.errorFrom(429, null).status).toBe(429);
    expect(anthropicApi.errorFrom(401, null).code).toBe('upstream_auth_failed');
    expect(geminiApi.errorFrom(400, { error: { status: 'INVALID_ARGUMENT' } }).status).toBe(400);
    expect(geminiApi.errorFrom(503, null).status).toBe(502);
  });

  test('max_tokens: the client\'s, else the answer size the hold covers', () => {
    const sent = (api: ProviderApi, body: Record<string, unknown>) => JSON.parse(api.buildRequest({ baseUrl: 'http://x', apiKey: null }, { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body }, ctx).body);
    expect(sent(anthropicApi, {}).max_tokens).toBe(1024);
    expect(sent(anthropicApi, { max_completion_tokens: 9 }).max_tokens).toBe(9);
    expect(sent(geminiApi, { max_tokens: 7 }).generationConfig.maxOutputTokens).toBe(7);
    expect(sent(geminiApi, {}).generationConfig.maxOutputTokens).toBe(1024);
    // Consecutive turns of one role are merged, as both APIs require alternation.
    expect(sent(anthropicApi, { messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }] }).messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }]);
  });
});
