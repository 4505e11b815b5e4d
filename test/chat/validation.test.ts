import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let headers: Record<string, string>;
beforeAll(async () => {
  t = await createTestApp({ configFile: { limits: { maxBodyBytes: 20_000, maxMessages: 5, maxContentChars: 2_000 } } });
  headers = (await t.project('1.00')).headers;
});
afterAll(() => t.close());

const msg = [{ role: 'user', content: 'hi' }];

async function expectError(res: Response, status: number, code: string, param?: string) {
  expect(res.status).toBe(status);
  const body = await res.json() as any;
  expect(body.error.code).toBe(code);
  expect(body.statusCode).toBe(status);
  expect(body.message).toBe(body.error.message);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  if (param) expect(body.error.param).toBe(param);
}

describe('request validation', () => {
  test('400 for invalid JSON, missing model, missing or empty messages, wrong types', async () => {
    await expectError(await t.call('POST', '/v1/chat/completions', { raw: '{not json', headers }), 400, 'invalid_json');
    await expectError(await t.call('POST', '/v1/chat/completions', { raw: '[1,2]', headers }), 400, 'invalid_request_body');
    await expectError(await t.chat(headers, { messages: msg }), 400, 'missing_model', 'model');
    await expectError(await t.chat(headers, { model: 'vexrail-demo' }), 400, 'missing_messages', 'messages');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: [] }), 400, 'empty_messages', 'messages');
    await expectError(await t.chat(headers, { model: 7, messages: msg }), 400, 'invalid_type', 'model');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: 'hi' }), 400, 'invalid_type', 'messages');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: [{ role: 'robot', content: 'x' }] }), 400, 'invalid_value');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: [{ role: 'user' }] }), 400, 'missing_content');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg, stream: 'yes' }), 400, 'invalid_type', 'stream');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg, temperature: 'hot' }), 400, 'invalid_type', 'temperature');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg, max_tokens: 1.5 }), 400, 'invalid_type', 'max_tokens');
  });

  test('422 for an unknown model and values out of range', async () => {
    await expectError(await t.chat(headers, { model: 'gpt-nonexistent', messages: msg }), 422, 'model_not_found', 'model');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg, temperature: 3 }), 422, 'invalid_value', 'temperature');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg, top_p: 1.5 }), 422, 'invalid_value', 'top_p');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg, max_tokens: 0 }), 422, 'invalid_value', 'max_tokens');
  });

  test('limits: body size 413, message count and content length 400, conversation id 400', async () => {
    const big = 'x'.repeat(30_000);
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: [{ role: 'user', content: big }] }), 413, 'payload_too_large');
    const many = Array.from({ length: 6 }, () => ({ role: 'user', content: 'x' }));
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: many }), 400, 'too_many_messages');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: [{ role: 'user', content: 'y'.repeat(2_500) }] }), 400, 'content_too_long');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg }, { 'x-conversation-id': 'a'.repeat(129) }), 400, 'invalid_conversation_id');
    await expectError(await t.chat(headers, { model: 'vexrail-demo', messages: msg }, { 'x-conversation-id': 'has space' }), 400, 'invalid_conversation_id');
  });

  test('a body over the limit without content-length is refused too', async () => {
    const chunks = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify({ model: 'vexrail-demo', messages: [{ role: 'user', content: 'z'.repeat(25_000) }] })));
        c.close();
      },
    });
    const res = await t.fetch(new Request('http://127.0.0.1:8080/v1/chat/completions', { method: 'POST', headers, body: chunks }));
    await expectError(res, 413, 'payload_too_large');
  });

  test('unknown paths are 404 in the same envelope', async () => {
    await expectError(await t.call('GET', '/v1/nothing-here'), 404, 'not_found');
  });

  test('body errors come after auth and domain checks', async () => {
    const res = await t.chat({ 'x-publishable-key': 'pk_live_x', 'x-secret-key': 'sk_live_y' }, { model: 'gpt-nonexistent', messages: [] });
    expect(res.status).toBe(401);
  });
});
