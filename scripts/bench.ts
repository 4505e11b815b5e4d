/**
 * `npm run bench` (or `bun scripts/bench.ts`): measures the gateway's own overhead against two baselines.
 *
 * Three servers, each its own child process on 127.0.0.1 and a free port:
 *   direct      scripts/bench-mock-upstream.ts   (fixed OpenAI-style answer, no delay)
 *   bare proxy  scripts/bench-bare-proxy.ts      (Bun.serve + fetch pass-through to the mock)
 *   gateway     dist/vexrail serve ...           (auth, credit hold + settle, conversation tracking and
 *                                                 request logging all on; its stdout goes to a file)
 * A closed-loop load generator in this process (N workers, each doing sequential keep-alive fetches for a
 * fixed time) measures req/s, p50 and p99 at 1 and 32 connections, and the time to the first streamed chunk.
 *
 * Then the monetization scenario, on the same gateway: an advertiser project (verified, funded) imports about
 * 1,000 products (JSON Lines, POST .../products/import) and runs 5 active campaigns, two of them with the
 * project-management products that match the bench prompt; a second publisher project has monetization on.
 * Non-stream requests @1 and @N to the monetized project and to the first (monetization off) project, each
 * request with a fresh x-conversation-id so that every answer is eligible for a promotion (the frequency
 * cap allows one every 3 turns per conversation; a fresh conversation is the worst case for cost). Answers
 * that carry a promotion ("*Sponsored:*") are counted. Skip it with --no-monetization.
 *
 * Prints a Markdown table plus the derived numbers against the targets and writes them to .bench/last.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subprocess } from 'bun';
import { loadAverage } from './dev-lib';

const root = join(import.meta.dir, '..');
const bun = process.execPath;
const benchStarted = performance.now();
const loadAtStart = loadAverage();

// ---------------------------------------------------------------------------------------------- options

type Options = {
  durationS: number;
  warmupS: number;
  high: number;
  maxRequests: number;
  rebuild: boolean;
  source: boolean;
  profile: boolean;
  gatewayCmd: string[] | null;
  keepLogs: boolean;
  monetization: boolean;
  monetizationRounds: number;
};

const HELP = `usage: bun scripts/bench.ts [options]
  --duration S       measured seconds per scenario (default 5)
  --warmup S         warm-up seconds per scenario, not measured (default 1)
  --concurrency N    the "many connections" level (default 32)
  --max-requests N   hard cap on requests per scenario (default 2000000)
  --rebuild          build dist/vexrail first even if it exists
  --source           run the gateway from src/main.ts with bun instead of dist/vexrail
  --profile          like --source, under bun --cpu-prof; the profile (.cpuprofile + .md) goes to .bench/profile/
  --gateway-cmd CMD  A/B runs: start the gateway with CMD (space-separated) instead; the serve flags are appended
  --keep             keep the temporary directory (gateway data and log) after the run
  --no-monetization  skip the monetization on/off scenario
  --monetization-rounds N  off/on/on/off rounds per connection level (default 1: each side measured twice)`;

function parseOptions(argv: string[]): Options {
  const o: Options = { durationS: 5, warmupS: 1, high: 32, maxRequests: 2_000_000, rebuild: false, source: false, profile: false, gatewayCmd: null, keepLogs: false, monetization: true, monetizationRounds: 1 };
  const num = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) {
      console.error(`bench: ${flag} needs a number >= ${min}\n${HELP}`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--duration') o.durationS = num(flag, value(), 0.1);
    else if (flag === '--warmup') o.warmupS = num(flag, value(), 0);
    else if (flag === '--concurrency') o.high = Math.floor(num(flag, value(), 2));
    else if (flag === '--max-requests') o.maxRequests = Math.floor(num(flag, value(), 1));
    else if (flag === '--rebuild') o.rebuild = true;
    else if (flag === '--source') o.source = true;
    else if (flag === '--profile') o.profile = o.source = true;
    else if (flag === '--keep') o.keepLogs = true;
    else if (flag === '--no-monetization') o.monetization = false;
    else if (flag === '--monetization-rounds') o.monetizationRounds = Math.floor(num(flag, value(), 1));
    else if (flag === '--gateway-cmd') o.gatewayCmd = (value() ?? '').split(' ').filter(Boolean);
    else if (flag === '--help' || flag === '-h') {
      console.log(HELP);
      process.exit(0);
    } else {
      console.error(`bench: unknown option ${argv[i]}\n${HELP}`);
      process.exit(2);
    }
  }
  return o;
}

const opts = parseOptions(process.argv.slice(2));

// ---------------------------------------------------------------------------------------------- children

type Child = { name: string; proc: Subprocess; stdoutPath: string; stderrPath: string };
const children: Child[] = [];
let tmp: string | null = null;
let cleanedUp = false;

function alive(c: Child): boolean {
  return c.proc.exitCode === null && c.proc.signalCode === null;
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is still running. */
function killAllNow(): void {
  for (const c of children) if (alive(c)) try { c.proc.kill('SIGKILL'); } catch {}
}

async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const c of children) if (alive(c)) try { c.proc.kill('SIGTERM'); } catch {}
  const deadline = Date.now() + 3000;
  for (const c of children) {
    if (!alive(c)) continue;
    await Promise.race([c.proc.exited, Bun.sleep(Math.max(0, deadline - Date.now()))]);
    if (alive(c)) try { c.proc.kill('SIGKILL'); } catch {}
  }
  if (tmp && !opts.keepLogs) rmSync(tmp, { recursive: true, force: true });
}

process.on('exit', () => {
  killAllNow();
  if (tmp && !opts.keepLogs && !cleanedUp) try { rmSync(tmp, { recursive: true, force: true }); } catch {}
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping the servers`);
    void cleanup().finally(() => process.exit(130));
  });

function tail(path: string, chars = 2000): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.slice(-chars).trim();
  } catch {
    return '';
  }
}

const SETPRIV = Bun.which('setpriv');

/** Spawns a server whose stdout/stderr go to files, then waits for the line that names its port. */
async function startChild(name: string, cmd: string[], pattern: RegExp, env: Record<string, string> = {}, watchStdin = false): Promise<{ child: Child; port: number }> {
  const stdoutPath = join(tmp!, `${name}.stdout`);
  const stderrPath = join(tmp!, `${name}.stderr`);
  // With setpriv (util-linux) the child also gets SIGKILL if this process dies without cleaning up (kill -9).
  const proc = Bun.spawn(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...cmd] : cmd, {
    cwd: root,
    env: { ...process.env, ...env },
    stdin: watchStdin ? 'pipe' : 'ignore',
    stdout: Bun.file(stdoutPath),
    stderr: Bun.file(stderrPath),
  });
  const child: Child = { name, proc, stdoutPath, stderrPath };
  children.push(child);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const m = pattern.exec(tail(stdoutPath, 100_000));
    if (m) return { child, port: Number(m[1]) };
    if (!alive(child)) break;
    await Bun.sleep(20);
  }
  throw new Error(
    `${name} did not start (${alive(child) ? 'no listening line after 20 s' : `exited with ${proc.exitCode ?? proc.signalCode}`})\n` +
      `--- stdout ---\n${tail(stdoutPath)}\n--- stderr ---\n${tail(stderrPath)}`,
  );
}

function peakRssMb(c: Child): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${c.proc.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** User + system CPU time of a process so far, in ms (from /proc/<pid>/stat, clock ticks of 10 ms). */
const CLOCK_TICK_MS = 10;
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
  } catch {
    return NaN;
  }
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------- load

const PROMPT = 'What tools can help me manage my projects?';
const JSON_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], stream: true });
/** After the deadline, requests still in flight get this long before they are aborted (and counted as errors). */
const GRACE_MS = 10_000;

type Target = { key: 'direct' | 'proxy' | 'gateway'; label: string; url: string; child: Child };
type Mode = 'json' | 'stream';
type ScenarioResult = {
  target: Target['key'];
  mode: Mode;
  connections: number;
  ok: number;
  errors: number;
  errorKinds: Map<string, number>;
  elapsedMs: number;
  rps: number;
  p50: number;
  p99: number;
  ttfbP50: number;
  ttfbP99: number;
  /** The gateway's own x-vexrail-overhead-ms response header, p50 (gateway only). */
  reportedOverheadP50: number | null;
  /** CPU time the target's server process spent per successful request, in µs. */
  serverCpuUsPerReq: number;
  /** The same for the whole chain: every server process plus this load generator. */
  totalCpuUsPerReq: number;
  /** Successful answers whose content carries a promotion ("*Sponsored:*"). */
  promoted: number;
};

let publishableKey = '';
let secretKey = '';

/** Who calls and how conversations are named; the default is the first project with one fixed id per worker. */
type Caller = { publishableKey: string; secretKey: string; freshConversation: boolean; tag: string };
const SPONSORED = '*Sponsored:*';

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function runLoad(target: Target, mode: Mode, connections: number, durationMs: number, limit = opts.maxRequests, caller?: Caller): Promise<ScenarioResult> {
  const body = mode === 'stream' ? STREAM_BODY : JSON_BODY;
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const overheads: number[] = [];
  const errorKinds = new Map<string, number>();
  const fail = (kind: string) => errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  const abort = new AbortController();
  const serverCpu0 = cpuMs(target.child.proc.pid);
  const allCpu0 = children.reduce((sum, c) => sum + cpuMs(c.proc.pid), 0) + cpuMs(process.pid);
  const started = performance.now();
  const deadline = started + durationMs;
  const hardStop = setTimeout(() => abort.abort(), durationMs + GRACE_MS);
  let issued = 0;
  let ok = 0;
  let promoted = 0;
  let lastEnd = started;

  async function worker(w: number): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-publishable-key': caller?.publishableKey ?? publishableKey,
      'x-secret-key': caller?.secretKey ?? secretKey,
      'x-conversation-id': `bench-${caller?.tag ?? ''}${mode}-${connections}-${w}`,
    };
    let sent = 0;
    while (performance.now() < deadline && issued < limit && !abort.signal.aborted) {
      issued++;
      if (caller?.freshConversation) headers['x-conversation-id'] = `bench-${caller.tag}${mode}-${connections}-${w}-${++sent}-${Math.floor(started)}`;
      const t0 = performance.now();
      try {
        const res = await fetch(target.url, { method: 'POST', headers, body, signal: abort.signal });
        let text = '';
        let ttfb = NaN;
        if (mode === 'stream' && res.body) {
          const reader = res.body.getReader();
          const decoder = new TextDecoder();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            if (Number.isNaN(ttfb) && value.byteLength > 0) ttfb = performance.now() - t0;
            text += decoder.decode(value, { stream: true });
          }
        } else text = await res.text();
        const t1 = performance.now();
        lastEnd = Math.max(lastEnd, t1);
        if (res.status !== 200) fail(`HTTP ${res.status}`);
        else if (mode === 'stream' ? !text.endsWith('data: [DONE]\n\n') || Number.isNaN(ttfb) : !text.includes('"chat.completion"'))
          fail(`bad ${mode} body`);
        else {
          ok++;
          latencies.push(t1 - t0);
          if (mode === 'stream') ttfbs.push(ttfb);
          const reported = res.headers.get('x-vexrail-overhead-ms');
          if (reported !== null) overheads.push(Number(reported));
          if (text.includes(SPONSORED)) promoted++;
        }
      } catch (err) {
        lastEnd = Math.max(lastEnd, performance.now());
        fail(abort.signal.aborted ? 'timeout' : `fetch ${(err as Error)?.name ?? 'error'}`);
      }
    }
  }

  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  clearTimeout(hardStop);
  const serverCpu = cpuMs(target.child.proc.pid) - serverCpu0;
  const allCpu = children.reduce((sum, c) => sum + cpuMs(c.proc.pid), 0) + cpuMs(process.pid) - allCpu0;
  const elapsedMs = lastEnd - started;
  const sorted = Float64Array.from(latencies).sort();
  const sortedTtfb = Float64Array.from(ttfbs).sort();
  const sortedOverhead = Float64Array.from(overheads).sort();
  let errors = 0;
  for (const n of errorKinds.values()) errors += n;
  return {
    target: target.key, mode, connections, ok, errors, errorKinds, elapsedMs,
    rps: elapsedMs > 0 ? (ok / elapsedMs) * 1000 : 0,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    ttfbP50: percentile(sortedTtfb, 50),
    ttfbP99: percentile(sortedTtfb, 99),
    reportedOverheadP50: sortedOverhead.length ? percentile(sortedOverhead, 50) : null,
    serverCpuUsPerReq: ok > 0 ? (serverCpu * 1000) / ok : NaN,
    totalCpuUsPerReq: ok > 0 ? (allCpu * 1000) / ok : NaN,
    promoted,
  };
}

// ---------------------------------------------------------------------------------------------- setup

async function admin(base: string, path: string, body: object | string, method = 'POST'): Promise<any> {
  const raw = typeof body === 'string';
  const res = await fetch(`${base}/admin/v1${path}`, {
    method,
    headers: { authorization: 'Bearer bench-token', 'content-type': raw ? 'application/x-ndjson' : 'application/json' },
    body: raw ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${path} -> ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/**
 * The monetization setup: an advertiser with ~1,000 products from the relevance fixture catalog in 5 active
 * campaigns (two of them with the project-management products that match the bench prompt), and a second
 * publisher project, funded, with a key pair and monetization switched on.
 */
async function setUpMonetization(base: string): Promise<{ caller: Caller; products: number; campaigns: number; projectId: string }> {
  type Fixture = { name: string; description: string; url: string; keywords: string[]; category: string };
  const catalog: Fixture[] = readFileSync(join(root, 'test', 'fixtures', 'relevance', 'catalog.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const matching = catalog.filter((p) => p.category === 'project_management');
  const nearby = catalog.filter((p) => p.category === 'note_taking' || p.category === 'crm');
  const rest = catalog.filter((p) => !matching.includes(p) && !nearby.includes(p)).slice(0, Math.max(0, 1000 - matching.length - nearby.length));
  const advertiser = await admin(base, '/projects', { name: 'Bench advertiser', domain: 'bench-advertiser.example.com', kind: 'advertiser' });
  await admin(base, `/projects/${advertiser.id}/domain/verify`, { method: 'manual' });
  await admin(base, `/projects/${advertiser.id}/credits`, { amount: '100000.00' });
  // Product URLs must be on the advertiser's verified domain: the fixtures' paths move onto it.
  const lines = (ps: Fixture[]) => ps.map(({ name, description, url, keywords, category }) =>
    JSON.stringify({ name, description, url: `https://bench-advertiser.example.com${new URL(url).pathname}`, keywords, category })).join('\n');
  const imported = async (ps: Fixture[]) => {
    const report = await admin(base, `/projects/${advertiser.id}/products/import`, lines(ps));
    if (report.failed > 0) throw new Error(`product import failed on ${report.failed} lines: ${JSON.stringify(report.errors.slice(0, 3))}`);
    return report.product_ids as string[];
  };
  const pm = await imported(matching);
  const near = await imported(nearby);
  const other = await imported(rest);
  const half = (xs: string[], second: boolean) => xs.filter((_, i) => (i % 2 === 1) === second);
  const plan = [
    { name: 'Project tools: planning', context: 'Project management software for teams: task boards, timelines and workload planning.', base_cpc: '0.40', product_ids: half(pm, false) },
    { name: 'Project tools: collaboration', context: 'Tools that help teams manage projects, deadlines and shared to-do lists.', base_cpc: '0.35', product_ids: half(pm, true) },
    { name: 'Notes and CRM', context: 'Note-taking apps and CRM for small businesses.', base_cpc: '0.30', product_ids: near },
    { name: 'Catalog A', context: 'Always-on catalog campaign.', base_cpc: '0.25', product_ids: half(other, false) },
    { name: 'Catalog B', context: 'Always-on catalog campaign.', base_cpc: '0.20', product_ids: half(other, true) },
  ];
  for (const c of plan) {
    const campaign = await admin(base, `/projects/${advertiser.id}/campaigns`, { ...c, budget: '10000.00' });
    await admin(base, `/projects/${advertiser.id}/campaigns/${campaign.id}/activate`, {});
  }
  const publisher = await admin(base, '/projects', { name: 'Bench monetized', domain: 'bench-monetized.example.com' });
  await admin(base, `/projects/${publisher.id}/domain/verify`, { method: 'manual' });
  await admin(base, `/projects/${publisher.id}/credits`, { amount: '100000.00' });
  const keys = await admin(base, `/projects/${publisher.id}/keys`, { name: 'bench' });
  const patched = await admin(base, `/projects/${publisher.id}`, { monetization: true }, 'PATCH');
  if (patched.monetization !== true && patched.monetization !== 1) throw new Error(`monetization did not switch on: ${JSON.stringify(patched).slice(0, 300)}`);
  return {
    caller: { publishableKey: keys.publishable_key, secretKey: keys.secret_key, freshConversation: true, tag: 'mon-on-' },
    products: pm.length + near.length + other.length,
    campaigns: plan.length,
    projectId: publisher.id,
  };
}

async function gatewayCommand(): Promise<{ cmd: string[]; what: string }> {
  if (opts.gatewayCmd?.length) return { cmd: opts.gatewayCmd, what: `custom command: ${opts.gatewayCmd.join(' ')}` };
  if (opts.profile) {
    const dir = join(root, '.bench', 'profile');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return {
      cmd: [bun, '--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250', join(root, 'src', 'main.ts')],
      what: 'bun --cpu-prof src/main.ts (from source, PROFILED: slower than normal)',
    };
  }
  if (opts.source) return { cmd: [bun, join(root, 'src', 'main.ts')], what: 'bun src/main.ts (from source)' };
  const binary = join(root, 'dist', 'vexrail');
  if (opts.rebuild || !existsSync(binary)) {
    console.log(opts.rebuild ? 'Rebuilding dist/vexrail (--rebuild)' : 'dist/vexrail not found: building it');
    const build = Bun.spawnSync([bun, join(root, 'scripts', 'build.ts')], { cwd: root, stdout: 'inherit', stderr: 'inherit' });
    if (build.exitCode !== 0) throw new Error('build failed');
  }
  const binMtime = statSync(binary).mtimeMs;
  const srcMtime = Math.max(newestMtime(join(root, 'src')), statSync(join(root, 'package.json')).mtimeMs);
  let what = 'dist/vexrail (compiled binary)';
  if (srcMtime > binMtime) {
    what += ', OLDER than src/: run with --rebuild to measure the current source';
    console.log(`warning: dist/vexrail is older than the newest file in src/ (${new Date(binMtime).toISOString()} < ${new Date(srcMtime).toISOString()}); use --rebuild or --source to measure the current code`);
  }
  return { cmd: [binary], what };
}

// ---------------------------------------------------------------------------------------------- report

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

function errorSummary(results: ScenarioResult[]): string {
  const parts: string[] = [];
  for (const r of results) {
    if (r.errors === 0) continue;
    const kinds = [...r.errorKinds].map(([k, n]) => `${n}× ${k}`).join(', ');
    parts.push(`${r.mode === 'stream' ? 'stream' : `@${r.connections}`}: ${kinds}`);
  }
  const total = results.reduce((s, r) => s + r.errors, 0);
  return parts.length ? `${total} (${parts.join('; ')})` : '0';
}

async function main(): Promise<void> {
  tmp = mkdtempSync(join(tmpdir(), 'vexrail-bench-'));
  const durationMs = opts.durationS * 1000;
  const warmupMs = opts.warmupS * 1000;
  const { cmd: gatewayCmd, what: gatewayWhat } = await gatewayCommand();

  console.log(`Starting servers (temp dir ${tmp})`);
  const mock = await startChild('mock', [bun, join(root, 'scripts', 'bench-mock-upstream.ts')], /^listening (\d+)$/m, {}, true);
  const mockBase = `http://127.0.0.1:${mock.port}`;
  const proxy = await startChild('proxy', [bun, join(root, 'scripts', 'bench-bare-proxy.ts'), '--upstream', mockBase], /^listening (\d+)$/m, {}, true);
  const configPath = join(tmp, 'vexrail.json');
  writeFileSync(configPath, JSON.stringify({ providers: [{ name: 'mock', base_url: `${mockBase}/v1`, api_key: 'x', models: ['gpt-4o-mini'] }] }));
  const gateway = await startChild(
    'gateway',
    [...gatewayCmd, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', join(tmp, 'data'), '--config', configPath],
    /listening on http:\/\/127\.0\.0\.1:(\d+)/,
    { VEXRAIL_ADMIN_TOKEN: 'bench-token', VEXRAIL_LOG: 'on' },
  );
  const gatewayBase = `http://127.0.0.1:${gateway.port}`;
  console.log(`  mock upstream :${mock.port} (pid ${mock.child.proc.pid}), bare proxy :${proxy.port} (pid ${proxy.child.proc.pid}), gateway :${gateway.port} (pid ${gateway.child.proc.pid}, ${gatewayWhat})`);

  const project = await admin(gatewayBase, '/projects', { name: 'Bench', domain: 'bench.example.com' });
  await admin(gatewayBase, `/projects/${project.id}/domain/verify`, { method: 'manual' });
  await admin(gatewayBase, `/projects/${project.id}/credits`, { amount: '100000.00' });
  const keys = await admin(gatewayBase, `/projects/${project.id}/keys`, { name: 'bench' });
  publishableKey = keys.publishable_key;
  secretKey = keys.secret_key;
  if (!publishableKey || !secretKey) throw new Error(`key creation returned no key pair: ${JSON.stringify(keys)}`);
  console.log(`  project ${project.id} funded with 100000.00 USD, key pair ${keys.id}`);

  const targets: Target[] = [
    { key: 'direct', label: 'direct (mock upstream)', url: `${mockBase}/v1/chat/completions`, child: mock.child },
    { key: 'proxy', label: 'bare Bun proxy', url: `http://127.0.0.1:${proxy.port}/v1/chat/completions`, child: proxy.child },
    { key: 'gateway', label: 'Vexrail gateway', url: `${gatewayBase}/v1/chat/completions`, child: gateway.child },
  ];

  // Smoke test: one request of each kind to each target must succeed before any timing.
  for (const t of targets)
    for (const mode of ['json', 'stream'] as const) {
      const r = await runLoad(t, mode, 1, 5000, 1);
      if (r.ok < 1) throw new Error(`smoke request ${mode} to ${t.label} failed: ${[...r.errorKinds].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
    }

  const plan: Array<{ mode: Mode; connections: number }> = [
    { mode: 'json', connections: 1 },
    { mode: 'json', connections: opts.high },
    { mode: 'stream', connections: 1 },
  ];
  const total = plan.length * targets.length;
  const monetizationRuns = opts.monetization ? 8 * opts.monetizationRounds : 0;
  const estimate = (total + monetizationRuns) * (opts.durationS + opts.warmupS);
  console.log(
    `\nRunning ${total} scenarios${monetizationRuns ? ` + ${monetizationRuns} monetization on/off` : ''}, ${opts.warmupS} s warm-up + ${opts.durationS} s each (about ${Math.ceil(estimate)} s)`,
  );
  const results: ScenarioResult[] = [];
  let index = 0;
  for (const step of plan)
    for (const t of targets) {
      index++;
      const name = `${t.label.padEnd(22)} ${step.mode === 'stream' ? 'stream' : 'json  '} c=${String(step.connections).padEnd(3)}`;
      console.log(`[${index}/${total}] ${name} start`);
      if (warmupMs > 0) await runLoad(t, step.mode, step.connections, warmupMs);
      const r = await runLoad(t, step.mode, step.connections, durationMs);
      results.push(r);
      const stream = step.mode === 'stream' ? `  first chunk p50 ${fmt(r.ttfbP50, 3)} ms p99 ${fmt(r.ttfbP99, 3)} ms` : '';
      console.log(
        `[${index}/${total}] ${name} done   ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 3)} ms  p99 ${fmt(r.p99, 3)} ms${stream}  ` +
          `server CPU ${fmtInt(r.serverCpuUsPerReq)} µs/req  (${fmtInt(r.ok)} ok, ${r.errors} errors)`,
      );
      for (const c of children) if (!alive(c)) throw new Error(`${c.name} exited during the run (${c.proc.exitCode ?? c.proc.signalCode})\n${tail(c.stderrPath)}`);
    }

  const rss = new Map(targets.map((t) => [t.key, peakRssMb(t.child)]));

  // ------------------------------------------------------------------------------------------ monetization
  // Same gateway, after the scenarios above (their numbers, peak RSS included, are unaffected by it).
  type MonetizationRun = { label: 'off' | 'on'; result: ScenarioResult };
  const monetization: MonetizationRun[] = [];
  let monetizationSetup: Awaited<ReturnType<typeof setUpMonetization>> | null = null;
  let monetizationSample = '';
  if (opts.monetization) {
    const setupStarted = performance.now();
    monetizationSetup = await setUpMonetization(gatewayBase);
    const on = monetizationSetup.caller;
    const off: Caller = { publishableKey, secretKey, freshConversation: true, tag: 'mon-off-' };
    console.log(
      `\nMonetization: advertiser with ${fmtInt(monetizationSetup.products)} products in ${monetizationSetup.campaigns} active campaigns, ` +
        `publisher ${monetizationSetup.projectId} with monetization on (set up in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s)`,
    );
    // One sample answer must carry a promotion, or the comparison would measure nothing.
    const sample = await fetch(`${gatewayBase}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-publishable-key': on.publishableKey, 'x-secret-key': on.secretKey, 'x-conversation-id': 'bench-mon-sample' },
      body: JSON_BODY,
      signal: AbortSignal.timeout(10_000),
    });
    const sampleText = await sample.text();
    const content: string = (() => {
      try {
        return JSON.parse(sampleText).choices[0].message.content;
      } catch {
        return '';
      }
    })();
    if (sample.status !== 200 || !content.includes(SPONSORED))
      throw new Error(`monetized sample answer carries no promotion (HTTP ${sample.status}): ${sampleText.slice(0, 600)}`);
    monetizationSample = content.slice(content.indexOf(SPONSORED)).replace(/\s+/g, ' ').slice(0, 220);
    console.log(`  sample answer carries: ${monetizationSample}`);
    // off, on, on, off at each level: on this shared machine throughput drifts by tens of % within a minute,
    // and the mirrored order cancels a steady drift between the two sides.
    const steps: Array<{ label: 'off' | 'on'; caller: Caller; connections: number }> = [];
    for (const connections of [1, opts.high])
      for (let round = 0; round < opts.monetizationRounds; round++)
        for (const label of ['off', 'on', 'on', 'off'] as const) steps.push({ label, caller: label === 'on' ? on : off, connections });
    const gw = targets.find((t) => t.key === 'gateway')!;
    let step = 0;
    for (const s of steps) {
      step++;
      const name = `gateway, monetization ${s.label.padEnd(3)} json   c=${String(s.connections).padEnd(3)}`;
      console.log(`[m${step}/${steps.length}] ${name} start`);
      if (warmupMs > 0) await runLoad(gw, 'json', s.connections, warmupMs, opts.maxRequests, s.caller);
      const r = await runLoad(gw, 'json', s.connections, durationMs, opts.maxRequests, s.caller);
      monetization.push({ label: s.label, result: r });
      console.log(
        `[m${step}/${steps.length}] ${name} done   ${fmtInt(r.rps).padStart(7)} req/s  p50 ${fmt(r.p50, 3)} ms  p99 ${fmt(r.p99, 3)} ms  ` +
          `server CPU ${fmtInt(r.serverCpuUsPerReq)} µs/req  promoted ${fmtInt(r.promoted)}/${fmtInt(r.ok)}  (${r.errors} errors)`,
      );
      for (const c of children) if (!alive(c)) throw new Error(`${c.name} exited during the run (${c.proc.exitCode ?? c.proc.signalCode})\n${tail(c.stderrPath)}`);
    }
  }

  // Sanity check on the money path: every hold must be settled once the load stops.
  const walletOf = async (projectId: string) => {
    try {
      const res = await fetch(`${gatewayBase}/admin/v1/projects/${projectId}/wallet?limit=1`, { headers: { authorization: 'Bearer bench-token' } });
      const w = (await res.json()) as any;
      if (res.ok) return `balance ${w.balance} USD, held ${w.held} USD${w.held_micros === 0 ? ' (all holds settled)' : ' (HOLDS STILL OPEN)'}`;
    } catch {}
    return null;
  };
  let walletNote = 'wallet could not be read';
  const wallet1 = await walletOf(project.id);
  if (wallet1) walletNote = `wallet after the run: ${wallet1}`;
  if (monetizationSetup) walletNote += `; monetized project's wallet: ${(await walletOf(monetizationSetup.projectId)) ?? 'could not be read'}`;
  // Let the gateway's 100 ms flusher write the last log lines before counting them.
  await Bun.sleep(300);
  const logLines = tail(gateway.child.stdoutPath, Number.MAX_SAFE_INTEGER).split('\n').filter((l) => l.startsWith('{"ts"')).length;

  // ------------------------------------------------------------------------------------------ tables
  const get = (key: Target['key'], mode: Mode, connections: number) => results.find((r) => r.target === key && r.mode === mode && r.connections === connections)!;
  const hi = opts.high;
  const lines: string[] = [];
  lines.push(`| target | req/s @1 | p50 @1 (ms) | p99 @1 (ms) | req/s @${hi} | p50 @${hi} (ms) | p99 @${hi} (ms) | TTFB stream p50 (ms) | TTFB stream p99 (ms) | peak RSS (MB) | server CPU µs/req @1 / @${hi} | errors |`);
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
  for (const t of targets) {
    const a = get(t.key, 'json', 1);
    const b = get(t.key, 'json', hi);
    const s = get(t.key, 'stream', 1);
    lines.push(
      `| ${t.label} | ${fmtInt(a.rps)} | ${fmt(a.p50, 3)} | ${fmt(a.p99, 3)} | ${fmtInt(b.rps)} | ${fmt(b.p50, 3)} | ${fmt(b.p99, 3)} | ` +
        `${fmt(s.ttfbP50, 3)} | ${fmt(s.ttfbP99, 3)} | ${fmt(rss.get(t.key), 1)} | ` +
        `${fmtInt(a.serverCpuUsPerReq)} / ${fmtInt(b.serverCpuUsPerReq)} | ${errorSummary([a, b, s])} |`,
    );
  }

  const d1 = get('direct', 'json', 1);
  const p1 = get('proxy', 'json', 1);
  const g1 = get('gateway', 'json', 1);
  const pHi = get('proxy', 'json', hi);
  const gHi = get('gateway', 'json', hi);
  const ds = get('direct', 'stream', 1);
  const ps = get('proxy', 'stream', 1);
  const gs = get('gateway', 'stream', 1);
  const gRss = rss.get('gateway') ?? NaN;
  const verdict = (pass: boolean, measured: number) => (Number.isNaN(measured) ? 'n/a' : pass ? '**PASS**' : '**MISS**');
  const overhead1 = g1.p50 - d1.p50;
  const share = (gHi.rps / pHi.rps) * 100;
  const ttfbDelta = gs.ttfbP50 - ds.ttfbP50;
  const derived: string[] = [];
  derived.push('| check | measured | target | result |');
  derived.push('|---|--:|--:|---|');
  derived.push(`| gateway p50 overhead @1 vs direct | ${fmt(overhead1, 3)} ms | ≤ 0.5 ms | ${verdict(overhead1 <= 0.5, overhead1)} |`);
  derived.push(`| gateway req/s @${hi} as % of bare proxy | ${fmt(share, 1)} % | ≥ 40 % | ${verdict(share >= 40, share)} |`);
  derived.push(`| first streamed chunk p50, gateway − direct | ${fmt(ttfbDelta, 3)} ms | ≤ 1 ms | ${verdict(ttfbDelta <= 1, ttfbDelta)} |`);
  derived.push(`| gateway peak RSS | ${fmt(gRss, 1)} MB | < 100 MB | ${verdict(gRss < 100, gRss)} |`);
  /** All runs of one side at one level as one: req/s over the summed time, CPU over all requests, mean of the runs' percentiles. */
  const mon = (label: 'off' | 'on', connections: number): ScenarioResult & { runs: number[] } => {
    const rs = monetization.filter((m) => m.label === label && m.result.connections === connections).map((m) => m.result);
    const ok = rs.reduce((a, r) => a + r.ok, 0);
    const elapsed = rs.reduce((a, r) => a + r.elapsedMs, 0);
    const mean = (f: (r: ScenarioResult) => number) => rs.reduce((a, r) => a + f(r), 0) / Math.max(1, rs.length);
    const perReq = (f: (r: ScenarioResult) => number) => rs.reduce((a, r) => a + f(r) * r.ok, 0) / Math.max(1, ok);
    const errorKinds = new Map<string, number>();
    for (const r of rs) for (const [k, n] of r.errorKinds) errorKinds.set(k, (errorKinds.get(k) ?? 0) + n);
    return {
      ...rs[0], ok, elapsedMs: elapsed, errorKinds, errors: rs.reduce((a, r) => a + r.errors, 0),
      rps: elapsed > 0 ? (ok / elapsed) * 1000 : 0, p50: mean((r) => r.p50), p99: mean((r) => r.p99),
      reportedOverheadP50: mean((r) => r.reportedOverheadP50 ?? NaN),
      serverCpuUsPerReq: perReq((r) => r.serverCpuUsPerReq), totalCpuUsPerReq: perReq((r) => r.totalCpuUsPerReq),
      promoted: rs.reduce((a, r) => a + r.promoted, 0), runs: rs.map((r) => r.rps),
    };
  };
  const monTable: string[] = [];
  const monNotes: string[] = [];
  if (monetizationSetup) {
    const off1 = mon('off', 1)!, on1 = mon('on', 1)!, offHi = mon('off', hi)!, onHi = mon('on', hi)!;
    const monShare = (onHi.rps / offHi.rps) * 100;
    derived.push(`| monetization on, req/s @${hi} vs off | ${fmt(monShare, 1)} % | ≥ 80 % | ${verdict(monShare >= 80, monShare)} |`);
    const promotedShare = (r: ScenarioResult) => `${fmt((r.promoted / Math.max(1, r.ok)) * 100, 1)} % (${fmtInt(r.promoted)} of ${fmtInt(r.ok)})`;
    const runs = (r: { runs: number[] }) => r.runs.map(fmtInt).join(', ');
    monTable.push(
      `| gateway, non-stream | req/s @1 | p50 @1 (ms) | p99 @1 (ms) | req/s @${hi} | p50 @${hi} (ms) | p99 @${hi} (ms) | with a promotion @1 | with a promotion @${hi} | ` +
        `server CPU µs/req @1 / @${hi} | req/s of each run @1; @${hi} | errors |`,
    );
    monTable.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|');
    for (const [label, a, b] of [['monetization off', off1, offHi], ['monetization on', on1, onHi]] as const)
      monTable.push(
        `| ${label} | ${fmtInt(a.rps)} | ${fmt(a.p50, 3)} | ${fmt(a.p99, 3)} | ${fmtInt(b.rps)} | ${fmt(b.p50, 3)} | ${fmt(b.p99, 3)} | ${promotedShare(a)} | ${promotedShare(b)} | ` +
          `${fmtInt(a.serverCpuUsPerReq)} / ${fmtInt(b.serverCpuUsPerReq)} | ${runs(a)}; ${runs(b)} | ${errorSummary([a, b])} |`,
      );
    monNotes.push(
      `- Monetization: on vs off, req/s @${hi} ${fmt(monShare, 1)} %, req/s @1 ${fmt((on1.rps / off1.rps) * 100, 1)} %, p50 @1 ${on1.p50 >= off1.p50 ? '+' : ''}${fmt(on1.p50 - off1.p50, 3)} ms, ` +
        `server CPU per request @${hi} ${onHi.serverCpuUsPerReq >= offHi.serverCpuUsPerReq ? '+' : ''}${fmtInt(onHi.serverCpuUsPerReq - offHi.serverCpuUsPerReq)} µs. ` +
        `Each row combines ${2 * opts.monetizationRounds} runs per level, measured in the order off, on, on, off (req/s over the summed time, latency percentiles averaged over the runs). ` +
        `Both rows: the same gateway and prompt, non-stream, a fresh x-conversation-id per request (a new tracked conversation each time), so with monetization on every answer is eligible for a promotion; ` +
        `the frequency cap (one promotion every 3 assistant turns per conversation) would let a client that keeps one conversation get at most one in three. This is the worst case for cost. ` +
        `"off" is the first bench project (monetization off: the decision stops at its first check); "on" a second publisher project with monetization on, ` +
        `against an advertiser with ${fmtInt(monetizationSetup.products)} products (relevance fixture catalog) in ${monetizationSetup.campaigns} active campaigns, two of them project-management tools that match the prompt. ` +
        `Sample promotion: "${monetizationSample}". Promotions are counted by "${SPONSORED}" in the answer content. These runs come after the scenarios above; peak RSS above is read before them ` +
        `(gateway peak RSS after them: ${fmt(peakRssMb(gateway.child), 1)} MB).`,
    );
  }

  const context: string[] = [
    `- For scale: the bare proxy's own p50 overhead @1 vs direct is ${fmt(p1.p50 - d1.p50, 3)} ms; the gateway is ${fmt(g1.p50 - p1.p50, 3)} ms over the bare proxy. ` +
      `First streamed chunk: bare proxy − direct ${fmt(ps.ttfbP50 - ds.ttfbP50, 3)} ms, gateway − bare proxy ${fmt(gs.ttfbP50 - ps.ttfbP50, 3)} ms.`,
    `- The gateway's self-reported x-vexrail-overhead-ms (time outside the upstream call), p50: ${fmt(g1.reportedOverheadP50, 3)} ms @1, ${fmt(gHi.reportedOverheadP50, 3)} ms @${hi}, ${fmt(gs.reportedOverheadP50, 3)} ms stream.`,
    `- Gateway ran with auth, credit hold + settle, conversation tracking (x-conversation-id) and request logging on; it wrote ${fmtInt(logLines)} request log lines to a file; ${walletNote}.`,
    `- Errors: any non-200, a 200 with a malformed body, a failed fetch or a request still open ${GRACE_MS / 1000} s after the deadline; errored requests are excluded from latencies and req/s.`,
    `- This machine has ${navigator.hardwareConcurrency} CPU cores; the load generator (this process) competes with the servers for them. That is the same for all three targets, but absolute numbers are lower than on a dedicated client.`,
    `- Server CPU is the target process's user+system time (from /proc, 10 ms ticks) per successful request; the bare proxy and gateway rows exclude the mock behind them. ` +
      `Whole chain (all servers + load generator) @${hi}: direct ${fmtInt(get('direct', 'json', hi).totalCpuUsPerReq)}, bare proxy ${fmtInt(pHi.totalCpuUsPerReq)}, gateway ${fmtInt(gHi.totalCpuUsPerReq)} µs/req.`,
    `- 1-minute load average: ${loadAtStart} before the run, ${loadAverage()} at the end. Other processes on the machine (tests, builds) distort the numbers; the bench itself keeps about 2 cores busy.`,
    `- Peak RSS is VmHWM from /proc at the end of the run (the "direct" row is the mock upstream process).`,
  ];

  const runSeconds = (performance.now() - benchStarted) / 1000;
  let commit = 'unknown';
  try {
    commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: root }).stdout.toString().trim() || commit;
  } catch {}
  const header = [
    `# Vexrail benchmark`,
    '',
    `${new Date().toISOString()} · commit ${commit} · bun ${Bun.version} · ${navigator.hardwareConcurrency} cores · gateway: ${gatewayWhat}`,
    `Closed loop, keep-alive fetch; ${opts.warmupS} s warm-up + ${opts.durationS} s measured per scenario; "@N" = N concurrent connections; TTFB = first streamed chunk, 1 connection. Run took ${runSeconds.toFixed(1)} s.`,
  ];
  const monSection = monTable.length ? ['', '## Monetization on vs off (same gateway, fresh conversation per request)', '', ...monTable] : [];
  const report = [...header, '', ...lines, ...monSection, '', '## Targets', '', ...derived, '', '## Notes', '', ...context, ...monNotes, ''].join('\n');
  console.log(`\n${report}`);
  mkdirSync(join(root, '.bench'), { recursive: true });
  writeFileSync(join(root, '.bench', 'last.md'), report);
  console.log(`Written to .bench/last.md${opts.keepLogs ? `; gateway data and log kept in ${tmp}` : ''}`);
}

try {
  await main();
  await cleanup();
  if (opts.profile) {
    const dir = join(root, '.bench', 'profile');
    const files = existsSync(dir) ? readdirSync(dir) : [];
    console.log(files.length ? `Gateway CPU profile: ${files.map((f) => join('.bench', 'profile', f)).join(', ')}` : 'warning: the gateway wrote no CPU profile');
  }
  process.exit(0);
} catch (err) {
  console.error(`\nbench failed: ${(err as Error)?.stack ?? err}`);
  await cleanup();
  process.exit(1);
}
