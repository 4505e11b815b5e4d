/**
 * The PostgreSQL wallet repository against a throwaway server: several connection pools stand for several
 * gateway instances sharing one database. No PostgreSQL, no pass: a server that cannot start fails this file.
 */
import { SQL } from 'bun';
import { expect, test } from 'bun:test';
import fc from 'fast-check';
import { auditMoneyPg, createPgWalletRepo, micros, type PgHold, type PgWalletOptions, type PgWalletRepo } from '../../src/wallet/wallet-pg.repo';
import { useThrowawayPostgres, withInstances as withPools } from '../helpers/postgres';

const pg = useThrowawayPostgres();

const MINUTE_MS = 60_000;
const INSTANCES = 3;

/** A migrated database of its own and INSTANCES pools on it (one per simulated instance). */
const withInstances = (body: (pools: SQL[]) => Promise<void>, poolSize = 4) => withPools(pg.server.url, INSTANCES, body, poolSize);

async function createProject(sql: SQL, id: string): Promise<void> {
  await sql`INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at)
            VALUES (${id}, ${id}, 'publisher', ${`${id}.example`}, ${`token-${id}`}, 1, 1)`;
}

const consumption = async (sql: SQL, projectId: string) =>
  (await sql`SELECT count(*)::int AS n, coalesce(-sum(amount_micros), 0)::bigint AS total FROM ledger_entries
             WHERE project_id = ${projectId} AND type = 'consumption'`)[0] as { n: number; total: string };

/** Every instance races `cycles` reserve+settle cycles of `price` on a wallet that can pay for `affordable`. */
async function raceCycles(pools: SQL[], options: PgWalletOptions, cycles: number, affordable: number) {
  const price = 1_234;
  const repos = pools.map((sql) => createPgWalletRepo(sql, options));
  await createProject(pools[0], 'pub');
  await repos[0].topUp('pub', affordable * price, 'initial');
  const outcomes = await Promise.all(Array.from({ length: cycles }, async (_, i) => {
    const repo = repos[i % INSTANCES];
    const hold = await repo.reserve('pub', (available) => (available >= price ? price : null), MINUTE_MS, `instance-${i % INSTANCES}`);
    if (!hold) return 'refused';
    const settled = await repo.settle(hold.holdId, price, `req-${i}`, { keyId: 'key', model: 'm', promptTokens: 1, completionTokens: 1 });
    return settled?.chargedMicros === price ? 'charged' : `settled ${JSON.stringify(settled)}`;
  }));
  const counts = Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length]));
  expect(counts).toEqual({ charged: affordable, refused: cycles - affordable });
  expect(await consumption(pools[1], 'pub')).toEqual({ n: affordable, total: String(affordable * price) });
  expect([await repos[2].balance('pub'), await repos[2].held('pub')]).toEqual([0, 0]);
  expect(await auditMoneyPg(pools[0])).toEqual([]);
}

test('1,000 concurrent reserve+settle cycles over three instances on a wallet that pays for 100: exactly 100 charged', async () => {
  await withInstances((pools) => raceCycles(pools, {}, 1_000, 100));
}, 60_000);

test('the same race when every hold is sized under the wallet lock (the path after lost optimistic races)', async () => {
  await withInstances((pools) => raceCycles(pools, { optimisticAttempts: 0 }, 300, 30));
}, 60_000);

test('a hold sized on everything available: concurrent greedy reserves never hold more than the balance', async () => {
  await withInstances(async (pools) => {
    const repos = pools.map((sql) => createPgWalletRepo(sql, { optimisticAttempts: 2 }));
    await createProject(pools[0], 'pub');
    await repos[0].topUp('pub', 1_000_000, null);
    // Each asks for half of what it sees, at least 1: a stale view loses the race and sizes again.
    const holds = await Promise.all(Array.from({ length: 60 }, (_, i) =>
      repos[i % INSTANCES].reserve('pub', (available) => (available > 0 ? Math.max(1, Math.floor(available / 2)) : null), MINUTE_MS, `i${i % INSTANCES}`)));
    const placed = holds.filter((h): h is PgHold => h !== null);
    const heldTotal = placed.reduce((sum, h) => sum + h.amountMicros, 0);
    expect(heldTotal).toBeLessThanOrEqual(1_000_000);
    expect(await repos[1].held('pub')).toBe(heldTotal);
    expect(await repos[1].available('pub')).toBe(1_000_000 - heldTotal);
    expect(await auditMoneyPg(pools[0])).toEqual([]);
  });
}, 60_000);

test('settle charges at most what the wallet holds beyond the other holds, and says what it could not collect', async () => {
  await withInstances(async ([a, b]) => {
    const one = createPgWalletRepo(a);
    const two = createPgWalletRepo(b);
    await createProject(a, 'pub');
    await one.topUp('pub', 10_000, null);
    const first = await one.reserve('pub', () => 4_000, MINUTE_MS, 'one');
    const second = await two.reserve('pub', () => 5_000, MINUTE_MS, 'two');
    expect(await one.available('pub')).toBe(1_000);
    expect(await one.reserve('pub', (available) => available + 1, MINUTE_MS, 'one')).toBeNull();

    // The first request cost more than it held: it may use the free 1,000 but not the second hold's 5,000.
    expect(await one.settle(first!.holdId, 9_000, 'req-1', null)).toEqual({ projectId: 'pub', chargedMicros: 5_000, uncollectedMicros: 4_000, balanceAfterMicros: 5_000 });
    expect(await two.settle(second!.holdId, 5_000, 'req-2', { keyId: 'k', model: 'm', promptTokens: 3, completionTokens: 4 }))
      .toEqual({ projectId: 'pub', chargedMicros: 5_000, uncollectedMicros: 0, balanceAfterMicros: 0 });
    const entries = await a`SELECT request_id, amount_micros, balance_after_micros, note, key_id, model, prompt_tokens, completion_tokens
                            FROM ledger_entries WHERE type = 'consumption' ORDER BY seq`;
    expect(entries).toEqual([
      { request_id: 'req-1', amount_micros: '-5000', balance_after_micros: '5000', note: 'uncollected 4000 micros', key_id: null, model: null, prompt_tokens: null, completion_tokens: null },
      { request_id: 'req-2', amount_micros: '-5000', balance_after_micros: '0', note: null, key_id: 'k', model: 'm', prompt_tokens: '3', completion_tokens: '4' },
    ]);
    // A zero charge releases the hold and writes no entry.
    await one.topUp('pub', 100, null);
    const idle = await one.reserve('pub', () => 100, MINUTE_MS, 'one');
    expect(await one.settle(idle!.holdId, 0, 'req-3', null)).toEqual({ projectId: 'pub', chargedMicros: 0, uncollectedMicros: 0, balanceAfterMicros: 100 });
    expect((await consumption(a, 'pub')).n).toBe(2);
    expect(await auditMoneyPg(a)).toEqual([]);
  });
}, 30_000);

test('double settle of one hold charges once, also when three instances settle it at the same moment', async () => {
  await withInstances(async (pools) => {
    const repos = pools.map((sql) => createPgWalletRepo(sql));
    await createProject(pools[0], 'pub');
    await repos[0].topUp('pub', 50_000, null);
    const hold = await repos[0].reserve('pub', () => 20_000, MINUTE_MS, 'instance-0');
    const results = await Promise.all(repos.map((repo) => repo.settle(hold!.holdId, 15_000, 'req-1', null)));
    expect(results.filter((r) => r !== null)).toEqual([{ projectId: 'pub', chargedMicros: 15_000, uncollectedMicros: 0, balanceAfterMicros: 35_000 }]);
    expect(await repos[1].settle(hold!.holdId, 15_000, 'req-1', null)).toBeNull();
    expect(await repos[2].release(hold!.holdId)).toBe(false);
    // Released first, settled after: nothing charged.
    const other = await repos[1].reserve('pub', () => 1_000, MINUTE_MS, 'instance-1');
    expect(await repos[1].release(other!.holdId)).toBe(true);
    expect(await repos[0].settle(other!.holdId, 1_000, 'req-2', null)).toBeNull();
    expect(await consumption(pools[0], 'pub')).toEqual({ n: 1, total: '15000' });
    expect([await repos[0].balance('pub'), await repos[0].held('pub')]).toEqual([35_000, 0]);
    expect(await auditMoneyPg(pools[0])).toEqual([]);
  });
}, 30_000);

test('a crashed instance: its holds count until they expire, the sweep gives their money back, a late settle is refused', async () => {
  await withInstances(async ([crashedPool, livePool, renewingPool]) => {
    let nowMs = 1_700_000_000_000;
    const clock = { now: () => nowMs };
    const crashed = createPgWalletRepo(crashedPool, clock);
    const live = createPgWalletRepo(livePool, clock);
    const renewing = createPgWalletRepo(renewingPool, clock);
    const ttlMs = 30_000;
    await createProject(livePool, 'pub');
    await live.topUp('pub', 100_000, null);
    const orphans = [];
    for (let i = 0; i < 3; i++) orphans.push((await crashed.reserve('pub', () => 20_000, ttlMs, 'crashed'))!);
    const kept = (await renewing.reserve('pub', () => 10_000, ttlMs, 'renewing'))!;
    await crashedPool.close(); // the instance dies: nothing of it will settle, release or renew

    nowMs += ttlMs - 1;
    expect(await renewing.renew('renewing', ttlMs)).toBe(1);
    expect(await live.releaseExpired()).toBe(0);
    expect(await live.available('pub')).toBe(30_000);
    expect(await live.reserve('pub', (available) => (available >= 40_000 ? 40_000 : null), ttlMs, 'live')).toBeNull();
    expect(await auditMoneyPg(livePool, { nowMs })).toEqual([]);

    nowMs += 1; // the orphans' expiry: the audit flags them until a sweep runs
    expect(await auditMoneyPg(livePool, { nowMs: nowMs + 1 })).toHaveLength(3);
    expect(await live.releaseExpired()).toBe(3);
    expect(await auditMoneyPg(livePool, { nowMs })).toEqual([]);
    expect([await live.available('pub'), await live.held('pub')]).toEqual([90_000, 10_000]);
    const taken = await live.reserve('pub', (available) => available, ttlMs, 'live');
    expect(taken?.amountMicros).toBe(90_000);

    // The crashed instance's request finishing after the sweep (e.g. a settle retried by a proxy): refused,
    // nothing charged, the money now held by the live instance untouched.
    expect(await live.settle(orphans[0].holdId, 20_000, 'late-req', null)).toBeNull();
    expect((await consumption(livePool, 'pub')).n).toBe(0);

    // The renewed hold survived its first expiry; it lapses ttl after the renewal, and settles normally while
    // expired but not yet swept.
    nowMs += ttlMs;
    expect(await renewing.settle(kept.holdId, 7_000, 'req-kept', null)).toMatchObject({ chargedMicros: 7_000, balanceAfterMicros: 93_000 });
    expect(await live.release(taken!.holdId)).toBe(true);
    expect(await live.releaseExpired()).toBe(0);
    expect([await live.balance('pub'), await live.held('pub'), await live.available('pub')]).toEqual([93_000, 0, 93_000]);
    expect(await auditMoneyPg(livePool, { nowMs })).toEqual([]);
  });
}, 30_000);

test('top-ups are idempotent across instances: the same key sent to three at once credits once', async () => {
  await withInstances(async (pools) => {
    const repos = pools.map((sql) => createPgWalletRepo(sql));
    await createProject(pools[0], 'pub');
    const results = await Promise.all(repos.map((repo) => repo.topUp('pub', 7_000_000, 'invoice-1')));
    expect(results.map((r) => r.replayed).sort()).toEqual([false, true, true]);
    expect(new Set(results.map((r) => r.entry.seq)).size).toBe(1);
    expect(results[0].entry).toMatchObject({ type: 'top_up', amount_micros: 7_000_000, balance_after_micros: 7_000_000, idempotency_key: 'invoice-1' });
    expect(await repos[0].balance('pub')).toBe(7_000_000);
    expect((await repos[1].topUp('pub', 1, null)).entry.balance_after_micros).toBe(7_000_001);
    expect(await auditMoneyPg(pools[0])).toEqual([]);
  });
}, 30_000);

test('the audit reports a broken invariant of each kind', async () => {
  await withInstances(async ([sql]) => {
    const repo = createPgWalletRepo(sql);
    await createProject(sql, 'pub');
    await repo.topUp('pub', 10_000, null);
    await repo.reserve('pub', () => 1_000, MINUTE_MS, 'i');
    await sql`UPDATE wallets SET balance_micros = 8000`;
    await sql`INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, request_id, created_at)
              VALUES ('pub', 'consumption', -500, 9600, 'r', 2), ('pub', 'consumption', -500, 9000, 'r', 3)`;
    await sql`UPDATE wallets SET held_micros = 2000`;
    expect((await auditMoneyPg(sql)).map((p) => p.replace(/\d+/g, 'N'))).toEqual([
      'wallet pub: balance N != ledger sum N',
      'request r charged N times',
      'ledger pub#N: balance_after N != running sum N',
      'wallet pub: held N != sum of its holds N',
    ]);
  });
}, 30_000);

// ---- Randomized interleavings ----

type Op =
  | { kind: 'reserve'; instance: number; fraction: number; ttlMs: number }
  | { kind: 'settle'; instance: number; pick: number; costMicros: number }
  | { kind: 'release'; instance: number; pick: number }
  | { kind: 'renew'; instance: number }
  | { kind: 'expire'; instance: number }
  | { kind: 'topUp'; instance: number; amountMicros: number; key: number | null }
  | { kind: 'advance'; ms: number };

const instance = fc.integer({ min: 0, max: INSTANCES - 1 });
const pick = fc.nat({ max: 1_000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('reserve' as const), instance, fraction: fc.double({ min: 0, max: 1.2, noNaN: true }), ttlMs: fc.constantFrom(1_000, 5_000, 20_000) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('settle' as const), instance, pick, costMicros: fc.integer({ min: 0, max: 30_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), instance, pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('renew' as const), instance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), instance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('topUp' as const), instance, amountMicros: fc.integer({ min: 1, max: 40_000 }), key: fc.option(fc.integer({ min: 0, max: 3 })) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 8_000 }) }) },
);
/** Steps run one after another; the operations of a step run concurrently, spread over the instances. */
const scenarioArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 });

test('randomized interleavings of reserve, settle, release, renew, expiry sweeps and top-ups over three instances', async () => {
  await withInstances(async (pools) => {
    let run = 0;
    await fc.assert(fc.asyncProperty(scenarioArb, async (steps) => {
      const projectId = `pub${++run}`;
      let nowMs = 1_700_000_000_000;
      const repos: PgWalletRepo[] = pools.map((sql) => createPgWalletRepo(sql, { now: () => nowMs, optimisticAttempts: 2, sweepBatch: 3 }));
      await createProject(pools[0], projectId);
      await repos[0].topUp(projectId, 50_000, null);
      let credited = 50_000;
      let charged = 0;
      const holds: Array<PgHold & { resolved: number }> = [];
      const keyAmounts = new Map<number, number>();
      let requests = 0;

      const exec = async (op: Op): Promise<void> => {
        if (op.kind === 'advance') {
          nowMs += op.ms;
          return;
        }
        const repo = repos[op.instance];
        const instanceId = `${projectId}-i${op.instance}`;
        if (op.kind === 'reserve') {
          const hold = await repo.reserve(projectId, (available) => Math.floor(available * op.fraction), op.ttlMs, instanceId);
          if (hold) holds.push({ ...hold, resolved: 0 });
        } else if (op.kind === 'settle' || op.kind === 'release') {
          if (holds.length === 0) return;
          const hold = holds[op.pick % holds.length];
          if (op.kind === 'release') {
            if (await repo.release(hold.holdId)) hold.resolved++;
            return;
          }
          const settled = await repo.settle(hold.holdId, op.costMicros, `${projectId}-req-${++requests}`, null);
          if (!settled) return;
          hold.resolved++;
          expect(settled.chargedMicros + settled.uncollectedMicros).toBe(op.costMicros);
          // What the hold reserved is always payable.
          expect(settled.chargedMicros).toBeGreaterThanOrEqual(Math.min(op.costMicros, hold.amountMicros));
          charged += settled.chargedMicros;
        } else if (op.kind === 'renew') {
          await repo.renew(instanceId, 5_000);
        } else if (op.kind === 'expire') {
          await repo.releaseExpired();
        } else {
          const key = op.key === null ? null : `${projectId}-key-${op.key}`;
          const { entry, replayed } = await repo.topUp(projectId, op.amountMicros, key);
          if (!replayed) credited += op.amountMicros;
          if (op.key !== null) {
            const first = keyAmounts.get(op.key) ?? entry.amount_micros;
            keyAmounts.set(op.key, first);
            expect(entry.amount_micros).toBe(first);
          }
        }
      };

      for (const step of steps) {
        await Promise.all(step.map(exec));
        const mid = await auditMoneyPg(pools[run % INSTANCES], { graceMs: Number.MAX_SAFE_INTEGER / 2 });
        expect(mid).toEqual([]);
      }
      // Every hold was resolved at most once; after a sweep at the end, none is left past its expiry.
      expect(holds.filter((h) => h.resolved > 1)).toEqual([]);
      await repos[0].releaseExpired();
      expect(await auditMoneyPg(pools[1], { nowMs })).toEqual([]);
      expect(await repos[1].balance(projectId)).toBe(credited - charged);
      const open = (await pools[2]`SELECT id FROM credit_holds WHERE project_id = ${projectId}`).map((r: { id: string }) => r.id).sort();
      // The holds left open are holds this run placed and never settled or released.
      expect(open).toEqual(holds.filter((h) => h.resolved === 0 && open.includes(h.holdId)).map((h) => h.holdId).sort());
    }), { numRuns: 30, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) });
  });
}, 120_000);

// ---- Latency ----

test('serial reserve+settle latency on one pool (printed), every cycle charged once', async () => {
  await withInstances(async ([sql]) => {
    const repo = createPgWalletRepo(sql);
    await createProject(sql, 'pub');
    const cycles = 1_000;
    await repo.topUp('pub', cycles * 100, null);
    const reserveMs: number[] = [];
    const settleMs: number[] = [];
    const totalMs: number[] = [];
    for (let i = 0; i < cycles; i++) {
      const t0 = performance.now();
      const hold = await repo.reserve('pub', (available) => Math.min(available, 150), MINUTE_MS, 'bench');
      const t1 = performance.now();
      const settled = await repo.settle(hold!.holdId, 100, `req-${i}`, null);
      const t2 = performance.now();
      expect(settled?.chargedMicros).toBe(100);
      reserveMs.push(t1 - t0);
      settleMs.push(t2 - t1);
      totalMs.push(t2 - t0);
    }
    const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);
    const line = (name: string, xs: number[]) => `${name} p50 ${q(xs, 0.5)} ms, p99 ${q(xs, 0.99)} ms`;
    process.stderr.write(`wallet-pg serial (${cycles} cycles): ${line('reserve', reserveMs)}; ${line('settle', settleMs)}; ${line('reserve+settle', totalMs)}\n`);
    expect(await consumption(sql, 'pub')).toEqual({ n: cycles, total: String(cycles * 100) });
    expect([await repo.balance('pub'), await repo.held('pub')]).toEqual([0, 0]);
    expect(await auditMoneyPg(sql)).toEqual([]);
  });
}, 60_000);

test('amounts read back from BIGINT columns are safe integers or an error, never a rounded number', () => {
  expect([micros('9007199254740991'), micros(-5), micros(12n), micros('0')]).toEqual([Number.MAX_SAFE_INTEGER, -5, 12, 0]);
  for (const bad of ['9007199254740993', '12345678901234567', '1.5', '1e3', ' 1', '', null, undefined, 2 ** 60]) expect(() => micros(bad)).toThrow(/not a safe integer/);
});
