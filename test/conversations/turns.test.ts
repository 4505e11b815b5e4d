import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { chatClient, storedTurns } from './chat-client';

let t: TestApp;
let a: Awaited<ReturnType<TestApp['project']>>;
beforeAll(async () => {
  t = await createTestApp();
  a = await t.project('5.00', 'Turns A');
}, 60_000);
afterAll(() => t.close());

const SYSTEM = 'You are a concise travel assistant.';
const user = (content: string) => ({ role: 'user', content });
const roles = (turns: Array<{ role: string }>) => turns.map((m) => m.role);

describe('conversations keep every exchanged turn', () => {
  test('a client that sends only the latest message', async () => {
    const c = chatClient(t, a.headers, 'latest-1');
    for (const q of ['Where should I go in May?', 'And in June?', 'Is Lisbon expensive?']) await c.send(q, { kind: 'latest', withSystem: false });
    const stored = await storedTurns(t, a.headers, 'latest-1');
    expect(roles(stored)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(stored).toEqual(c.transcript());
  });

  test('a latest-only client that repeats its system prompt stores the prompt once', async () => {
    const c = chatClient(t, a.headers, 'latest-sys', { system: SYSTEM });
    for (const q of ['Where should I go in May?', 'And in June?', 'Is Lisbon expensive?']) await c.send(q, { kind: 'latest', withSystem: true });
    const stored = await storedTurns(t, a.headers, 'latest-sys');
    expect(roles(stored)).toEqual(['system', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(stored).toEqual(c.transcript());
  });

  test('a changed system prompt is a new turn, not a repeat', async () => {
    const c = chatClient(t, a.headers, 'latest-sys-2', { system: SYSTEM });
    await c.send('Where should I go in May?', { kind: 'latest', withSystem: true });
    const other = { role: 'system', content: 'Answer in French.' };
    const res = await t.chat(a.headers, { model: 'vexrail-demo', messages: [other, user('Et en juin ?')] }, { 'x-conversation-id': 'latest-sys-2' });
    const answer = ((await res.json()) as any).choices[0].message.content;
    const stored = await storedTurns(t, a.headers, 'latest-sys-2');
    expect(stored).toEqual([...c.transcript(), other, user('Et en juin ?'), { role: 'assistant', content: answer }]);
  });

  test('a client that resends the whole history, also after latest-only turns (a reload that restores the transcript)', async () => {
    const c = chatClient(t, a.headers, 'full-1', { system: SYSTEM });
    await c.send('Where should I go in May?', { kind: 'full' });
    await c.send('And in June?', { kind: 'latest', withSystem: false });
    await c.send('Is Lisbon expensive?', { kind: 'full' }, { stream: true });
    await c.send('What about Porto?', { kind: 'full' });
    const stored = await storedTurns(t, a.headers, 'full-1');
    expect(stored).toHaveLength(9);
    expect(stored).toEqual(c.transcript());
  });

  test('a client that sends a sliding window of recent turns, with and without its system prompt', async () => {
    const c = chatClient(t, a.headers, 'window-1', { system: SYSTEM });
    await c.send('Where should I go in May?', { kind: 'full' });
    await c.send('And in June?', { kind: 'full' });
    await c.send('Is Lisbon expensive?', { kind: 'window', size: 2, withSystem: true });
    await c.send('What about Porto?', { kind: 'window', size: 3, withSystem: false });
    await c.send('Which one has better food?', { kind: 'window', size: 4, withSystem: true });
    const stored = await storedTurns(t, a.headers, 'window-1');
    expect(stored).toHaveLength(11);
    expect(stored).toEqual(c.transcript());
  });

  test('a user who asks the same question again gets both exchanges stored', async () => {
    const c = chatClient(t, a.headers, 'repeat-1');
    await c.send('Is it going to rain?', { kind: 'latest', withSystem: false });
    await c.send('Is it going to rain?', { kind: 'latest', withSystem: false });
    await c.send('Is it going to rain?', { kind: 'full' });
    await c.send('Is it going to rain?', { kind: 'window', size: 2, withSystem: false });
    const stored = await storedTurns(t, a.headers, 'repeat-1');
    expect(stored).toHaveLength(8);
    expect(stored).toEqual(c.transcript());
  });

  test('two conversations interleaved in one batch', async () => {
    // An app whose background writes wait (a long flush interval), so that the eight exchanges surely share a batch.
    const own = await createTestApp({ configFile: { flush_interval_ms: 600_000 } });
    try {
      const b = await own.project('5.00', 'Turns batch');
      const x = chatClient(own, b.headers, 'mix-x', { system: SYSTEM });
      const y = chatClient(own, b.headers, 'mix-y');
      for (let i = 0; i < 4; i++) {
        await x.send(`x question ${i % 2}`, i % 2 === 0 ? { kind: 'latest', withSystem: true } : { kind: 'full' });
        await y.send(`y question ${i}`, { kind: 'latest', withSystem: false });
      }
      // Nothing was written yet: all eight exchanges go into the next batch, in the order they finished.
      expect(await own.rt.conversations.recentUserMessages(b.id, 'mix-x', 10)).toEqual([]);
      expect(await storedTurns(own, b.headers, 'mix-x')).toEqual(x.transcript());
      expect(await storedTurns(own, b.headers, 'mix-y')).toEqual(y.transcript());
    } finally {
      await own.close();
    }
  });

  test('the ad matcher reads the latest user turns of a latest-only conversation, newest first', async () => {
    const c = chatClient(t, a.headers, 'recent-1', { system: SYSTEM });
    for (const q of ['first', 'second', 'third', 'fourth']) await c.send(q, { kind: 'latest', withSystem: true });
    await t.rt.flushAll();
    expect(await t.rt.conversations.recentUserMessages(a.id, 'recent-1', 3)).toEqual(['fourth', 'third', 'second']);
  });

  test('rows stored before schema v3 (no hash) are matched, and get their hash on first use', async () => {
    const c = chatClient(t, a.headers, 'legacy-1', { system: SYSTEM });
    await c.send('Where should I go in May?', { kind: 'full' });
    await c.send('And in June?', { kind: 'latest', withSystem: true });
    await t.rt.flushAll();
    await t.store.stmt("UPDATE messages SET content_hash = NULL, content_chars = NULL WHERE conversation_id = 'legacy-1'").run();
    await c.send('Is Lisbon expensive?', { kind: 'full' });
    await c.send('What about Porto?', { kind: 'latest', withSystem: true });
    expect(await storedTurns(t, a.headers, 'legacy-1')).toEqual(c.transcript());
    const unhashed = (await t.store.stmt("SELECT count(*) AS n FROM messages WHERE conversation_id = 'legacy-1' AND content_hash IS NULL").get()) as { n: number };
    expect(unhashed.n).toBe(0);
  });
});

describe('answers delivered with a promotion', () => {
  let upstream: FakeUpstream;
  let m: TestApp;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.script({ kind: 'normal', content: 'Many teams use a shared board to plan work and track deadlines.' });
    m = await createTestApp({ upstreamUrl: upstream.baseUrl });
    await advertiser(m);
  }, 60_000);
  afterAll(async () => {
    await m.close();
    await upstream.close();
  }, 60_000);

  test('a resent answer that carries the promotion matches the stored answer', async () => {
    const pub = await publisher(m, 'Turns Pub');
    const c = chatClient(m, pub.headers, 'promo-1', { model: 'gpt-4o-mini' });
    const first = await c.send('What project management tool can help my team track tasks and deadlines?', { kind: 'full' });
    expect(trackedLink(first)).not.toBeNull(); // the client was delivered the answer plus a promotion
    await c.send('Does it work for small teams?', { kind: 'latest', withSystem: false });
    await c.send('How much does it cost?', { kind: 'full' });
    const stored = await storedTurns(m, pub.headers, 'promo-1');
    // The store keeps the organic answer; the resent, promoted copy is recognised as the same turn.
    expect(roles(stored)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(first.startsWith(stored[1].content)).toBe(true);
    expect(stored[1].content.length).toBeLessThan(first.length);
    expect(stored.filter((s) => s.role === 'user').map((s) => s.content)).toEqual(
      c.transcript().filter((s) => s.role === 'user').map((s) => s.content),
    );
  });
});
