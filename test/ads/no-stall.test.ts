import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/config';
import { createRuntime, type Runtime } from '../../src/runtime';
import type { SqlStore } from '../../src/store/sql-store';
import { createTestStore, TEST_STORE } from '../helpers/test-app';

/**
 * The periodic sweep re-judges every campaign without holding the event loop. With 10,000 campaigns (5,000 of
 * them paused or resumed by each sweep), each sweep is followed by the full synchronous re-evaluation that
 * flips them back (the same work in one piece, which is what the sweep ran before it was sliced), measured
 * under the same load. The machine is shared, so the bounds are ratios to that calibration and medians:
 * - the longest slice of a sweep (its own report) and the longest wait of a heartbeat on the event loop
 *   during the sweep are small fractions of the full re-evaluation in the best of four sweeps: a stall the
 *   sweep causes itself (a long page, a rehash of the serving map) shows in every sweep, the CPU lost to
 *   another process or to a collection of the test run's heap only in some;
 * - the median slice stays near the 1 ms the sweep aims at.
 * Measured on a shared 2-core machine: full re-evaluation 78-330 ms, longest slice in the best round 0.03-0.08
 * of it, heartbeat 0.05-0.09 (single rounds reached 0.26 under a load average of 5 and the whole suite's heap).
 */
const ADVERTISERS = 500;
const CAMPAIGNS = 10_000;
const FLIPPING = 5_000;
/** Longest slice / full re-evaluation; a sweep of a few pages (or a rehash of the serving map) exceeds it. */
const SLICE_RATIO_MAX = 0.15;
/** Longest heartbeat wait during a sweep / full re-evaluation (a heartbeat also waits for the bench's own writes). */
const GAP_RATIO_MAX = 0.25;
/** The median slice, in ms (the sweep aims at 1 ms). */
const MEDIAN_SLICE_MAX_MS = 4;

/** Letters only (the matcher's terms): a distinct word per advertiser and per product. */
const word = (n: number) => {
  let s = '';
  do {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
};

let opened: { store: SqlStore; close(): Promise<void> };
let store: SqlStore;
let rt: Runtime;
let flipIds: string[] = [];
let publisherId = '';

function config() {
  return loadConfig({ argv: ['--quiet', '--config', 'inline.json'], env: { VEXRAIL_ADMIN_TOKEN: 'no-stall-admin-token' }, readFile: () => '{}', defaultDataParent: '/tmp' });
}

/** Inserts rows of `columns` in statements of up to 500 rows, in one transaction (the same text on both stores). */
async function insertMany(table: string, columns: string[], rows: unknown[][]): Promise<void> {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  await store.transaction(async (tx) => {
    for (let at = 0; at < rows.length; at += 500) {
      const chunk = rows.slice(at, at + 500);
      await tx.stmt(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}`).run(chunk.flat());
    }
  });
}

beforeAll(async () => {
  opened = await createTestStore();
  store = opened.store;
  const setup = await createRuntime(config(), store, { resolver: async () => [], logSink: () => {} });
  const products: string[][] = [];
  const advertisers: string[] = [];
  for (let a = 0; a < ADVERTISERS; a++) {
    const project = await setup.projects.create({ name: `Brand ${a}`, domain: `brand${a}.example`, kind: 'advertiser' });
    await setup.projects.verifyDomain(project.id, 'manual');
    await setup.wallet.topUp(project.id, { amount: '1000.00' });
    const lines = Array.from({ length: CAMPAIGNS / ADVERTISERS }, (_, k) =>
      JSON.stringify({ name: `Zq${word(a)} burr coffee grinder vx${word(k)}`, description: 'A burr coffee grinder for espresso.', url: `https://brand${a}.example/${k}`, keywords: ['coffee grinder'], category: 'coffee_equipment' }));
    products.push((await setup.market.products.importLines(await setup.projects.get(project.id), lines.join('\n'))).product_ids);
    advertisers.push(project.id);
  }
  const pub = await setup.projects.create({ name: 'Stall Pub', domain: 'stall-pub.example' });
  await setup.projects.verifyDomain(pub.id, 'manual');
  await setup.keys.generatePair(await setup.projects.get(pub.id), 'k');
  await setup.projects.update(pub.id, { monetization: true });
  publisherId = pub.id;
  await setup.stop();
  // Campaigns straight into the tables (through the services this size takes minutes); one product each.
  const campaigns: unknown[][] = [];
  const units: unknown[][] = [];
  for (let c = 0; c < CAMPAIGNS; c++) {
    const id = `camp_stall_${String(c).padStart(5, '0')}`;
    const flips = c % (CAMPAIGNS / FLIPPING) === 0;
    campaigns.push([id, advertisers[c % ADVERTISERS], `Campaign ${c}`, 400_000, flips ? 400_000 : 100_000_000, flips ? 'daily' : 'total', 'active', 0, 0]);
    units.push([id, products[c % ADVERTISERS][Math.floor(c / ADVERTISERS)]]);
    if (flips) flipIds.push(id);
  }
  await insertMany('campaigns', ['id', 'project_id', 'name', 'base_cpc_micros', 'budget_micros', 'budget_type', 'status', 'created_at', 'updated_at'], campaigns);
  await insertMany('campaign_products', ['campaign_id', 'product_id'], units);
  rt = await createRuntime(config(), store, { resolver: async () => [], logSink: () => {} });
  await rt.market.ready();
}, 180_000);

afterAll(async () => {
  await rt.stop();
  await opened.close();
});

const statusCount = async (status: string) => (await store.stmt<{ n: number }>('SELECT count(*) AS n FROM campaigns WHERE status = ?').get([status]))!.n;

/** Today's spend of the flipping campaigns at their whole daily budget (exhausted), or none (a new day). */
async function setExhausted(exhausted: boolean) {
  const day = new Date().toISOString().slice(0, 10);
  if (exhausted)
    await store.stmt(
      `INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) SELECT id, CAST($day AS TEXT), 400000 FROM campaigns WHERE budget_type = 'daily'
       ON CONFLICT (campaign_id, day) DO UPDATE SET spent_micros = excluded.spent_micros`,
    ).run({ day });
  else await store.stmt('DELETE FROM campaign_daily_spend').run();
}

/** Runs `work` while a heartbeat re-arms itself on the event loop; returns the longest gap between beats. */
async function longestGapDuring(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  let running = true;
  const beat = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(beat);
  };
  setImmediate(beat);
  await work();
  running = false;
  await new Promise((resolve) => setTimeout(resolve, 5));
  return longest;
}

describe('campaign sweep with 10,000 campaigns', () => {
  test('pauses and resumes 5,000 campaigns in slices, each a small part of the whole re-evaluation', async () => {
    expect(await statusCount('active')).toBe(CAMPAIGNS);
    const rounds: Array<{ fullMs: number; sliceMaxMs: number; gapMs: number }> = [];
    const slices: number[] = [];
    // Two rounds on PostgreSQL, where a sweep of 10,000 campaigns reads its pages over the network (slower).
    for (let round = 0; round < (TEST_STORE === 'postgres' ? 2 : 4); round++) {
      await setExhausted(true);
      let report: Awaited<ReturnType<Runtime['market']['sweep']>> = null;
      const gapMs = await longestGapDuring(async () => (report = await rt.market.sweep()));
      expect(report!.judged).toBe(CAMPAIGNS);
      expect(report!.sliceMs.length).toBeGreaterThan(CAMPAIGNS / 256);
      expect(await statusCount('paused_system')).toBe(FLIPPING);
      slices.push(...report!.sliceMs);
      // The calibration: the same 5,000 flips (back) in one synchronous re-evaluation.
      await setExhausted(false);
      const t0 = performance.now();
      await rt.market.refreshCampaigns(null);
      const fullMs = performance.now() - t0;
      expect(await statusCount('paused_system')).toBe(0);
      rounds.push({ fullMs, sliceMaxMs: Math.max(...report!.sliceMs), gapMs });
    }
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(', ');
    console.error(`sweep vs full re-evaluation, ms: full ${fmt(rounds.map((r) => r.fullMs))}; longest slice ${fmt(rounds.map((r) => r.sliceMaxMs))}; longest heartbeat wait ${fmt(rounds.map((r) => r.gapMs))}`);
    expect(Math.min(...rounds.map((r) => r.sliceMaxMs / r.fullMs))).toBeLessThan(SLICE_RATIO_MAX);
    expect(Math.min(...rounds.map((r) => r.gapMs / r.fullMs))).toBeLessThan(GAP_RATIO_MAX);
    slices.sort((a, b) => a - b);
    expect(slices[Math.floor(slices.length / 2)]).toBeLessThan(MEDIAN_SLICE_MAX_MS);
  }, 150_000);

  test('what serves follows the sweep, and a change made during a sweep is not undone by it', async () => {
    const query = { query: `Which burr coffee grinder should I buy? The zq${word(0)} vx${word(0)}` };
    const flipping = flipIds[0];
    const served = async () => (await rt.market.ads.search(publisherId, true, query, 20)).map((r) => r.campaign.id);
    // From a sweep of the current state: on PostgreSQL a periodic sweep page that read the store just before the
    // previous test's last refresh committed may have dropped the campaign until the next sweep.
    await rt.market.sweep();
    expect(await served()).toContain(flipping);
    await setExhausted(true);
    await rt.market.sweep();
    expect(await served()).not.toContain(flipping);

    await setExhausted(false);
    await rt.market.sweep();
    expect(await served()).toContain(flipping);

    // Paused by its advertiser, then activated again while a sweep is past it: the sweep never judged it
    // (paused campaigns are not read), and must not drop what the activation's own refresh put back.
    const owner = await rt.projects.get((await store.stmt<{ project_id: string }>('SELECT project_id FROM campaigns WHERE id = ?').get([flipping]))!.project_id);
    await rt.market.campaigns.pause(owner, flipping);
    expect(await served()).not.toContain(flipping);
    await rt.market.sweep(); // the next periodic sweep starts 5 s after this one: the one below starts at once
    const sweeping = rt.market.sweep();
    await new Promise((resolve) => setImmediate(resolve));
    await rt.market.campaigns.activate(owner, flipping);
    expect(await served()).toContain(flipping);
    const report = await sweeping;
    expect(report!.judged).toBe(CAMPAIGNS - 1);
    expect(await served()).toContain(flipping);
  }, 150_000);
});
