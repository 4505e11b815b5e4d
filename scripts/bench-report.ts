/**
 * The benchmark's tables: per scenario, each number as the median and range over the runs, each gateway
 * number beside the bare proxy's of the same run, and the issue-9 targets with met/missed.
 */
import type { Measurement } from './bench-measure';
import { spread, type Spread } from './bench-parse';
import type { StreamResult } from './bench-stream';

export type Run = {
  direct1: Measurement;
  proxy1: Measurement;
  proxyHi: Measurement;
  gateway1: Measurement;
  gatewayHi: Measurement;
  /** Monetization scenario: the same requests to a project with monetization off, @high. */
  gatewayOffHi?: Measurement;
  stream?: { direct: StreamResult; proxy: StreamResult; gateway: StreamResult };
};

export type ScenarioReport = {
  name: string;
  description: string;
  high: number;
  runs: Run[];
  rssMb: { proxy: number; gateway: number };
  notes: string[];
};

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : n === Infinity ? '∞' : 'n/a');
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
/** "median (min-max)" or just the value for one run. */
function cell(s: Spread, show: (n: number) => string): string {
  if (s.n === 0) return 'n/a';
  return s.n === 1 || s.min === s.max ? show(s.median) : `${show(s.median)} (${show(s.min)}-${show(s.max)})`;
}

type Check = { pass: (v: number) => boolean; target: string };
/** Met or missed on the median, with how many runs met it. */
function verdict(values: number[], check: Check): string {
  const s = spread(values);
  if (s.n === 0) return 'n/a';
  const met = values.filter((v) => Number.isFinite(v) && check.pass(v)).length;
  const word = check.pass(s.median) ? '**met**' : '**missed**';
  return s.n === 1 ? word : `${word} (${met}/${s.n} runs)`;
}

export function scenarioTable(r: ScenarioReport): string[] {
  const hi = r.high;
  const col = (pick: (run: Run) => number) => r.runs.map(pick);
  const row = (label: string, proxy: number[], gateway: number[], ratio: number[], ratioShow: (n: number) => string, show: (n: number) => string, check: Check | null, targetText?: string) =>
    `| ${label} | ${cell(spread(proxy), show)} | ${cell(spread(gateway), show)} | ${cell(spread(ratio), ratioShow)} | ${targetText ?? check?.target ?? '-'} | ${check ? verdict(ratio, check) : '-'} |`;
  const pct = (n: number) => `${f(n, 1)} %`;
  const times = (n: number) => `${f(n, 2)}x`;
  const ms = (n: number) => f(n, 2);
  const lines = [
    `| ${r.name} | bare Bun proxy | gateway | gateway vs proxy (same run) | target | result |`,
    '|---|--:|--:|--:|---|---|',
  ];
  lines.push(row(`req/s @${hi}`, col((x) => x.proxyHi.wrk.requestsPerS), col((x) => x.gatewayHi.wrk.requestsPerS),
    col((x) => (x.gatewayHi.wrk.requestsPerS / x.proxyHi.wrk.requestsPerS) * 100), pct, int, { pass: (v) => v >= 45, target: '>= 45 % of the proxy' }));
  lines.push(row(`CPU per request @${hi}, server process (µs)`, col((x) => x.proxyHi.serverCpuUsPerReq), col((x) => x.gatewayHi.serverCpuUsPerReq),
    col((x) => x.gatewayHi.serverCpuUsPerReq / x.proxyHi.serverCpuUsPerReq), times, int, { pass: (v) => v <= 2, target: '<= 2x the proxy' }));
  // Where the limit is: a main thread near 100 % of one core is the bottleneck, whatever the other threads do.
  lines.push(row(`main thread busy @${hi} (% of one core)`, col((x) => x.proxyHi.mainThreadCorePct), col((x) => x.gatewayHi.mainThreadCorePct),
    col((x) => x.gatewayHi.mainThreadCorePct - x.proxyHi.mainThreadCorePct), (n) => `${n >= 0 ? '+' : ''}${f(n, 1)} points`, pct, null));
  lines.push(row(`main-thread CPU per request @${hi} (µs)`, col((x) => x.proxyHi.mainThreadUsPerReq), col((x) => x.gatewayHi.mainThreadUsPerReq),
    col((x) => x.gatewayHi.mainThreadUsPerReq / x.proxyHi.mainThreadUsPerReq), times, int, null));
  // The other threads by name (median over the runs), busiest first: what shares the second core with the mock and wrk.
  const threads = (pick: (x: Run) => Measurement) => {
    const names = new Set(r.runs.flatMap((x) => Object.keys(pick(x).otherThreadsCorePct ?? {})));
    const medians = [...names].map((n) => [n, spread(col((x) => pick(x).otherThreadsCorePct?.[n] ?? 0)).median] as const).filter(([, v]) => v >= 0.5);
    medians.sort((a, b) => b[1] - a[1]);
    return medians.length ? medians.slice(0, 5).map(([n, v]) => `${n} ${f(v, 0)} %`).join(', ') : '-';
  };
  lines.push(`| other threads @${hi} (% of one core, median) | ${threads((x) => x.proxyHi)} | ${threads((x) => x.gatewayHi)} | - | - | - |`);
  lines.push(row('p50 @1 (ms)', col((x) => x.proxy1.wrk.latencyMs.p50), col((x) => x.gateway1.wrk.latencyMs.p50),
    col((x) => x.gateway1.wrk.latencyMs.p50 / x.proxy1.wrk.latencyMs.p50), times, ms, null));
  lines.push(row('p99 @1 (ms)', col((x) => x.proxy1.wrk.latencyMs.p99), col((x) => x.gateway1.wrk.latencyMs.p99),
    col((x) => x.gateway1.wrk.latencyMs.p99 / x.proxy1.wrk.latencyMs.p99), times, ms, null));
  // The issue's p99 target at one connection is what the gateway adds to the upstream alone (direct).
  const added = (m: (x: Run) => Measurement) => col((x) => m(x).wrk.latencyMs.p99 - x.direct1.wrk.latencyMs.p99);
  const signed = (n: number) => `${n >= 0 ? '+' : ''}${ms(n)}`;
  lines.push(row('p99 added @1 vs direct mock (ms)', added((x) => x.proxy1), added((x) => x.gateway1), added((x) => x.gateway1), (n) => `${signed(n)} ms`, signed,
    { pass: (v) => v <= 3, target: '<= +3 ms' }));
  lines.push(row(`p50 @${hi} (ms)`, col((x) => x.proxyHi.wrk.latencyMs.p50), col((x) => x.gatewayHi.wrk.latencyMs.p50),
    col((x) => x.gatewayHi.wrk.latencyMs.p50 / x.proxyHi.wrk.latencyMs.p50), times, ms, null));
  lines.push(row(`p99 @${hi} (ms)`, col((x) => x.proxyHi.wrk.latencyMs.p99), col((x) => x.gatewayHi.wrk.latencyMs.p99),
    col((x) => x.gatewayHi.wrk.latencyMs.p99 / x.proxyHi.wrk.latencyMs.p99), times, ms, { pass: (v) => v <= 3, target: '<= 3x the proxy' }));
  lines.push(`| peak RSS (MB, VmHWM at the end) | ${f(r.rssMb.proxy, 1)} | ${f(r.rssMb.gateway, 1)} | ${times(r.rssMb.gateway / r.rssMb.proxy)} | <= 90 MB | ${verdict([r.rssMb.gateway], { pass: (v) => v <= 90, target: '' })} |`);
  const lagMax = col((x) => x.gatewayHi.lag?.maxMs ?? NaN);
  lines.push(`| event-loop lag @${hi}: longest (ms) | - | ${cell(spread(lagMax), ms)} | - | no stall > 5 ms | ${verdict(lagMax, { pass: (v) => v <= 5, target: '' })} |`);
  const lagMax1 = col((x) => x.gateway1.lag?.maxMs ?? NaN);
  lines.push(`| event-loop lag @1: longest (ms) | - | ${cell(spread(lagMax1), ms)} | - | no stall > 5 ms | ${verdict(lagMax1, { pass: (v) => v <= 5, target: '' })} |`);
  lines.push(`| event-loop lag @1: timer delays > 5 ms | - | ${cell(spread(col((x) => x.gateway1.lag?.over5Ms ?? NaN)), int)} of ${cell(spread(col((x) => x.gateway1.lag?.ticks ?? NaN)), int)} | - | - | - |`);
  lines.push(`| event-loop lag @${hi}: p99 (ms, histogram bucket bound) | - | ${cell(spread(col((x) => x.gatewayHi.lag?.p99BoundMs ?? NaN)), (n) => `<= ${ms(n)}`)} | - | - | - |`);
  lines.push(`| event-loop lag @${hi}: timer delays > 5 ms | - | ${cell(spread(col((x) => x.gatewayHi.lag?.over5Ms ?? NaN)), int)} of ${cell(spread(col((x) => x.gatewayHi.lag?.ticks ?? NaN)), int)} | - | - | - |`);
  lines.push(`| store writes held by the WAL checkpointer @${hi}: holds, longest (ms) | - | ${cell(spread(col((x) => x.gatewayHi.lag?.writeHolds ?? NaN)), int)}, ${cell(spread(col((x) => x.gatewayHi.lag?.writeHoldMaxMs ?? NaN)), ms)} | - | - | - |`);
  lines.push(`| store writes held by the WAL checkpointer @1: holds, longest (ms) | - | ${cell(spread(col((x) => x.gateway1.lag?.writeHolds ?? NaN)), int)}, ${cell(spread(col((x) => x.gateway1.lag?.writeHoldMaxMs ?? NaN)), ms)} | - | - | - |`);
  if (r.runs.every((x) => x.gatewayOffHi)) {
    lines.push(row(`monetization on: req/s @${hi} vs off`, col((x) => x.gatewayOffHi!.wrk.requestsPerS), col((x) => x.gatewayHi.wrk.requestsPerS),
      col((x) => (x.gatewayHi.wrk.requestsPerS / x.gatewayOffHi!.wrk.requestsPerS) * 100), pct, int, { pass: (v) => v >= 80, target: '>= 80 % of off' }, '>= 80 % of off (proxy column: off)'));
  }
  const promoted = col((x) => (x.gatewayHi.gatewayChat ? (x.gatewayHi.gatewayChat.promoted / Math.max(1, x.gatewayHi.gatewayChat.ok)) * 100 : NaN));
  if (promoted.some((v) => v > 0)) lines.push(`| answers with a promotion @${hi} | - | ${cell(spread(promoted), pct)} | - | - | - |`);
  if (r.runs.every((x) => x.stream)) {
    const s = (pick: (x: Run) => number) => cell(spread(col(pick)), ms);
    lines.push(`| stream: first chunk p50 @1 (ms; direct ${s((x) => x.stream!.direct.ttfbP50)}) | ${s((x) => x.stream!.proxy.ttfbP50)} | ${s((x) => x.stream!.gateway.ttfbP50)} | ` +
      `${cell(spread(col((x) => x.stream!.gateway.ttfbP50 - x.stream!.direct.ttfbP50)), (n) => `+${ms(n)} ms vs direct`)} | <= +1 ms vs direct | ` +
      `${verdict(col((x) => x.stream!.gateway.ttfbP50 - x.stream!.direct.ttfbP50), { pass: (v) => v <= 1, target: '' })} |`);
    lines.push(`| stream: first chunk p99 @1 (ms) | ${s((x) => x.stream!.proxy.ttfbP99)} | ${s((x) => x.stream!.gateway.ttfbP99)} | - | - | - |`);
  }
  lines.push(`| wrk's own CPU @${hi} (% of one core) | ${cell(spread(col((x) => x.proxyHi.wrkCorePct)), pct)} | ${cell(spread(col((x) => x.gatewayHi.wrkCorePct)), pct)} | - | well under 100 % | - |`);
  lines.push(`| wrk's share of the benchmark's CPU @${hi} | ${cell(spread(col((x) => x.proxyHi.wrkSharePct)), pct)} | ${cell(spread(col((x) => x.gatewayHi.wrkSharePct)), pct)} | - | - | - |`);
  lines.push(`| machine busy @${hi} (% of all cores) | ${cell(spread(col((x) => x.proxyHi.machineBusyPct)), pct)} | ${cell(spread(col((x) => x.gatewayHi.machineBusyPct)), pct)} | - | - | - |`);
  return lines;
}

/** Requests wrk saw fail (socket errors, non-2xx) and, for the gateway, answers its metrics did not count as 200. */
export function errorNotes(r: ScenarioReport): string[] {
  const notes: string[] = [];
  r.runs.forEach((run, i) => {
    const all: Array<[string, Measurement | undefined]> = [['direct @1', run.direct1], ['proxy @1', run.proxy1], [`proxy @${r.high}`, run.proxyHi], ['gateway @1', run.gateway1], [`gateway @${r.high}`, run.gatewayHi], [`gateway monetization off @${r.high}`, run.gatewayOffHi]];
    for (const [label, m] of all) {
      if (!m) continue;
      const e = m.wrk.socketErrors;
      const bad = m.wrk.non2xx + e.connect + e.read + e.write + e.timeout;
      if (bad > 0) notes.push(`run ${i + 1}, ${label}: ${m.wrk.non2xx} non-2xx, socket errors connect ${e.connect} read ${e.read} write ${e.write} timeout ${e.timeout}`);
      // wrk drops the requests still in flight when its time is up (at most one per connection, at the end of the
      // warm-up and of the measurement): the gateway logs those as 499 (client gone), so they are counted apart.
      const connections = label.includes('@1') ? 1 : r.high;
      if (m.gatewayChat && m.gatewayChat.other > 0) notes.push(`run ${i + 1}, ${label}: the gateway answered ${m.gatewayChat.other} chat requests with a status other than 200 or 499`);
      if (m.gatewayChat && m.gatewayChat.clientGone > 2 * connections) notes.push(`run ${i + 1}, ${label}: ${m.gatewayChat.clientGone} chat requests ended with the client gone (499), more than the ${2 * connections} wrk drops at the ends of its warm-up and measurement`);
    }
    if (run.stream) for (const [k, s] of Object.entries(run.stream)) if (s.errors.size) notes.push(`run ${i + 1}, stream ${k}: ${[...s.errors].map(([kind, n]) => `${n}x ${kind}`).join(', ')}`);
  });
  return notes;
}
