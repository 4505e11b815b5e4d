/**
 * The compiled binary driven by the official `openai` SDK against the scripted fake upstream:
 * completions, streams, usage, client aborts, conversation tracking, and what the process prints.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { eventually, leakedSecrets, startGateway, type Gateway, type Project } from './binary.helpers';

// Prices high enough that every token moves the balance: 100 / 200 micro-USD per prompt / answer token.
const PRICES = { 'gpt-4o-mini': { input: '100', output: '200' } };
const costMicros = (u: { prompt_tokens: number; completion_tokens: number }) => u.prompt_tokens * 100 + u.completion_tokens * 200;

let upstream: FakeUpstream;
let gw: Gateway;
let project: Project;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gw = await startGateway({ upstreamUrl: upstream.baseUrl, config: { prices: PRICES } });
  project = await gw.createProject('10.00');
  client = new OpenAI({ baseURL: gw.apiBase, apiKey: 'unused', defaultHeaders: project.headers, maxRetries: 0, timeout: 10_000 });
});

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

/** The fake upstream's token counting: one token per word, plus 3 per message. */
const words = (text: string) => (text.match(/\S+/g) ?? []).length;

describe('openai SDK against the binary', () => {
  test('non-stream: content and usage come back, and exactly that usage is charged', async () => {
    const answer = `Use a kanban board. ${gw.marker('answer')}`;
    const prompt = `Which tools help with projects? ${gw.marker('prompt')}`;
    upstream.script({ kind: 'normal', content: answer });
    const before = await gw.wallet(project.id);

    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })
      .withResponse();

    expect(response.status).toBe(200);
    expect(data.choices[0].message.content).toBe(answer);
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage).toEqual({ prompt_tokens: words(prompt) + 3, completion_tokens: words(answer), total_tokens: words(prompt) + 3 + words(answer) });
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^req_/);

    const after = await gw.wallet(project.id);
    expect(before.balance_micros - after.balance_micros).toBe(costMicros(data.usage!));
    expect(after.held_micros).toBe(0);
    expect(after.transactions[0]).toMatchObject({ type: 'consumption', amount_micros: -costMicros(data.usage!), request_id: requestId });
    // The gateway authenticated to the upstream with its own key, not the caller's.
    expect(upstream.requests.at(-1)!.headers.authorization).toBe('Bearer sk-upstream-secret-XYZ');
    expect(upstream.requests.at(-1)!.headers['x-secret-key']).toBeUndefined();
  });

  test('stream: the deltas concatenate to the upstream content and the stream ends normally, without usage', async () => {
    const answer = 'Alpha beta gamma delta, then epsilon.';
    upstream.script({ kind: 'normal', content: answer });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: `Stream please ${gw.marker('stream')}` }],
    });
    let text = '';
    const finishReasons: string[] = [];
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usageChunks++;
    }
    expect(text).toBe(answer);
    expect(finishReasons).toEqual(['stop']);
    expect(usageChunks).toBe(0);
    expect((await gw.wallet(project.id)).held_micros).toBe(0);
  });

  test('stream with stream_options.include_usage: one usage chunk with the upstream numbers', async () => {
    const answer = 'Counting these six little words.';
    const prompt = 'How many words?';
    upstream.script({ kind: 'normal', content: answer });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: prompt }],
    });
    let text = '';
    const usages: OpenAI.CompletionUsage[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usages.push(chunk.usage);
    }
    expect(text).toBe(answer);
    expect(usages).toEqual([{ prompt_tokens: words(prompt) + 3, completion_tokens: words(answer), total_tokens: words(prompt) + 3 + words(answer) }]);
  });

  test('aborting mid-stream aborts the upstream request and releases the credit hold', async () => {
    const answer = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    upstream.script({ kind: 'normal', content: answer, chunkDelayMs: 100 });
    const requestsBefore = upstream.requests.length;
    const before = await gw.wallet(project.id);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Talk for a long time' }] },
      { signal: controller.signal },
    );
    let text = '';
    let chunks = 0;
    let heldDuringStream = -1;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (++chunks === 3) {
        heldDuringStream = (await gw.wallet(project.id)).held_micros;
        controller.abort();
      }
    }
    expect(heldDuringStream).toBeGreaterThan(0);
    expect(answer.startsWith(text)).toBe(true);
    expect(text.length).toBeLessThan(answer.length);

    const upstreamRequest = upstream.requests[requestsBefore];
    expect(upstreamRequest.path).toBe('/v1/chat/completions');
    expect(await eventually(() => upstreamRequest.aborted, 3_000)).toBe(true);
    const settled = await eventually(async () => {
      const w = await gw.wallet(project.id);
      return w.held_micros === 0 ? w : null;
    }, 3_000);
    expect(settled).not.toBeNull();
    // Billed at most for what was relayed before the abort: far less than the whole answer.
    const charged = before.balance_micros - settled!.balance_micros;
    expect(charged).toBeGreaterThan(0);
    expect(charged).toBeLessThan(costMicros({ prompt_tokens: 20, completion_tokens: words(answer) }));
  });

  test('an upstream that drops mid-stream surfaces as an APIError during iteration; only the relayed part is billed', async () => {
    upstream.scriptOnce({ kind: 'disconnect_mid_stream', afterChunks: 2 });
    const before = await gw.wallet(project.id);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'This will break' }],
    });
    let text = '';
    let caught: unknown;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OpenAI.APIError);
    expect((caught as InstanceType<typeof OpenAI.APIError>).code).toBe('upstream_error');
    // The two frames sent before the drop reached the client unchanged.
    expect(text).toBe('Hello from');
    const after = await eventually(async () => {
      const w = await gw.wallet(project.id);
      return w.held_micros === 0 ? w : null;
    }, 3_000);
    expect(after).not.toBeNull();
    expect(before.balance_micros - after!.balance_micros).toBeLessThan(costMicros({ prompt_tokens: 20, completion_tokens: 10 }));
  });

  test('x-conversation-id groups both turns; GET /v1/conversations/{id} shows the messages', async () => {
    const conversationId = `conv-${crypto.randomUUID()}`;
    const first = `First question ${gw.marker('turn1')}`;
    const second = `Second question ${gw.marker('turn2')}`;
    upstream.scriptOnce({ kind: 'normal', content: 'First answer.' });
    upstream.scriptOnce({ kind: 'normal', content: 'Second answer, streamed.' });
    const opts = { headers: { 'x-conversation-id': conversationId } };

    const one = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: first }] }, opts);
    expect(one.choices[0].message.content).toBe('First answer.');
    const history = [
      { role: 'user' as const, content: first },
      { role: 'assistant' as const, content: 'First answer.' },
      { role: 'user' as const, content: second },
    ];
    let streamed = '';
    for await (const chunk of await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: history }, opts))
      streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed).toBe('Second answer, streamed.');

    // Conversations are written by a background flush (100 ms interval).
    const conversation = await eventually(async () => {
      const c = await client.get<any>(`/conversations/${conversationId}`).catch(() => null);
      return c?.message_count === 4 ? c : null;
    }, 3_000, 100);
    expect(conversation).not.toBeNull();
    expect(conversation.id).toBe(conversationId);
    expect(conversation.tracked).toBe(true);
    expect(conversation.messages.map((m: any) => [m.role, m.content])).toEqual([
      ['user', first],
      ['assistant', 'First answer.'],
      ['user', second],
      ['assistant', 'Second answer, streamed.'],
    ]);
    expect(conversation.messages[1].streamed).toBe(false);
    expect(conversation.messages[3].streamed).toBe(true);
    expect(conversation.messages[3].model).toBe('gpt-4o-mini');

    const list = await client.get<any>('/conversations');
    expect(list.data.map((c: any) => c.id)).toContain(conversationId);
  });

  test('GET /v1/models lists the configured model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['gpt-4o-mini']);
  });

  // Runs last in this file: everything above went through the process.
  test('the process output never contains a secret key, the upstream key, the admin token or message content', async () => {
    // Let the background flush write the last request-log lines.
    await eventually(() => gw.stdout().includes('/v1/models'), 2_000);
    const output = gw.stdout() + '\n' + gw.stderr();
    expect(output).toContain('"path":"/v1/chat/completions"');
    expect(gw.secrets().length).toBeGreaterThanOrEqual(7);
    expect(leakedSecrets(output, gw.secrets())).toEqual([]);
  });
});
