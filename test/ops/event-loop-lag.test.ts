import { expect, test } from 'bun:test';
import { startEventLoopLag } from '../../src/ops/event-loop-lag';

test('a synchronous stretch of work shows up as lag: in the max and in the observed delays', async () => {
  const seen: number[] = [];
  const lag = startEventLoopLag((ms) => seen.push(ms));
  await Bun.sleep(30);
  expect(seen.length).toBeGreaterThan(3); // the 1 ms timer keeps firing
  lag.takeMax();
  const until = performance.now() + 60;
  while (performance.now() < until) {
    // block the loop for 60 ms
  }
  await Bun.sleep(5);
  const max = lag.takeMax();
  expect(max).toBeGreaterThanOrEqual(50);
  expect(Math.max(...seen)).toBeGreaterThanOrEqual(50);
  expect(lag.takeMax()).toBeLessThan(50); // takeMax starts over
  lag.stop();
  const count = seen.length;
  await Bun.sleep(10);
  expect(seen.length).toBe(count);
});
