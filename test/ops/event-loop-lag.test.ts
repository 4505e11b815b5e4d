import { expect, test } from 'bun:test';
import { ConfigError, loadConfig } from '../../src/config/config';
import { DEFAULT_LAG_PROBE_MS, startEventLoopLag } from '../../src/ops/event-loop-lag';

test('a synchronous stretch of work shows up as lag: in the max and in the observed delays', async () => {
  const seen: number[] = [];
  const lag = startEventLoopLag((ms) => seen.push(ms), 1);
  // The 1 ms timer keeps firing (on a loaded test machine the first firings may take a while).
  for (const deadline = performance.now() + 2_000; seen.length <= 3 && performance.now() < deadline; ) await Bun.sleep(5);
  expect(seen.length).toBeGreaterThan(3);
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

test('the gateway lag timer period comes from VEXRAIL_LAG_PROBE_MS, 10 ms by default', () => {
  const load = (env: Record<string, string>) => loadConfig({ argv: [], env, defaultDataParent: '/opt/vexrail', readFile: () => '{}' });
  expect(load({}).lagProbeMs).toBe(DEFAULT_LAG_PROBE_MS);
  expect(DEFAULT_LAG_PROBE_MS).toBe(10);
  expect(load({ VEXRAIL_LAG_PROBE_MS: '1' }).lagProbeMs).toBe(1);
  expect(() => load({ VEXRAIL_LAG_PROBE_MS: '0.5' })).toThrow(ConfigError);
  expect(() => load({ VEXRAIL_LAG_PROBE_MS: 'fast' })).toThrow('VEXRAIL_LAG_PROBE_MS must be a positive integer');
});

test('a 10 ms timer still sees a 30 ms stall, and reports its period', async () => {
  const lag = startEventLoopLag(() => {}, 10);
  expect(lag.periodMs).toBe(10);
  await Bun.sleep(15);
  const until = performance.now() + 30;
  while (performance.now() < until) {
    // block the loop for 30 ms
  }
  await Bun.sleep(15);
  expect(lag.takeMax()).toBeGreaterThanOrEqual(20);
  lag.stop();
});
