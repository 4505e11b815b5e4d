/**
 * A small Prometheus registry written for the request path: an observation is a Map lookup on a short label
 * key and a few number writes (no I/O, no string building beyond the key). Text is rendered only when
 * /metrics is scraped. Each metric has a bounded number of label sets: past MAX_SERIES, new label sets are
 * counted under one `other` series, so a bug that leaks an id into a label cannot grow memory without limit.
 * (No library: prom-client is ~10x this file and brings its own default collectors and global registry.)
 */
import type { WriteGate } from '../store/write-gate';

const MAX_SERIES = 500;
const OVERFLOW = 'other';

type Labels = readonly string[];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(names: Labels, values: Labels, extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatNumber(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isNaN(n) ? 'NaN' : String(n);
}

type Metric = { render(out: string[]): void };

function header(out: string[], name: string, help: string, type: string) {
  out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
}

/** Finds (or creates, within the bound) the series for a label set; the key joins values with a separator. */
function seriesMap<S>(labelCount: number, create: (values: Labels) => S) {
  const series = new Map<string, { values: Labels; s: S }>();
  return {
    series,
    get(values: Labels): S {
      const key = labelCount === 1 ? values[0] : values.join('\u0000');
      let entry = series.get(key);
      if (entry) return entry.s;
      if (series.size >= MAX_SERIES) {
        const other = Array<string>(labelCount).fill(OVERFLOW);
        const overflowKey = labelCount === 1 ? OVERFLOW : other.join('\u0000');
        entry = series.get(overflowKey);
        if (entry) return entry.s;
        entry = { values: other, s: create(other) };
        series.set(overflowKey, entry);
        return entry.s;
      }
      entry = { values: [...values], s: create(values) };
      series.set(key, entry);
      return entry.s;
    },
  };
}

export type Counter = { inc(values?: Labels, by?: number): void; value(values?: Labels): number };

export type Histogram = { observe(values: Labels, value: number): void; snapshot(values?: Labels): { count: number; sum: number; buckets: number[] } | null };

/** Bucket bounds in milliseconds (metric names end in _ms: units last). */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000];
export const OVERHEAD_BUCKETS_MS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100];
/** Fine around 1-10 ms, where a stall starts to show in request latency. */
export const LAG_BUCKETS_MS = [0.5, 1, 2, 3, 4, 5, 7.5, 10, 25, 50, 100, 250, 1000];

export function createRegistry() {
  const metrics: Metric[] = [];
  const names = new Set<string>();
  const claim = (name: string) => {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name) || names.has(name)) throw new Error(`bad or duplicate metric name ${name}`);
    names.add(name);
  };

  function counter(name: string, help: string, labelNames: Labels = []): Counter {
    claim(name);
    const map = seriesMap(labelNames.length, () => ({ n: 0 }));
    metrics.push({
      render(out) {
        header(out, name, help, 'counter');
        for (const { values, s } of map.series.values()) out.push(`${name}${labelText(labelNames, values)} ${formatNumber(s.n)}`);
      },
    });
    return {
      inc(values = [], by = 1) {
        map.get(values).n += by;
      },
      value: (values = []) => map.series.get(labelNames.length === 1 ? values[0] : values.join('\u0000'))?.s.n ?? 0,
    };
  }

  function histogram(name: string, help: string, labelNames: Labels, bounds: number[]): Histogram {
    claim(name);
    const map = seriesMap(labelNames.length, () => ({ buckets: new Float64Array(bounds.length), count: 0, sum: 0 }));
    metrics.push({
      render(out) {
        header(out, name, help, 'histogram');
        for (const { values, s } of map.series.values()) {
          // Buckets are stored per interval and made cumulative here, at scrape time.
          let cumulative = 0;
          for (let i = 0; i < bounds.length; i++) {
            cumulative += s.buckets[i];
            out.push(`${name}_bucket${labelText(labelNames, values, `le="${formatNumber(bounds[i])}"`)} ${cumulative}`);
          }
          out.push(`${name}_bucket${labelText(labelNames, values, 'le="+Inf"')} ${s.count}`);
          out.push(`${name}_sum${labelText(labelNames, values)} ${formatNumber(s.sum)}`);
          out.push(`${name}_count${labelText(labelNames, values)} ${s.count}`);
        }
      },
    });
    return {
      observe(values, value) {
        if (!(value >= 0)) return;
        const s = map.get(values);
        s.count++;
        s.sum += value;
        for (let i = 0; i < bounds.length; i++) {
          if (value <= bounds[i]) {
            s.buckets[i]++;
            return;
          }
        }
      },
      snapshot(values = []) {
        const s = map.series.get(labelNames.length === 1 ? values[0] : values.join('\u0000'))?.s;
        return s ? { count: s.count, sum: s.sum, buckets: [...s.buckets] } : null;
      },
    };
  }

  /** A gauge read at scrape time: `read` fills it (queue depths, holds); nothing is stored between scrapes. */
  function gauge(name: string, help: string, labelNames: Labels, read: (set: (values: Labels, value: number) => void) => void, type: 'gauge' | 'counter' = 'gauge') {
    claim(name);
    metrics.push({
      render(out) {
        header(out, name, help, type);
        read((values, value) => out.push(`${name}${labelText(labelNames, values)} ${formatNumber(value)}`));
      },
    });
  }

  return {
    counter,
    histogram,
    gauge,
    /** The exposition text (format 0.0.4). */
    render(): string {
      const out: string[] = [];
      for (const m of metrics) m.render(out);
      return out.join('\n') + '\n';
    },
  };
}
export type Registry = ReturnType<typeof createRegistry>;

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** What the metrics read of the store's write gate (src/store/write-gate.ts). */
type WatchedGate = Pick<WriteGate, 'stats' | 'takeLongestMs'>;

export type QueueStats = { queued: number; dropped: number; failed: number; writtenThrough: number };

/** The gateway's metrics. Recording functions are what the request path calls; the rest is read at scrape time. */
export function createGatewayMetrics() {
  const registry = createRegistry();
  const requests = registry.counter('vexrail_http_requests_total', 'HTTP requests by method, route template and status', ['method', 'route', 'status']);
  const requestMs = registry.histogram('vexrail_http_request_duration_ms', 'Time until the response headers, by method, route template and status (ms)', ['method', 'route', 'status'], LATENCY_BUCKETS_MS);
  const overheadMs = registry.histogram('vexrail_gateway_overhead_ms', 'Chat completions: time spent in the gateway before the upstream answer, excluding the upstream wait (ms)', [], OVERHEAD_BUCKETS_MS);
  const upstreamMs = registry.histogram('vexrail_upstream_duration_ms', 'Time until an upstream provider\'s response headers, by provider (ms)', ['provider'], LATENCY_BUCKETS_MS);
  const upstreamErrors = registry.counter('vexrail_upstream_errors_total', 'Upstream requests that failed before an answer, by provider and error code', ['provider', 'code']);
  const failovers = registry.counter('vexrail_upstream_failovers_total', 'Requests moved off a provider after it failed: retried on it (kind retry) or sent to the next provider (kind failover)', ['provider', 'kind']);
  let providerHealth: (() => Array<{ name: string; state: string; consecutive_failures: number }>) | null = null;
  registry.gauge('vexrail_provider_breaker_state', 'Circuit breaker of each provider: 0 closed, 1 half-open (one probe allowed), 2 open (skipped)', ['provider'], (set) => {
    for (const p of providerHealth?.() ?? []) set([p.name], p.state === 'closed' ? 0 : p.state === 'half_open' ? 1 : 2);
  });
  registry.gauge('vexrail_provider_consecutive_failures', 'Consecutive failed requests to each provider', ['provider'], (set) => {
    for (const p of providerHealth?.() ?? []) set([p.name], p.consecutive_failures);
  });
  const tokens = registry.counter('vexrail_tokens_total', 'Tokens billed, by model and kind (prompt, completion)', ['model', 'kind']);
  const spend = registry.counter('vexrail_spend_micros_total', 'Credits charged for chat completions, by model (micro-USD)', ['model']);
  const decided = registry.counter('vexrail_promotions_decided_total', 'Answers for which a promotion was chosen (before the answer finished)');
  const delivered = registry.counter('vexrail_promotions_delivered_total', 'Promotions appended to a finished answer');
  const clicks = registry.counter('vexrail_promotion_clicks_total', 'Clicks on tracked links, by status', ['status']);
  const noFills = registry.counter('vexrail_promotion_no_fill_total', 'Answers without a promotion, by reason', ['reason']);
  const queues: Array<{ name: string; stats: () => QueueStats }> = [];
  const readQueues = (pick: (s: QueueStats) => number) => (set: (values: readonly string[], value: number) => void) => {
    for (const q of queues) set([q.name], pick(q.stats()));
  };
  registry.gauge('vexrail_write_behind_queued', 'Records waiting in a write-behind queue', ['queue'], readQueues((s) => s.queued));
  registry.gauge('vexrail_write_behind_dropped_total', 'Records dropped because a write-behind queue was full', ['queue'], readQueues((s) => s.dropped), 'counter');
  registry.gauge('vexrail_write_behind_failed_total', 'Records lost because their batch write failed', ['queue'], readQueues((s) => s.failed), 'counter');
  registry.gauge('vexrail_write_behind_written_through_total', 'Times a full queue was written in the caller\'s turn', ['queue'], readQueues((s) => s.writtenThrough), 'counter');
  const holds = { count: 0, micros: 0 };
  registry.gauge('vexrail_wallet_holds_outstanding', 'Credit holds of requests in flight', [], (set) => set([], holds.count));
  registry.gauge('vexrail_wallet_held_micros', 'Credits held by requests in flight (micro-USD)', [], (set) => set([], holds.micros));
  // The lag timer re-arms itself every vexrail_event_loop_lag_probe_ms (10 by default, VEXRAIL_LAG_PROBE_MS);
  // how late each firing comes is how long the loop was held. A stall shorter than the period can be missed.
  let lagProbe: { takeMax: () => number; periodMs: number } | null = null;
  registry.gauge('vexrail_event_loop_lag_probe_ms', 'Period of the event-loop lag timer (ms): 10 by default, VEXRAIL_LAG_PROBE_MS=1 to see stalls of a few ms', [], (set) => {
    if (lagProbe) set([], lagProbe.periodMs);
  });
  registry.gauge('vexrail_event_loop_lag_max_ms', 'Largest delay of the event-loop lag timer beyond its due time since the previous scrape (ms; every scrape starts it over)', [], (set) => {
    if (lagProbe) set([], lagProbe.takeMax());
  });
  // The checkpointer's holds of the store's deferrable writes (src/store/write-gate.ts).
  let writeGate: WatchedGate | null = null;
  registry.gauge('vexrail_store_write_holds_total', 'Times the WAL checkpointer held the group commit and background writes so that the log could start over', [], (set) => {
    if (writeGate) set([], writeGate.stats().holds);
  }, 'counter');
  registry.gauge('vexrail_store_write_held_ms_total', 'Time writes were held by the WAL checkpointer (ms)', [], (set) => {
    if (writeGate) set([], writeGate.stats().heldMs);
  }, 'counter');
  registry.gauge('vexrail_store_write_hold_max_ms', 'Longest hold of writes by the WAL checkpointer since the previous scrape (ms; every scrape starts it over)', [], (set) => {
    if (writeGate) set([], writeGate.takeLongestMs());
  });
  const lagMs = registry.histogram('vexrail_event_loop_lag_ms', 'Delay of each firing of the event-loop lag timer beyond its due time (ms; the timer period is vexrail_event_loop_lag_probe_ms)', [], LAG_BUCKETS_MS);

  return {
    render: registry.render,
    /**
     * One finished request (headers sent). `route` is the template of the route the router matched
     * (`/admin/v1/projects/:id`, never the raw path, so ids are never label values), `unmatched` when none
     * did, `unparsable` when the request target could not be parsed.
     */
    request(method: string, route: string, status: number, durationMs: number) {
      const labels = [METHODS.has(method) ? method : 'other', route, String(status)];
      requests.inc(labels);
      requestMs.observe(labels, durationMs);
    },
    overhead: (ms: number) => overheadMs.observe([], ms),
    upstream(provider: string, ms: number, errorCode: string | null) {
      if (errorCode === null) upstreamMs.observe([provider], ms);
      else upstreamErrors.inc([provider, errorCode]);
    },
    failover: (provider: string, kind: 'retry' | 'failover') => failovers.inc([provider, kind]),
    watchProviders(snapshot: () => Array<{ name: string; state: string; consecutive_failures: number }>) {
      providerHealth = snapshot;
    },
    usage(model: string, promptTokens: number, completionTokens: number, costMicros: number) {
      tokens.inc([model, 'prompt'], promptTokens);
      tokens.inc([model, 'completion'], completionTokens);
      spend.inc([model], costMicros);
    },
    promotion: {
      decided: () => decided.inc(),
      delivered: () => delivered.inc(),
      noFill: (reason: string) => noFills.inc([reason]),
      click: (status: string) => clicks.inc([status]),
    },
    holdOpened(micros: number) {
      holds.count++;
      holds.micros += micros;
    },
    holdClosed(micros: number) {
      holds.count--;
      holds.micros -= micros;
    },
    watchQueue(name: string, stats: () => QueueStats) {
      queues.push({ name, stats });
    },
    /** The lag timer: its largest delay since the last call (reset by the call) and its period. */
    watchLag(probe: { takeMax: () => number; periodMs: number }) {
      lagProbe = probe;
    },
    lag: (ms: number) => lagMs.observe([], ms),
    watchWriteGate(gate: WatchedGate) {
      writeGate = gate;
    },
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

type Reservation = { holdId: string; amountMicros: number } | null;
type HoldingWallet = {
  reserve(projectId: string, size: (availableMicros: number) => number | null): Reservation | Promise<Reservation>;
  settle(holdId: string, ...rest: any[]): unknown;
};

/** The wallet as the chat service sees it, reporting each hold placed and settled to the holds gauges. */
export function observeHolds<W extends HoldingWallet>(wallet: W, metrics: Pick<GatewayMetrics, 'holdOpened' | 'holdClosed'>): W {
  const open = new Map<string, number>();
  return {
    ...wallet,
    reserve(projectId, size) {
      const opened = (hold: Reservation) => {
        if (hold) {
          open.set(hold.holdId, hold.amountMicros);
          metrics.holdOpened(hold.amountMicros);
        }
        return hold;
      };
      const hold = wallet.reserve(projectId, size);
      return hold instanceof Promise ? hold.then(opened) : opened(hold);
    },
    settle(holdId: string, ...rest: any[]) {
      const micros = open.get(holdId);
      if (micros !== undefined) {
        open.delete(holdId);
        metrics.holdClosed(micros);
      }
      return wallet.settle(holdId, ...rest);
    },
  };
}

/** A promotion decorator that counts the answers for which it chose a promotion. */
export function countDecisions<D extends { decide(ctx: any): unknown }>(decorator: D, onDecided: () => void): D {
  return {
    ...decorator,
    decide(ctx: unknown) {
      const decision = decorator.decide(ctx);
      if (decision instanceof Promise) return decision.then((d) => (d && onDecided(), d));
      if (decision) onDecided();
      return decision;
    },
  };
}
