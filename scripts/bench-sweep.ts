/**
 * `bun scripts/bench-sweep.ts`: does campaign re-evaluation make promotion searches wait?
 *
 * Issue 7, section 4: "with 10,000 campaigns serving, no decision or search takes more than 5 ms because
 * of a refresh or sweep". This script builds the real runtime (createRuntime, as the server) on an on-disk
 * SQLite database in a temporary directory and loads:
 *   - N advertiser projects (domain verified, funded), each importing its products with
 *     products.importLines (generated from a small product vocabulary with a seeded PRNG);
 *   - their campaigns, written straight into the campaigns tables in one transaction (through the services
 *     each creation re-judged the advertiser and took minutes at this size), all active; a share of them
 *     ("churn", default 20 %) have a daily budget of one click, so the bench can exhaust and restore them;
 *   - one publisher with monetization on; then the runtime is started again on the same database, so the
 *     matcher and the serving set are built the way a restarted server builds them.
 *
 * Then it runs promotion searches back to back on the event loop (each one first yields with setImmediate,
 * the way a server interleaves requests; a sample is the time from that yield to the search's result, so
 * any time the loop spent on something else is counted), --runs times (default 3) two phases of --seconds:
 *   idle   no sweep at all;
 *   sweep  every --every ms the periodic sweep as the server schedules it, `market.sweep()`.
 * With --full a last phase runs the full synchronous re-evaluation, `market.refreshCampaigns(null)`, every
 * --every ms instead (what the sweep ran before it was sliced; operators and start-up still run it).
 * Before each sweep the bench flips the churn campaigns (writes or deletes today's spend for them, so each
 * sweep pauses or resumes them all: the write-heavy case of a day rollover); samples overlapping that write
 * are left out. Per run it prints p50 / p99 / max of the searches of the idle phase and of the searches that
 * overlapped a sweep, and for those the time the sweep itself held them up (the part of the search's wait
 * spent inside the sweep's slices, from the slices' start times in the sweep's report), the slices, and
 * the sweeps' wall time; then the cost of one advertiser's refresh (what every click and top-up runs).
 * The machine's load average is printed with each run: on a shared machine the idle phase is the noise floor.
 *
 * Options: --advertisers N (2000) --campaigns N (10000) --products N (100000) --seconds S (6) --runs N (3)
 *          --every MS (300) --churn F (0.2) --seed N (7) --full --keep --json
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SweepReport } from '../src/ads/ads.service';
import { loadConfig } from '../src/config/config';
import { createRuntime, type Runtime } from '../src/runtime';
import { startCheckpointer, type Checkpointer } from '../src/store/checkpointer';
import { openStore, type Store } from '../src/store/database';
import { loadAverage, mulberry32, syllableBrand } from './dev-lib';
import { sqliteStore } from '../src/store/sql-store';

const opts = { advertisers: 2000, campaigns: 10_000, products: 100_000, seconds: 6, runs: 3, every: 300, churn: 0.2, seed: 7, full: false, keep: false, json: false };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = () => Number(inline ?? argv[++i]);
    if (flag === '--keep') opts.keep = true;
    else if (flag === '--json') opts.json = true;
    else if (flag === '--full') opts.full = true;
    else if (flag === '--runs') opts.runs = value();
    else if (flag === '--advertisers') opts.advertisers = value();
    else if (flag === '--campaigns') opts.campaigns = value();
    else if (flag === '--products') opts.products = value();
    else if (flag === '--seconds') opts.seconds = value();
    else if (flag === '--every') opts.every = value();
    else if (flag === '--churn') opts.churn = value();
    else if (flag === '--seed') opts.seed = value();
    else {
      console.error(`bench-sweep: unknown option ${argv[i]} (see the comment at the top of scripts/bench-sweep.ts)`);
      process.exit(2);
    }
  }
  for (const [k, v] of Object.entries(opts))
    if (typeof v === 'number' && !(Number.isFinite(v) && v >= 0)) {
      console.error(`bench-sweep: --${k} needs a non-negative number`);
      process.exit(2);
    }
  opts.campaigns = Math.max(opts.campaigns, opts.advertisers);
}

const rand = mulberry32(opts.seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

// ------------------------------------------------------------------------------------------- vocabulary

const DOMAINS: Record<string, { nouns: string[]; traits: string[]; uses: string[] }> = {
  running: { nouns: ['trail running shoes', 'road running shoes', 'running socks', 'hydration vest', 'running jacket'], traits: ['lightweight', 'cushioned', 'waterproof', 'breathable', 'grippy'], uses: ['marathon training', 'muddy trails', 'daily runs', 'race day'] },
  coffee: { nouns: ['burr grinder', 'espresso machine', 'pour-over kettle', 'milk frother', 'coffee scale'], traits: ['stainless', 'precise', 'quiet', 'compact', 'programmable'], uses: ['espresso', 'pour-over', 'cold brew', 'latte art'] },
  software: { nouns: ['kanban board', 'project planner', 'time tracker', 'team wiki', 'invoice app'], traits: ['collaborative', 'cloud', 'secure', 'simple', 'automated'], uses: ['small teams', 'remote work', 'client projects', 'deadlines'] },
  kitchen: { nouns: ['chef knife', 'cast iron skillet', 'stand mixer', 'rice cooker', 'cutting board'], traits: ['forged', 'nonstick', 'durable', 'dishwasher safe', 'heavy'], uses: ['weeknight dinners', 'baking bread', 'meal prep', 'searing steak'] },
  audio: { nouns: ['noise cancelling headphones', 'bluetooth speaker', 'studio monitors', 'earbuds', 'turntable'], traits: ['wireless', 'hi-fi', 'portable', 'long battery', 'bass heavy'], uses: ['commuting', 'home studio', 'parties', 'podcasts'] },
  garden: { nouns: ['pruning shears', 'raised garden bed', 'hose reel', 'compost bin', 'seed starter kit'], traits: ['rust proof', 'ergonomic', 'cedar', 'expandable', 'organic'], uses: ['vegetable gardens', 'balcony plants', 'lawn care', 'composting'] },
  travel: { nouns: ['carry-on suitcase', 'travel backpack', 'packing cubes', 'neck pillow', 'passport wallet'], traits: ['hardshell', 'expandable', 'rfid blocking', 'foldable', 'water resistant'], uses: ['weekend trips', 'business travel', 'backpacking', 'long flights'] },
  fitness: { nouns: ['adjustable dumbbells', 'yoga mat', 'resistance bands', 'rowing machine', 'kettlebell'], traits: ['non-slip', 'compact', 'heavy duty', 'quiet', 'foldable'], uses: ['home workouts', 'strength training', 'stretching', 'cardio'] },
};
const DOMAIN_NAMES = Object.keys(DOMAINS);
const brandOf = (i: number) => syllableBrand(i, 'co');

function productLine(brand: string, domain: string, k: number): string {
  const d = DOMAINS[domain];
  const noun = pick(d.nouns);
  const trait = pick(d.traits);
  const use = pick(d.uses);
  return JSON.stringify({
    name: `${brand} ${trait} ${noun} ${k}`,
    description: `A ${trait} ${noun} made for ${use}, with ${pick(d.traits)} details and a ${pick(d.traits)} finish.`,
    url: `https://${brand.toLowerCase()}.example/p/${k}`,
    keywords: [noun, use, trait],
    category: domain,
  });
}

function queryText(): string {
  const d = DOMAINS[pick(DOMAIN_NAMES)];
  return pick([
    `what ${pick(d.nouns)} should I buy for ${pick(d.uses)}?`,
    `${pick(d.traits)} ${pick(d.nouns)}`,
    `I need a ${pick(d.traits)} ${pick(d.nouns)} for ${pick(d.uses)}, any recommendations?`,
  ]);
}

// --------------------------------------------------------------------------------------------- loading

let tmp: string | null = null;
let store: Store | null = null;
let rt: Runtime | null = null;
let checkpointer: Checkpointer | null = null;
async function cleanup() {
  try { rt?.stop(); } catch {}
  try { await checkpointer?.stop(); } catch {}
  try { store?.close(); } catch {}
  if (tmp && !opts.keep) rmSync(tmp, { recursive: true, force: true });
  tmp = null;
}
process.on('exit', () => {
  if (tmp && !opts.keep) rmSync(tmp, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

function startRuntime(dataDir: string): Promise<Runtime> {
  const config = loadConfig({ argv: ['--quiet', '--data-dir', dataDir, '--config', 'bench.json'], env: { VEXRAIL_ADMIN_TOKEN: 'bench-sweep' }, defaultDataParent: tmp!, readFile: () => '{}' });
  return createRuntime(config, sqliteStore(store!.db), { resolver: async () => [], logSink: () => {} });
}

type Loaded = { publisherId: string; advertiserIds: string[]; churnIds: string[] };

async function load(dataDir: string): Promise<Loaded> {
  const runtime = await startRuntime(dataDir);
  const db = store!.db;
  const advertiserIds: string[] = [];
  const perAdvertiser = Math.ceil(opts.products / opts.advertisers);
  const productsOf: string[][] = [];
  for (let i = 0; i < opts.advertisers; i++) {
    const brand = brandOf(i);
    const project = await runtime.projects.create({ name: `${brand} Inc.`, domain: `${brand.toLowerCase()}.example`, kind: 'advertiser' });
    await runtime.projects.verifyDomain(project.id, 'manual');
    await runtime.wallet.topUp(project.id, { amount: '100000.00' });
    const domain = DOMAIN_NAMES[i % DOMAIN_NAMES.length];
    const lines = Array.from({ length: perAdvertiser }, (_, k) => productLine(brand, domain, k)).join('\n');
    const report = await runtime.market.products.importLines(await runtime.projects.get(project.id), lines);
    if (report.failed > 0) throw new Error(`import failed: ${JSON.stringify(report.errors.slice(0, 2))}`);
    advertiserIds.push(project.id);
    productsOf.push(report.product_ids);
    if (i % 200 === 199) console.error(`  ${i + 1}/${opts.advertisers} advertisers with products`);
  }
  const publisher = await runtime.projects.create({ name: 'Sweep bench publisher', domain: 'publisher.example' });
  await runtime.projects.verifyDomain(publisher.id, 'manual');
  await runtime.keys.generatePair(await runtime.projects.get(publisher.id), 'bench');
  await runtime.projects.update(publisher.id, { monetization: true });
  runtime.stop();

  const insertCampaign = db.query(
    `INSERT INTO campaigns (id, project_id, name, context, base_cpc_micros, budget_micros, budget_type, status, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`,
  );
  const insertUnit = db.query('INSERT INTO campaign_products (campaign_id, product_id) VALUES (?, ?)');
  const churnIds: string[] = [];
  const now = Date.now();
  db.transaction(() => {
    for (let c = 0; c < opts.campaigns; c++) {
      const a = c % opts.advertisers;
      const slot = Math.floor(c / opts.advertisers);
      const perCampaign = Math.ceil(opts.campaigns / opts.advertisers);
      const ids = productsOf[a].filter((_, k) => k % perCampaign === slot);
      if (ids.length === 0) continue;
      const id = `camp_bench_${String(c).padStart(6, '0')}`;
      const churn = rand() < opts.churn;
      const cpc = 100_000 + Math.floor(rand() * 900_000);
      insertCampaign.run(id, advertiserIds[a], `Campaign ${c}`, `${DOMAIN_NAMES[a % DOMAIN_NAMES.length]} gear`, cpc, churn ? cpc : 500_000_000, churn ? 'daily' : 'total', now, now);
      for (const p of ids) insertUnit.run(id, p);
      if (churn) churnIds.push(id);
    }
  })();
  return { publisherId: publisher.id, advertiserIds, churnIds };
}

// ------------------------------------------------------------------------------------------- measuring

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]);
type Summary = { n: number; p50: number; p99: number; max: number };
function summary(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : NaN };
}
const yieldOnce = () => new Promise<void>((resolve) => setImmediate(resolve));
type Window = { from: number; to: number };
const overlaps = (a: number, b: number, ws: Window[]) => ws.some((w) => a < w.to && b > w.from);
/** How much of [a, b] the windows cover (they do not overlap each other). */
const covered = (a: number, b: number, ws: Window[]) => ws.reduce((sum, w) => sum + Math.max(0, Math.min(b, w.to) - Math.max(a, w.from)), 0);

type PhaseResult = { all: Summary; duringSweep: Summary; heldBySweep: Summary; sweeps: Summary; slices: Summary; slicesPerSweep: number; fillRate: number };

/**
 * Runs searches back to back for --seconds while `sweeper` runs every --every ms (none: idle). A sweeper
 * that returns a SweepReport lets the phase tell, per search, how long the sweep's slices held it up.
 */
async function phase(runtime: Runtime, loaded: Loaded, sweeper: null | (() => Promise<SweepReport | null> | void), flip: () => void): Promise<PhaseResult> {
  const queries = Array.from({ length: 500 }, queryText);
  const samples: Window[] = [];
  const sweeps: Window[] = [];
  const writes: Window[] = [];
  const slices: Window[] = [];
  const perSweep: number[] = [];
  let stop = false;
  let filled = 0;
  const loop = (async () => {
    let i = 0;
    while (!stop) {
      const from = performance.now();
      await yieldOnce();
      const r = await runtime.market.ads.search(loaded.publisherId, true, { query: queries[i++ % queries.length] }, 10);
      samples.push({ from, to: performance.now() });
      if (r.length > 0) filled++;
    }
  })();
  const end = performance.now() + opts.seconds * 1000;
  while (performance.now() < end) {
    await Bun.sleep(opts.every);
    if (!sweeper) continue;
    const w0 = performance.now();
    flip();
    writes.push({ from: w0, to: performance.now() });
    await Bun.sleep(1); // the searches held up by the bench's own write finish before the sweep starts
    const s0 = performance.now();
    const report = await sweeper();
    const s1 = performance.now();
    sweeps.push({ from: s0, to: s1 });
    // A synchronous sweeper is one slice; a sliced sweep reports when each of its slices started.
    if (!report) slices.push({ from: s0, to: s1 });
    else {
      report.sliceStartMs.forEach((from, k) => slices.push({ from, to: from + report.sliceMs[k] }));
      perSweep.push(report.sliceMs.length);
    }
  }
  stop = true;
  await loop;
  const kept = samples.filter((s) => !overlaps(s.from, s.to, writes));
  const during = kept.filter((s) => overlaps(s.from, s.to, sweeps));
  return {
    all: summary(kept.map((s) => s.to - s.from)),
    duringSweep: summary(during.map((s) => s.to - s.from)),
    heldBySweep: summary(during.map((s) => covered(s.from, s.to, slices))),
    sweeps: summary(sweeps.map((w) => w.to - w.from)),
    slices: summary(slices.map((w) => w.to - w.from)),
    slicesPerSweep: summary(perSweep).p50,
    fillRate: filled / Math.max(1, samples.length),
  };
}

async function main() {
  tmp = mkdtempSync(join(tmpdir(), 'vexrail-sweep-'));
  const dataDir = join(tmp, 'data');
  store = openStore(dataDir);
  // As in src/main.ts: commits never checkpoint; a worker thread does (src/store/checkpointer.ts).
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  checkpointer = startCheckpointer(store.db, store.path);
  const t0 = performance.now();
  console.error(`Loading ${opts.advertisers} advertisers, ${opts.products} products, ${opts.campaigns} campaigns`);
  const loaded = await load(dataDir);
  rt = await startRuntime(dataDir);
  const runtime = rt;
  const db = store.db;
  // The load left a large WAL: start over from an empty one, as a server that has been running a while.
  db.query('PRAGMA wal_checkpoint(TRUNCATE)').get();
  const serving = (db.query("SELECT count(*) AS n FROM campaigns WHERE status = 'active'").get() as { n: number }).n;
  console.error(`Loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${serving} active campaigns (${loaded.churnIds.length} flip at each sweep)`);

  // Each flip exhausts the churn campaigns' daily budgets or gives them back (as a new UTC day does).
  const day = new Date().toISOString().slice(0, 10);
  const spend = db.query('INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) SELECT id, ?, budget_micros FROM campaigns WHERE id = ? ON CONFLICT DO NOTHING');
  const unspend = db.query('DELETE FROM campaign_daily_spend WHERE campaign_id = ? AND day = ?');
  let exhausted = false;
  const flip = () => {
    db.transaction(() => {
      for (const id of loaded.churnIds) exhausted ? unspend.run(id, day) : spend.run(day, id);
    })();
    exhausted = !exhausted;
  };
  const restore = () => {
    if (exhausted) flip(), runtime.market.refreshCampaigns(null);
  };
  const sweep = async () => {
    const report = await runtime.market.sweep();
    if (!report) throw new Error('the sweep failed');
    return report;
  };

  for (let i = 0; i < 2000; i++) await runtime.market.ads.search(loaded.publisherId, true, { query: queryText() }, 10); // warm-up
  const runs: Array<{ load: string; idle: PhaseResult; sweep: PhaseResult }> = [];
  for (let run = 1; run <= opts.runs; run++) {
    console.error(`Run ${run}/${opts.runs}: idle, then market.sweep() every ${opts.every} ms`);
    const idle = await phase(runtime, loaded, null, flip);
    const swept = await phase(runtime, loaded, sweep, flip);
    restore();
    runs.push({ load: loadAverage(), idle, sweep: swept });
  }
  let full: PhaseResult | null = null;
  if (opts.full) {
    console.error(`Full synchronous re-evaluation, refreshCampaigns(null), every ${opts.every} ms`);
    full = await phase(runtime, loaded, () => void runtime.market.refreshCampaigns(null), flip);
    restore();
  }
  const perAdvertiser: number[] = [];
  for (let i = 0; i < 500; i++) {
    const s = performance.now();
    runtime.market.refreshCampaigns(loaded.advertiserIds[i % loaded.advertiserIds.length]);
    perAdvertiser.push(performance.now() - s);
  }
  const advertiserRefresh = summary(perAdvertiser);

  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');
  const trio = (s: Summary) => `${f(s.p50)} / ${f(s.p99)} / ${f(s.max)}`;
  console.log(`\n${serving} campaigns serving, ${opts.products} products, ${loaded.churnIds.length} campaigns paused or resumed by each sweep, a sweep every ${opts.every} ms, ${opts.seconds} s per phase`);
  console.log('Times in ms as p50 / p99 / max. "held by the sweep": the part of a search\'s wait spent inside the sweep\'s slices.\n');
  console.log('| run | load average | idle: searches | idle: ms | during a sweep: searches | during a sweep: ms | held by the sweep: ms | slices: ms | slices per sweep | sweep wall p50 ms |');
  console.log('|---|---|---:|---|---:|---|---|---|---:|---:|');
  for (const [k, r] of runs.entries())
    console.log(`| ${k + 1} | ${r.load} | ${r.idle.all.n} | ${trio(r.idle.all)} | ${r.sweep.duringSweep.n} | ${trio(r.sweep.duringSweep)} | ${trio(r.sweep.heldBySweep)} | ${trio(r.sweep.slices)} | ${r.sweep.slicesPerSweep} | ${f(r.sweep.sweeps.p50)} |`);
  if (full)
    console.log(`| full re-evaluation | ${loadAverage()} | | | ${full.duringSweep.n} | ${trio(full.duringSweep)} | ${trio(full.heldBySweep)} | ${trio(full.slices)} | 1 | ${f(full.sweeps.p50)} |`);
  const range = (xs: number[]) => `${f(Math.min(...xs))}-${f(Math.max(...xs))}`;
  console.log(`\nOver ${runs.length} runs: idle p99 ${range(runs.map((r) => r.idle.all.p99))} ms; during a sweep p99 ${range(runs.map((r) => r.sweep.duringSweep.p99))} ms,` +
    ` max ${range(runs.map((r) => r.sweep.duringSweep.max))} ms; held by the sweep p99 ${range(runs.map((r) => r.sweep.heldBySweep.p99))} ms, max ${range(runs.map((r) => r.sweep.heldBySweep.max))} ms`);
  console.log(`One advertiser's refresh (clicks, top-ups, edits): p50 ${f(advertiserRefresh.p50)} ms, p99 ${f(advertiserRefresh.p99)} ms, max ${f(advertiserRefresh.max)} ms`);
  if (opts.json) console.log(JSON.stringify({ opts, serving, churn: loaded.churnIds.length, runs, full, advertiserRefresh }));
}

main().then(
  async () => {
    await cleanup();
    process.exit(0);
  },
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
