/**
 * `npm run bench:scale` (or `bun scripts/bench-scale.ts`): the gateway with the money path on, on the embedded
 * SQLite store and on PostgreSQL with 1, 2 and 3 instances (issue 10).
 *
 * Processes, each on 127.0.0.1 and a free port, all stopped at the end (also on Ctrl-C and on errors):
 *   mock upstream  scripts/bench-mock-upstream.ts  (fixed OpenAI-style answer, no delay)
 *   PostgreSQL     scripts/pg-local.ts             (one throwaway server; a fresh database per measurement)
 *   gateways       dist/vexrail serve ...          (default logging on, stdout to files; fresh per measurement)
 *   wrk            one process per gateway, started together, the connections split evenly between them
 *
 * Every measurement seeds a verified publisher with credits and a key pair through the admin API (monetization
 * off); every chat completion reserves credit and settles it into a consumption entry of the ledger. Around the
 * wrk run this process reads from /proc the CPU time of the gateways, of PostgreSQL (the postmaster and all its
 * backends), of the mock upstream, of wrk itself and of the whole machine. After it, the money check: every
 * instance commits its pending charges, then one snapshot of the store must show balance + consumptions = top-ups,
 * no negative balance anywhere in the ledger, nothing held.
 *
 * Prints a Markdown table (median and range over --runs) and writes it to .bench/scale-<timestamp>.md, with the
 * raw numbers in a .json beside it. Progress goes to stderr.
 */
import { SQL } from 'bun';
import { Database } from 'bun:sqlite';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { killAllChildrenNow, startChild, stopAllChildren, stopChild, alive, tail, type Child } from './bench-children';
import { clockTicksPerS, cpuMsOf, ensureWrk, machineCpu } from './bench-measure';
import { parsePrometheus, parseWrkOutput, spread, sumSeries, type Spread, type WrkReport } from './bench-parse';
import { ADMIN_TOKEN, admin, compiledGateway, setUpPublisher, type Caller } from './bench-setup';
import { startThrowawayPostgres, type ThrowawayPostgres } from './pg-local';

// ---------------------------------------------------------------------------------------------- configurations

export type ScaleConfig = { key: string; label: string; store: 'sqlite' | 'postgres'; instances: number };

export const CONFIGS: ScaleConfig[] = [
  { key: 'sqlite', label: 'SQLite, 1 instance', store: 'sqlite', instances: 1 },
  { key: 'pg1', label: 'PostgreSQL, 1 instance', store: 'postgres', instances: 1 },
  { key: 'pg2', label: 'PostgreSQL, 2 instances', store: 'postgres', instances: 2 },
  { key: 'pg3', label: 'PostgreSQL, 3 instances', store: 'postgres', instances: 3 },
];

/** `total` connections over `parts` wrk processes as evenly as possible (the first ones get the remainder). */
export function splitConnections(total: number, parts: number): number[] {
  const base = Math.floor(total / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < total % parts ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------- /proc

/** utime + stime of a process and cutime + cstime (its children already waited for), in ticks. */
export function parseProcStatOwnAndReaped(stat: string): { ppid: number; own: number; reaped: number } {
  const close = stat.lastIndexOf(')');
  if (close < 0) throw new Error('unreadable /proc/<pid>/stat');
  // After the name: state (field 3), ppid (4), ..., utime (14), stime (15), cutime (16), cstime (17) per proc(5).
  const f = stat.slice(close + 2).trim().split(/\s+/).map(Number);
  if (![f[1], f[11], f[12], f[13], f[14]].every(Number.isInteger)) throw new Error('unreadable /proc/<pid>/stat fields');
  return { ppid: f[1], own: f[11] + f[12], reaped: f[13] + f[14] };
}

function readStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // gone between the directory listing and the read
  }
}

/**
 * CPU time (ms) of a process tree rooted at `rootPid` one level deep (PostgreSQL: the postmaster and its
 * backends and workers), including children that exited and were waited for. The difference of two readings
 * is exact for children that start or end in between: a child's time moves from its own entry into the
 * parent's cutime/cstime when it is reaped.
 */
export function treeCpuMs(rootPid: number): number {
  const root = readStat(rootPid);
  if (!root) throw new Error(`process ${rootPid} is gone`);
  const r = parseProcStatOwnAndReaped(root);
  let ticks = r.own + r.reaped;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (!stat) continue;
    try {
      const s = parseProcStatOwnAndReaped(stat);
      if (s.ppid === rootPid) ticks += s.own;
    } catch {}
  }
  return (ticks * 1000) / clockTicksPerS();
}

// ---------------------------------------------------------------------------------------------- results

export type InstanceResult = { connections: number; requestsPerS: number; requests: number; p50Ms: number; p99Ms: number; errors: number };

export type MoneyCheck = {
  ok: boolean;
  problems: string[];
  topUpsMicros: number;
  consumptionMicros: number;
  otherMicros: number;
  balanceMicros: number;
  heldMicros: number;
  openHolds: number;
  minBalanceAfterMicros: number;
  consumptions: number;
  /** Chat answers with status 200 the instances counted since they started (smoke requests and warm-up included). */
  answered200: number;
  answeredOther: number;
};

export type ScaleRun = {
  config: string;
  run: number;
  requests: number;
  requestsPerS: number;
  /** Worst instance. */
  p50Ms: number;
  p99Ms: number;
  errors: number;
  instances: InstanceResult[];
  gatewayUsPerReq: number;
  /** NaN on SQLite (no PostgreSQL in the path). */
  postgresUsPerReq: number;
  mockUsPerReq: number;
  wrkUsPerReq: number;
  /** All wrk processes together, in % of one core. */
  wrkCorePct: number;
  machineBusyPct: number;
  /**
   * The machine's busy CPU not used by the gateways, PostgreSQL, the mock upstream, wrk or this script, in % of one
   * core: interrupt handling (loopback traffic) and any other work on the machine. High values mean it was not quiet.
   */
  otherCorePct: number;
  wallS: number;
  /** CPU without traffic (after the warm-up, before the measurement), in % of one core: gateways together, PostgreSQL (NaN on SQLite). */
  idleGatewayCorePct: number;
  idlePostgresCorePct: number;
  money: MoneyCheck;
};

// ---------------------------------------------------------------------------------------------- report

const f = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');

function cell(s: Spread, show: (n: number) => string): string {
  if (s.n === 0) return '-';
  return s.n === 1 || show(s.min) === show(s.max) ? show(s.median) : `${show(s.median)} (${show(s.min)}-${show(s.max)})`;
}

/**
 * One row per configuration, each cell the median (min-max) over the runs. "vs PG x1" is the ratio of req/s to
 * the one-instance PostgreSQL measurement of the same run.
 */
export function scaleTable(configs: ScaleConfig[], runs: ScaleRun[]): string[] {
  const lines = [
    '| configuration | req/s | vs PostgreSQL x1 (same run) | p50 (ms, worst instance) | p99 (ms, worst instance) | gateway CPU (µs/req) | PostgreSQL CPU (µs/req) | gateway + PostgreSQL (µs/req) | wrk CPU (µs/req; % of a core) | mock upstream CPU (µs/req) | machine busy (% of all cores) | rest of the machine (% of a core) | idle CPU: gateways; PostgreSQL (% of a core) | errors | money check |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const c of configs) {
    const mine = runs.filter((r) => r.config === c.key);
    if (mine.length === 0) continue;
    const col = (pick: (r: ScaleRun) => number) => spread(mine.map(pick));
    const ratio = mine.map((r) => {
      const base = runs.find((b) => b.config === 'pg1' && b.run === r.run);
      return base ? (r.requestsPerS / base.requestsPerS) * 100 : NaN;
    });
    const moneyOk = mine.filter((r) => r.money.ok).length;
    const money = moneyOk === mine.length ? `ok (${moneyOk}/${mine.length} runs)` : `**FAILED** (${mine.length - moneyOk}/${mine.length} runs)`;
    const pg = c.store === 'postgres';
    lines.push(`| ${c.label} | ${cell(col((r) => r.requestsPerS), int)} | ${cell(spread(ratio), (n) => `${f(n, 0)} %`)} | ` +
      `${cell(col((r) => r.p50Ms), (n) => f(n))} | ${cell(col((r) => r.p99Ms), (n) => f(n))} | ` +
      `${cell(col((r) => r.gatewayUsPerReq), int)} | ${pg ? cell(col((r) => r.postgresUsPerReq), int) : '-'} | ` +
      `${cell(col((r) => r.gatewayUsPerReq + (pg ? r.postgresUsPerReq : 0)), int)} | ` +
      `${cell(col((r) => r.wrkUsPerReq), int)}; ${cell(col((r) => r.wrkCorePct), (n) => `${f(n, 0)} %`)} | ` +
      `${cell(col((r) => r.mockUsPerReq), int)} | ${cell(col((r) => r.machineBusyPct), (n) => `${f(n, 0)} %`)} | ${cell(col((r) => r.otherCorePct), (n) => `${f(n, 0)} %`)} | ` +
      `${cell(col((r) => r.idleGatewayCorePct), (n) => `${f(n, 1)} %`)}; ${pg ? cell(col((r) => r.idlePostgresCorePct), (n) => `${f(n, 1)} %`) : '-'} | ` +
      `${cell(col((r) => r.errors), int)} | ${money} |`);
  }
  return lines;
}

/** The money check of one measurement in one line. */
export function moneyLine(m: MoneyCheck): string {
  const usd = (micros: number) => (micros / 1e6).toFixed(6);
  const head = `top-ups ${usd(m.topUpsMicros)} USD = balance ${usd(m.balanceMicros)} + ${int(m.consumptions)} consumptions ${usd(-m.consumptionMicros)}` +
    `${m.otherMicros ? ` + other entries ${usd(-m.otherMicros)}` : ''}; held ${usd(m.heldMicros)}, open holds ${m.openHolds}; lowest balance in the ledger ${usd(m.minBalanceAfterMicros)}; ` +
    `answers 200: ${int(m.answered200)}, other: ${int(m.answeredOther)}`;
  return m.ok ? `ok: ${head}` : `FAILED (${m.problems.join('; ')}): ${head}`;
}

// ---------------------------------------------------------------------------------------------- main

const HELP = `usage: bun scripts/bench-scale.ts [options]
  --runs N           repetitions of every configuration (default 3)
  --duration S       measured seconds per wrk run (default 10)
  --warmup S         warm-up seconds before each measurement, not measured (default 2)
  --connections N    wrk connections in total, split evenly over the instances (default 32)
  --config LIST      comma-separated subset of: ${CONFIGS.map((c) => c.key).join(', ')} (default all)
  --rebuild          build dist/vexrail first even if it exists
  --keep             keep the temporary directory (gateway data and logs) after the run`;

type Options = { runs: number; durationS: number; warmupS: number; connections: number; configs: ScaleConfig[]; rebuild: boolean; keep: boolean };

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 3, durationS: 10, warmupS: 2, connections: 32, configs: CONFIGS, rebuild: false, keep: false };
  const usage = (message: string): never => {
    console.error(`bench-scale: ${message}\n${HELP}`);
    process.exit(2);
  };
  const num = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) usage(`${flag} needs a number >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--runs') o.runs = Math.floor(num(flag, value(), 1));
    else if (flag === '--duration') o.durationS = Math.ceil(num(flag, value(), 1));
    else if (flag === '--warmup') o.warmupS = Math.ceil(num(flag, value(), 0));
    else if (flag === '--connections') o.connections = Math.floor(num(flag, value(), 3));
    else if (flag === '--config' || flag === '--configs') {
      const keys = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = keys.filter((k) => !CONFIGS.some((c) => c.key === k));
      if (keys.length === 0 || unknown.length) usage(`unknown configuration ${unknown.join(', ') || '(none)'}`);
      o.configs = CONFIGS.filter((c) => keys.includes(c.key));
    } else if (flag === '--rebuild') o.rebuild = true;
    else if (flag === '--keep') o.keep = true;
    else if (flag === '--help' || flag === '-h') {
      console.log(HELP);
      process.exit(0);
    } else usage(`unknown option ${argv[i]}`);
  }
  return o;
}

const root = join(import.meta.dir, '..');
const bun = process.execPath;
const SETPRIV = Bun.which('setpriv');
const CHAT_ROUTE = '/v1/chat/completions';
const IDLE_WINDOW_MS = 3000;
const progress = (line: string) => process.stderr.write(`${line}\n`);

/** dist/vexrail, built when missing or with --rebuild; says when it is older than src/. */
function gatewayBinary(rebuild: boolean): { binary: string; what: string } {
  const { binary, stale } = compiledGateway(root, rebuild, progress);
  if (stale) {
    progress('warning: dist/vexrail is older than the newest file in src/; use --rebuild to measure the current code');
    return { binary, what: 'dist/vexrail (compiled binary), OLDER than src/' };
  }
  return { binary, what: 'dist/vexrail (compiled binary)' };
}

/** The PostgreSQL server's main process, from the postmaster.pid file of its data directory. */
function postmasterPid(pg: ThrowawayPostgres): number {
  const pid = Number(readFileSync(join(pg.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('unreadable postmaster.pid');
  return pid;
}

type Gateway = { child: Child; base: string };

async function main(opts: Options): Promise<number> {
  const started = performance.now();
  let tmp: string | null = null;
  let pg: ThrowawayPostgres | null = null;
  const wrkProcs = new Set<Subprocess>();
  let cleanedUp = false;
  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    for (const p of wrkProcs) try { p.kill('SIGKILL'); } catch {}
    await stopAllChildren();
    if (pg) await pg.stop().catch(() => {});
    if (tmp && !opts.keep) rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', () => {
    for (const p of wrkProcs) try { p.kill('SIGKILL'); } catch {}
    killAllChildrenNow();
    if (tmp && !opts.keep && !cleanedUp) try { rmSync(tmp, { recursive: true, force: true }); } catch {}
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(signal, () => {
      progress(`\nbench-scale: ${signal}, stopping every process it started`);
      void cleanup().finally(() => process.exit(130));
    });

  try {
    const wrkPath = ensureWrk(progress);
    const { binary, what } = gatewayBinary(opts.rebuild);
    tmp = mkdtempSync(join(tmpdir(), 'vexrail-bench-scale-'));
    const steps = opts.runs * opts.configs.length;
    progress(`${opts.configs.length} configuration(s) x ${opts.runs} run(s); wrk ${opts.warmupS} s warm-up + ${opts.durationS} s, ${opts.connections} connections in total; ` +
      `about ${Math.ceil((steps * (opts.durationS + opts.warmupS + 8)) / 60)} min. Gateway: ${what}`);
    const mock = await startChild(tmp, 'mock', [bun, join(root, 'scripts', 'bench-mock-upstream.ts')], /^listening (\d+)$/m, { cwd: root, watchStdin: true });
    const mockBase = `http://127.0.0.1:${mock.port}`;
    const configPath = join(tmp, 'vexrail.json');
    writeFileSync(configPath, JSON.stringify({ providers: [{ name: 'mock', base_url: `${mockBase}/v1`, api_key: 'x', models: ['gpt-4o-mini'] }] }));
    let pgVersion = '-';
    if (opts.configs.some((c) => c.store === 'postgres')) {
      pg = await startThrowawayPostgres({ database: 'bench_scale_setup', log: (m) => progress(`  postgres: ${m}`) });
      const probe = new SQL(pg.url, { max: 1 });
      try {
        pgVersion = String((await probe`SHOW server_version`)[0].server_version);
      } finally {
        await probe.close();
      }
    }

    const startGateways = async (dir: string, n: number, databaseUrl: string | null): Promise<Gateway[]> =>
      Promise.all(Array.from({ length: n }, async (_, i) => {
        const dataDir = join(dir, `data-${i + 1}`);
        const cmd = [binary, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--config', configPath, ...(databaseUrl ? ['--database', databaseUrl] : [])];
        const g = await startChild(dir, `gateway-${i + 1}`, cmd, /listening on http:\/\/127\.0\.0\.1:(\d+)/, { cwd: root, env: { VEXRAIL_ADMIN_TOKEN: ADMIN_TOKEN, VEXRAIL_LOG: 'on' }, timeoutMs: 120_000 });
        return { child: g.child, base: `http://127.0.0.1:${g.port}` };
      }));

    /** One wrk per gateway, all started together; resolves with each report and the wrk processes' CPU. */
    const drive = async (gateways: Gateway[], seconds: number, caller: Caller): Promise<{ reports: WrkReport[]; wrkCpuMs: number }> => {
      const split = splitConnections(opts.connections, gateways.length);
      const procs = gateways.map((g, i) => {
        const cmd = [wrkPath, '-t1', `-c${split[i]}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', join(root, 'scripts', 'wrk', 'plain.lua'), `${g.base}${CHAT_ROUTE}`, '--', caller.publishableKey, caller.secretKey];
        const p = Bun.spawn(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...cmd] : cmd, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' });
        wrkProcs.add(p);
        return p;
      });
      const outs = await Promise.all(procs.map(async (p) => {
        const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
        const code = await p.exited;
        wrkProcs.delete(p);
        if (code !== 0) throw new Error(`wrk exited with ${code}: ${err.trim() || out.trim()}`);
        return out;
      }));
      const wrkCpuMs = procs.reduce((a, p) => a + Number(p.resourceUsage()?.cpuTime.total ?? NaN) / 1000, 0);
      return { reports: outs.map(parseWrkOutput), wrkCpuMs };
    };

    const smoke = async (g: Gateway, caller: Caller) => {
      const res = await fetch(`${g.base}${CHAT_ROUTE}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-publishable-key': caller.publishableKey, 'x-secret-key': caller.secretKey },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What tools can help me manage my projects?' }] }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`smoke request to ${g.base} -> HTTP ${res.status}: ${text.slice(0, 400)}`);
    };

    const moneyCheck = async (gateways: Gateway[], caller: Caller, store: { sqlitePath: string } | { url: string }): Promise<MoneyCheck> => {
      const problems: string[] = [];
      // Reading the wallet makes each instance commit the charges it decided; holds of requests still finishing drain.
      let heldMicros = NaN;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const views = await Promise.all(gateways.map((g) => admin(g.base, `/projects/${caller.projectId}/wallet?limit=1`, {}, 'GET')));
        heldMicros = Math.max(...views.map((v) => Number(v.held_micros)));
        if (heldMicros === 0 || Date.now() > deadline) break;
        await Bun.sleep(100);
      }
      type Row = { type: string; n: number | string | bigint; total: number | string | bigint; low: number | string | bigint };
      let rows: Row[];
      let wallet: { balance: number; held: number };
      let openHolds = 0;
      if ('url' in store) {
        const sql = new SQL(store.url, { max: 1 });
        try {
          [rows, wallet, openHolds] = await sql.begin('isolation level repeatable read', async (tx) => {
            const r = await tx`SELECT type, COUNT(*) AS n, SUM(amount_micros) AS total, MIN(balance_after_micros) AS low FROM ledger_entries WHERE project_id = ${caller.projectId} GROUP BY type`;
            const w = await tx`SELECT balance_micros, held_micros FROM wallets WHERE project_id = ${caller.projectId}`;
            const h = await tx`SELECT COUNT(*) AS n FROM credit_holds WHERE project_id = ${caller.projectId}`;
            return [[...r] as Row[], { balance: Number(w[0].balance_micros), held: Number(w[0].held_micros) }, Number(h[0].n)] as const;
          });
        } finally {
          await sql.close();
        }
      } else {
        const db = new Database(store.sqlitePath, { readonly: true });
        try {
          [rows, wallet] = db.transaction(() => {
            const r = db.query('SELECT type, COUNT(*) AS n, SUM(amount_micros) AS total, MIN(balance_after_micros) AS low FROM ledger_entries WHERE project_id = ? GROUP BY type').all(caller.projectId) as Row[];
            const w = db.query('SELECT balance_micros, held_micros FROM wallets WHERE project_id = ?').get(caller.projectId) as { balance_micros: number; held_micros: number };
            return [r, { balance: w.balance_micros, held: w.held_micros }] as const;
          })();
        } finally {
          db.close();
        }
      }
      const byType = new Map(rows.map((r) => [r.type, { n: Number(r.n), total: Number(r.total), low: Number(r.low) }]));
      const topUps = byType.get('top_up')?.total ?? 0;
      const consumption = byType.get('consumption')?.total ?? 0;
      const other = [...byType].filter(([t]) => t !== 'top_up' && t !== 'consumption').reduce((a, [, v]) => a + v.total, 0);
      const low = Math.min(...[...byType.values()].map((v) => v.low));
      if (wallet.balance + -consumption + -other !== topUps) problems.push(`balance + consumptions differs from the top-ups by ${wallet.balance - consumption - other - topUps} µUSD`);
      if (!(wallet.balance >= 0) || !(low >= 0)) problems.push('a negative balance');
      if (heldMicros !== 0 || wallet.held !== 0 || openHolds !== 0) problems.push(`credit still held (API ${heldMicros}, wallet row ${wallet.held}, ${openHolds} open holds)`);
      if ((byType.get('consumption')?.n ?? 0) === 0) problems.push('no consumption was charged');
      let answered200 = 0;
      let answeredOther = 0;
      for (const g of gateways) {
        const res = await fetch(`${g.base}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(10_000) });
        const m = parsePrometheus(await res.text());
        const ok = sumSeries(m, 'vexrail_http_requests_total', { route: CHAT_ROUTE, status: '200' });
        answered200 += ok;
        answeredOther += sumSeries(m, 'vexrail_http_requests_total', { route: CHAT_ROUTE }) - ok;
      }
      return {
        ok: problems.length === 0, problems, topUpsMicros: topUps, consumptionMicros: consumption, otherMicros: other, balanceMicros: wallet.balance,
        heldMicros, openHolds, minBalanceAfterMicros: low, consumptions: byType.get('consumption')?.n ?? 0, answered200, answeredOther,
      };
    };

    const measureOne = async (config: ScaleConfig, run: number, step: number): Promise<ScaleRun> => {
      const tag = `[${step}/${steps}] run ${run + 1}/${opts.runs}, ${config.label}`;
      progress(`${tag}: starting`);
      const dir = mkdtempSync(join(tmp!, `${config.key}-r${run + 1}-`));
      let databaseUrl: string | null = null;
      const database = `bench_${config.key}_r${run + 1}`;
      if (config.store === 'postgres') {
        const adminSql = new SQL(pg!.url.replace(/\/[^/]+$/, '/postgres'), { max: 1 });
        try {
          await adminSql.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
          await adminSql.unsafe(`CREATE DATABASE ${database}`);
        } finally {
          await adminSql.close();
        }
        databaseUrl = pg!.url.replace(/\/[^/]+$/, `/${database}`);
      }
      const gateways = await startGateways(dir, config.instances, databaseUrl);
      try {
        const caller = await setUpPublisher(gateways[0].base, `Scale ${config.key} ${run + 1}`, false);
        for (const g of gateways) await smoke(g, caller);
        if (opts.warmupS > 0) await drive(gateways, opts.warmupS, caller);
        const pgPid = config.store === 'postgres' ? postmasterPid(pg!) : null;
        const gatewayPids = gateways.map((g) => g.child.proc.pid);
        const mockPid = mock.child.proc.pid;
        const read = () => ({
          gateways: gatewayPids.reduce((a, pid) => a + cpuMsOf(pid), 0),
          postgres: pgPid ? treeCpuMs(pgPid) : NaN,
          mock: cpuMsOf(mockPid),
          machine: machineCpu(),
          self: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
          t: performance.now(),
        });
        // Without traffic: what the instances and PostgreSQL spend on their own (timers, change feed, hold upkeep).
        await Bun.sleep(1000);
        const quiet = read();
        await Bun.sleep(IDLE_WINDOW_MS);
        const quietEnd = read();
        const idleCorePct = (ms: number) => (ms / (quietEnd.t - quiet.t)) * 100;
        const before = read();
        const { reports, wrkCpuMs } = await drive(gateways, opts.durationS, caller);
        const after = read();
        for (const g of [...gateways.map((x) => x.child), mock.child]) if (!alive(g)) throw new Error(`${g.name} exited during the run\n${tail(g.stderrPath)}`);
        const requests = reports.reduce((a, r) => a + r.requests, 0);
        const perReq = (ms: number) => (requests > 0 ? (ms * 1000) / requests : NaN);
        const wallS = (after.t - before.t) / 1000;
        const machineTotal = after.machine.totalTicks - before.machine.totalTicks;
        const instances: InstanceResult[] = reports.map((r, i) => ({
          connections: splitConnections(opts.connections, gateways.length)[i], requestsPerS: r.requestsPerS, requests: r.requests,
          p50Ms: r.latencyMs.p50, p99Ms: r.latencyMs.p99,
          errors: r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout,
        }));
        const money = await moneyCheck(gateways, caller, databaseUrl ? { url: databaseUrl } : { sqlitePath: join(dir, 'data-1', 'vexrail.db') });
        const result: ScaleRun = {
          config: config.key, run, requests,
          requestsPerS: instances.reduce((a, x) => a + x.requestsPerS, 0),
          p50Ms: Math.max(...instances.map((x) => x.p50Ms)),
          p99Ms: Math.max(...instances.map((x) => x.p99Ms)),
          errors: instances.reduce((a, x) => a + x.errors, 0),
          instances,
          gatewayUsPerReq: perReq(after.gateways - before.gateways),
          postgresUsPerReq: perReq(after.postgres - before.postgres),
          mockUsPerReq: perReq(after.mock - before.mock),
          wrkUsPerReq: perReq(wrkCpuMs),
          wrkCorePct: (wrkCpuMs / (wallS * 1000)) * 100,
          machineBusyPct: machineTotal > 0 ? ((after.machine.busyTicks - before.machine.busyTicks) / machineTotal) * 100 : NaN,
          otherCorePct: ((((after.machine.busyTicks - before.machine.busyTicks) * 1000) / clockTicksPerS() -
            (after.gateways - before.gateways) - (pgPid ? after.postgres - before.postgres : 0) - (after.mock - before.mock) - wrkCpuMs - (after.self - before.self)) / (wallS * 1000)) * 100,
          wallS,
          idleGatewayCorePct: idleCorePct(quietEnd.gateways - quiet.gateways),
          idlePostgresCorePct: idleCorePct(quietEnd.postgres - quiet.postgres),
          money,
        };
        progress(`${tag}: ${int(result.requestsPerS)} req/s (${instances.map((x) => int(x.requestsPerS)).join(' + ')}), p50 ${f(result.p50Ms)} ms, p99 ${f(result.p99Ms)} ms; ` +
          `gateway ${int(result.gatewayUsPerReq)} µs/req${config.store === 'postgres' ? `, postgres ${int(result.postgresUsPerReq)} µs/req` : ''}, ` +
          `wrk ${f(result.wrkCorePct, 0)} % of a core, machine ${f(result.machineBusyPct, 0)} % busy (rest ${f(result.otherCorePct, 0)} % of a core), idle ${f(result.idleGatewayCorePct, 1)} %${config.store === 'postgres' ? ` + ${f(result.idlePostgresCorePct, 1)} %` : ''} of a core${result.errors ? `, ERRORS ${result.errors}` : ''}; money ${money.ok ? 'ok' : `FAILED: ${money.problems.join('; ')}`}`);
        return result;
      } finally {
        await Promise.all(gateways.map((g) => stopChild(g.child, 10_000)));
        if (databaseUrl) {
          const adminSql = new SQL(pg!.url.replace(/\/[^/]+$/, '/postgres'), { max: 1 });
          try {
            await adminSql.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
          } finally {
            await adminSql.close();
          }
        }
      }
    };

    const runs: ScaleRun[] = [];
    let step = 0;
    for (let run = 0; run < opts.runs; run++) {
      // Every other run goes through the configurations backwards: throughput on a shared machine drifts.
      const order = run % 2 === 0 ? opts.configs : [...opts.configs].reverse();
      for (const config of order) runs.push(await measureOne(config, run, ++step));
    }

    const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: root }).stdout?.toString().trim() || 'unknown';
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    const out: string[] = [
      '# Vexrail scale-out benchmark (issue 10)', '',
      `${new Date().toISOString()} · commit ${commit} · bun ${Bun.version} · ${navigator.hardwareConcurrency} cores · PostgreSQL ${pgVersion} · gateway: ${what}`,
      `JSON chat completions (scripts/wrk/plain.lua) to a publisher with credits, monetization off: every request reserves credit and settles it into the ledger. Default logging (request log to a file). ` +
        `wrk: ${opts.connections} connections in total, one wrk process (1 thread) per instance with the connections split evenly (${opts.configs.map((c) => splitConnections(opts.connections, c.instances).join('+')).filter((v, i, a) => a.indexOf(v) === i).join(', ')}), started together; ` +
        `${opts.warmupS} s warm-up + ${opts.durationS} s measured; ${opts.runs} run(s), each configuration with fresh gateways and a fresh store. Cells: median (min-max) over the runs. ` +
        `Load average at the end ${load}; took ${((performance.now() - started) / 60_000).toFixed(1)} min.`,
      '', ...scaleTable(opts.configs, runs), '',
      '## Money check per measurement', '',
      ...runs.map((r) => `- run ${r.run + 1}, ${opts.configs.find((c) => c.key === r.config)!.label}: ${moneyLine(r.money)}`),
      '', '## Per instance (req/s, p99 ms)', '',
      ...runs.filter((r) => r.instances.length > 1).map((r) => `- run ${r.run + 1}, ${opts.configs.find((c) => c.key === r.config)!.label}: ${r.instances.map((x, i) => `#${i + 1} ${int(x.requestsPerS)} req/s, p99 ${f(x.p99Ms)}`).join('; ')}`),
      '', '## How to read it', '',
      '- req/s: the sum over the instances\' wrk processes; p50/p99: the worst instance\'s wrk percentile. All processes (wrk, gateways, PostgreSQL, the mock upstream) share this machine\'s cores, so more instances cannot add throughput once the cores are busy ("machine busy" near 100 %).',
      '- CPU per request: user + system time from /proc/<pid>/stat over the measured wrk run, divided by the requests wrk completed. Gateway: all gateway processes together. PostgreSQL: the postmaster and every backend and worker (children that exited are counted through the postmaster\'s cutime/cstime). wrk: its own CPU (resource usage of the wrk processes), which takes cores from the servers.',
      '- Rest of the machine: busy CPU time of the whole machine (/proc/stat) minus that of the gateways, PostgreSQL, the mock upstream, wrk and this script: the kernel\'s interrupt work for the loopback traffic plus anything else running. With the same configuration it should stay about the same from run to run; a run with much more points at other work on the machine.',
      `- Idle CPU: the gateways' and PostgreSQL's CPU over ${IDLE_WINDOW_MS / 1000} s without traffic, 1 s after the warm-up: what each instance costs on its own (timers, the change feed's catch-up, hold upkeep), a fixed cost that the requests of a shorter run share.`,
      '- Money check: after the run every instance is asked for the wallet (it commits the charges it decided), then one snapshot of the store: the top-ups must equal the balance plus every consumption, no balance in the ledger below zero, nothing held (API, wallet row, open holds). "answers 200" counts every chat answer the instances gave (smoke request and warm-up included); a request wrk dropped at the end of a run can still be answered and charged.',
    ];
    const report = out.join('\n');
    console.log(report);
    mkdirSync(join(root, '.bench'), { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const mdPath = join(root, '.bench', `scale-${stamp}.md`);
    writeFileSync(mdPath, `${report}\n`);
    writeFileSync(mdPath.replace(/\.md$/, '.json'), JSON.stringify({ commit, options: { ...opts, configs: opts.configs.map((c) => c.key) }, runs }, null, 1));
    progress(`Written to ${mdPath} (raw numbers in the .json beside it)${opts.keep ? `; gateway data and logs kept in ${tmp}` : ''}`);
    await cleanup();
    return runs.every((r) => r.money.ok) ? 0 : 1;
  } catch (err) {
    progress(`\nbench-scale failed: ${(err as Error)?.stack ?? err}`);
    await cleanup();
    return 1;
  }
}

if (import.meta.main) process.exit(await main(parseOptions(process.argv.slice(2))));
