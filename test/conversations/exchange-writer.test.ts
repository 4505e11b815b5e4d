/**
 * The exchange writer's thread (src/conversations/exchange-writer.ts): the shared write gate's protocol, the real
 * thread storing conversations on a file database while charges are group-committed on the event loop, and the
 * fall-back to the event loop when the thread cannot work.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/app';
import type { ExchangeRecord } from '../../src/chat/chat.service';
import { loadConfig } from '../../src/config/config';
import { startExchangeWriter } from '../../src/conversations/exchange-writer';
import { createRuntime } from '../../src/runtime';
import { openStore } from '../../src/store/database';
import { openServingStore } from '../../src/store/open';
import { createWriteGate, W_HOLD, W_MAIN, W_WAITING, W_WRITER, WRITER_WORDS } from '../../src/store/write-gate';

const ADMIN = 'exchange-writer-admin-token-0123456789';
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'vexrail-xwriter-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('write gate shared with a writer thread', () => {
  test('a gated write waits while the thread is in a transaction, and runs when it says it left', async () => {
    const gate = createWriteGate();
    const words = new Int32Array(new SharedArrayBuffer(WRITER_WORDS * 4));
    gate.attachWriter(words);
    expect(gate.enter()).toBe(true);
    expect(Atomics.load(words, W_MAIN)).toBe(1);
    gate.leave();
    expect(Atomics.load(words, W_MAIN)).toBe(0);

    Atomics.store(words, W_WRITER, 1);
    expect(gate.held).toBe(true);
    expect(gate.enter()).toBe(false);
    expect(Atomics.load(words, W_MAIN)).toBe(0); // a refused enter leaves nothing marked
    let ran = 0;
    gate.whenOpen(() => {
      ran++;
      // The write runs marked, so the thread cannot begin a transaction meanwhile.
      expect(Atomics.load(words, W_MAIN)).toBe(1);
    });
    await Bun.sleep(1);
    expect(ran).toBe(0);
    expect(Atomics.load(words, W_WAITING)).toBe(1); // the thread is asked to say when it leaves
    Atomics.store(words, W_WRITER, 0);
    gate.wake();
    expect(ran).toBe(1);
    expect(Atomics.load(words, W_MAIN)).toBe(0);
  });

  test("the checkpointer's hold holds the thread too, and the hold is acknowledged only once the thread is out", async () => {
    const gate = createWriteGate();
    const words = new Int32Array(new SharedArrayBuffer(WRITER_WORDS * 4));
    gate.attachWriter(words);
    Atomics.store(words, W_WRITER, 1);
    gate.hold(10_000);
    expect(Atomics.load(words, W_HOLD)).toBe(1);
    let acknowledged = false;
    gate.whenWriterIdle(() => (acknowledged = true));
    await Bun.sleep(1);
    expect(acknowledged).toBe(false);
    Atomics.store(words, W_WRITER, 0);
    gate.wake();
    expect(acknowledged).toBe(true);
    let ran = false;
    gate.whenOpen(() => (ran = true));
    expect(ran).toBe(false); // still held by the checkpointer
    gate.open();
    expect(Atomics.load(words, W_HOLD)).toBe(0);
    expect(ran).toBe(true);
  });
});

function record(i: number, conversationId: string | null): ExchangeRecord {
  return {
    requestId: `req_test_${String(i).padStart(6, '0')}`, projectId: 'proj_x', conversationId,
    request: { body: { model: 'm', messages: [{ role: 'user', content: `question ${i}` }], tools: [{ big: 'x'.repeat(100) }] }, stream: false, wantsUsage: false, maxTokens: null, maxTokensField: 'max_tokens', endUser: null, metadata: null },
    answerText: `answer ${i}`, model: 'm', usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 }, costMicros: 7,
    latencyMs: 1, streamed: false, status: 200, errorCode: null, createdAtMs: Date.now(),
  };
}

describe('the thread on a real database', () => {
  test('stores batches written from the event loop, in order, on its own connection', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    const now = Date.now();
    store.db.query(`INSERT INTO projects (id, name, domain, verification_token, created_at, updated_at) VALUES ('proj_x', 'x', 'x.example', 't', ?, ?)`).run(now, now);
    const { writeGateOf } = await import('../../src/store/write-gate');
    const fallback: ExchangeRecord[][] = [];
    const writer = startExchangeWriter({ dbPath: store.path, gate: writeGateOf(store.db), fallback: async (r) => void fallback.push(r) });
    // Three turns of one tracked conversation, each batch after the one before, and 300 untracked exchanges.
    await writer.write([record(1, 'conv-a')]);
    await writer.write([record(2, 'conv-a'), ...Array.from({ length: 300 }, (_, i) => record(100 + i, null))]);
    await writer.write([record(3, 'conv-a')]);
    await writer.stop();
    expect(fallback).toHaveLength(0);
    const conv = store.db.query(`SELECT message_count FROM conversations WHERE project_id = 'proj_x' AND id = 'conv-a'`).get() as { message_count: number };
    expect(conv.message_count).toBe(6);
    const contents = (store.db.query(`SELECT content FROM messages WHERE conversation_id = 'conv-a' ORDER BY seq`).all() as { content: string }[]).map((r) => r.content);
    expect(contents).toEqual(['question 1', 'answer 1', 'question 2', 'answer 2', 'question 3', 'answer 3']);
    expect((store.db.query(`SELECT count(*) AS n FROM conversations WHERE tracked = 0`).get() as { n: number }).n).toBe(300);
    store.close();
  });

  test('a thread that cannot open the database fails once, loudly, and later batches are written on the event loop', async () => {
    const dir = tempDir();
    const store = openStore(dir);
    const { writeGateOf } = await import('../../src/store/write-gate');
    const fallback: ExchangeRecord[][] = [];
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => void errors.push(String(line));
    try {
      const writer = startExchangeWriter({ dbPath: join(dir, 'missing-dir', 'x.db'), gate: writeGateOf(store.db), fallback: async (r) => void fallback.push(r) });
      // The first batch is posted before the failure is known: it is reported lost (counted by the queue), not dropped silently.
      const first = await writer.write([record(1, null)]).then(() => 'stored', (err) => String(err));
      expect(first).toContain('unable to open database');
      for (let i = 0; i < 100 && errors.length === 0; i++) await Bun.sleep(5);
      await writer.write([record(2, null)]);
      expect(fallback.map((b) => b.map((r) => r.requestId))).toEqual([['req_test_000002']]);
      await writer.stop();
    } finally {
      console.error = original;
      store.close();
    }
    expect(errors.some((l) => l.includes('exchange writer thread failed'))).toBe(true);
  });
});

describe('the served runtime with the thread', () => {
  test('concurrent chats: every exchange stored by the thread, every charge committed on the event loop, money exact', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => void errors.push(String(line));
    const config = loadConfig({ argv: ['--data-dir', dir], env: { VEXRAIL_ADMIN_TOKEN: ADMIN }, readFile: () => '{}', defaultDataParent: '/tmp' });
    const opened = await openServingStore(config);
    expect(opened.startExchangeWriter).toBeDefined();
    const rt = await createRuntime(config, opened.store, { resolver: async () => [], logSink: () => {}, demoChunkDelayMs: 0, startExchangeWriter: opened.startExchangeWriter });
    await rt.ready();
    const { fetch } = createApp(rt);
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(new Request(`http://127.0.0.1:8080${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) }));
      return { status: res.status, body: (await res.json()) as any };
    };
    const admin = { authorization: `Bearer ${ADMIN}` };
    const project = await call('POST', '/admin/v1/projects', { name: 'Writer', domain: 'writer.example.com' }, admin);
    const id = project.body.id as string;
    await call('POST', `/admin/v1/projects/${id}/domain/verify`, { method: 'manual' }, admin);
    await call('POST', `/admin/v1/projects/${id}/credits`, { amount: '5.00' }, admin);
    const keys = await call('POST', `/admin/v1/projects/${id}/keys`, { name: 'k' }, admin);
    const auth = { 'x-publishable-key': keys.body.publishable_key, 'x-secret-key': keys.body.secret_key };
    const model = rt.catalog.ids()[0];

    // 20 conversations of 5 turns each (the whole history resent), and 200 untracked requests, all at once.
    const conversation = async (c: number) => {
      const history: { role: string; content: string }[] = [];
      for (let t = 0; t < 5; t++) {
        history.push({ role: 'user', content: `conversation ${c} turn ${t}` });
        const res = await call('POST', '/v1/chat/completions', { model, messages: history }, { ...auth, 'x-conversation-id': `conv-${c}` });
        expect(res.status).toBe(200);
        history.push({ role: 'assistant', content: res.body.choices[0].message.content });
      }
    };
    const single = async (i: number) => {
      const res = await call('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: `single ${i}` }] }, auth);
      expect(res.status).toBe(200);
    };
    await Promise.all([...Array.from({ length: 20 }, (_, c) => conversation(c)), ...Array.from({ length: 200 }, (_, i) => single(i))]);
    await rt.flushAll();

    const db = opened.store.sqlite!;
    const n = (sql: string) => (db.query(sql).get() as { n: number }).n;
    expect(n(`SELECT count(*) AS n FROM conversations WHERE tracked = 1`)).toBe(20);
    expect(n(`SELECT count(*) AS n FROM conversations WHERE tracked = 0`)).toBe(200);
    // Each turn stored once: 5 questions and 5 answers per conversation, a question and an answer per request.
    expect(n(`SELECT count(*) AS n FROM messages`)).toBe(20 * 10 + 200 * 2);
    expect(n(`SELECT min(message_count) AS n FROM conversations WHERE tracked = 1`)).toBe(10);
    // Money: one consumption per answered request, and the balance is the top-up less their sum.
    expect(n(`SELECT count(*) AS n FROM ledger_entries WHERE type = 'consumption'`)).toBe(300);
    const spent = n(`SELECT -sum(amount_micros) AS n FROM ledger_entries WHERE type = 'consumption'`);
    const answered = n(`SELECT sum(cost_micros) AS n FROM messages WHERE role = 'assistant'`);
    expect(spent).toBe(answered);
    expect(n(`SELECT balance_micros AS n FROM wallets WHERE project_id = '${id}'`)).toBe(5_000_000 - spent);
    const listed = await call('GET', '/v1/conversations/conv-7', undefined, auth);
    expect(listed.body.messages.map((m: any) => m.content).filter((c: string) => c.startsWith('conversation'))).toEqual([0, 1, 2, 3, 4].map((t) => `conversation 7 turn ${t}`));

    await rt.stop();
    await opened.stopBackground();
    await opened.close();
    console.error = original;
    // The thread did the writing: it never failed over to the event loop.
    expect(errors.filter((l) => l.includes('exchange writer'))).toEqual([]);
  }, 30_000);
});
