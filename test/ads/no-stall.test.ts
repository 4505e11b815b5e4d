import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/config';
import { createRuntime, type Runtime } from '../../src/runtime';
import { openStore, type Store } from '../../src/store/database';

/**
 * The periodic sweep re-judges every campaign without holding the event loop: with 10,000 campaigns (5,000 of
 * them paused or resumed by each sweep) a heartbeat on the event loop does not wait longer than STALL_BOUND_MS
 * (the median of three sweeps' longest waits: this machine is shared), while the full synchronous
 * re-evaluation (what the sweep ran before) holds it more than twice as long.
 */
const ADVERTISERS = 500;
const CAMPAIGNS = 10_000;
const FLIPPING = 5_000;
/**
 * Generous for a shared machine: slices aim at 2 ms; the second-shortest of four sweeps' longest waits measured
 * 3-5 ms here once serving campaigns were updated in place (three times that is still far under the old sweep's
 * 60-130 ms, which the next test checks is more than twice the bound).
 */
const STALL_BOUND_MS = 15;

/** Letters only (the matcher's terms): a distinct word per advertiser and per product. */
const word = (n: number) => {
  let s = '';
  do {
    s += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return s;
};

let store: Store;
let rt: Runtime;
let flipIds: string[] = [];
let publisherId = '';

function config() {
  return loadConfig({ argv: ['--quiet', '--config', 'inline.json'], env: { VEXRAIL_ADMIN_TOKEN: 'no-stall-admin-token' }, readFile: () => '{}', defaultDataParent: '/tmp' });
}

beforeAll(async () => {
  store = openStore(':memory:');
  const setup = createRuntime(config(), store.db, { resolver: async () => [], logSink: () => {} });
  const products: string[][] = [];
  const advertisers: string[] = [];
  for (let a = 0; a < ADVERTISERS; a++) {
    const project = setup.projects.create({ name: `Brand ${a}`, domain: `brand${a}.example`, kind: 'advertiser' });
    await setup.projects.verifyDomain(project.id, 'manual');
    setup.wallet.topUp(project.id, { amount: '1000.00' });
    const lines = Array.from({ length: CAMPAIGNS / ADVERTISERS }, (_, k) =>
      JSON.stringify({ name: `Zq${word(a)} burr coffee grinder vx${word(k)}`, description: 'A burr coffee grinder for espresso.', url: `https://brand${a}.example/${k}`, keywords: ['coffee grinder'], category: 'coffee_equipment' }));
    products.push(setup.market.products.importLines(setup.projects.get(project.id), lines.join('\n')).product_ids);
    advertisers.push(project.id);
  }
  const pub = setup.projects.create({ name: 'Stall Pub', domain: 'stall-pub.example' });
  await setup.projects.verifyDomain(pub.id, 'manual');
  setup.keys.generatePair(setup.projects.get(pub.id), 'k');
  setup.projects.update(pub.id, { monetization: true });
  publisherId = pub.id;
  setup.stop();
  // Campaigns straight into the tables (through the services this size takes minutes); one product each.
  const insert = store.db.query(
    `INSERT INTO campaigns (id, project_id, name, base_cpc_micros, budget_micros, budget_type, status, created_at, updated_at)
     VALUES (?, ?, ?, 400000, ?, ?, 'active', 0, 0)`,
  );
  const unit = store.db.query('INSERT INTO campaign_products (campaign_id, product_id) VALUES (?, ?)');
  store.db.transaction(() => {
    for (let c = 0; c < CAMPAIGNS; c++) {
      const id = `camp_stall_${String(c).padStart(5, '0')}`;
      const flips = c % (CAMPAIGNS / FLIPPING) === 0;
      insert.run(id, advertisers[c % ADVERTISERS], `Campaign ${c}`, flips ? 400_000 : 100_000_000, flips ? 'daily' : 'total');
      unit.run(id, products[c % ADVERTISERS][Math.floor(c / ADVERTISERS)]);
      if (flips) flipIds.push(id);
    }
  })();
  rt = createRuntime(config(), store.db, { resolver: async () => [], logSink: () => {} });
}, 120_000);

afterAll(() => {
  rt.stop();
  store.close();
});

const statusCount = (status: string) => (store.db.query('SELECT count(*) AS n FROM campaigns WHERE status = ?').get(status) as { n: number }).n;

/** Today's spend of the flipping campaigns at their whole daily budget (exhausted), or none (a new day). */
function setExhausted(exhausted: boolean) {
  const day = new Date().toISOString().slice(0, 10);
  const spend = store.db.query('INSERT OR REPLACE INTO campaign_daily_spend (campaign_id, day, spent_micros) VALUES (?, ?, 400000)');
  const clear = store.db.query('DELETE FROM campaign_daily_spend WHERE campaign_id = ?');
  store.db.transaction(() => {
    for (const id of flipIds) exhausted ? spend.run(id, day) : clear.run(id);
  })();
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
  test('pauses and resumes 5,000 campaigns without holding the event loop longer than the bound', async () => {
    expect(statusCount('active')).toBe(CAMPAIGNS);
    const gaps: number[] = [];
    for (const exhausted of [true, false, true, false]) {
      setExhausted(exhausted);
      let report: Awaited<ReturnType<Runtime['market']['sweep']>> = null;
      gaps.push(await longestGapDuring(async () => (report = await rt.market.sweep())));
      expect(report!.judged).toBe(CAMPAIGNS);
      expect(report!.sliceMs.length).toBeGreaterThan(10);
      expect(statusCount('paused_system')).toBe(exhausted ? FLIPPING : 0);
    }
    console.error('sliced sweep: longest event-loop wait per sweep', gaps.map((g) => g.toFixed(1)).join(', '), 'ms');
    expect(gaps.sort((a, b) => a - b)[1]).toBeLessThan(STALL_BOUND_MS);
  }, 60_000);

  test('the full synchronous re-evaluation of the same campaigns (the old sweep) does hold it longer', async () => {
    setExhausted(true);
    const gap = await longestGapDuring(async () => rt.market.refreshCampaigns(null));
    console.error('full synchronous re-evaluation: longest event-loop gap', gap.toFixed(1), 'ms');
    expect(statusCount('paused_system')).toBe(FLIPPING);
    expect(gap).toBeGreaterThan(2 * STALL_BOUND_MS);
    setExhausted(false);
    rt.market.refreshCampaigns(null);
    expect(statusCount('active')).toBe(CAMPAIGNS);
  }, 60_000);

  test('what serves follows the sweep, and a change made during a sweep is not undone by it', async () => {
    const query = { query: `Which burr coffee grinder should I buy? The zq${word(0)} vx${word(0)}` };
    const flipping = flipIds[0];
    const served = () => rt.market.ads.search(publisherId, true, query, 20).map((r) => r.campaign.id);
    expect(served()).toContain(flipping);
    setExhausted(true);
    await rt.market.sweep();
    expect(served()).not.toContain(flipping);

    setExhausted(false);
    await rt.market.sweep();
    expect(served()).toContain(flipping);

    // Paused by its advertiser, then activated again while a sweep is past it: the sweep never judged it
    // (paused campaigns are not read), and must not drop what the activation's own refresh put back.
    const owner = rt.projects.get((store.db.query('SELECT project_id FROM campaigns WHERE id = ?').get(flipping) as { project_id: string }).project_id);
    rt.market.campaigns.pause(owner, flipping);
    expect(served()).not.toContain(flipping);
    const sweeping = rt.market.sweep();
    await new Promise((resolve) => setImmediate(resolve));
    rt.market.campaigns.activate(owner, flipping);
    expect(served()).toContain(flipping);
    const report = await sweeping;
    expect(report!.judged).toBe(CAMPAIGNS - 1);
    expect(served()).toContain(flipping);
  }, 60_000);
});
