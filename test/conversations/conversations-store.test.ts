/**
 * Conversation batches through the service on the test store (VEXRAIL_TEST_STORE: SQLite or PostgreSQL), and on
 * PostgreSQL from several instances at once: batches that touch the same conversations in opposite orders all
 * commit (they lock conversations in one order), and every conversation stays a gapless sequence of turns.
 */
import { expect, test } from 'bun:test';
import type { ExchangeRecord } from '../../src/chat/chat.service';
import { createConversationsRepo } from '../../src/conversations/conversations.repo';
import { createConversationsService, type ConversationsService } from '../../src/conversations/conversations.service';
import { createWriteBehind } from '../../src/ops/write-behind';
import { openPostgres, migratePostgres } from '../../src/store/postgres';
import { postgresStore, type SqlStore } from '../../src/store/sql-store';
import { createTestDatabase } from '../helpers/postgres';
import { createTestStore, postgresServerUrl, TEST_STORE } from '../helpers/test-app';

type Msg = { role: string; content: string };
let requests = 0;

function exchange(projectId: string, conversationId: string | null, messages: Msg[], answer: string, at = 1_000 + requests): ExchangeRecord {
  const requestId = `req_${String(++requests).padStart(6, '0')}`;
  return {
    requestId, projectId, conversationId, answerText: answer, model: 'fake-model', costMicros: 7, latencyMs: 3, streamed: false, status: 200,
    errorCode: null, createdAtMs: at, usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } as ExchangeRecord['usage'],
    request: {
      body: { model: 'fake-model', messages }, stream: false, wantsUsage: false, maxTokens: null, maxTokensField: 'max_tokens', endUser: null, metadata: null,
    },
  };
}

async function withProject(store: SqlStore, id = 'p1'): Promise<void> {
  await store.stmt(`INSERT INTO projects (id, name, kind, domain, domain_status, verification_token, created_at, updated_at)
    VALUES ($id, 'P', 'publisher', $domain, 'verified', 't', 0, 0)`).run({ id, domain: `${id}.example` });
}

/** Runs `body` on a fresh store holding project p1, and closes the store whatever happens. */
async function onProjectStore(body: (store: SqlStore) => Promise<void>): Promise<void> {
  const { store, close } = await createTestStore();
  try {
    await withProject(store);
    await body(store);
  } finally {
    await close();
  }
}

/** All of a conversation's turns as stored, paging through them. */
async function transcript(service: ConversationsService, projectId: string, id: string): Promise<Msg[]> {
  const turns: Msg[] = [];
  for (let from = 0; ; ) {
    const page = await service.get(projectId, id, from, 3);
    turns.push(...page.messages.map((m) => ({ role: m.role, content: m.content })));
    if (page.next_seq === null) {
      expect(page.message_count).toBe(turns.length);
      return turns;
    }
    from = page.next_seq;
  }
}

test('a batch of interleaved conversations and client styles stores each conversation once, in order; lists and reads page', () => onProjectStore(async (store) => {
  const service = createConversationsService({ repo: createConversationsRepo(store) });
  const system: Msg = { role: 'system', content: 'Be brief.' };
  const full: Msg[] = [system];
  const latest: Msg[] = [];
  const batch: ExchangeRecord[] = [];
  for (let i = 0; i < 3; i++) {
    const qa: Msg = { role: 'user', content: `a${i}` };
    batch.push(exchange('p1', 'conv-a', [...full, qa], `answer a${i}`));
    full.push(qa, { role: 'assistant', content: `answer a${i}` });
    // Latest-only client with a repeated system prompt.
    const qb: Msg = { role: 'user', content: `b${i}` };
    batch.push(exchange('p1', 'conv-b', [system, qb], `answer b${i}`));
    latest.push(qb, { role: 'assistant', content: `answer b${i}` });
  }
  batch.push(exchange('p1', null, [{ role: 'user', content: 'once' }], 'untracked'));
  await service.writeBatch(batch.slice(0, 4));
  await service.writeBatch(batch.slice(4));
  expect(await transcript(service, 'p1', 'conv-a')).toEqual(full);
  expect(await transcript(service, 'p1', 'conv-b')).toEqual([system, ...latest]);
  expect(await service.recentUserMessages('p1', 'conv-b', 2)).toEqual(['b2', 'b1']);

  const ids: string[] = [];
  for (let cursor: string | null = null, pages = 0; pages < 10; pages++) {
    const page: Awaited<ReturnType<ConversationsService['list']>> = await service.list('p1', 1, cursor);
    ids.push(...page.data.map((c) => c.id));
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  expect(ids.sort()).toEqual(['conv-a', 'conv-b', batch[6].requestId].sort());
  const untracked = await service.get('p1', batch[6].requestId, 0, 10);
  expect(untracked).toMatchObject({ tracked: false, message_count: 2 });
}));

test('asynchronous batch writes through the write-behind queue are stored in the order they were queued', () => onProjectStore(async (store) => {
  const service = createConversationsService({ repo: createConversationsRepo(store) });
  const failures: unknown[] = [];
  const queue = createWriteBehind<ExchangeRecord>({
    intervalMs: 1, maxQueued: 10_000, sliceMaxRecords: 2, write: (batch) => service.writeBatch(batch), onError: (err) => failures.push(err),
  });
  // A latest-only client: each exchange's turns follow those of the one before, whichever batch carries it.
  const expected: Msg[] = [];
  for (let i = 0; i < 25; i++) {
    const q: Msg = { role: 'user', content: `q${i}` };
    queue.push(exchange('p1', 'ordered', [q], `a${i}`));
    expected.push(q, { role: 'assistant', content: `a${i}` });
    if (i % 7 === 0) await Bun.sleep(2);
  }
  await queue.stop();
  expect(failures).toEqual([]);
  expect(queue.stats()).toMatchObject({ queued: 0, failed: 0, dropped: 0 });
  expect(await transcript(service, 'p1', 'ordered')).toEqual(expected);
}));

/** The repo with its writers' reads of stored turns counted, and appends that fail for one conversation id. */
function spiedRepo(store: SqlStore, failFor: string | null = null) {
  const repo = createConversationsRepo(store);
  const counts = { lastTurns: 0 };
  return {
    counts,
    repo: {
      ...repo,
      writeInTransaction: <T>(write: (w: Parameters<Parameters<typeof repo.writeInTransaction>[0]>[0]) => Promise<T>) =>
        repo.writeInTransaction((w) => write({
          ...w,
          lastTurns: (projectId: string, id: string, limit: number) => {
            counts.lastTurns++;
            return w.lastTurns(projectId, id, limit);
          },
          appendMessages: (projectId: string, id: string, fromSeq: number, rows: Parameters<typeof w.appendMessages>[3]) => {
            if (id === failFor) throw new Error('append failed on purpose');
            return w.appendMessages(projectId, id, fromSeq, rows);
          },
        })),
    },
  };
}

test('a continuing conversation is matched against the turns this process wrote, without reading them back; another instance reads them once', () => onProjectStore(async (store) => {
  const a = spiedRepo(store);
  const service = createConversationsService({ repo: a.repo });
  const history: Msg[] = [{ role: 'system', content: 'Be brief.' }];
  for (let i = 0; i < 6; i++) {
    history.push({ role: 'user', content: `question ${i}` });
    await service.writeBatch([exchange('p1', 'chat', [...history], `answer ${i}`)]);
    history.push({ role: 'assistant', content: `answer ${i}` });
  }
  expect(a.counts.lastTurns).toBe(0);
  expect(service.cachedTails()).toBe(1);
  expect(await transcript(service, 'p1', 'chat')).toEqual(history);

  // A second instance on the same store has no tail for it: it reads the stored turns once, then uses its own.
  const b = spiedRepo(store);
  const other = createConversationsService({ repo: b.repo });
  for (let i = 6; i < 9; i++) {
    history.push({ role: 'user', content: `question ${i}` });
    await other.writeBatch([exchange('p1', 'chat', [...history], `answer ${i}`)]);
    history.push({ role: 'assistant', content: `answer ${i}` });
  }
  expect(b.counts.lastTurns).toBe(1);
  // The first instance's tail no longer ends the conversation (the count moved on): it reads, and stores each turn once.
  history.push({ role: 'user', content: 'question 9' });
  await service.writeBatch([exchange('p1', 'chat', [...history], 'answer 9')]);
  history.push({ role: 'assistant', content: 'answer 9' });
  expect(a.counts.lastTurns).toBe(1);
  expect(await transcript(service, 'p1', 'chat')).toEqual(history);
}));

test('a rolled-back batch leaves no tail behind: after another instance wrote the conversation to the same length, turns are still matched right', () => onProjectStore(async (store) => {
  const a = spiedRepo(store, 'conv-fail');
  const service = createConversationsService({ repo: a.repo });
  const system: Msg = { role: 'system', content: 'Be brief.' };
  await service.writeBatch([exchange('p1', 'conv-a', [system, { role: 'user', content: 'u1' }], 'a1')]);
  // conv-a's second turn is written first in the batch ("conv-a" < "conv-fail"), then the batch fails and rolls back.
  const lost = exchange('p1', 'conv-a', [system, { role: 'user', content: 'u1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'u2' }], 'a2');
  await expect(service.writeBatch([lost, exchange('p1', 'conv-fail', [{ role: 'user', content: 'x' }], 'y')])).rejects.toThrow('append failed on purpose');
  // Another instance brings conv-a to the length the lost batch would have given it, with other turns.
  const other = createConversationsService({ repo: createConversationsRepo(store) });
  const stored: Msg[] = [system, { role: 'user', content: 'u1' }, { role: 'assistant', content: 'a1' }, { role: 'user', content: 'other u2' }];
  await other.writeBatch([exchange('p1', 'conv-a', [...stored], 'other a2')]);
  stored.push({ role: 'assistant', content: 'other a2' }, { role: 'user', content: 'u3' });
  await service.writeBatch([exchange('p1', 'conv-a', [...stored], 'a3')]);
  stored.push({ role: 'assistant', content: 'a3' });
  expect(await transcript(service, 'p1', 'conv-a')).toEqual(stored);
  expect(a.counts.lastTurns).toBe(1);
}));

test.skipIf(TEST_STORE !== 'postgres')('three instances writing batches over the same conversations in opposite orders: all commit, every conversation gapless', async () => {
  const database = await createTestDatabase(await postgresServerUrl());
  const instances = await Promise.all([0, 1, 2].map(() => openPostgres(database.url, { maxConnections: 4 })));
  try {
    await migratePostgres(instances[0].sql);
    const stores = instances.map((i) => postgresStore(i.sql));
    await withProject(stores[0]);
    const services = stores.map((store) => createConversationsService({ repo: createConversationsRepo(store) }));
    const conversations = Array.from({ length: 8 }, (_, i) => `shared-${i}`);
    const answers: string[] = [];
    // Each instance writes 6 batches; each batch has one latest-only exchange per conversation, in an order
    // that differs between instances (forward, backward, rotated).
    const orderOf = (instance: number, round: number) => {
      const ids = [...conversations];
      if (instance === 1) ids.reverse();
      if (instance === 2) ids.push(...ids.splice(0, (round * 3) % ids.length));
      return ids;
    };
    await Promise.all(services.map(async (service, instance) => {
      for (let round = 0; round < 6; round++) {
        const batch = orderOf(instance, round).map((id) => {
          const answer = `${id} answer ${instance}.${round}`;
          answers.push(answer);
          return exchange('p1', id, [{ role: 'user', content: `${id} question ${instance}.${round}` }], answer);
        });
        await service.writeBatch(batch);
      }
    }));
    for (const id of conversations) {
      const turns = await transcript(services[0], 'p1', id);
      expect(turns).toHaveLength(2 * 3 * 6);
      expect(turns.filter((t) => t.role === 'assistant').map((t) => t.content).sort()).toEqual(answers.filter((a) => a.startsWith(`${id} `)).sort());
      // Each answer directly follows its own question.
      for (let k = 0; k < turns.length; k += 2) expect(turns[k + 1].content.split(' answer ')[1]).toBe(turns[k].content.split(' question ')[1]);
    }
  } finally {
    await Promise.all(instances.map((i) => i.close()));
    await database.drop();
  }
}, 60_000);

test('a batch stores exactly what the same exchanges stored one batch each would: untracked runs together, tracked ones between, an id shared by both', async () => {
  // Finish order: untracked runs around tracked turns, and a client that sends another request's id as its conversation id.
  const records: ExchangeRecord[] = [];
  const untracked = (n: number) => { for (let i = 0; i < n; i++) records.push(exchange('p1', null, [{ role: 'user', content: `loose question ${records.length}` }], `loose answer ${records.length}`)); };
  untracked(3);
  records.push(exchange('p1', 'chat-a', [{ role: 'user', content: 'hi' }], 'hello'));
  untracked(40);
  const borrowed = records[5].requestId; // an untracked request of this batch, finishing after the tracked turn below
  records.splice(4, 0, exchange('p1', borrowed, [{ role: 'user', content: 'using a request id as my conversation' }], 'fine'));
  records.push(exchange('p1', 'chat-a', [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'and now?' }], 'now this'));
  untracked(2);
  records.push(exchange('p2', null, [{ role: 'user', content: 'other project' }], 'other answer'));

  const dump = async (store: SqlStore) => ({
    conversations: await store.stmt('SELECT project_id, id, tracked, message_count, created_at, updated_at FROM conversations ORDER BY project_id, id').all(),
    messages: await store.stmt('SELECT project_id, conversation_id, seq, role, content, request_id, content_hash, content_chars FROM messages ORDER BY project_id, conversation_id, seq').all(),
  });
  const stored = async (batches: ExchangeRecord[][]) => {
    const { store, close } = await createTestStore();
    try {
      await withProject(store);
      await withProject(store, 'p2');
      const service = createConversationsService({ repo: createConversationsRepo(store) });
      for (const batch of batches) await service.writeBatch(batch);
      return await dump(store);
    } finally {
      await close();
    }
  };
  const together = await stored([records]);
  const oneByOne = await stored(records.map((r) => [r]));
  // 46 untracked requests (one shares its id with the tracked turn that borrowed it) and chat-a.
  expect(together.conversations).toHaveLength(47);
  expect(together).toEqual(oneByOne);
  // The borrowed id holds the tracked turn, then the untracked request's own exchange appended to it.
  expect(together.messages.filter((m: any) => m.conversation_id === borrowed).map((m: any) => m.content))
    .toEqual(['using a request id as my conversation', 'fine', records[6].request.body.messages[0].content, records[6].answerText]);
});
