/**
 * `npm run bench` (or `bun scripts/bench.ts`): the gateway's cost under load, against a bare Bun proxy
 * measured in the same run (issue 9).
 *
 * Servers, each its own child process on 127.0.0.1 and a free port:
 *   mock upstream  scripts/bench-mock-upstream.ts  (fixed OpenAI-style answer, no delay; shared by all)
 *   bare proxy     scripts/bench-bare-proxy.ts     (Bun.serve + fetch pass-through to the mock; fresh per scenario)
 *   gateway        dist/vexrail serve ...          (default logging on, stdout to a file; fresh per scenario)
 * `wrk` (a C load generator, one thread; installed with apt-get when missing) drives the JSON load with the
 * Lua scripts in scripts/wrk/. Around each wrk run this process reads the servers' CPU time from
 * /proc/<pid>/stat and, for the gateway, its /metrics (event-loop lag, answers by status, promotions).
 * Streaming (time to the first chunk) is measured by a fetch client at one connection (scripts/bench-stream.ts).
 *
 * Scenarios (--scenario, default all): plain, conversation, monetization, large-store; see SCENARIOS.
 * Each runs --runs times (default 3); every run measures direct @1, proxy and gateway @1 and @N in an order
 * that alternates between runs. Prints one table per scenario (median and range over the runs, each gateway
 * number as a ratio to the proxy's of the same run, the issue's targets, met/missed) and writes it to
 * .bench/last.md, the raw numbers to .bench/last.json.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertAlive, killAllChildrenNow, startChild, stopAllChildren, stopChild, tail, type Child } from './bench-children';
import { ensureWrk, measure, peakRssMbOf, type GatewayProbe, type Measurement } from './bench-measure';
import { errorNotes, scenarioTable, type Run, type ScenarioReport } from './bench-report';
import { ADMIN_TOKEN, compiledGateway, setUpAdvertiser, setUpPublisher, walletNote, type Caller } from './bench-setup';
import { measureStream } from './bench-stream';
import { loadAverage } from './dev-lib';

const root = join(import.meta.dir, '..');
const bun = process.execPath;
const started = performance.now();
const loadAtStart = loadAverage();

const SCENARIOS = {
  plain: 'monetization off, no conversation id, one small fixed request (scripts/wrk/plain.lua); also the streaming first-chunk times',
  conversation: 'every request carries x-conversation-id: multi-turn chats of up to 8 user turns with the whole history, every user turn a text not sent before, conversations replaced as they end (scripts/wrk/conversation.lua); monetization off',
  monetization: 'the conversation requests to a publisher with monetization on and a promotion allowed on every turn (frequency_cap_turns 1), against an advertiser with ~1,000 products in 6 campaigns; the same requests to a project with monetization off in the same run',
  'large-store': 'the monetization requests with the marketplace seeded through the app\'s services (scripts/bench-seed-store.ts): 10,000 campaigns and 100,000 products by default',
} as const;
type ScenarioName = keyof typeof SCENARIOS;

const HELP = `usage: bun scripts/bench.ts [options]
  --scenario LIST    comma-separated: ${Object.keys(SCENARIOS).join(', ')} (default all)
  --runs N           repetitions per scenario (default 3)
  --duration S       measured seconds per wrk run (default 10)
  --warmup S         warm-up seconds before each wrk run, not measured (default 2)
  --concurrency N    the "many connections" level (default 32)
  --quick            smoke check: --runs 1 --duration 3 --warmup 1, large store 1,000 campaigns / 10,000 products
  --store-campaigns N, --store-products N   size of the large store (default 10000 / 100000)
  --rebuild          build dist/vexrail first even if it exists
  --source           run the gateway from src/main.ts with bun instead of dist/vexrail
  --profile          like --source, under bun --cpu-prof; the profile (.cpuprofile + .md) goes to .bench/profile/
  --gateway-cmd CMD  A/B runs: start the gateway with CMD (space-separated); the serve flags are appended
  --keep             keep the temporary directory (gateway data and logs) after the run`;

type Options = {
  scenarios: ScenarioName[]; runs: number; durationS: number; warmupS: number; high: number; quick: boolean;
  storeCampaigns: number; storeProducts: number; rebuild: boolean; source: boolean; profile: boolean; gatewayCmd: string[] | null; keep: boolean;
};

function parseOptions(argv: string[]): Options {
  const o: Options = { scenarios: Object.keys(SCENARIOS) as ScenarioName[], runs: 3, durationS: 10, warmupS: 2, high: 32, quick: false, storeCampaigns: 10_000, storeProducts: 100_000, rebuild: false, source: false, profile: false, gatewayCmd: null, keep: false };
  const given = new Set<string>();
  const usage = (message: string): never => {
    console.error(`bench: ${message}\n${HELP}`);
    process.exit(2);
  };
  const num = (flag: string, value: string | undefined, min: number) => {
    const n = Number(value);
    if (value === undefined || !Number.isFinite(n) || n < min) usage(`${flag} needs a number >= ${min}`);
    given.add(flag);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--scenario' || flag === '--scenarios') {
      const names = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(n in SCENARIOS));
      if (names.length === 0 || unknown.length) usage(`unknown scenario ${unknown.join(', ') || '(none)'}`);
      o.scenarios = names as ScenarioName[];
    } else if (flag === '--runs') o.runs = Math.floor(num(flag, value(), 1));
    else if (flag === '--duration') o.durationS = Math.ceil(num(flag, value(), 1));
    else if (flag === '--warmup') o.warmupS = Math.ceil(num(flag, value(), 0));
    else if (flag === '--concurrency') o.high = Math.floor(num(flag, value(), 2));
    else if (flag === '--store-campaigns') o.storeCampaigns = Math.floor(num(flag, value(), 1));
    else if (flag === '--store-products') o.storeProducts = Math.floor(num(flag, value(), 1));
    else if (flag === '--quick') o.quick = true;
    else if (flag === '--rebuild') o.rebuild = true;
    else if (flag === '--source') o.source = true;
    else if (flag === '--profile') o.profile = o.source = true;
    else if (flag === '--keep') o.keep = true;
    else if (flag === '--gateway-cmd') o.gatewayCmd = (value() ?? '').split(' ').filter(Boolean);
    else if (flag === '--help' || flag === '-h') {
      console.log(HELP);
      process.exit(0);
    } else usage(`unknown option ${argv[i]}`);
  }
  if (o.quick) {
    if (!given.has('--runs')) o.runs = 1;
    if (!given.has('--duration')) o.durationS = 3;
    if (!given.has('--warmup')) o.warmupS = 1;
    if (!given.has('--store-campaigns')) o.storeCampaigns = 1000;
    if (!given.has('--store-products')) o.storeProducts = 10_000;
  }
  if (o.storeProducts < o.storeCampaigns) usage('--store-products must be at least --store-campaigns');
  return o;
}

const opts = parseOptions(process.argv.slice(2));
let tmp: string | null = null;
let cleanedUp = false;

async function cleanup(): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  await stopAllChildren();
  if (tmp && !opts.keep) rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', () => {
  killAllChildrenNow();
  if (tmp && !opts.keep && !cleanedUp) try { rmSync(tmp, { recursive: true, force: true }); } catch {}
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping the servers`);
    void cleanup().finally(() => process.exit(130));
  });

// ---------------------------------------------------------------------------------------------- gateway

function gatewayCommand(): { cmd: string[]; what: string } {
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
  const { binary, stale } = compiledGateway(root, opts.rebuild, (line) => console.log(line));
  let what = 'dist/vexrail (compiled binary)';
  if (stale) {
    what += ', OLDER than src/: run with --rebuild to measure the current source';
    console.log('warning: dist/vexrail is older than the newest file in src/; use --rebuild or --source to measure the current code');
  }
  return { cmd: [binary], what };
}

/** The large store, seeded once per size and schema into .bench/ and copied for each run. */
async function largeStoreTemplate(): Promise<{ dir: string; caller: Caller; products: number; campaigns: number }> {
  const migrations = join(root, 'src', 'store', 'migrations');
  const fingerprint = Bun.hash(
    readdirSync(migrations).sort().map((f) => readFileSync(join(migrations, f), 'utf8')).join('\n') + readFileSync(join(root, 'scripts', 'bench-seed-store.ts'), 'utf8'),
  ).toString(36);
  const dir = join(root, '.bench', `store-${opts.storeCampaigns}c-${opts.storeProducts}p-${fingerprint}`);
  const meta = join(dir, 'seed.json');
  if (!existsSync(meta)) {
    console.log(`  seeding the large store (${opts.storeCampaigns.toLocaleString('en-US')} campaigns, ${opts.storeProducts.toLocaleString('en-US')} products) into ${dir}; kept for later runs`);
    rmSync(dir, { recursive: true, force: true });
    const proc = Bun.spawn([bun, join(root, 'scripts', 'bench-seed-store.ts'), '--dir', join(dir, 'data'), '--campaigns', String(opts.storeCampaigns), '--products', String(opts.storeProducts)], { cwd: root, stdout: 'pipe', stderr: 'inherit' });
    const out = await new Response(proc.stdout).text();
    if ((await proc.exited) !== 0) throw new Error('seeding the large store failed (see above)');
    writeFileSync(meta, out.trim().split('\n').pop()!);
  } else console.log(`  large store: reusing ${dir}`);
  const seed = JSON.parse(readFileSync(meta, 'utf8'));
  return { dir: join(dir, 'data'), caller: { projectId: seed.publisherId, publishableKey: seed.publishableKey, secretKey: seed.secretKey }, products: seed.products, campaigns: seed.campaigns };
}

// ---------------------------------------------------------------------------------------------- scenario

const fmt = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
const TTY = process.stdout.isTTY === true;
let step = 0;
let totalSteps = 0;

function progressLine(label: string, m: Measurement): string {
  const lag = m.lag ? `  lag max ${fmt(m.lag.maxMs, 1)} ms (${fmt(m.lag.probeMs, 0)} ms timer)` : '';
  const promo = m.gatewayChat && m.gatewayChat.promoted > 0 ? `  promoted ${fmtInt(m.gatewayChat.promoted)}/${fmtInt(m.gatewayChat.ok)}` : '';
  const errs = m.wrk.non2xx + m.wrk.socketErrors.connect + m.wrk.socketErrors.read + m.wrk.socketErrors.write + m.wrk.socketErrors.timeout;
  return `${label.padEnd(34)} ${fmtInt(m.wrk.requestsPerS).padStart(7)} req/s  p50 ${fmt(m.wrk.latencyMs.p50)} ms  p99 ${fmt(m.wrk.latencyMs.p99)} ms  ` +
    `server ${fmtInt(m.serverCpuUsPerReq)} µs/req (main thread ${fmt(m.mainThreadCorePct, 0)} % of a core)  wrk ${fmt(m.wrkCorePct, 0)} % of a core${lag}${promo}${errs ? `  ERRORS ${errs}` : ''}`;
}

async function runScenario(name: ScenarioName, mock: { child: Child; base: string }, wrkPath: string, gatewayCmd: string[]): Promise<ScenarioReport> {
  const hi = opts.high;
  console.log(`\n== ${name}: ${SCENARIOS[name]}`);
  const dir = mkdtempSync(join(tmp!, `${name}-`));
  const dataDir = join(dir, 'data');
  const notes: string[] = [];
  let store: Awaited<ReturnType<typeof largeStoreTemplate>> | null = null;
  if (name === 'large-store') {
    store = await largeStoreTemplate();
    cpSync(store.dir, dataDir, { recursive: true });
  }
  const proxy = await startChild(dir, 'proxy', [bun, join(root, 'scripts', 'bench-bare-proxy.ts'), '--upstream', mock.base], /^listening (\d+)$/m, { cwd: root, watchStdin: true });
  const configPath = join(dir, 'vexrail.json');
  writeFileSync(configPath, JSON.stringify({ providers: [{ name: 'mock', base_url: `${mock.base}/v1`, api_key: 'x', models: ['gpt-4o-mini'] }] }));
  const gateway = await startChild(dir, 'gateway', [...gatewayCmd, 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--config', configPath],
    /listening on http:\/\/127\.0\.0\.1:(\d+)/, { cwd: root, env: { VEXRAIL_ADMIN_TOKEN: ADMIN_TOKEN, VEXRAIL_LOG: 'on', VEXRAIL_LAG_PROBE_MS: '1' }, timeoutMs: 120_000 });
  const gatewayBase = `http://127.0.0.1:${gateway.port}`;
  const probe: GatewayProbe = { base: gatewayBase, token: ADMIN_TOKEN };
  console.log(`  proxy :${proxy.port} (pid ${proxy.child.proc.pid}), gateway :${gateway.port} (pid ${gateway.child.proc.pid})`);

  let caller: Caller;
  let offCaller: Caller | null = null;
  if (name === 'plain' || name === 'conversation') caller = await setUpPublisher(gatewayBase, 'Bench publisher', false);
  else if (name === 'monetization') {
    const adv = await setUpAdvertiser(gatewayBase, root);
    caller = await setUpPublisher(gatewayBase, 'Bench monetized', true);
    offCaller = await setUpPublisher(gatewayBase, 'Bench unmonetized', false);
    notes.push(`advertiser with ${fmtInt(adv.products)} products in ${adv.campaigns} active campaigns`);
  } else {
    caller = store!.caller;
    notes.push(`store seeded with ${fmtInt(store!.products)} products in ${fmtInt(store!.campaigns)} active campaigns (${fmtInt(Math.round(store!.campaigns / 10))} advertisers)`);
  }
  const script = join(root, 'scripts', 'wrk', name === 'plain' ? 'plain.lua' : 'conversation.lua');
  const argsFor = (c: Caller, tag: string, connections: number) =>
    name === 'plain' ? [c.publishableKey, c.secretKey] : [c.publishableKey, c.secretKey, `${name}-${tag}-${Date.now().toString(36)}`, String(Math.max(64, 4 * connections)), '8'];
  await smokeCheck(name, gatewayBase, caller);

  const targets = {
    direct: { url: `${mock.base}/v1/chat/completions`, pid: mock.child.proc.pid, others: [] as number[] },
    proxy: { url: `http://127.0.0.1:${proxy.port}/v1/chat/completions`, pid: proxy.child.proc.pid, others: [mock.child.proc.pid] },
    gateway: { url: `${gatewayBase}/v1/chat/completions`, pid: gateway.child.proc.pid, others: [mock.child.proc.pid] },
  };
  const one = async (run: number, target: keyof typeof targets, connections: number, c: Caller = caller, label = target as string): Promise<Measurement> => {
    const t = targets[target];
    const args = argsFor(c, `r${run}-${label.replace(/\W+/g, '')}-${connections}`, connections);
    const text = `[${++step}/${totalSteps}] ${name} run ${run + 1}/${opts.runs}: ${label} c=${connections}`;
    process.stdout.write(TTY ? `${text} ...` : `${text} ...\n`);
    if (opts.warmupS > 0) await measure({ wrkPath, url: t.url, connections, durationS: opts.warmupS, script, args: argsFor(c, `warm-r${run}-${label.replace(/\W+/g, '')}-${connections}`, connections), serverPid: t.pid, otherPids: t.others });
    const m = await measure({ wrkPath, url: t.url, connections, durationS: opts.durationS, script, args, serverPid: t.pid, otherPids: t.others, gateway: target === 'gateway' ? probe : undefined });
    process.stdout.write(`${TTY ? '\r' : ''}${progressLine(text, m)}\n`);
    assertAlive([mock.child, proxy.child, gateway.child]);
    return m;
  };
  const runs: Run[] = [];
  for (let run = 0; run < opts.runs; run++) {
    // Alternate which server goes first: on a shared machine throughput drifts within a minute.
    const gatewayFirst = run % 2 === 1;
    const direct1 = await one(run, 'direct', 1);
    const pair = async (connections: number) => {
      if (gatewayFirst) {
        const g = await one(run, 'gateway', connections);
        return { g, p: await one(run, 'proxy', connections) };
      }
      const p = await one(run, 'proxy', connections);
      return { p, g: await one(run, 'gateway', connections) };
    };
    const low = await pair(1);
    const high = await pair(hi);
    const r: Run = { direct1, proxy1: low.p, gateway1: low.g, proxyHi: high.p, gatewayHi: high.g };
    if (offCaller) r.gatewayOffHi = await one(run, 'gateway', hi, offCaller, 'gateway (monetization off)');
    if (name === 'plain') {
      const seconds = Math.min(opts.durationS, 5);
      process.stdout.write(`[${step}/${totalSteps}] ${name} run ${run + 1}/${opts.runs}: streaming first-chunk times, 1 connection, ${seconds} s each ...${TTY ? '' : '\n'}`);
      const headers = { 'x-publishable-key': caller.publishableKey, 'x-secret-key': caller.secretKey };
      r.stream = { direct: await measureStream(targets.direct.url, {}, seconds), proxy: await measureStream(targets.proxy.url, {}, seconds), gateway: await measureStream(targets.gateway.url, headers, seconds) };
      console.log(`${TTY ? '\r' : ''}${`[${step}/${totalSteps}] ${name} run ${run + 1}/${opts.runs}: stream first chunk p50`.padEnd(34)} direct ${fmt(r.stream.direct.ttfbP50, 3)} ms, proxy ${fmt(r.stream.proxy.ttfbP50, 3)} ms, gateway ${fmt(r.stream.gateway.ttfbP50, 3)} ms`);
    }
    runs.push(r);
  }
  const rssMb = { proxy: peakRssMbOf(proxy.child.proc.pid), gateway: peakRssMbOf(gateway.child.proc.pid) };
  notes.push(`wallet after the runs: ${await walletNote(gatewayBase, caller.projectId)}`);
  await Bun.sleep(300); // the gateway's 100 ms flusher writes the last log lines
  const logLines = tail(gateway.child.stdoutPath, Number.MAX_SAFE_INTEGER).split('\n').filter((l) => l.startsWith('{"ts"')).length;
  notes.push(`the gateway wrote ${fmtInt(logLines)} request log lines to a file`);
  const noFill: Record<string, number> = {};
  for (const r of runs) for (const [k, n] of Object.entries(r.gatewayHi.gatewayChat?.noFill ?? {})) noFill[k] = (noFill[k] ?? 0) + n;
  if (name !== 'plain' && name !== 'conversation' && Object.keys(noFill).length)
    notes.push(`answers without a promotion @${hi}, by reason: ${Object.entries(noFill).map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ')}`);
  await stopChild(gateway.child, 10_000);
  await stopChild(proxy.child);
  return { name, description: SCENARIOS[name], high: hi, runs, rssMb, notes };
}

/** One request the way the scenario sends them must succeed (and, monetized, carry a promotion) before any timing. */
async function smokeCheck(name: ScenarioName, base: string, c: Caller): Promise<void> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-publishable-key': c.publishableKey, 'x-secret-key': c.secretKey, 'x-conversation-id': `bench-smoke-${name}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What tools can help me manage my projects?' }] }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`smoke request for ${name} -> HTTP ${res.status}: ${text.slice(0, 400)}`);
  if ((name === 'monetization' || name === 'large-store') && !text.includes('Sponsored'))
    throw new Error(`smoke request for ${name}: the answer carries no promotion: ${text.slice(0, 600)}`);
}

// ---------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const wrkPath = ensureWrk((line) => console.log(line));
  tmp = mkdtempSync(join(tmpdir(), 'vexrail-bench-'));
  const { cmd: gatewayCmd, what: gatewayWhat } = gatewayCommand();
  const perRun = (s: ScenarioName) => 5 + (s === 'monetization' || s === 'large-store' ? 1 : 0);
  totalSteps = opts.scenarios.reduce((a, s) => a + perRun(s) * opts.runs, 0);
  const estimateS = totalSteps * (opts.durationS + opts.warmupS + 0.5) + (opts.scenarios.includes('plain') ? opts.runs * 3 * Math.min(opts.durationS, 5) : 0);
  console.log(`Scenarios ${opts.scenarios.join(', ')}; ${opts.runs} run(s) each; wrk ${opts.warmupS} s warm-up + ${opts.durationS} s per measurement; about ${Math.ceil(estimateS / 60)} min plus setup. Gateway: ${gatewayWhat}`);
  const mock = await startChild(tmp, 'mock', [bun, join(root, 'scripts', 'bench-mock-upstream.ts')], /^listening (\d+)$/m, { cwd: root, watchStdin: true });
  const mockBase = `http://127.0.0.1:${mock.port}`;
  const reports: ScenarioReport[] = [];
  for (const name of opts.scenarios) reports.push(await runScenario(name, { child: mock.child, base: mockBase }, wrkPath, gatewayCmd));

  let commit = 'unknown';
  try {
    commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { cwd: root }).stdout.toString().trim() || commit;
  } catch {}
  const out: string[] = [
    '# Vexrail benchmark (issue 9)', '',
    `${new Date().toISOString()} · commit ${commit} · bun ${Bun.version} · ${navigator.hardwareConcurrency} cores · gateway: ${gatewayWhat}`,
    `wrk, 1 thread, closed loop; ${opts.warmupS} s warm-up + ${opts.durationS} s per measurement; ${opts.runs} run(s) per scenario; "@N" = N connections. ` +
      `Cells: median (min-max) over the runs; ratios are computed within each run. Load average ${loadAtStart} at the start, ${loadAverage()} at the end; took ${((performance.now() - started) / 60_000).toFixed(1)} min.`,
  ];
  for (const r of reports) {
    out.push('', `## ${r.name}`, '', r.description, '', ...scenarioTable(r), '');
    for (const n of [...r.notes, ...errorNotes(r)]) out.push(`- ${n}`);
  }
  out.push('', '## How to read it', '',
    '- CPU per request: user + system time of the server process from /proc/<pid>/stat over the wrk run, divided by the requests wrk completed (the mock upstream behind the proxy and gateway is not included).',
    '- Main thread: the same from /proc/<pid>/task/<pid>/stat, the thread that runs JavaScript and the event loop (the HTTP client, the WAL checkpointer, the garbage collector\'s helpers and the allocator run on others). Near 100 % of one core it limits req/s whatever the second core does. The other threads are listed by name (/proc/<pid>/task/<tid>/comm), busiest first, those at 0.5 % or more.',
    '- Event-loop lag: from the gateway\'s /metrics, scraped just before and after each run: vexrail_event_loop_lag_max_ms (largest delay since the previous scrape) and the vexrail_event_loop_lag_ms histogram. ' +
      'The bench starts the gateway with VEXRAIL_LAG_PROBE_MS=1, so the timer fires every 1 ms (the default is 10 ms; vexrail_event_loop_lag_probe_ms shows the period in use); the p99 is a histogram bucket bound (buckets 0.5, 1, 2, 3, 4, 5, 7.5, 10, 25 ... ms).',
    '- Peak RSS: VmHWM of /proc/<pid>/status at the end of the scenario (each scenario starts a fresh proxy and gateway).',
    '- wrk\'s own CPU shows whether the load generator could be the bottleneck (it is one thread: near 100 % of a core it would be). The machine-busy line counts every process on the machine; other work there distorts all numbers.',
    '- p99 added @1: p99 at one connection minus the mock upstream\'s own p99 at one connection in the same run.');
  const report = out.join('\n');
  console.log(`\n${report}\n`);
  mkdirSync(join(root, '.bench'), { recursive: true });
  writeFileSync(join(root, '.bench', 'last.md'), `${report}\n`);
  writeFileSync(join(root, '.bench', 'last.json'), JSON.stringify({ commit, options: opts, reports }, (_, v) => (v instanceof Map ? Object.fromEntries(v) : v), 1));
  console.log(`Written to .bench/last.md and .bench/last.json${opts.keep ? `; gateway data and logs kept in ${tmp}` : ''}`);
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
