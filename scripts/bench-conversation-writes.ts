/**
 * Write cost of one conversation batch (the write-behind flush) in long conversations.
 *
 *   bun scripts/bench-conversation-writes.ts [--root <source tree>] [--turns 200] [--batch 500] [--rounds 5]
 *
 * `--root` points at another checkout (e.g. `git archive <commit> | tar -x -C /tmp/old`) to compare versions:
 * only the public service API is used. A file database in a temp dir, real migrations. Each conversation is
 * first given `--turns` stored messages, then each round writes one batch of `--batch` exchanges, one per
 * conversation, for each client style. Prints the median and max batch time per style.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { root: { type: 'string' }, turns: { type: 'string' }, batch: { type: 'string' }, rounds: { type: 'string' } },
});
const root = resolve(values.root ?? join(import.meta.dir, '..'));
const TURNS = Number(values.turns ?? 200);
const BATCH = Number(values.batch ?? 500);
const ROUNDS = Number(values.rounds ?? 5);

const { openStore } = await import(join(root, 'src/store/database.ts'));
const { createConversationsRepo } = await import(join(root, 'src/conversations/conversations.repo.ts'));
const { createConversationsService } = await import(join(root, 'src/conversations/conversations.service.ts'));
// The repository takes the statement interface (src/store/sql-store.ts); older checkouts take the database itself.
const takesStore = (await Bun.file(join(root, 'src/conversations/conversations.repo.ts')).text()).includes('SqlStore');
const repoStore = takesStore ? (await import(join(root, 'src/store/sql-store.ts'))).sqliteStore : (db: unknown) => db;

type Msg = { role: string; content: string };
const SYSTEM: Msg = { role: 'system', content: 'You are a helpful assistant for a travel agency. '.repeat(8) };
const question = (c: number, i: number): Msg => ({ role: 'user', content: `Conversation ${c}, question ${i}: ${'what about the weather and the food there? '.repeat(4)}` });
const answerText = (c: number, i: number) => `Answer ${i} for conversation ${c}. ${'It depends on the season, the region and your budget. '.repeat(18)}`;

let requestSeq = 0;
function record(projectId: string, c: number, messages: Msg[], answer: string) {
  return {
    requestId: `req_${++requestSeq}`, projectId, conversationId: `conv-${c}`,
    request: { body: { model: 'm', messages }, stream: false, wantsUsage: false, maxTokens: null, maxTokensField: 'max_tokens', endUser: null, metadata: null },
    answerText: answer, model: 'm', usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 }, costMicros: 1,
    latencyMs: 5, streamed: false, status: 200, errorCode: null, createdAtMs: Date.now(),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'vexrail-conv-bench-'));
const store = openStore(dir);
try {
  const now = Date.now();
  store.db.query(`INSERT INTO projects (id, name, domain, verification_token, created_at, updated_at) VALUES ('proj_b', 'b', 'b.example', 't', ?, ?)`).run(now, now);
  const conversations = createConversationsService({ repo: createConversationsRepo(repoStore(store.db)) });

  // Every conversation starts with TURNS stored messages, written as one full-history exchange each.
  const transcripts: Msg[][] = [];
  for (let c = 0; c < BATCH; c++) {
    const t: Msg[] = [SYSTEM];
    for (let i = 0; t.length < TURNS - 1; i++) t.push(question(c, i), { role: 'assistant', content: answerText(c, i) });
    transcripts.push(t);
  }
  await conversations.writeBatch(transcripts.map((t, c) => {
    const q = question(c, 10_000);
    t.push(q);
    const rec = record('proj_b', c, [...t], answerText(c, 10_000));
    t.push({ role: 'assistant', content: rec.answerText });
    return rec;
  }));

  const styles: Record<string, (t: Msg[], q: Msg) => Msg[]> = {
    'full history': (t, q) => [...t, q],
    'latest only': (_t, q) => [q],
    'latest only + system prompt': (_t, q) => [SYSTEM, q],
    'window of 20': (t, q) => [...t.slice(-20), q],
  };
  console.log(`root ${root}: ${BATCH} exchanges per batch, conversations of ${TURNS}+ messages, ${ROUNDS} rounds`);
  let round = 0;
  for (const [style, build] of Object.entries(styles)) {
    const times: number[] = [];
    for (let r = 0; r < ROUNDS; r++, round++) {
      const batch = transcripts.map((t, c) => {
        const q = question(c, 20_000 + round);
        const rec = record('proj_b', c, build(t, q), answerText(c, 20_000 + round));
        t.push(q, { role: 'assistant', content: rec.answerText });
        return rec;
      });
      const started = performance.now();
      await conversations.writeBatch(batch);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const sent = build(transcripts[0], question(0, 0)).length;
    console.log(`${style.padEnd(28)} ${String(sent).padStart(4)} msgs/request  median ${times[Math.floor(times.length / 2)].toFixed(1).padStart(7)} ms  max ${times[times.length - 1].toFixed(1).padStart(7)} ms`);
  }
  const rows = (store.db.query('SELECT count(*) AS n FROM messages').get() as { n: number }).n;
  console.log(`messages stored: ${rows}`);
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
