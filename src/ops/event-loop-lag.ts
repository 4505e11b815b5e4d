/**
 * Event-loop lag: a timer re-armed `intervalMs` after each firing; how late it fires is how long the loop was
 * busy (a synchronous stretch of work delays every request waiting behind it). Each delay goes to `observe`;
 * the largest since the last `takeMax()` is kept for a gauge. A stall shorter than the period can fall
 * between two firings and be missed (or show shortened), so measuring stalls of a few milliseconds takes a
 * 1 ms period. The timer is unref'd: it never keeps the process alive. Cost at 1 ms: about a thousand timer
 * callbacks a second, each one subtraction and a histogram update (~2 % of a core on an idle server, against
 * ~1 % at 10 ms).
 */
/** The gateway's default period: a 1 ms timer (VEXRAIL_LAG_PROBE_MS=1) costs about 1.3 % of a core more on an idle server. */
export const DEFAULT_LAG_PROBE_MS = 10;

export function startEventLoopLag(observe: (lagMs: number) => void, intervalMs = 1) {
  let maxMs = 0;
  let due = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  const arm = () => {
    due = performance.now() + intervalMs;
    timer = setTimeout(tick, intervalMs);
    timer.unref?.();
  };
  const tick = () => {
    const lagMs = Math.max(0, performance.now() - due);
    if (lagMs > maxMs) maxMs = lagMs;
    observe(lagMs);
    if (!stopped) arm();
  };
  arm();
  return {
    /** The timer's period (ms). */
    periodMs: intervalMs,
    /** The largest delay since the previous call (ms), then starts over. */
    takeMax(): number {
      const value = maxMs;
      maxMs = 0;
      return value;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
export type EventLoopLag = ReturnType<typeof startEventLoopLag>;
