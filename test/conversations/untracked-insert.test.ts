import { expect, test } from 'bun:test';
import { createConversationsRepo, type NewMessage } from '../../src/conversations/conversations.repo';
import { createTestStore } from '../helpers/test-app';

const message = (role: string, content: string): NewMessage => ({
  role, content, content_hash: 1, content_chars: content.length, model: null, prompt_tokens: null, completion_tokens: null,
  total_tokens: null, cost_micros: null, latency_ms: null, streamed: null, end_user: null, metadata: null, request_id: 'req_1', created_at: 1,
});

test('an untracked exchange is one conversation insert with its count; an id that exists is refused and nothing is written', async () => {
  const { store, close } = await createTestStore();
  try {
    await store.stmt(`INSERT INTO projects (id, name, kind, domain, domain_status, verification_token, created_at, updated_at)
      VALUES ('p1', 'P', 'publisher', 'p.example', 'verified', 't', 0, 0)`).run();
    const repo = createConversationsRepo(store);
    const touch = { projectId: 'p1', conversationId: 'req_1', tracked: false, endUser: null, metadata: null, atMs: 1 };
    expect(await repo.writeInTransaction((w) => w.insertNewConversations([{ touch, rows: [message('user', 'hi'), message('assistant', 'hello')] }]))).toEqual([true]);
    expect(await repo.get('p1', 'req_1')).toMatchObject({ tracked: 0, message_count: 2 });
    expect((await repo.messages('p1', 'req_1', 0, 10)).map((m) => [m.seq, m.role])).toEqual([[0, 'user'], [1, 'assistant']]);
    expect(await repo.writeInTransaction((w) => w.insertNewConversations([{ touch, rows: [message('user', 'again')] }]))).toEqual([false]);
    expect(await repo.get('p1', 'req_1')).toMatchObject({ message_count: 2 });
    expect(await repo.messages('p1', 'req_1', 0, 10)).toHaveLength(2);
  } finally {
    await close();
  }
});

test('a run of untracked exchanges goes in by multi-row inserts: every new one with its messages in order, an existing one refused alone', async () => {
  const { store, close } = await createTestStore();
  try {
    await store.stmt(`INSERT INTO projects (id, name, kind, domain, domain_status, verification_token, created_at, updated_at)
      VALUES ('p1', 'P', 'publisher', 'p.example', 'verified', 't', 0, 0), ('p2', 'Q', 'publisher', 'q.example', 'verified', 't', 0, 0)`).run();
    const repo = createConversationsRepo(store);
    const touch = (projectId: string, id: string) => ({ projectId, conversationId: id, tracked: false, endUser: null, metadata: null, atMs: 5 });
    await repo.writeInTransaction((w) => w.insertNewConversations([{ touch: touch('p1', 'req_017'), rows: [message('user', 'first')] }]));
    // 70 conversations of 1 to 3 messages: more than one multi-row insert of conversations (32) and of messages (64).
    const list = Array.from({ length: 70 }, (_, i) => {
      const id = `req_${String(i).padStart(3, '0')}`;
      const rows = Array.from({ length: 1 + (i % 3) }, (_, k) => message(k % 2 ? 'assistant' : 'user', `${id} message ${k}`));
      return { touch: touch(i === 40 ? 'p2' : 'p1', id), rows };
    });
    const created = await repo.writeInTransaction((w) => w.insertNewConversations(list));
    expect(created).toEqual(list.map((_, i) => i !== 17));
    for (const [i, { touch: t, rows }] of list.entries()) {
      if (i === 17) continue;
      expect(await repo.get(t.projectId, t.conversationId)).toMatchObject({ tracked: 0, message_count: rows.length });
      expect((await repo.messages(t.projectId, t.conversationId, 0, 10)).map((m) => [m.seq, m.content])).toEqual(rows.map((r, k) => [k, r.content]));
    }
    // The one that existed keeps what it had.
    expect((await repo.messages('p1', 'req_017', 0, 10)).map((m) => m.content)).toEqual(['first']);
    expect(await repo.get('p2', 'req_017')).toBeNull();
  } finally {
    await close();
  }
});
