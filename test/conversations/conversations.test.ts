import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let a: Awaited<ReturnType<TestApp['project']>>;
let b: Awaited<ReturnType<TestApp['project']>>;
beforeAll(async () => {
  t = await createTestApp();
  a = await t.project('1.00', 'Conv A');
  b = await t.project('1.00', 'Conv B');
}, 60_000);
afterAll(() => t.close(), 60_000);

const get = async (headers: Record<string, string>, path: string) => {
  const res = await t.call('GET', path, { headers });
  return { status: res.status, body: (await res.json() as any) as any };
};

describe('conversations', () => {
  test('each message is stored once although clients resend the whole history', async () => {
    const system = { role: 'system', content: 'You are helpful.' };
    const first = { role: 'user', content: 'What tools help with projects?' };
    const r1 = await (await t.chat(a.headers, { model: 'vexrail-demo', messages: [system, first], user: 'end-user-7', metadata: { plan: 'pro' } }, { 'x-conversation-id': 'conv-123' })).json() as any;
    const answer = r1.choices[0].message;
    const second = { role: 'user', content: 'And for teams?' };
    const res2 = await t.chat(a.headers, { model: 'vexrail-demo', stream: true, messages: [system, first, answer, second] }, { 'x-conversation-id': 'conv-123' });
    await res2.text();
    await t.rt.flushAll();
    const conv = await get(a.headers, '/v1/conversations/conv-123');
    expect(conv.status).toBe(200);
    expect(conv.body).toMatchObject({ id: 'conv-123', tracked: true, end_user: 'end-user-7', message_count: 5 });
    const roles = conv.body.messages.map((m: any) => m.role);
    expect(roles).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    expect(conv.body.messages[2].content).toBe(answer.content);
    const reply = conv.body.messages[2];
    expect(reply).toMatchObject({ model: 'vexrail-demo', streamed: false, end_user: 'end-user-7', metadata: { plan: 'pro' } });
    expect(reply.usage).toEqual(r1.usage);
    expect(Number(reply.cost)).toBeGreaterThan(0);
    expect(reply.latency_ms).toBeGreaterThanOrEqual(0);
    expect(conv.body.messages[4].streamed).toBe(true);
  });

  test('without x-conversation-id each request is its own interaction', async () => {
    const res = await t.chat(a.headers, { model: 'vexrail-demo', messages: [{ role: 'user', content: 'one-off' }] });
    const requestId = res.headers.get('x-request-id')!;
    await res.json() as any;
    await t.rt.flushAll();
    const conv = await get(a.headers, `/v1/conversations/${requestId}`);
    expect(conv.body).toMatchObject({ id: requestId, tracked: false, message_count: 2 });
  });

  test('list is newest first and paged; scoped to the caller\'s project; unknown id is 404', async () => {
    // Each conversation a few milliseconds newer than the one before (and than the previous test's): the list
    // orders by last update, and equal timestamps fall back to the id.
    for (const id of ['p-1', 'p-2', 'p-3']) {
      await Bun.sleep(3);
      await (await t.chat(a.headers, { model: 'vexrail-demo', messages: [{ role: 'user', content: id }] }, { 'x-conversation-id': id })).json() as any;
    }
    await t.rt.flushAll();
    const page1 = await get(a.headers, '/v1/conversations?limit=2');
    expect(page1.body.data.map((c: any) => c.id)).toEqual(['p-3', 'p-2']);
    expect(page1.body.has_more).toBe(true);
    const page2 = await get(a.headers, `/v1/conversations?limit=2&cursor=${page1.body.next_cursor}`);
    expect(page2.body.data[0].id).toBe('p-1');
    expect((await get(b.headers, '/v1/conversations/p-1')).status).toBe(404);
    expect((await get(b.headers, '/v1/conversations')).body.data).toEqual([]);
    const missing = await get(a.headers, '/v1/conversations/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('conversation_not_found');
    expect((await get(a.headers, '/v1/conversations?limit=0')).status).toBe(400);
  });

  test('the request log carries ids, tokens and cost but never content or secrets', async () => {
    const marker = 'MARKER-7f3a-do-not-log';
    await (await t.chat(a.headers, { model: 'vexrail-demo', messages: [{ role: 'user', content: marker }] })).json() as any;
    await t.rt.flushAll();
    const text = t.logLines.join('');
    expect(text).not.toContain(marker);
    expect(text).not.toContain(a.sk);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l));
    const chat = lines.find((l) => l.path === '/v1/chat/completions' && l.status === 200);
    expect(chat).toMatchObject({ project_id: a.id, model: 'vexrail-demo' });
    expect(chat.prompt_tokens).toBeGreaterThan(0);
  });
});
