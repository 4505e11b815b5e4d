import { describe, expect, test } from 'bun:test';
import { createWriteBehind } from '../../src/ops/write-behind';

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
