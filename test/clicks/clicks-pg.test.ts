/**
 * The clicks repository on PostgreSQL against a throwaway server: several connection pools stand for several
 * gateway instances sharing one database. No PostgreSQL, no pass: a server that cannot start fails this file.
 */
import { SQL } from 'bun';
import type { Database } from 'bun:sqlite';
import { expect, test } from 'bun:test';
import fc from 'fast-check';
import { auditMarketMoney } from '../../src/clicks/audit';
import { createClicksRepo, type ChargeInput, type ClickRow, type ClicksRepo } from '../../src/clicks/clicks.repo';
import { openStore } from '../../src/store/database';
import { migratePostgres } from '../../src/store/postgres';
import { postgresStore, sqliteStore, type SqlStore } from '../../src/store/sql-store';
import { auditMoneyPg, createPgWalletRepo, micros, type PgHold } from '../../src/wallet/wallet-pg.repo';
import { createTestDatabase, useThrowawayPostgres } from '../helpers/postgres';

const pg = useThrowawayPostgres();

const INSTANCES = 3;
const DAY_MS = 86_400_000;
const HOLD_MS = 3 * DAY_MS;
const T0 = Date.UTC(2026, 5, 1, 12);

/** Each instance's store: its own pool opened as the gateway opens it (int8 as BigInt, read as checked numbers). */
const stores = new Map<SQL, SqlStore>();

/**
 * A migrated database of its own and INSTANCES pools on it (one per simulated instance), passed to `body`: plain
 * pools for the fixtures and checks written here (int8 as strings), each with its instance's store beside it.
 */
async function withInstances(body: (pools: SQL[]) => Promise<void>, poolSize = 4): Promise<void> {
  const database = await createTestDatabase(pg.server.url);
  const pools = Array.from({ length: INSTANCES }, () => new SQL(database.url, { max: poolSize }));
  const storePools = Array.from({ length: INSTANCES }, () => new SQL(database.url, { max: poolSize, bigint: true }));
  pools.forEach((pool, i) => stores.set(pool, postgresStore(storePools[i])));
  try {
    await migratePostgres(pools[0]);
    await body(pools);
  } finally {
    for (const pool of pools) stores.delete(pool);
    await Promise.all([...pools, ...storePools].map((p) => p.close()));
    await database.drop();
  }
}

// ---- Fixtures, written with the same SQL to either backend ----

/** Runs one statement with $1..$n parameters. */
type Exec = (text: string, params: unknown[]) => Promise<void>;
const pgExec = (sql: SQL): Exec => async (text, params) => void (await sql.unsafe(text, params as any[]));
const sqliteExec = (db: Database): Exec => async (text, params) => void db.query(text.replace(/\$(\d+)/g, '?$1')).run(...(params as any[]));

type Campaign = { id: string; advertiser: string; productId: string; budget: number; type: 'total' | 'daily' };
type Impression = { id: string; campaign: Campaign; price: number };

async function project(exec: Exec, id: string, kind: 'publisher' | 'advertiser'): Promise<void> {
  await exec(`INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at) VALUES ($1, $1, $2, $3, $4, 1, 1)`,
    [id, kind, `${id}.example`, `token-${id}`]);
}

/** An advertiser with a wallet of `funds` (a top_up entry, so the ledger audit holds) and one product. */
async function advertiser(exec: Exec, id: string, funds: number): Promise<string> {
  await project(exec, id, 'advertiser');
  await exec(`INSERT INTO wallets (project_id, balance_micros) VALUES ($1, $2)`, [id, funds]);
  await exec(`INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, created_at) VALUES ($1, 'top_up', $2, $2, 1)`, [id, funds]);
  const productId = `${id}-product`;
  await exec(`INSERT INTO products (id, project_id, name, description, url, created_at) VALUES ($1, $2, 'P', 'A product', 'https://shop.example/p', 1)`, [productId, id]);
  return productId;
}

async function campaign(exec: Exec, id: string, advertiserId: string, productId: string, budget: number, type: 'total' | 'daily'): Promise<Campaign> {
  await exec(`INSERT INTO campaigns (id, project_id, name, base_cpc_micros, budget_micros, budget_type, status, created_at, updated_at)
              VALUES ($1, $2, $1, 100, $3, $4, 'active', 1, 1)`, [id, advertiserId, budget, type]);
  return { id, advertiser: advertiserId, productId, budget, type };
}

async function impression(exec: Exec, id: string, c: Campaign, price: number, publisherId = 'pub'): Promise<Impression> {
  await exec(`INSERT INTO impressions (id, publisher_project_id, advertiser_project_id, campaign_id, product_id, request_id, turn, relevance,
                price_micros, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $1, 1, 0.5, $6, $7, $8)`,
    [id, publisherId, c.advertiser, c.id, c.productId, price, T0, T0 + DAY_MS]);
  return { id, campaign: c, price };
}

function clickOf(imp: Impression, now = T0, publisherShareBps = 7_000): ChargeInput {
  return {
    productId: imp.campaign.productId, impressionId: imp.id, campaignId: imp.campaign.id, publisherId: 'pub', advertiserId: imp.campaign.advertiser,
    priceMicros: imp.price, publisherShareBps, earningsHoldMs: HOLD_MS, userAgent: 'Mozilla/5.0', now,
  };
}

/** One instance's clicks repository: the shared one, on a PostgreSQL store over that instance's pool. */
const clicksRepoOf = (sql: SQL): ClicksRepo => createClicksRepo(stores.get(sql)!);

/** Both money audits; holds expire on the clock of the run (`nowMs`), which the wall clock may be far from. */
async function audits(sql: SQL, nowMs = T0): Promise<string[]> {
  return [...(await auditMarketMoney(stores.get(sql)!)), ...(await auditMoneyPg(sql, { nowMs }))];
}

const one = (sql: SQL) => async (text: TemplateStringsArray, ...values: unknown[]) => (await sql(text, ...values))[0];
const balanceOf = async (sql: SQL, projectId: string) => micros((await one(sql)`SELECT balance_micros FROM wallets WHERE project_id = ${projectId}`).balance_micros);
const countBy = <T>(xs: T[], key: (x: T) => string) => xs.reduce<Record<string, number>>((acc, x) => ((acc[key(x)] = (acc[key(x)] ?? 0) + 1), acc), {});

// ---- Exactly once ----

test('the same impression clicked on three instances at once is charged once; the others are recorded as duplicates', async () => {
  await withInstances(async (pools) => {
    const exec = pgExec(pools[0]);
    await project(exec, 'pub', 'publisher');
    const productId = await advertiser(exec, 'adv', 10_000_000);
    const c = await campaign(exec, 'cmp', 'adv', productId, 10_000_000, 'total');
    const impressions = [];
    for (let i = 0; i < 40; i++) impressions.push(await impression(exec, `imp${i}`, c, 12_345));
    const repos = pools.map(clicksRepoOf);
    const results = await Promise.all(impressions.flatMap((imp) => repos.map((repo) => repo.charge(clickOf(imp)))));
    for (const imp of impressions) {
      const mine = results.filter((r) => r.click.impression_id === imp.id).map((r) => `${r.click.status}:${r.click.reason}`).sort();
      expect(mine).toEqual(['charged:null', 'invalid:duplicate', 'invalid:duplicate']);
    }
    const charged = results.filter((r) => r.click.status === 'charged').map((r) => r.click);
    expect(charged[0]).toMatchObject({ charged_micros: 12_345, publisher_micros: 8_641, platform_micros: 3_704, created_at: T0 });
    expect(await balanceOf(pools[1], 'adv')).toBe(10_000_000 - 40 * 12_345);
    expect(await one(pools[2])`SELECT count(*)::int AS n FROM clicks`).toEqual({ n: 120 });
    expect(await audits(pools[0])).toEqual([]);
    // Read back from another instance: the same row.
    expect(await repos[2].get(charged[0].id)).toEqual(charged[0]);
  });
}, 60_000);

test('deleted product, exhausted budget and short funds: recorded, never charged, the campaign paused with a history entry', async () => {
  await withInstances(async ([sql, other]) => {
    const exec = pgExec(sql);
    await project(exec, 'pub', 'publisher');
    const productId = await advertiser(exec, 'adv', 1_000);
    const small = await campaign(exec, 'small', 'adv', productId, 500, 'total');
    const rich = await campaign(exec, 'rich', 'adv', productId, 1_000_000, 'daily');
    const repo = clicksRepoOf(sql);
    const [a, b, c, d] = [await impression(exec, 'a', small, 400), await impression(exec, 'b', small, 400), await impression(exec, 'c', rich, 700), await impression(exec, 'd', rich, 500)];

    expect((await repo.charge(clickOf(a))).click).toMatchObject({ status: 'charged', charged_micros: 400 });
    expect(await repo.charge(clickOf(b))).toMatchObject({ click: { status: 'unbilled', reason: 'budget_exhausted', charged_micros: 0 }, pausedFor: 'budget_exhausted' });
    // 600 left in the wallet: a 700 click cannot be paid.
    expect(await repo.charge(clickOf(c))).toMatchObject({ click: { status: 'unbilled', reason: 'funds_short' }, pausedFor: 'funds_short' });
    expect(await one(sql)`SELECT status, pause_reason FROM campaigns WHERE id = 'rich'`).toEqual({ status: 'paused_system', pause_reason: 'funds_short' });
    // A paused campaign is paused again by no one: one history entry per pause.
    expect((await repo.charge(clickOf(c))).click.reason).toBe('funds_short');
    expect(await sql`SELECT campaign_id, event, actor, detail FROM campaign_history ORDER BY id`).toEqual([
      { campaign_id: 'small', event: 'paused', actor: 'system', detail: '{"reason":"budget_exhausted"}' },
      { campaign_id: 'rich', event: 'paused', actor: 'system', detail: '{"reason":"funds_short"}' },
    ]);
    // An unbilled click does not use up the impression: after a top-up its next click is charged (as in SQLite).
    await createPgWalletRepo(other).topUp('adv', 1_000, null);
    expect((await clicksRepoOf(other).charge(clickOf(c))).click).toMatchObject({ status: 'charged', charged_micros: 700 });

    await sql`UPDATE products SET deleted_at = 5 WHERE id = ${productId}`;
    expect((await repo.charge(clickOf(d))).click).toMatchObject({ status: 'invalid', reason: 'product_deleted', charged_micros: 0 });
    expect(await repo.recordInvalid(clickOf(d), 'expired')).toMatchObject({ status: 'invalid', reason: 'expired', impression_id: 'd' });
    expect(await balanceOf(sql, 'adv')).toBe(2_000 - 400 - 700);
    expect(await audits(sql)).toEqual([]);
  });
}, 30_000);

// ---- Budgets and wallets under concurrency ----

test('hundreds of concurrent clicks from three instances over several campaigns: no budget or wallet exceeded, nothing lost', async () => {
  await withInstances(async (pools) => {
    const exec = pgExec(pools[0]);
    await project(exec, 'pub', 'publisher');
    // Per advertiser one price; budgets and wallets that pay for a few clicks each.
    const plan = [
      { adv: 'adv-a', price: 1_000, funds: 40_000, campaigns: [{ budget: 12_500, type: 'total' as const }, { budget: 9_000, type: 'daily' as const }] },
      { adv: 'adv-b', price: 3_000, funds: 1_000_000, campaigns: [{ budget: 30_000, type: 'daily' as const }, { budget: 20_000, type: 'total' as const }] },
      { adv: 'adv-c', price: 777, funds: 10_000, campaigns: [{ budget: 100_000, type: 'total' as const }, { budget: 100_000, type: 'daily' as const }] },
    ];
    const impressions: Impression[] = [];
    for (const a of plan) {
      const productId = await advertiser(exec, a.adv, a.funds);
      for (const [ci, spec] of a.campaigns.entries()) {
        const c = await campaign(exec, `${a.adv}-c${ci}`, a.adv, productId, spec.budget, spec.type);
        for (let i = 0; i < 40; i++) impressions.push(await impression(exec, `${c.id}-i${i}`, c, a.price));
      }
    }
    const repos = pools.map(clicksRepoOf);
    // 240 impressions, each clicked one to three times, on random instances, all at once.
    const random = fc.sample(fc.array(fc.integer({ min: 0, max: 8 }), { minLength: impressions.length, maxLength: impressions.length }), { numRuns: 1, seed: 42 })[0];
    const clicks = impressions.flatMap((imp, i) => Array.from({ length: 1 + (random[i] % 3) }, (_, k) => ({ imp, instance: (random[i] + k) % INSTANCES })));
    expect(clicks.length).toBeGreaterThan(400);
    const results = await Promise.all(clicks.map(({ imp, instance }) => repos[instance].charge(clickOf(imp))));

    for (const a of plan) {
      // With one price per advertiser the outcome is exact: every campaign fills its budget unless the wallet runs out first.
      const byBudget = a.campaigns.reduce((sum, c) => sum + Math.min(Math.floor(c.budget / a.price), 40), 0);
      const expected = Math.min(Math.floor(a.funds / a.price), byBudget);
      const charged = results.filter((r) => r.click.advertiser_project_id === a.adv && r.click.status === 'charged');
      expect(charged.length).toBe(expected);
      expect(await balanceOf(pools[1], a.adv)).toBe(a.funds - expected * a.price);
    }
    const outcomes = countBy(results, (r) => `${r.click.status}:${r.click.reason}`);
    expect(outcomes['charged:null'] + (outcomes['invalid:duplicate'] ?? 0) + (outcomes['unbilled:budget_exhausted'] ?? 0) + (outcomes['unbilled:funds_short'] ?? 0)).toBe(clicks.length);
    expect(outcomes['unbilled:budget_exhausted']).toBeGreaterThan(0);
    expect(outcomes['unbilled:funds_short']).toBeGreaterThan(0);
    expect(await audits(pools[2])).toEqual([]);
  });
}, 120_000);

test('a debit never takes money held for requests in flight, also while holds and clicks race on three instances', async () => {
  await withInstances(async (pools) => {
    const exec = pgExec(pools[0]);
    await project(exec, 'pub', 'publisher');
    const productId = await advertiser(exec, 'adv', 1_000);
    const c = await campaign(exec, 'cmp', 'adv', productId, 10_000_000, 'total');
    const wallets = pools.map((sql) => createPgWalletRepo(sql, { now: () => T0 }));
    const repos = pools.map(clicksRepoOf);
    const hold = (await wallets[1].reserve('adv', () => 800, 60_000, 'instance-1'))!;
    // Balance 1,000 but 800 held: a 300 click cannot be paid, a 200 one can.
    expect((await repos[0].charge(clickOf(await impression(exec, 'big', c, 300)))).click.reason).toBe('funds_short');
    expect((await repos[2].charge(clickOf(await impression(exec, 'fits', c, 200)))).click.status).toBe('charged');
    expect([await wallets[0].balance('adv'), await wallets[0].held('adv')]).toEqual([800, 800]);
    expect(await wallets[1].settle(hold.holdId, 800, 'req-1', null)).toMatchObject({ chargedMicros: 800, uncollectedMicros: 0, balanceAfterMicros: 0 });

    // The race: 150 clicks of 1,000 and 150 holds of 1,000 on a wallet of 100,000.
    await wallets[0].topUp('adv', 100_000, null);
    await exec(`UPDATE campaigns SET status = 'active'`, []);
    const imps = [];
    for (let i = 0; i < 150; i++) imps.push(await impression(exec, `race${i}`, c, 1_000));
    const [clicks, holds] = await Promise.all([
      Promise.all(imps.map((imp, i) => repos[i % INSTANCES].charge(clickOf(imp)))),
      Promise.all(imps.map((_, i) => wallets[(i + 1) % INSTANCES].reserve('adv', (available) => (available >= 1_000 ? 1_000 : null), 60_000, `i${i % 3}`))),
    ]);
    const charged = clicks.filter((r) => r.click.status === 'charged').length;
    const held = holds.filter((h): h is PgHold => h !== null).length;
    expect(charged + held).toBe(100);
    expect(clicks.filter((r) => r.click.status !== 'charged').every((r) => r.click.reason === 'funds_short')).toBe(true);
    expect([await wallets[2].balance('adv'), await wallets[2].held('adv')]).toEqual([100_000 - charged * 1_000, held * 1_000]);
    expect(await audits(pools[0])).toEqual([]);
  });
}, 60_000);

// ---- Refunds ----

test('refunds: every leg reversed once, also when three instances refund the same click at once; never after the earning is available', async () => {
  await withInstances(async (pools) => {
    const exec = pgExec(pools[0]);
    await project(exec, 'pub', 'publisher');
    const productId = await advertiser(exec, 'adv', 100_000);
    const daily = await campaign(exec, 'cmp', 'adv', productId, 5_000, 'daily');
    const repos = pools.map(clicksRepoOf);
    const first = (await repos[0].charge(clickOf(await impression(exec, 'x', daily, 3_000)))).click;
    const second = (await repos[1].charge(clickOf(await impression(exec, 'y', daily, 1_999), T0 + 1))).click;
    expect([first.status, second.status]).toEqual(['charged', 'charged']);

    const outcomes = await Promise.all(repos.map((repo) => repo.refund(first.id, 'fraud', T0 + 10)));
    const refunded = outcomes.filter((o): o is ClickRow => typeof o === 'object');
    expect(refunded).toHaveLength(1);
    expect(refunded[0]).toMatchObject({ id: first.id, status: 'refunded', reason: 'fraud', charged_micros: 3_000 });
    expect(outcomes.filter((o) => o === 'not_charged')).toHaveLength(2);
    expect(await balanceOf(pools[2], 'adv')).toBe(100_000 - 1_999);
    expect(await one(pools[0])`SELECT spent_total_micros FROM campaigns`).toEqual({ spent_total_micros: '1999' });
    expect(await one(pools[0])`SELECT spent_micros FROM campaign_daily_spend`).toEqual({ spent_micros: '1999' });
    // The refunded money is in the day's budget again; the refunded impression stays charged once.
    expect((await repos[2].charge(clickOf(await impression(exec, 'z', daily, 3_000), T0 + 20))).click.status).toBe('charged');
    expect((await repos[2].charge(clickOf((await impression(exec, 'w', daily, 2)), T0 + 21))).click.reason).toBe('budget_exhausted');
    expect((await repos[1].charge(clickOf({ id: 'x', campaign: daily, price: 3_000 }, T0 + 30))).click.reason).toBe('duplicate');

    expect(await repos[0].refund(second.id, 'late', T0 + 1 + HOLD_MS)).toBe('earning_available');
    expect(await repos[0].refund('clk_missing', 'x', T0)).toBe('not_charged');
    const invalid = await repos[0].recordInvalid(clickOf({ id: 'y', campaign: daily, price: 1_999 }), 'expired');
    expect(await repos[0].refund(invalid.id, 'x', T0)).toBe('not_charged');
    expect(await audits(pools[1])).toEqual([]);
  });
}, 60_000);

// ---- The same rows as SQLite ----

test('a serial run writes the same clicks, ledger, earnings, platform, spend and history rows as the SQLite repository', async () => {
  await withInstances(async ([sql]) => {
    const store = openStore(':memory:');
    try {
      const backends = [pgExec(sql), sqliteExec(store.db)];
      const scripts: Impression[][] = [];
      for (const exec of backends) {
        await project(exec, 'pub', 'publisher');
        const productId = await advertiser(exec, 'adv', 8_000);
        const total = await campaign(exec, 'total', 'adv', productId, 9_000, 'total');
        const daily = await campaign(exec, 'daily', 'adv', productId, 4_000, 'daily');
        const imps = [];
        for (let i = 0; i < 12; i++) imps.push(await impression(exec, `imp${i}`, i % 2 ? daily : total, 1_000 + 333 * i));
        scripts.push(imps);
      }
      const pgRepo = clicksRepoOf(sql);
      const liteRepo = createClicksRepo(sqliteStore(store.db));
      const steps: Array<{ imp: number; at: number } | { refund: number; at: number }> = [
        { imp: 0, at: T0 }, { imp: 1, at: T0 + 1 }, { imp: 1, at: T0 + 2 }, { imp: 2, at: T0 + 3 }, { refund: 0, at: T0 + 4 }, { imp: 3, at: T0 + 5 },
        { imp: 4, at: T0 + 6 }, { imp: 5, at: T0 + DAY_MS }, { imp: 6, at: T0 + DAY_MS + 1 }, { imp: 7, at: T0 + DAY_MS + 2 }, { refund: 5, at: T0 + DAY_MS + 3 },
        { imp: 8, at: T0 + DAY_MS + 4 }, { imp: 9, at: T0 + DAY_MS + 5 }, { imp: 10, at: T0 + DAY_MS + 6 }, { imp: 11, at: T0 + DAY_MS + 7 },
      ];
      const pgIds: string[] = [];
      const liteIds: string[] = [];
      for (const step of steps) {
        if ('imp' in step) {
          const a = await pgRepo.charge(clickOf(scripts[0][step.imp], step.at));
          const b = await liteRepo.charge(clickOf(scripts[1][step.imp], step.at));
          expect({ ...a.click, id: '' }).toEqual({ ...b.click, id: '' });
          expect(a.pausedFor).toBe(b.pausedFor);
          pgIds.push(a.click.id);
          liteIds.push(b.click.id);
        } else {
          const a = await pgRepo.refund(pgIds[step.refund], 'invalidated', step.at);
          const b = await liteRepo.refund(liteIds[step.refund], 'invalidated', step.at);
          expect(typeof a === 'object' ? { ...a, id: '' } : a).toEqual(typeof b === 'object' ? { ...b, id: '' } : b);
        }
      }
      // Click ids differ (random); map each backend's ids to the step that made them.
      const name = (ids: string[]) => (id: unknown) => (id === null ? null : `click${ids.indexOf(id as string)}`);
      const tables = async (read: (text: string) => Promise<any[]>, ids: string[]) => {
        const n = name(ids);
        const ints = (row: Record<string, unknown>): Record<string, any> => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v]));
        return {
          clicks: (await read('SELECT * FROM clicks ORDER BY created_at, impression_id, status')).map((r): Record<string, any> => ({ ...ints(r), id: n(r.id) })),
          ledger: (await read('SELECT project_id, type, amount_micros, balance_after_micros, click_id, note, created_at FROM ledger_entries ORDER BY seq'))
            .map((r) => ({ ...ints(r), click_id: n(r.click_id) })),
          earnings: (await read('SELECT project_id, type, status, amount_micros, click_id, available_at, created_at FROM earnings_entries ORDER BY seq'))
            .map((r) => ({ ...ints(r), click_id: n(r.click_id) })),
          platform: (await read('SELECT click_id, type, amount_micros, created_at FROM platform_entries ORDER BY seq')).map((r) => ({ ...ints(r), click_id: n(r.click_id) })),
          campaigns: (await read('SELECT id, status, pause_reason, spent_total_micros, updated_at FROM campaigns ORDER BY id')).map(ints),
          daily: (await read('SELECT * FROM campaign_daily_spend ORDER BY campaign_id, day')).map(ints),
          history: (await read('SELECT campaign_id, event, actor, detail, created_at FROM campaign_history ORDER BY id')).map(ints),
          wallets: (await read('SELECT * FROM wallets')).map(ints),
        };
      };
      const fromPg = await tables((text) => sql.unsafe(text), pgIds);
      const fromLite = await tables(async (text) => store.db.query(text).all() as any[], liteIds);
      expect(fromPg).toEqual(fromLite);
      expect(fromPg.clicks.map((c) => c.status)).toContain('refunded');
      expect(fromPg.clicks.map((c) => c.reason)).toEqual(expect.arrayContaining(['duplicate', 'budget_exhausted', 'funds_short']));
      expect(await auditMarketMoney(sqliteStore(store.db))).toEqual([]);
      expect(await audits(sql)).toEqual([]);
    } finally {
      store.close();
    }
  });
}, 60_000);

// ---- Randomized interleavings ----

type Op =
  | { kind: 'click'; instance: number; pick: number }
  | { kind: 'refund'; instance: number; pick: number }
  | { kind: 'topUp'; instance: number; advertiser: number; amount: number }
  | { kind: 'hold'; instance: number; advertiser: number; amount: number }
  | { kind: 'release'; instance: number; pick: number }
  | { kind: 'expire'; instance: number }
  | { kind: 'advance'; ms: number };

const instance = fc.integer({ min: 0, max: INSTANCES - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('click' as const), instance, pick: fc.nat({ max: 1_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('refund' as const), instance, pick: fc.nat({ max: 1_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('topUp' as const), instance, advertiser: fc.nat({ max: 1 }), amount: fc.integer({ min: 1, max: 5_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('hold' as const), instance, advertiser: fc.nat({ max: 1 }), amount: fc.integer({ min: 1, max: 3_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), instance, pick: fc.nat({ max: 1_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), instance }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(1_000, DAY_MS / 2, HOLD_MS / 2) }) },
);
/** Steps run one after another; the operations of a step run concurrently, spread over the instances. */
const scenarioArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 10 });

test('randomized interleavings of clicks, refunds, top-ups and credit holds over three instances', async () => {
  await withInstances(async (pools) => {
    const exec = pgExec(pools[0]);
    await project(exec, 'pub', 'publisher');
    let run = 0;
    await fc.assert(fc.asyncProperty(scenarioArb, async (steps) => {
      run++;
      let nowMs = T0;
      const advertisers = [`adv${run}a`, `adv${run}b`];
      const imps: Impression[] = [];
      for (const [ai, adv] of advertisers.entries()) {
        const productId = await advertiser(exec, adv, 6_000);
        const cs = [await campaign(exec, `${adv}-t`, adv, productId, 5_000, 'total'), await campaign(exec, `${adv}-d`, adv, productId, 2_500, 'daily')];
        for (let i = 0; i < 8; i++) imps.push(await impression(exec, `${adv}-i${i}`, cs[i % 2], 400 + 350 * ai + 10 * i));
      }
      const repos: ClicksRepo[] = pools.map(clicksRepoOf);
      const wallets = pools.map((sql) => createPgWalletRepo(sql, { now: () => nowMs }));
      const credited = new Map(advertisers.map((a) => [a, 6_000]));
      const chargedClicks: ClickRow[] = [];
      const holds: PgHold[] = [];
      let refundedMicros = new Map<string, number>();

      const exec1 = async (op: Op): Promise<void> => {
        if (op.kind === 'advance') {
          nowMs += op.ms;
        } else if (op.kind === 'click') {
          const imp = imps[op.pick % imps.length];
          const { click } = await repos[op.instance].charge(clickOf(imp, nowMs));
          if (click.status === 'charged') chargedClicks.push(click);
          else expect(click.charged_micros).toBe(0);
        } else if (op.kind === 'refund') {
          if (chargedClicks.length === 0) return;
          const click = chargedClicks[op.pick % chargedClicks.length];
          const out = await repos[op.instance].refund(click.id, 'random', nowMs);
          if (typeof out === 'object') refundedMicros.set(click.advertiser_project_id, (refundedMicros.get(click.advertiser_project_id) ?? 0) + out.charged_micros);
          else expect(['not_charged', 'earning_available']).toContain(out);
        } else if (op.kind === 'topUp') {
          await wallets[op.instance].topUp(advertisers[op.advertiser], op.amount, null);
          credited.set(advertisers[op.advertiser], credited.get(advertisers[op.advertiser])! + op.amount);
        } else if (op.kind === 'hold') {
          const hold = await wallets[op.instance].reserve(advertisers[op.advertiser], (available) => (available >= op.amount ? op.amount : null), HOLD_MS, 'i');
          if (hold) holds.push(hold);
        } else if (op.kind === 'expire') {
          await wallets[op.instance].releaseExpired();
        } else if (holds.length > 0) {
          await wallets[op.instance].release(holds[op.pick % holds.length].holdId);
        }
      };

      for (const step of steps) {
        await Promise.all(step.map(exec1));
        // Holds past their expiry stay held until a sweep: the audit allows that mid-run.
        expect(await audits(pools[run % INSTANCES], T0)).toEqual([]);
      }
      for (const hold of holds) await wallets[0].release(hold.holdId);
      expect(await audits(pools[0], nowMs)).toEqual([]);
      // One charge per impression at most, and each wallet is exactly what was credited, charged and refunded.
      expect(new Set(chargedClicks.map((c) => c.impression_id)).size).toBe(chargedClicks.length);
      for (const adv of advertisers) {
        const charged = chargedClicks.filter((c) => c.advertiser_project_id === adv).reduce((sum, c) => sum + c.charged_micros, 0);
        expect(await balanceOf(pools[1], adv)).toBe(credited.get(adv)! - charged + (refundedMicros.get(adv) ?? 0));
      }
      refundedMicros = new Map();
    }), { numRuns: 25, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) });
  });
}, 180_000);

// ---- Latency and throughput ----

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);

test('charge latency, serial on one instance, and concurrent throughput on one campaign and on 30 from three (printed)', async () => {
  await withInstances(async (pools) => {
    const exec = pgExec(pools[0]);
    await project(exec, 'pub', 'publisher');
    const serial = 500;
    const concurrent = 1_500;
    const spread = 30;
    // Campaign 0 takes the serial and the one-campaign runs; campaigns 1..30, one advertiser each, the spread run.
    const campaigns: Campaign[] = [];
    for (let k = 0; k <= spread; k++) {
      const productId = await advertiser(exec, `adv${k}`, 1_000_000_000);
      campaigns.push(await campaign(exec, `cmp${k}`, `adv${k}`, productId, 1_000_000_000, 'daily'));
    }
    const ofCampaign = (i: number) => (i < serial + concurrent ? 0 : 1 + (i % spread));
    await pools[0].unsafe(`INSERT INTO impressions (id, publisher_project_id, advertiser_project_id, campaign_id, product_id, request_id, turn, relevance,
        price_micros, created_at, expires_at)
      SELECT 'imp' || g, 'pub', 'adv' || k, 'cmp' || k, 'adv' || k || '-product', 'r' || g, 1, 0.5, 1000, ${T0}, ${T0 + DAY_MS}
      FROM generate_series(0, ${serial + 2 * concurrent - 1}) g,
        LATERAL (SELECT CASE WHEN g < ${serial + concurrent} THEN 0 ELSE 1 + g % ${spread} END AS k) x`);
    const imp = (i: number): Impression => ({ id: `imp${i}`, campaign: campaigns[ofCampaign(i)], price: 1_000 });
    const repos = pools.map(clicksRepoOf);
    const ms: number[] = [];
    for (let i = 0; i < serial; i++) {
      const t0 = performance.now();
      const { click } = await repos[0].charge(clickOf(imp(i)));
      ms.push(performance.now() - t0);
      expect(click.status).toBe('charged');
    }
    const burst = async (first: number) => {
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: concurrent }, (_, i) => repos[i % INSTANCES].charge(clickOf(imp(first + i)))));
      const seconds = (performance.now() - t0) / 1000;
      expect(results.every((r) => r.click.status === 'charged')).toBe(true);
      return (concurrent / seconds).toFixed(0);
    };
    const one = await burst(serial);
    const many = await burst(serial + concurrent);
    process.stderr.write(`clicks-pg: serial charge (${serial}) p50 ${q(ms, 0.5)} ms, p99 ${q(ms, 0.99)} ms; ${concurrent} concurrent charges from ` +
      `${INSTANCES} pools of 4: ${one} charges/s on one campaign, ${many} charges/s over ${spread} campaigns and wallets\n`);
    expect(await balanceOf(pools[0], 'adv0')).toBe(1_000_000_000 - (serial + concurrent) * 1_000);
    expect(await balanceOf(pools[0], 'adv1')).toBe(1_000_000_000 - (concurrent / spread) * 1_000);
    expect(await audits(pools[0])).toEqual([]);
  });
}, 120_000);
