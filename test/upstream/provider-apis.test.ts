/**
 * Anthropic and Gemini providers through the gateway: the official openai SDK and the Vercel AI SDK read the
 * translated answers unmodified, streamed and not, with tool calls; charges come from the provider's counts;
 * failover crosses provider kinds; fields a provider can't express are a 400 naming them.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { tokenCostMicros } from '../../src/money/money';
import { startFakeAnthropic, startFakeGemini, type FakeProvider } from '../helpers/fake-provider-apis';
import { createTestApp, readSse, type TestApp } from '../helpers/test-app';

const PRICES = {
  'claude-sonnet-4-5': { input: '3.00', output: '15.00' },
  'gemini-2.5-flash': { input: '0.30', output: '2.50' },
  'either-model': { input: '1.00', output: '2.00' },
};
const MICROS = {
  'claude-sonnet-4-5': { inputMicrosPerMTok: 3_000_000, outputMicrosPerMTok: 15_000_000 },
  'gemini-2.5-flash': { inputMicrosPerMTok: 300_000, outputMicrosPerMTok: 2_500_000 },
};

let anthropic: FakeProvider;
let gemini: FakeProvider;
let t: TestApp;
let p: Awaited<ReturnType<TestApp['project']>>;
let server: ReturnType<typeof Bun.serve>;
let client: OpenAI;

beforeAll(async () => {
  anthropic = startFakeAnthropic();
  gemini = startFakeGemini();
  t = await createTestApp({
    configFile: {
      providers: [
        { name: 'claude', kind: 'anthropic', base_url: anthropic.baseUrl, api_key: 'sk-ant-SECRET', models: ['claude-sonnet-4-5', 'either-model'], retries: 0 },
        { name: 'google', kind: 'gemini', base_url: gemini.baseUrl, api_key: 'AIza-SECRET', models: ['gemini-2.5-flash', 'either-model'], retries: 0 },
      ],
      prices: PRICES,
      max_output_tokens: { 'claude-sonnet-4-5': 8192 },
    },
  });
  p = await t.project('10.00');
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: t.fetch });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'unused', defaultHeaders: p.headers, maxRetries: 0 });
});
afterAll(async () => {
  server.stop(true);
  await t.close();
  await anthropic.close();
  await gemini.close();
});

const last = (f: FakeProvider) => f.requests.filter((r) => r.method === 'POST').at(-1)!;
const vercel = (includeUsage = true) => createOpenAICompatible({ name: 'vexrail', baseURL: `http://127.0.0.1:${server.port}/v1`, apiKey: 'unused', headers: p.headers, includeUsage });

/** Reads an openai SDK stream to its end: the text, the last finish reason, the usage chunk's usage. */
async function drain(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, finish, usage };
}

async function spent(run: () => Promise<unknown>): Promise<number> {
  await t.rt.flushAll();
  const before = (await t.rt.wallet.view(p.id, 1, null)).balance_micros;
  await run();
  await t.rt.flushAll();
  const after = await t.rt.wallet.view(p.id, 1, null);
  expect(after.held_micros).toBe(0);
  return before - after.balance_micros;
}

describe('Anthropic Messages API provider', () => {
  test('openai SDK, non-stream: the request is translated, the answer and its usage come back in OpenAI shape, charged from the provider\'s counts', async () => {
    anthropic.script({ kind: 'text', content: 'Kanban boards help small teams.' });
    let completion!: OpenAI.Chat.Completions.ChatCompletion;
    const cost = await spent(async () => {
      const { data, response } = await client.chat.completions.create({
        model: 'claude-sonnet-4-5',
        messages: [{ role: 'system', content: 'Be brief.' }, { role: 'developer', content: 'No lists.' }, { role: 'user', content: 'What helps a team plan?' }],
        temperature: 0.2, stop: 'END', user: 'end-user-7',
      }).withResponse();
      completion = data;
      expect(response.headers.get('x-vexrail-provider')).toBe('claude');
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toStartWith('chatcmpl-');
    expect(completion.model).toBe('claude-sonnet-4-5');
    expect(completion.choices[0].message.content).toBe('Kanban boards help small teams.');
    expect(completion.choices[0].finish_reason).toBe('stop');
    const sent = last(anthropic);
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('sk-ant-SECRET');
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toEqual({
      model: 'claude-sonnet-4-5', max_tokens: 8192, system: 'Be brief.\n\nNo lists.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What helps a team plan?' }] }],
      temperature: 0.2, stop_sequences: ['END'], metadata: { user_id: 'end-user-7' },
    });
    // The fake counts a word a token, +3 per message: the charge is the provider's count at the model's price.
    expect(completion.usage).toEqual({ prompt_tokens: 4 + 5 + 3, completion_tokens: 5, total_tokens: 17 });
    expect(cost).toBe(tokenCostMicros(12, 5, MICROS['claude-sonnet-4-5']));
  });

  test('openai SDK, stream with include_usage: content deltas, finish reason, the usage chunk and [DONE]', async () => {
    anthropic.script({ kind: 'text', content: 'One two three four.' });
    const { text, finish, usage } = await drain(await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Count to four' }], stream: true, stream_options: { include_usage: true }, max_tokens: 50 }));
    expect(text).toBe('One two three four.');
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
    expect(last(anthropic).body).toMatchObject({ stream: true, max_tokens: 50 });
  });

  test('tool calls round-trip: a tool_use answer is an OpenAI tool call, and the tool result goes back as tool_result', async () => {
    anthropic.script({ kind: 'tool', name: 'get_weather', args: { city: 'Lima' }, content: '' });
    const tools: OpenAI.Chat.Completions.ChatCompletionFunctionTool[] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const first = await client.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Weather in Lima?' }], tools, tool_choice: 'required', parallel_tool_calls: false });
    const call = first.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(first.choices[0].message.content).toBeNull();
    expect(call.id).toStartWith('toolu_');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Lima' });
    expect(last(anthropic).body.tools).toEqual([{ name: 'get_weather', input_schema: tools[0].function.parameters, description: 'Weather by city' }]);
    expect(last(anthropic).body.tool_choice).toEqual({ type: 'any', disable_parallel_tool_use: true });
    anthropic.script({ kind: 'text', content: 'Sunny in Lima.' });
    const second = await client.chat.completions.create({
      model: 'claude-sonnet-4-5', tools,
      messages: [{ role: 'user', content: 'Weather in Lima?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny"}' }],
    });
    expect(second.choices[0].message.content).toBe('Sunny in Lima.');
    expect(last(anthropic).body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather in Lima?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: call.id, name: 'get_weather', input: { city: 'Lima' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '{"sky":"sunny"}' }] },
    ]);
  });

  test('streamed tool calls reach the openai SDK as one call with its whole arguments', async () => {
    anthropic.script({ kind: 'tool', name: 'lookup', args: { sku: 'KB-1', qty: 2 } });
    const stream = client.chat.completions.stream({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'Look up KB-1' }], tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }], stream: true });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(final.choices[0].message.content).toBe('Hello from the fake Anthropic model.');
    expect(JSON.parse(call.function.arguments)).toEqual({ sku: 'KB-1', qty: 2 });
    expect(final.choices[0].finish_reason).toBe('tool_calls');
  });

  test('Vercel AI SDK: generateText and streamText with usage, and a tool call', async () => {
    anthropic.script({ kind: 'text', content: 'Plan with a shared board.' });
    const generated = await generateText({ model: vercel().chatModel('claude-sonnet-4-5'), prompt: 'How do we plan?', maxRetries: 0 });
    expect(generated.text).toBe('Plan with a shared board.');
    expect(generated.finishReason).toBe('stop');
    expect(generated.usage.inputTokens).toBe(7);
    expect(generated.usage.outputTokens).toBe(5);
    const streamed = streamText({ model: vercel().chatModel('claude-sonnet-4-5'), prompt: 'How do we plan?', maxRetries: 0 });
    let text = '';
    for await (const piece of streamed.textStream) text += piece;
    expect(text).toBe('Plan with a shared board.');
    expect((await streamed.usage).outputTokens).toBe(5);
    anthropic.script({ kind: 'tool', name: 'weather', args: { city: 'Oslo' }, content: '' });
    const withTool = await generateText({
      model: vercel().chatModel('claude-sonnet-4-5'), prompt: 'Weather in Oslo?', maxRetries: 0,
      tools: { weather: tool({ description: 'Weather', inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }) }) },
    });
    expect(withTool.finishReason).toBe('tool-calls');
    expect(withTool.toolCalls[0]).toMatchObject({ toolName: 'weather', input: { city: 'Oslo' } });
  });

  test('fields Anthropic cannot express are a 400 naming them, and nothing is sent or charged', async () => {
    const before = anthropic.requests.length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ n: 2 }, 'n'], [{ logprobs: true }, 'logprobs'], [{ temperature: 1.5 }, 'temperature'], [{ seed: 7 }, 'seed'],
      [{ response_format: { type: 'json_object' } }, 'response_format'], [{ frequency_penalty: 0.5 }, 'frequency_penalty'],
      [{ logit_bias: { '50256': -100 } }, 'logit_bias'],
      [{ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }, 'messages[0].content[0].type'],
    ];
    const cost = await spent(async () => {
      for (const [extra, param] of cases) {
        const res = await t.chat(p.headers, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], ...extra });
        expect(res.status).toBe(400);
        const body = (await res.json()) as any;
        expect([body.error.code, body.error.param]).toEqual(['unsupported_parameter', param]);
        expect(body.error.message).toContain('anthropic');
      }
    });
    expect(cost).toBe(0);
    expect(anthropic.requests.length).toBe(before);
  });

  test('errors: 529 overloaded and a mid-stream error event; the provider\'s message never reaches the client', async () => {
    anthropic.scriptOnce({ kind: 'status', status: 529 });
    const res = await t.chat(p.headers, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    expect(await res.text()).not.toContain('secret');
    anthropic.scriptOnce({ kind: 'status', status: 400 });
    expect((await t.chat(p.headers, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(400);
    anthropic.scriptOnce({ kind: 'stream_error' });
    const streamed = await t.chat(p.headers, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }], stream: true });
    const { frames } = await readSse(streamed);
    expect(JSON.parse(frames.at(-1)!).error.type).toBe('upstream_error');
    expect(frames).not.toContain('[DONE]');
    await t.rt.flushAll();
    expect((await t.rt.wallet.view(p.id, 1, null)).held_micros).toBe(0);
  });
});

describe('Gemini provider', () => {
  test('openai SDK, non-stream and stream: translated request, OpenAI answers, usage from usageMetadata', async () => {
    gemini.script({ kind: 'text', content: 'Try a shared calendar.' });
    const cost = await spent(async () => {
      const completion = await client.chat.completions.create({
        model: 'gemini-2.5-flash', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'What helps me plan?' }],
        temperature: 1.4, top_p: 0.9, stop: ['END'], seed: 3, max_completion_tokens: 200, response_format: { type: 'json_object' },
      });
      expect(completion.choices[0].message.content).toBe('Try a shared calendar.');
      expect(completion.usage).toEqual({ prompt_tokens: 2 + 4 + 3, completion_tokens: 4, total_tokens: 13 });
    });
    expect(cost).toBe(tokenCostMicros(9, 4, MICROS['gemini-2.5-flash']));
    const sent = last(gemini);
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(sent.headers['x-goog-api-key']).toBe('AIza-SECRET');
    expect(sent.body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'What helps me plan?' }] }],
      generationConfig: { maxOutputTokens: 200, temperature: 1.4, topP: 0.9, stopSequences: ['END'], seed: 3, responseMimeType: 'application/json' },
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
    });
    gemini.script({ kind: 'text', content: 'Alpha beta gamma.' });
    const { text, finish, usage } = await drain(await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Three words' }], stream: true, stream_options: { include_usage: true } }));
    expect(text).toBe('Alpha beta gamma.');
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(last(gemini).path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(last(gemini).search).toBe('?alt=sse');
  });

  test('function calls: an answer with a functionCall is an OpenAI tool call; the tool result goes back as functionResponse', async () => {
    gemini.script({ kind: 'tool', name: 'get_weather', args: { city: 'Quito' }, content: '' });
    const tools: OpenAI.Chat.Completions.ChatCompletionFunctionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const first = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'Weather in Quito?' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    const call = first.choices[0].message.tool_calls![0] as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Quito' });
    expect(last(gemini).body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: tools[0].function.parameters }] }]);
    expect(last(gemini).body.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });
    gemini.script({ kind: 'text', content: 'Cloudy in Quito.' });
    await client.chat.completions.create({ model: 'gemini-2.5-flash', tools, messages: [{ role: 'user', content: 'Weather in Quito?' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'cloudy' }] });
    expect(last(gemini).body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Quito?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Quito' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { result: 'cloudy' } } }] },
    ]);
  });

  test('Vercel AI SDK reads Gemini answers, streamed and not; n > 1 gives one choice per candidate', async () => {
    gemini.script({ kind: 'text', content: 'Use a planner.' });
    const generated = await generateText({ model: vercel().chatModel('gemini-2.5-flash'), prompt: 'Plan?', maxRetries: 0 });
    expect(generated.text).toBe('Use a planner.');
    expect(generated.usage.outputTokens).toBe(3);
    const streamed = streamText({ model: vercel().chatModel('gemini-2.5-flash'), prompt: 'Plan?', maxRetries: 0 });
    let text = '';
    for await (const piece of streamed.textStream) text += piece;
    expect(text).toBe('Use a planner.');
    expect(await streamed.finishReason).toBe('stop');
    const two = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], n: 2 });
    expect(two.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(last(gemini).body.generationConfig.candidateCount).toBe(2);
  });

  test('images go inline; a web address and other unsupported fields are a 400 naming them', async () => {
    gemini.script({ kind: 'text', content: 'A red dot.' });
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const ok = await t.chat(p.headers, { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] });
    expect(ok.status).toBe(200);
    expect(last(gemini).body.contents[0].parts[1]).toEqual({ inlineData: { mimeType: 'image/png', data: png } });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://img.example/x.png' } }] }] }, 'messages[0].content[0].image_url.url'],
      [{ logprobs: true }, 'logprobs'], [{ logit_bias: { '1': 1 } }, 'logit_bias'], [{ parallel_tool_calls: false }, 'parallel_tool_calls'],
      [{ messages: [{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_x', content: 'orphan' }] }, 'messages[1].tool_call_id'],
    ];
    for (const [extra, param] of cases) {
      const res = await t.chat(p.headers, { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], ...extra });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.param).toBe(param);
    }
  });
});

describe('across provider kinds', () => {
  test('failover from Anthropic to Gemini: one charge at the model\'s price, the header names Gemini', async () => {
    anthropic.scriptOnce({ kind: 'status', status: 529 });
    gemini.script({ kind: 'text', content: 'Answered by the fallback.' });
    const seen: { served: string | null; usage?: OpenAI.CompletionUsage } = { served: null };
    const cost = await spent(async () => {
      const { data, response } = await client.chat.completions.create({ model: 'either-model', messages: [{ role: 'user', content: 'Who answers?' }] }).withResponse();
      seen.served = response.headers.get('x-vexrail-provider');
      seen.usage = data.usage;
      expect(data.choices[0].message.content).toBe('Answered by the fallback.');
      expect(data.model).toBe('either-model');
    });
    expect(seen.served).toBe('google');
    expect(cost).toBe(tokenCostMicros(seen.usage!.prompt_tokens, seen.usage!.completion_tokens, { inputMicrosPerMTok: 1_000_000, outputMicrosPerMTok: 2_000_000 }));
  });

  test('a request Anthropic cannot express goes to a provider of the model that can', async () => {
    gemini.script({ kind: 'text', content: 'Two of them.' });
    const res = await t.chat(p.headers, { model: 'either-model', messages: [{ role: 'user', content: 'hi' }], n: 2 });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-vexrail-provider')).toBe('google');
  });

  test('discovery reads each API\'s model list', async () => {
    const a = startFakeAnthropic({ models: ['claude-sonnet-4-5'] });
    const g = startFakeGemini({ models: ['gemini-2.5-flash', 'text-embedding-004'] });
    const d = await createTestApp({
      configFile: {
        providers: [
          { name: 'claude', kind: 'anthropic', base_url: a.baseUrl, api_key: 'k1', models: ['*'], discover: true },
          { name: 'google', kind: 'gemini', base_url: g.baseUrl, api_key: 'k2', models: ['*'], discover: true },
        ],
        prices: { ...PRICES, 'gemini-2.5-pro': { input: '1.25', output: '10.00' }, 'text-embedding-004': { input: '0', output: '0' } },
      },
    });
    try {
      const q = await d.project('1.00');
      const models = ((await (await d.call('GET', '/v1/models', { headers: q.headers })).json()) as any).data.map((m: any) => [m.id, m.owned_by]);
      expect(models.sort()).toEqual([['claude-sonnet-4-5', 'claude'], ['gemini-2.5-flash', 'google']]);
      expect(a.requests.find((r) => r.method === 'GET')!.headers['x-api-key']).toBe('k1');
      expect(g.requests.find((r) => r.method === 'GET')!.headers['x-goog-api-key']).toBe('k2');
    } finally {
      await d.close();
      await a.close();
      await g.close();
    }
  });
});
