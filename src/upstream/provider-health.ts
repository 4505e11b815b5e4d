import type { ProviderConfig } from '../config/config';

export type BreakerState = 'closed' | 'open' | 'half_open';

const RECENT_ERRORS = 10;
const LATENCY_SAMPLES = 128;

type Tracked = {
  provider: ProviderConfig;
  consecutiveFailures: number;
  /** When the breaker opened; null while closed. */
  openedAtMs: number | null;
  /** A half-open probe is in flight: nobody else is let through until it ends. */
  probing: boolean;
  requests: number;
  failures: number;
  recentErrors: Array<{ atMs: number; code: string }>;
  latencies: number[];
  latencyNext: number;
};

/**
 * A circuit breaker and health record per provider, in memory (each instance judges its providers on its own
 * traffic). Closed: every request passes. After `breakerFailures` consecutive failures: open, the provider is
 * skipped for `breakerCooldownMs`; then half-open: one probe request passes, its success closes the breaker and
 * its failure opens it for another cooldown.
 */
export function createProviderHealth(providers: readonly ProviderConfig[], now: () => number = Date.now) {
  const tracked = new Map<string, Tracked>();
  const get = (provider: ProviderConfig): Tracked => {
    let t = tracked.get(provider.name);
    if (!t) {
      t = { provider, consecutiveFailures: 0, openedAtMs: null, probing: false, requests: 0, failures: 0, recentErrors: [], latencies: [], latencyNext: 0 };
      tracked.set(provider.name, t);
    }
    return t;
  };
  for (const provider of providers) get(provider);

  function stateOf(t: Tracked): BreakerState {
    if (t.openedAtMs === null) return 'closed';
    return now() - t.openedAtMs >= t.provider.breakerCooldownMs ? 'half_open' : 'open';
  }

  return {
    state: (p: ProviderConfig) => stateOf(get(p)),
    /** May a request go to this provider now? A half-open breaker admits exactly one probe. */
    admit(p: ProviderConfig): boolean {
      const t = get(p);
      const state = stateOf(t);
      if (state === 'closed') return true;
      if (state === 'open' || t.probing) return false;
      t.probing = true;
      return true;
    },
    /** The provider answered (any status it is not to blame for); `ms` is its time to the response headers. */
    success(p: ProviderConfig, ms: number | null) {
      const t = get(p);
      t.requests++;
      t.consecutiveFailures = 0;
      t.openedAtMs = null;
      t.probing = false;
      if (ms !== null) {
        t.latencies[t.latencyNext] = ms;
        t.latencyNext = (t.latencyNext + 1) % LATENCY_SAMPLES;
      }
    },
    failure(p: ProviderConfig, code: string) {
      const t = get(p);
      t.requests++;
      t.failures++;
      t.consecutiveFailures++;
      t.recentErrors.push({ atMs: now(), code });
      if (t.recentErrors.length > RECENT_ERRORS) t.recentErrors.shift();
      if (t.probing || t.consecutiveFailures >= t.provider.breakerFailures) t.openedAtMs = now();
      t.probing = false;
    },
    /** An admitted attempt ended without a verdict on the provider (the client left, the request was refused before sending). */
    release(p: ProviderConfig) {
      get(p).probing = false;
    },
    /** What /readyz and the metrics show: no key, no URL. */
    snapshot() {
      return [...tracked.values()].map((t) => {
        const sorted = [...t.latencies].sort((a, b) => a - b);
        const at = (q: number) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 10) / 10 : null);
        const state = stateOf(t);
        return {
          name: t.provider.name,
          kind: t.provider.kind,
          state,
          consecutive_failures: t.consecutiveFailures,
          requests: t.requests,
          failures: t.failures,
          retry_at: state === 'open' ? new Date(t.openedAtMs! + t.provider.breakerCooldownMs).toISOString() : null,
          recent_errors: t.recentErrors.map((e) => ({ at: new Date(e.atMs).toISOString(), code: e.code })),
          latency_ms: { p50: at(0.5), p99: at(0.99), samples: sorted.length },
        };
      });
    },
  };
}
export type ProviderHealth = ReturnType<typeof createProviderHealth>;
