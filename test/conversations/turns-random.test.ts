import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mulberry32 } from '../../scripts/dev-lib';
import { createTestApp, type TestApp } from '../helpers/test-app';
import { chatClient, storedTurns, type SendMode } from './chat-client';

let t: TestApp;
let p: Awaited<ReturnType<TestApp['project']>>;
beforeAll(async () => {
  t = await createTestApp();
  p = await t.project('50.00', 'Turns Random');
}, 60_000);
afterAll(() => t.close(), 60_000);

// Few distinct questions: the demo model answers each the same way, so turns repeat and overlaps are ambiguous.
const QUESTIONS = ['Why?', 'Tell me more.', 'Is that so?'];
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const REQUESTS_PER_SEED = 40;

function randomMode(rand: () => number): SendMode {
  const r = rand();
  if (r < 0.35) return { kind: 'latest', withSystem: rand() < 0.5 };
  if (r < 0.7) return { kind: 'full' };
  return { kind: 'window', size: 1 + Math.floor(rand() * 6), withSystem: rand() < 0.5 };
}

test.each(SEEDS)('random mixes of latest-only, full-history and windowed requests store the true sequence of turns (seed %i)', async (seed) => {
  const rand = mulberry32(seed);
  const clients = [
    chatClient(t, p.headers, `rnd-${seed}-a`, { system: 'You are terse.' }),
    chatClient(t, p.headers, `rnd-${seed}-b`),
    chatClient(t, p.headers, `rnd-${seed}-c`, { system: 'You are verbose.' }),
  ];
  for (let i = 0; i < REQUESTS_PER_SEED; i++) {
    const client = clients[Math.floor(rand() * clients.length)];
    await client.send(QUESTIONS[Math.floor(rand() * QUESTIONS.length)], randomMode(rand), { stream: rand() < 0.2 });
    // Several exchanges of a conversation, and of different conversations, often share one write batch.
    if (rand() < 0.25) await t.rt.flushAll();
  }
  for (const [i, client] of clients.entries()) {
    const id = `rnd-${seed}-${'abc'[i]}`;
    if (client.answers.length === 0) continue;
    expect({ id, turns: await storedTurns(t, p.headers, id) }).toEqual({ id, turns: client.transcript() });
  }
});
