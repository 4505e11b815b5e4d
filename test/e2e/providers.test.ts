/**
 * The compiled binary with several providers of different kinds: an Anthropic provider first, a Gemini one as its
 * fallback, driven by the official openai SDK.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { startFakeAnthropic, startFakeGemini, type FakeProvider } from '../helpers/fake-provider-apis';
import { startGateway, type Gateway, type Project } from './binary.helpers';

let anthropic: FakeProvider;
let gemini: FakeProvider;
let gw: Gateway;
let project: Project;
let client: OpenAI;

beforeAll(async () => {
  anthropic = startFakeAnthropic();
  gemini = startFakeGemini();
  gw = await startGateway({
    config: {
      providers: [
        { name: 'claude', kind: 'anthropic', base_url: anthropic.baseUrl, api_key: 'sk-ant-SECRET-e2e', models: ['house-model'], retries: 0, breaker: { failures: 2, cooldown_ms: 60000 } },
        { name: 'google', kind: 'gemini', base_url: gemini.baseUrl, api_key: 'AIza-SECRET-e2e', models: ['house-model'] },
      ],
      prices: { 'house-model': { input: '1.00', output: '2.00' } },
      aliases: { house: 'house-model' },
      max_output_tokens: { 'house-model': 4096 },
    },
  });
  project = await gw.createProject('10.00');
  client = new OpenAI({ baseURL: gw.apiBase, apiKey: 'unused', defaultHeaders: project.headers, maxRetries: 0 });
});
afterAll(async () => {
  await gw?.stop();
  await anthropic?.close();
  await gemini?.close();
});

describe('binary: Anthropic and Gemini providers with failover', () => {
  test('Anthropic answers in OpenAI shape, streamed and not; the alias resolves', async () => {
    anthropic.script({ kind: 'text', content: 'From Claude.' });
    const { data, response } = await client.chat.completions.create({ model: 'house', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-vexrail-provider')).toBe('claude');
    expect(data.choices[0].message.content).toBe('From Claude.');
    expect(anthropic.requests.at(-1)!.body).toMatchObject({ model: 'house-model', max_tokens: 4096 });
    const stream = await client.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('From Claude.');
  });

  test('Anthropic overloaded: Gemini serves; after two failures the breaker skips Anthropic, and /readyz shows it', async () => {
    anthropic.script({ kind: 'status', status: 529 });
    gemini.script({ kind: 'text', content: 'From Gemini.' });
    for (let i = 0; i < 2; i++) {
      const { data, response } = await client.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      expect(response.headers.get('x-vexrail-provider')).toBe('google');
      expect(data.choices[0].message.content).toBe('From Gemini.');
    }
    const before = anthropic.requests.length;
    const { response } = await client.chat.completions.create({ model: 'house-model', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.headers.get('x-vexrail-provider')).toBe('google');
    expect(anthropic.requests.length).toBe(before);
    const ready = await (await fetch(`${gw.url}/readyz`)).json() as any;
    expect(ready.providers.find((p: any) => p.name === 'claude')).toMatchObject({ kind: 'anthropic', state: 'open', consecutive_failures: 2 });
    expect((await gw.wallet(project.id)).held_micros).toBe(0);
    expect(gw.stdout() + gw.stderr()).not.toContain('SECRET-e2e');
  });
});
