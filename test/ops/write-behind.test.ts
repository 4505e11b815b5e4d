import { describe, expect, test } from 'bun:test';
import { createWriteBehind } from '../../src/ops/write-behind';
import { createWriteGate } from '../../src/store/write-gate';

/** A queue whose timer never fires during a test: only pushes and explicit flushes write. */
function queue(overflow: 'drop_oldest' | 'write_through', write: (batch: number[]) => void = () => {}) {
  const logged: any[] = [];
  const errors: number[] = [];
  const q = createWriteBehind<number>({
    name: 'numbers', intervalMs: 3_600_000, maxQueued: 2, overflow, write,
    onError: (_err, n) => errors.push(n), log: (line) => logged.push(JSON.parse(line)),
  });
  return { q, logged, errors };
}

describe('write-behind queue', () => {
  test('drop_oldest: over the bound the oldest records go, and every drop is counted and logged', () => {
    const written: number[][] = [];
    const { q, logged } = queue('drop_oldest', (b) => written.push(b));
    for (let i = 1; i <= 5; i++) q.push(i);
    expect(written).toEqual([]);
    expect(q.stats()).toEqual({ queued: 2, dropped: 3, failed: 0, writtenThrough: 0 });
    q.flush();
    expect(written).toEqual([[4, 5]]);
    expect(logged).toEqual([{ level: 'error', msg: 'write-behind queue full: records dropped', queue: 'numbers', dropped: 3, dropped_total: 3, max_queued: 2 }]);
    q.push(6);
    q.stop();
    expect(logged).toHaveLength(1);
    expect(q.stats().dropped).toBe(3);
  });

  test('write_through: a full queue is written in the pushing call, nothing is dropped', () => {
    const written: number[][] = [];
    const { q, logged } = queue('write_through', (b) => written.push(b));
    q.push(1);
    q.push(2);
    expect(written).toEqual([]);
    q.push(3);
    expect(written).toEqual([[1, 2, 3]]);
    expect(q.stats().queued).toBe(0);
    for (let i = 4; i <= 8; i++) q.push(i);
    expect(written).toEqual([[1, 2, 3], [4, 5, 6]]);
    q.stop();
    expect(written.flat()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(q.stats()).toEqual({ queued: 0, dropped: 0, failed: 0, writtenThrough: 2 });
    expect(logged).toEqual([]);
  });

  test('a batch whose write throws is counted as failed and reported, never silently', () => {
    const { q, errors } = queue('write_through', () => {
      throw new Error('disk full');
    });
    for (let i = 1; i <= 3; i++) q.push(i);
    expect(errors).toEqual([3]);
    expect(q.stats()).toMatchObject({ queued: 0, failed: 3, dropped: 0 });
    q.stop();
  });
});

/** Resolves once the queue is empty (polling), or fails after `limitMs`. */
async function drained(q: { stats(): { queued: number } }, limitMs = 10_000) {
  const until = performance.now() + limitMs;
  while (q.stats().queued > 0) {
    if (performance.now() > until) throw new Error(`still ${q.stats().queued} queued after ${limitMs} ms`);
    await Bun.sleep(1);
  }
}

describe('the timer drains in slices', () => {
  test('timed slices wait while the store\'s write gate is held; flush() does not', async () => {
    const gate = createWriteGate();
    const batches: number[][] = [];
    const q = createWriteBehind<number>({
      intervalMs: 2, maxQueued: 1000, gate, write: (batch) => batches.push(batch), onError: (err) => { throw err; },
    });
    gate.hold(10_000);
    q.push(1);
    q.push(2);
    await Bun.sleep(30);
    expect(batches).toEqual([]);
    gate.open();
    await drained(q);
    expect(batches.flat()).toEqual([1, 2]);
    gate.hold(10_000);
    q.push(3);
    q.flush();
    expect(batches.flat()).toEqual([1, 2, 3]);
    gate.open();
    q.stop();
  });

  test('a backlog is written in slices sized to the budget, one per event-loop turn, oldest first', async () => {
    // A fake clock: each record "costs" 0.125 ms, so a 1.5 ms budget is 12 records a slice.
    let clock = 0;
    const batches: number[][] = [];
    let inTurn = false;
    let sharedTurns = 0;
    const q = createWriteBehind<number>({
      intervalMs: 5, maxQueued: 100_000, sliceBudgetMs: 1.5, now: () => clock,
      write: (batch) => {
        if (inTurn) sharedTurns++;
        inTurn = true;
        queueMicrotask(() => (inTurn = false)); // runs before the next macrotask, so before the next slice if it is one
        clock += batch.length * 0.125;
        batches.push(batch);
      },
      onError: (err) => { throw err; },
    });
    const n = 3000;
    for (let i = 0; i < n; i++) q.push(i);
    await drained(q);
    q.stop();
    expect(batches.flat()).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(sharedTurns).toBe(0);
    expect(batches[0].length).toBe(16); // before any cost is known
    for (const b of batches.slice(1, -1)) expect(b.length).toBe(12);
    expect(batches.at(-1)!.length).toBe((n - 16) % 12 || 12);
  });

  test('a backlog that fits in the interval is spread over it, not written back to back', async () => {
    // Fake cost 0.125 ms a record, budget 1.5 ms: 16 records first, then 12 a slice; 64 records are 5 slices.
    let clock = 0;
    const at: number[] = [];
    const sizes: number[] = [];
    const q = createWriteBehind<number>({
      intervalMs: 100, maxQueued: 100_000, sliceBudgetMs: 1.5, now: () => clock,
      write: (batch) => {
        at.push(performance.now());
        sizes.push(batch.length);
        clock += batch.length * 0.125;
      },
      onError: (err) => { throw err; },
    });
    for (let i = 0; i < 64; i++) q.push(i);
    await drained(q, 2_000);
    q.stop();
    expect(sizes).toEqual([16, 12, 12, 12, 12]);
    const gaps = at.slice(1).map((t, i) => t - at[i]);
    // 80 ms (the pace's share of the interval) over 4 more slices: about 20 ms apart, all done before the next tick.
    expect(Math.min(...gaps)).toBeGreaterThan(10);
    expect(at.at(-1)! - at[0]).toBeLessThan(100);
  });

  test('stop() while the drain pauses between slices writes the rest at once; nothing runs after it', async () => {
    const sizes: number[] = [];
    let clock = 0;
    const q = createWriteBehind<number>({
      intervalMs: 50, maxQueued: 100_000, sliceBudgetMs: 1.5, now: () => clock,
      write: (batch) => {
        sizes.push(batch.length);
        clock += batch.length * 0.125;
      },
      onError: (err) => { throw err; },
    });
    for (let i = 0; i < 64; i++) q.push(i);
    while (sizes.length < 1) await Bun.sleep(1);
    q.stop();
    expect(q.stats().queued).toBe(0);
    expect(sizes).toEqual([16, 48]);
    await Bun.sleep(80);
    expect(sizes).toEqual([16, 48]);
  });

  test('slices shrink when records get slower and grow back, never past sliceMaxRecords', async () => {
    let clock = 0;
    let costMs = 0.01;
    const sizes: number[] = [];
    const q = createWriteBehind<number>({
      intervalMs: 5, maxQueued: 100_000, sliceBudgetMs: 2, sliceMaxRecords: 100, now: () => clock,
      write: (batch) => {
        clock += batch.length * costMs;
        sizes.push(batch.length);
        if (sizes.length === 3) costMs = 1; // 100x slower from the fourth slice's measurement on
        if (sizes.length === 12) costMs = 0.01; // and fast again
      },
      onError: (err) => { throw err; },
    });
    for (let i = 0; i < 2000; i++) q.push(i);
    await drained(q);
    q.stop();
    expect(sizes.slice(0, 3)).toEqual([16, 100, 100]); // 0.01 ms a record: the cap, not 200
    // After one slow slice of 100 records (100 ms) the estimate averages to ~0.5 ms: 4 records, then 2 (budget 2 ms at 1 ms each).
    expect(sizes[3]).toBe(100);
    expect(sizes[4]).toBeLessThanOrEqual(4);
    expect(Math.max(...sizes.slice(6, 13))).toBeLessThanOrEqual(2);
    expect(sizes.slice(13)).toContain(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
  });

  test('with real work, no slice holds the loop much longer than its budget', async () => {
    // Each record costs 50 µs of busy work: the old single flush of 2,000 records held the loop ~100 ms.
    const sliceMs: number[] = [];
    const sizes: number[] = [];
    const q = createWriteBehind<number>({
      intervalMs: 5, maxQueued: 100_000, sliceBudgetMs: 1.5,
      write: (batch) => {
        const t0 = performance.now();
        for (const _ of batch) {
          const until = performance.now() + 0.05;
          while (performance.now() < until) {}
        }
        sliceMs.push(performance.now() - t0);
        sizes.push(batch.length);
      },
      onError: (err) => { throw err; },
    });
    for (let i = 0; i < 2000; i++) q.push(i);
    await drained(q);
    q.stop();
    sliceMs.sort((a, b) => a - b);
    console.log(`2,000 records of 50 µs: ${sizes.length} slices, median ${sliceMs[sliceMs.length >> 1].toFixed(2)} ms, longest ${sliceMs[sliceMs.length - 1].toFixed(2)} ms, at most ${Math.max(...sizes)} records`);
    expect(sizes.length).toBeGreaterThan(20);
    // 1.5 ms at >= 50 µs a record is at most 30 records; a slice measured slow (descheduled) only makes the next ones smaller.
    expect(Math.max(...sizes)).toBeLessThanOrEqual(30);
    // Medians, not maxima: a loaded machine can deschedule any single slice for longer than the budget.
    expect(sliceMs[sliceMs.length >> 1]).toBeLessThan(5);
  });

  test('stop() during a drain writes everything left at once, and nothing is written after it', async () => {
    let clock = 0;
    const batches: number[][] = [];
    const q = createWriteBehind<number>({
      intervalMs: 5, maxQueued: 100_000, sliceBudgetMs: 1, sliceMaxRecords: 400, now: () => clock,
      write: (batch) => {
        clock += batch.length * 0.1;
        batches.push(batch);
      },
      onError: (err) => { throw err; },
    });
    for (let i = 0; i < 1000; i++) q.push(i);
    while (batches.length < 2) await new Promise((resolve) => setImmediate(resolve));
    const before = batches.length;
    const left = q.stats().queued;
    expect(left).toBeGreaterThan(800); // the drain had begun, slices of 10 records
    q.stop();
    expect(q.stats().queued).toBe(0);
    expect(batches.flat()).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // The rest went at once, in slices of at most sliceMaxRecords.
    expect(batches.slice(before).map((b) => b.length)).toEqual([400, 400, left - 800]);
    const count = batches.length;
    q.push(1001);
    await Bun.sleep(30);
    expect(batches.length).toBe(count); // the timer is gone
  });

  test('flush() writes everything in the caller\'s turn; a failing slice is counted and the others still go', () => {
    const errors: number[] = [];
    const written: number[] = [];
    const q = createWriteBehind<number>({
      intervalMs: 3_600_000, maxQueued: 100_000, sliceMaxRecords: 100,
      write: (batch) => {
        if (batch[0] === 100) throw new Error('disk full');
        written.push(...batch);
      },
      onError: (_err, n) => errors.push(n),
    });
    for (let i = 0; i < 250; i++) q.push(i);
    q.flush();
    expect(q.stats()).toMatchObject({ queued: 0, failed: 100 });
    expect(errors).toEqual([100]);
    expect(written).toEqual([...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 200 + i)]);
    q.stop();
  });
});
