/**
 * The benchmark's pure parts: reading wrk's report, /proc files and the gateway's Prometheus text, and the
 * small statistics over repeated runs. No I/O here, so test/scripts/bench-parse.test.ts can check each one.
 */

// ---------------------------------------------------------------------------------------------- wrk

export type WrkReport = {
  requests: number;
  durationS: number;
  requestsPerS: number;
  /** Latency percentiles from `--latency`, in ms. */
  latencyMs: { p50: number; p75: number; p90: number; p99: number; max: number };
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  non2xx: number;
  /** Lines a Lua `done()` printed as `bench: key=value`. */
  extra: Record<string, string>;
};

const TIME_UNITS_MS: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "258.00us", "1.33ms", "2.10s", "1.00m" -> ms. */
export function parseWrkTimeMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`unreadable wrk time "${text}"`);
  return Number(m[1]) * TIME_UNITS_MS[m[2]];
}

/** wrk 4's text report (run with --latency). Throws when a number it needs is missing. */
export function parseWrkOutput(text: string): WrkReport {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output has no ${what}:\n${text.slice(0, 1500)}`);
    return m;
  };
  const total = need(/^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h)),/m, '"N requests in T" line');
  const rps = need(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec line');
  const latencyLine = need(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+/m, 'Latency line');
  const pct = (p: number) => parseWrkTimeMs(need(new RegExp(`^\\s*${p}%\\s+(\\S+)\\s*$`, 'm'), `${p}% latency (run wrk with --latency)`)[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const extra: Record<string, string> = {};
  for (const m of text.matchAll(/^bench: ([\w.-]+)=(.*)$/gm)) extra[m[1]] = m[2].trim();
  return {
    requests: Number(total[1]),
    durationS: parseWrkTimeMs(total[2]) / 1000,
    requestsPerS: Number(rps[1]),
    latencyMs: { p50: pct(50), p75: pct(75), p90: pct(90), p99: pct(99), max: parseWrkTimeMs(latencyLine[3]) },
    socketErrors: socket
      ? { connect: Number(socket[1]), read: Number(socket[2]), write: Number(socket[3]), timeout: Number(socket[4]) }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    extra,
  };
}

// ---------------------------------------------------------------------------------------------- /proc

/** utime + stime of /proc/<pid>/stat, in clock ticks (all threads of the process). */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields count from the last ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('unreadable /proc/<pid>/stat');
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  // After the name: state is field 3, utime field 14 and stime field 15 (proc(5)), so indexes 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isInteger(utime) || !Number.isInteger(stime)) throw new Error('unreadable utime/stime in /proc/<pid>/stat');
  return utime + stime;
}

/** A "Vm...:   123 kB" line of /proc/<pid>/status, in kB (VmHWM: peak resident set size). */
export function parseProcStatusKb(status: string, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} in /proc/<pid>/status`);
  return Number(m[1]);
}

/** The machine's CPU time from the first line of /proc/stat, in ticks: busy (all but idle and iowait) and total. */
export function parseMachineCpu(procStat: string): { busyTicks: number; totalTicks: number } {
  const m = /^cpu\s+(.+)$/m.exec(procStat);
  if (!m) throw new Error('no cpu line in /proc/stat');
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const v = m[1].trim().split(/\s+/).slice(0, 8).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busyTicks: total - v[3] - (v[4] ?? 0), totalTicks: total };
}

// ---------------------------------------------------------------------------------------------- Prometheus

/** Prometheus text: series name with its labels as written (e.g. `x_bucket{le="5"}`) -> value. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*(?:\{.*\})?)\s+(\S+)$/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Sum of every series of `name` whose labels include all `match` pairs. */
export function sumSeries(samples: Map<string, number>, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(match).every(([k, v]) => key.includes(`${k}="${v}"`))) sum += value;
  }
  return sum;
}

export type BucketCounts = { bounds: number[]; cumulative: number[]; count: number };

/** A histogram's cumulative buckets (without +Inf) and count, optionally as the difference of two scrapes. */
export function histogram(after: Map<string, number>, name: string, before?: Map<string, number>): BucketCounts {
  const rows: Array<[number, number]> = [];
  for (const [key, value] of after) {
    const m = new RegExp(`^${name}_bucket\\{(?:.*,)?le="([^"]+)"\\}$`).exec(key);
    if (!m || m[1] === '+Inf') continue;
    rows.push([Number(m[1]), value - (before?.get(key) ?? 0)]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  const count = (after.get(`${name}_count`) ?? 0) - (before?.get(`${name}_count`) ?? 0);
  return { bounds: rows.map((r) => r[0]), cumulative: rows.map((r) => r[1]), count };
}

/**
 * The q-quantile of a histogram as the upper bound of the bucket it falls in (what a histogram can say
 * for sure: "p99 <= 2 ms"). Infinity when it lies above the last bound; NaN when there are no observations.
 */
export function histogramQuantileBound(h: BucketCounts, q: number): number {
  if (h.count <= 0) return NaN;
  const rank = Math.ceil(q * h.count);
  for (let i = 0; i < h.bounds.length; i++) if (h.cumulative[i] >= rank) return h.bounds[i];
  return Infinity;
}

// ---------------------------------------------------------------------------------------------- statistics

export type Spread = { median: number; min: number; max: number; n: number };

/** Median and range of the finite values (NaN median when none). */
export function spread(values: number[]): Spread {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
  return { median, min: v[0], max: v[v.length - 1], n: v.length };
}

export function percentileOf(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
