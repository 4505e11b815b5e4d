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
    expect(await repo.writeInTransaction((w) => w.insertNewConversation(touch, [message('user', 'hi'), message('assistant', 'hello')]))).toBe(true);
    expect(await repo.get('p1', 'req_1')).toMatchObject({ tracked: 0, message_count: 2 });
    expect((await repo.messages('p1', 'req_1', 0, 10)).map((m) => [m.seq, m.role])).toEqual([[0, 'user'], [1, 'assistant']]);
    expect(await repo.writeInTransaction((w) => w.insertNewConversation(touch, [message('user', 'again')]))).toBe(false);
    expect(await repo.get('p1', 'req_1')).toMatchObject({ message_count: 2 });
    expect(await repo.messages('p1', 'req_1', 0, 10)).toHaveLength(2);
  } finally {
    await close();
  }
});
