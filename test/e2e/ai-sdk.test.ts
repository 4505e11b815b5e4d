/**
 * The compiled binary driven by the Vercel AI SDK (`ai` + `@ai-sdk/openai-compatible`).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { APICallError, generateText, streamText } from 'ai';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { leakedSecrets, startGateway, type Gateway, type Project } from './binary.helpers';

let upstream: FakeUpstream;
let gw: Gateway;
let project: Project;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway({ upstreamUrl: upstream.baseUrl });
  project = await gw.createProject('10.00');
});

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

function provider(headers: Record<string, string>, includeUsage = false) {
  return createOpenAICompatible({ name: 'vexrail', baseURL: gw.apiBase, apiKey: 'unused', headers, includeUsage });
}

/** The fake upstream's token counting: one token per word, plus 3 per message. */
const words = (text: string) => (text.match(/\S+/g) ?? []).length;

describe('Vercel AI SDK against the binary', () => {
  test('generateText returns the upstream text and its usage', async () => {
    const answer = `Try a shared calendar. ${gw.marker('ai-answer')}`;
    const prompt = `What helps me plan? ${gw.marker('ai-prompt')}`;
    upstream.script({ kind: 'normal', content: answer });
    const result = await generateText({ model: provider(project.headers).chatModel('gpt-4o-mini'), prompt, maxRetries: 0 });
    expect(result.text).toBe(answer);
    expect(result.finishReason).toBe('stop');
    expect(result.usage.inputTokens).toBe(words(prompt) + 3);
    expect(result.usage.outputTokens).toBe(words(answer));
    expect(result.usage.totalTokens).toBe(words(prompt) + 3 + words(answer));
  });

  test('streamText: textStream concatenates to the content; usage arrives with includeUsage', async () => {
    const answer = 'One two three four five six seven.';
    upstream.script({ kind: 'normal', content: answer });
    const result = streamText({ model: provider(project.headers, true).chatModel('gpt-4o-mini'), prompt: 'Count to seven', maxRetries: 0 });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    expect(text).toBe(answer);
    expect(await result.finishReason).toBe('stop');
    const usage = await result.usage;
    expect(usage.inputTokens).toBe(words('Count to seven') + 3);
    expect(usage.outputTokens).toBe(words(answer));
    expect(upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  test('streamText without includeUsage: the gateway relays no usage the client did not ask for', async () => {
    upstream.script({ kind: 'normal', content: 'Short reply.' });
    const result = streamText({ model: provider(project.headers, false).chatModel('gpt-4o-mini'), prompt: 'Be brief', maxRetries: 0 });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    expect(text).toBe('Short reply.');
    expect((await result.usage).outputTokens).toBeUndefined();
    // The gateway itself still asked the upstream for usage, to bill exactly.
    expect(upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  test('a bad key pair surfaces as APICallError with statusCode 401', async () => {
    const bad = { 'x-publishable-key': project.pk, 'x-secret-key': 'sk_live_not-a-real-secret' };
    let caught: unknown;
    try {
      await generateText({ model: provider(bad).chatModel('gpt-4o-mini'), prompt: 'Hi', maxRetries: 0 });
    } catch (err) {
      caught = err;
    }
    expect(APICallError.isInstance(caught)).toBe(true);
    const err = caught as APICallError;
    expect(err.statusCode).toBe(401);
    expect(err.isRetryable).toBe(false);
    expect(JSON.parse(err.responseBody!).error.code).toBe('invalid_api_key');
    expect(err.responseHeaders?.['x-request-id']).toMatch(/^req_/);
  });

  test('no secret or message content in the process output', () => {
    expect(leakedSecrets(gw.stdout() + '\n' + gw.stderr(), gw.secrets())).toEqual([]);
  });
});
