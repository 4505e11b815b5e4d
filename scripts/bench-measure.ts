/**
 * One measurement of the benchmark: wrk drives JSON load against a server while this process reads the CPU
 * time of the server processes from /proc before and after, and (for the gateway) its event-loop lag and
 * request counters from /metrics. The parsing lives in scripts/bench-parse.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import {
  histogram, histogramQuantileBound, parseMachineCpu, parseProcStatTicks, parseProcStatusKb, parsePrometheus,
  parseWrkOutput, sumSeries, type WrkReport,
} from './bench-parse';

// ---------------------------------------------------------------------------------------------- /proc

let ticksPerS: number | null = null;
/** The kernel's clock tick (USER_HZ) for /proc CPU times; 100 on practically every Linux. */
export function clockTicksPerS(): number {
  if (ticksPerS === null) {
    const out = Bun.spawnSync(['getconf', 'CLK_TCK']).stdout?.toString().trim();
    const n = Number(out);
    ticksPerS = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticksPerS;
}

/** User + system CPU time so far, in ms, from a stat file of /proc (a process's or one of its threads'). */
function statCpuMs(path: string): number {
  return (parseProcStatTicks(readFileSync(path, 'utf8')) * 1000) / clockTicksPerS();
}

/** User + system CPU time of a process (all its threads) so far, in ms. */
export function cpuMsOf(pid: number): number {
  return statCpuMs(`/proc/${pid}/stat`);
}

/**
 * User + system CPU time of a process's main thread alone (its thread id is the process id), in ms: the thread
 * that runs JavaScript and the event loop. Near 100 % of one core it is the bottleneck, whatever the other cores do.
 */
export function mainThreadCpuMsOf(pid: number): number {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * CPU time so far (ms) of a process's other threads, summed by thread name (/proc/<pid>/task/<tid>/comm: "HTTP
 * Client", "Worker", "HeapHelper", ...); the main thread is left out. A thread that exited meanwhile is not counted.
 */
export function otherThreadsCpuMsOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    if (tid === String(pid)) continue;
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(name, (out.get(name) ?? 0) + statCpuMs(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  return out;
}

/** Peak resident set size (VmHWM) of a running process, in MB. */
export function peakRssMbOf(pid: number): number {
  return parseProcStatusKb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM') / 1024;
}

export function machineCpu(): { busyTicks: number; totalTicks: number } {
  return parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
}

// ---------------------------------------------------------------------------------------------- wrk

/** wrk on PATH, installed with apt-get when missing and possible; otherwise a clear error. */
export function ensureWrk(log: (line: string) => void): string {
  const found = Bun.which('wrk');
  if (found) return found;
  const asRoot = process.getuid?.() === 0;
  const sudo = asRoot ? [] : Bun.which('sudo') ? ['sudo', '-n'] : null;
  const manual = 'Install it yourself (Debian/Ubuntu: `apt-get install wrk`; macOS: `brew install wrk`; or build https://github.com/wg/wrk) and run the bench again.';
  if (!Bun.which('apt-get') || sudo === null)
    throw new Error(`wrk (the load generator) is not installed and cannot be installed from here (${Bun.which('apt-get') ? 'not root and no sudo' : 'no apt-get'}). ${manual}`);
  log('wrk is not installed: installing the Debian package with apt-get (needs root or password-less sudo)');
  const run = (args: string[]) => Bun.spawnSync([...sudo, ...args], { stdout: 'inherit', stderr: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).exitCode === 0;
  if (!run(['apt-get', 'install', '-y', 'wrk'])) run(['apt-get', 'update']) && run(['apt-get', 'install', '-y', 'wrk']);
  const installed = Bun.which('wrk');
  if (!installed) throw new Error(`installing wrk with apt-get failed (see the output above). ${manual}`);
  return installed;
}

/** The gateway's lag timer over one run; probeMs is its period (the bench starts the gateway with VEXRAIL_LAG_PROBE_MS=1). */
export type LagReading = {
  probeMs: number; maxMs: number; p99BoundMs: number; ticks: number; over5Ms: number;
  /** Holds of the store's writes by the WAL checkpointer during the run, and the longest (ms). */
  writeHolds: number; writeHoldMaxMs: number;
};

export type Measurement = {
  wrk: WrkReport;
  wallS: number;
  /** CPU of the measured server process per completed request (µs); the mock behind a proxy is not included. */
  serverCpuUsPerReq: number;
  /** CPU of every server process (target + mock) per request, µs. */
  chainCpuUsPerReq: number;
  /** The measured server's main thread (JavaScript and the event loop): CPU per request (µs) and % of one core. */
  mainThreadUsPerReq: number;
  mainThreadCorePct: number;
  /** The measured server's other threads, by name: % of one core during the run (threads that started during it count from 0). */
  otherThreadsCorePct: Record<string, number>;
  /** wrk's own CPU in % of one core, and as a share of all CPU the benchmark processes used. */
  wrkCorePct: number;
  wrkSharePct: number;
  /** The whole machine's busy CPU in % of all its cores (other work on the machine shows up here). */
  machineBusyPct: number;
  /** Gateway only: lag of its event-loop timer during the run, and its own count of chat answers by status. */
  lag: LagReading | null;
  gatewayChat: { ok: number; clientGone: number; other: number; promoted: number; noFill: Record<string, number> } | null;
};

export type GatewayProbe = { base: string; token: string };

async function scrape(g: GatewayProbe): Promise<Map<string, number>> {
  const res = await fetch(`${g.base}/metrics`, { headers: { authorization: `Bearer ${g.token}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET /metrics -> ${res.status}`);
  return parsePrometheus(await res.text());
}

const CHAT_ROUTE = '/v1/chat/completions';

export async function measure(o: {
  wrkPath: string; url: string; connections: number; durationS: number; script: string; args: string[];
  serverPid: number; otherPids: number[]; gateway?: GatewayProbe;
}): Promise<Measurement> {
  const pids = [o.serverPid, ...o.otherPids];
  // The first scrape also resets the gateway's "largest lag since the previous scrape" gauge.
  const before = o.gateway ? await scrape(o.gateway) : null;
  const cpu0 = pids.map(cpuMsOf);
  const main0 = mainThreadCpuMsOf(o.serverPid);
  const others0 = otherThreadsCpuMsOf(o.serverPid);
  const machine0 = machineCpu();
  const t0 = performance.now();
  const proc = Bun.spawn(
    [o.wrkPath, '-t1', `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '--timeout', '10s', '-s', o.script, o.url, '--', ...o.args],
    { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' },
  );
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const wallS = (performance.now() - t0) / 1000;
  const cpu1 = pids.map(cpuMsOf);
  const mainMs = mainThreadCpuMsOf(o.serverPid) - main0;
  const otherThreadsCorePct: Record<string, number> = {};
  for (const [name, ms] of otherThreadsCpuMsOf(o.serverPid)) otherThreadsCorePct[name] = (Math.max(0, ms - (others0.get(name) ?? 0)) / (wallS * 1000)) * 100;
  const machine1 = machineCpu();
  const after = o.gateway ? await scrape(o.gateway) : null;
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`);
  const wrk = parseWrkOutput(out);
  const usage = proc.resourceUsage();
  const wrkCpuMs = usage ? Number(usage.cpuTime.total) / 1000 : NaN;
  const serverMs = cpu1[0] - cpu0[0];
  const chainMs = cpu1.reduce((a, v, i) => a + v - cpu0[i], 0);
  const perReq = (ms: number) => (wrk.requests > 0 ? (ms * 1000) / wrk.requests : NaN);
  const machineTotal = machine1.totalTicks - machine0.totalTicks;
  let lag: LagReading | null = null;
  let gatewayChat: Measurement['gatewayChat'] = null;
  if (before && after) {
    const h = histogram(after, 'vexrail_event_loop_lag_ms', before);
    const at5 = h.bounds.indexOf(5);
    lag = {
      probeMs: after.get('vexrail_event_loop_lag_probe_ms') ?? NaN,
      maxMs: after.get('vexrail_event_loop_lag_max_ms') ?? NaN,
      p99BoundMs: histogramQuantileBound(h, 0.99),
      ticks: h.count,
      over5Ms: at5 >= 0 ? h.count - h.cumulative[at5] : NaN,
      writeHolds: (after.get('vexrail_store_write_holds_total') ?? NaN) - (before.get('vexrail_store_write_holds_total') ?? NaN),
      writeHoldMaxMs: after.get('vexrail_store_write_hold_max_ms') ?? NaN,
    };
    const delta = (name: string, match: Record<string, string> = {}) => sumSeries(after, name, match) - sumSeries(before, name, match);
    const okCount = delta('vexrail_http_requests_total', { route: CHAT_ROUTE, status: '200' });
    // 499: the client went away before the answer (wrk drops its open requests at the end of a warm-up or a measurement).
    const goneCount = delta('vexrail_http_requests_total', { route: CHAT_ROUTE, status: '499' });
    const noFill: Record<string, number> = {};
    for (const key of after.keys()) {
      const m = /^vexrail_promotion_no_fill_total\{reason="([^"]+)"\}$/.exec(key);
      if (m) {
        const n = delta('vexrail_promotion_no_fill_total', { reason: m[1] });
        if (n > 0) noFill[m[1]] = n;
      }
    }
    gatewayChat = {
      ok: okCount,
      clientGone: goneCount,
      other: delta('vexrail_http_requests_total', { route: CHAT_ROUTE }) - okCount - goneCount,
      promoted: delta('vexrail_promotions_delivered_total'),
      noFill,
    };
  }
  return {
    wrk,
    wallS,
    serverCpuUsPerReq: perReq(serverMs),
    chainCpuUsPerReq: perReq(chainMs),
    mainThreadUsPerReq: perReq(mainMs),
    mainThreadCorePct: (mainMs / (wallS * 1000)) * 100,
    otherThreadsCorePct,
    wrkCorePct: (wrkCpuMs / (wallS * 1000)) * 100,
    wrkSharePct: (wrkCpuMs / (wrkCpuMs + chainMs)) * 100,
    machineBusyPct: machineTotal > 0 ? ((machine1.busyTicks - machine0.busyTicks) / machineTotal) * 100 : NaN,
    lag,
    gatewayChat,
  };
}
