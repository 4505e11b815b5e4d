/**
 * How long the conversations write-behind holds the event loop when its timer drains a backlog.
 *
 *   bun scripts/bench-flush-slices.ts [--root <source tree>] [--queued 300,1000,3000] [--rounds 3]
 *
 * `--root` points at another checkout (e.g. `git archive <commit> | tar -x -C /tmp/old`) to compare versions:
 * only createWriteBehind and the conversations service are used, as src/runtime.ts wires them. A file
 * database in a temp dir, real migrations. For each size, `--queued` exchanges are pushed, the queue's own
 * timer drains them, and the script reports: the longest single write (one transaction), how many writes,
 * the median and p90 write, the time until the queue was empty with the main thread's CPU time per 1,000
 * records (the cost of slicing shows there), and the longest delay of a 1 ms timer during the drain (what a
 * request waiting on the loop would see). Wall times include time the process was not scheduled: the
 * "machine noise" line measures that on ~1 ms stretches of pure computation; on a busy machine trust the
 * record counts and medians more than the maxima. Two traffic shapes: "plain" (every exchange a new
 * conversation, as requests without x-conversation-id) and "conversation" (64 conversations resending their
 * growing history).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' }, queued: { type: 'string' }, rounds: { type: 'string' } } });
const root = resolve(values.root ?? join(import.meta.dir, '..'));
const SIZES = (values.queued ?? '300,1000,3000').split(',').map(Number);
const ROUNDS = Number(values.rounds ?? 3);

const { openStore } = await import(join(root, 'src/store/database.ts'));
const { createConversationsRepo } = await import(join(root, 'src/conversations/conversations.repo.ts'));
const { createConversationsService } = await import(join(root, 'src/conversations/conversations.service.ts'));
// The repository takes the statement interface (src/store/sql-store.ts); older checkouts take the database itself.
const takesStore = (await Bun.file(join(root, 'src/conversations/conversations.repo.ts')).text()).includes('SqlStore');
const repoStore = takesStore ? (await import(join(root, 'src/store/sql-store.ts'))).sqliteStore : (db: unknown) => db;
const { createWriteBehind } = await import(join(root, 'src/ops/write-behind.ts'));

type Msg = { role: string; content: string };
const SYSTEM: Msg = { role: 'system', content: 'You are a helpful assistant for a travel agency. '.repeat(4) };
const answerText = (i: number) => `Answer ${i}. ${'It depends on the season, the region and your budget. '.repeat(6)}`;

let seq = 0;
function record(projectId: string, conversationId: string | null, messages: Msg[], answer: string) {
  const requestId = `req_${++seq}`;
  return {
    requestId, projectId, conversationId,
    request: { body: { model: 'm', messages }, stream: false, wantsUsage: false, maxTokens: null, maxTokensField: 'max_tokens', endUser: null, metadata: null },
    answerText: answer, model: 'm', usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 }, costMicros: 1,
    latencyMs: 5, streamed: false, status: 200, errorCode: null, createdAtMs: Date.now(),
  };
}

const transcripts = new Map<number, Msg[]>();
const shapes: Record<string, (i: number) => ReturnType<typeof record>> = {
  plain: (i) => record('proj_b', null, [SYSTEM, { role: 'user', content: `Question ${i}: what should I pack for a week in Lisbon?` }], answerText(i)),
  conversation: (i) => {
    const c = i % 64;
    let t = transcripts.get(c);
    if (!t || t.length > 40) transcripts.set(c, (t = [SYSTEM]));
    t.push({ role: 'user', content: `Conversation ${c}, question ${i}: and what about the food there?` });
    const rec = record('proj_b', `conv-${c}-${Math.floor(i / 10_000)}`, [...t], answerText(i));
    t.push({ role: 'assistant', content: rec.answerText });
    return rec;
  },
};

const range = (xs: number[], d = 1) => `${Math.min(...xs).toFixed(d)}-${Math.max(...xs).toFixed(d)}`;

/** A 1 ms timer, re-armed after each firing: its delay is how long the loop was held. stop() returns the longest (ms). */
function lagProbe() {
  let maxMs = 0;
  let due = performance.now() + 1;
  let timer: ReturnType<typeof setTimeout>;
  const tick = () => {
    maxMs = Math.max(maxMs, performance.now() - due);
    due = performance.now() + 1;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  return { stop: () => (clearTimeout(timer), maxMs) };
}

/** The longest wall time of a ~1 ms stretch of pure computation over a second: the stall the machine itself adds. */
async function noiseFloor(): Promise<string> {
  let longest = 0;
  let x = 0;
  const until = performance.now() + 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    while (performance.now() - t0 < 1) x += Math.sqrt(x + 1);
    longest = Math.max(longest, performance.now() - t0);
    await Bun.sleep(0);
  }
  return longest.toFixed(1);
}

const dir = mkdtempSync(join(tmpdir(), 'vexrail-flush-bench-'));
const store = openStore(dir);
try {
  const now = Date.now();
  store.db.query(`INSERT INTO projects (id, name, domain, verification_token, created_at, updated_at) VALUES ('proj_b', 'b', 'b.example', 't', ?, ?)`).run(now, now);
  const conversations = createConversationsService({ repo: createConversationsRepo(repoStore(store.db)) });
  console.log(`root ${root}: ${ROUNDS} rounds per size; times in ms`);
  console.log(`machine noise: 1 ms chunks of pure computation for 1 s took up to ${await noiseFloor()} ms (time the process was not scheduled)`);
  for (const [shape, make] of Object.entries(shapes)) {
    for (const size of SIZES) {
      const longestWrite: number[] = [];
      const longestLag: number[] = [];
      const slices: number[] = [];
      const largest: number[] = [];
      const drain: number[] = [];
      const cpuPerK: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        let maxWriteMs = 0;
        let maxRecords = 0;
        const q = createWriteBehind({
          name: 'conversations', intervalMs: 20, maxQueued: 100_000,
          write: async (batch: unknown[]) => {
            const t0 = performance.now();
            await conversations.writeBatch(batch);
            const ms = performance.now() - t0;
            maxWriteMs = Math.max(maxWriteMs, ms);
            maxRecords = Math.max(maxRecords, batch.length);
            slices.push(ms);
          },
          onError: (err: unknown) => { throw err; },
        });
        for (let i = 0; i < size; i++) q.push(make(r * 100_000 + i));
        const probe = lagProbe();
        const t0 = performance.now();
        const cpu0 = process.threadCpuUsage();
        while (q.stats().queued > 0) await Bun.sleep(1);
        drain.push(performance.now() - t0 - 20);
        const cpu = process.threadCpuUsage(cpu0);
        cpuPerK.push((cpu.user + cpu.system) / size);
        await Bun.sleep(5);
        longestLag.push(probe.stop());
        await q.stop();
        longestWrite.push(maxWriteMs);
        largest.push(maxRecords);
      }
      slices.sort((a, b) => a - b);
      const at = (p: number) => slices[Math.min(slices.length - 1, Math.floor(p * slices.length))].toFixed(1);
      console.log(
        `${shape.padEnd(12)} ${String(size).padStart(5)} queued  writes ${String(slices.length / ROUNDS).padStart(6)}/round (<= ${range(largest, 0)} records)  ` +
          `write median ${at(0.5)} p90 ${at(0.9)} longest ${range(longestWrite)}  drained in ~${range(drain, 0)} (main thread cpu ${range(cpuPerK, 0)} ms/1000)  longest timer delay ${range(longestLag)}`,
      );
    }
  }
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
