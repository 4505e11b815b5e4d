/**
 * Products and campaigns straight on the store the tests run on (SQLite by default, PostgreSQL with
 * VEXRAIL_TEST_STORE=postgres): the same repositories and services, the same results, and catalog changes
 * that commit with the campaign updates they imply, or not at all.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createCampaignsRepo } from '../../src/campaigns/campaigns.repo';
import { createCampaignsService } from '../../src/campaigns/campaigns.service';
import { ApiError } from '../../src/http/errors';
import { createProductsRepo, isSkuConflict } from '../../src/products/products.repo';
import { createProductsService } from '../../src/products/products.service';
import type { ProjectRow } from '../../src/projects/projects.repo';
import type { SqlStore } from '../../src/store/sql-store';
import { createTestStore } from '../helpers/test-app';

let h: { store: SqlStore; close(): Promise<void> };
let store: SqlStore;
beforeAll(async () => {
  h = await createTestStore();
  store = h.store;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const T0 = Date.parse('2032-03-01T10:00:00Z');
let clock = T0;
const now = () => clock;
let projects = 0;

/** A project row written directly: an advertiser with a verified domain and `funds` micro-USD in its wallet. */
async function advertiser(funds = 100_000_000, opts: { kind?: 'advertiser' | 'publisher'; verified?: boolean } = {}): Promise<ProjectRow> {
  const id = `proj_store_${++projects}`;
  await store.stmt(
    `INSERT INTO projects (id, name, kind, domain, domain_status, verification_token, created_at, updated_at)
     VALUES ($id, $name, $kind, $domain, $status, 'token', $now, $now)`,
  ).run({ id, name: `Advertiser ${projects}`, kind: opts.kind ?? 'advertiser', domain: `shop${projects}.example.com`, status: opts.verified === false ? 'unverified' : 'verified', now: T0 });
  await store.stmt('INSERT INTO wallets (project_id, balance_micros) VALUES (?, ?)').run([id, funds]);
  return (await store.stmt<ProjectRow>('SELECT * FROM projects WHERE id = ?').get([id]))!;
}

function services() {
  const products = createProductsService({
    repo: createProductsRepo(store),
    findProject: (id) => store.stmt<ProjectRow>('SELECT * FROM projects WHERE id = ?').get([id]),
    allowInternalUrls: false,
    now,
  });
  const synced: string[] = [];
  const changed: string[] = [];
  const repo = createCampaignsRepo(store);
  const campaigns = createCampaignsService({
    repo,
    productsOwnedBy: products.idsOwnedBy,
    walletAvailable: async (id) => (await store.stmt<{ b: number }>('SELECT balance_micros AS b FROM wallets WHERE project_id = ?').get([id]))?.b ?? 0,
    minCpcMicros: 10_000,
    syncIndex: (id) => void synced.push(id),
    onChange: (id) => void changed.push(id),
    now,
  });
  return { products, campaigns, repo, synced, changed };
}

const product = (p: ProjectRow, name: string, extra: Record<string, unknown> = {}) => ({
  name, description: `${name}, described`, url: `https://${p.domain}/p/${name.toLowerCase().replace(/\W+/g, '-')}`, ...extra,
});

async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

const count = async (sql: string, params: unknown[] = []) => (await store.stmt<{ n: number }>(sql).get(params))!.n;

describe(`products on ${process.env.VEXRAIL_TEST_STORE === 'postgres' ? 'PostgreSQL' : 'SQLite'}`, () => {
  test('create, read, edit, list in pages, soft delete; a sku is unique among live products', async () => {
    const { products } = services();
    const p = await advertiser();
    const a = await products.create(p, product(p, 'Trail Shoe', { sku: 'TS-1', category: 'Running Shoes', keywords: ['Trail', 'trail', 'Run'] }));
    expect(a).toMatchObject({ object: 'product', project_id: p.id, category: 'running_shoes', sku: 'TS-1', keywords: ['trail', 'run'], updated_at: null });
    expect((await apiError(products.create(p, product(p, 'Copy', { sku: 'TS-1' })))).code).toBe('sku_taken');

    const b = await products.create(p, product(p, 'Road Shoe'));
    clock = T0 + 1000;
    const edited = await products.update(p, b.id, { sku: 'TS-2', category: null, name: 'Road Shoe II' });
    expect(edited).toMatchObject({ name: 'Road Shoe II', sku: 'TS-2', category: null, updated_at: new Date(T0 + 1000).toISOString() });
    expect((await apiError(products.update(p, b.id, { sku: 'TS-1' }))).code).toBe('sku_taken');

    const page1 = await products.list(p.id, 1, null);
    expect(page1.data.map((x) => x.id)).toEqual([a.id]);
    expect(page1.has_more).toBe(true);
    const page2 = await products.list(p.id, 1, page1.next_cursor);
    expect(page2.data.map((x) => x.id)).toEqual([b.id]);
    expect(page2.has_more).toBe(false);

    expect(await products.idsOwnedBy(p.id, [a.id, b.id, 'prod_missing'])).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(await products.idsOwnedBy(p.id, [a.id, b.id, 'prod_missing'])).toHaveLength(2);
    expect(await products.redirectUrl(a.id)).toBe(`https://${p.domain}/p/trail-shoe`);

    expect(await products.remove(p, a.id)).toEqual({ id: a.id, object: 'product', deleted: true });
    expect((await apiError(products.remove(p, a.id))).code).toBe('product_not_found');
    expect((await products.get(a.id))?.deleted_at).toBe(T0 + 1000);
    expect(await products.idsOwnedBy(p.id, [a.id, b.id])).toEqual([b.id]);
    // Its sku is free again.
    expect((await products.create(p, product(p, 'Trail Shoe 2', { sku: 'TS-1' }))).sku).toBe('TS-1');
    clock = T0;
  });

  test('the unique index itself refuses a second live product with a sku, and the error is recognized on either store', async () => {
    const repo = createProductsRepo(store);
    const p = await advertiser();
    const row = { projectId: p.id, name: 'X', description: 'x', url: `https://${p.domain}/x`, keywords: [], category: null, sku: 'DUP', now: T0 };
    await repo.insert({ id: 'prod_dup_1', ...row });
    let caught: unknown = null;
    try {
      await repo.insert({ id: 'prod_dup_2', ...row });
    } catch (err) {
      caught = err;
    }
    expect(caught).not.toBeNull();
    expect(isSkuConflict(caught)).toBe(true);
    expect(isSkuConflict(new Error('something else'))).toBe(false);
  });

  test('import: good lines upsert by sku (created, updated, unchanged), bad lines are reported with their numbers', async () => {
    const { products } = services();
    const p = await advertiser();
    const lines = (names: string[]) => names.map((n, i) => JSON.stringify(product(p, n, { sku: `SKU-${i}` }))).join('\n');
    const first = await products.importLines(p, `${lines(['Alpha', 'Beta'])}\nnot json\n${JSON.stringify({ name: 'No url' })}`);
    expect(first).toMatchObject({ imported: 2, created: 2, updated: 0, unchanged: 0, failed: 2 });
    expect(first.errors.map((e) => e.line)).toEqual([3, 4]);
    const again = await products.importLines(p, lines(['Alpha', 'Beta renamed']), 10);
    expect(again).toMatchObject({ imported: 2, created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect(again.product_ids).toEqual(first.product_ids);
    expect((await products.get(first.product_ids[1]))?.name).toBe('Beta renamed');
    const repeated = await products.importLines(p, [JSON.stringify(product(p, 'Gamma', { sku: 'G' })), JSON.stringify(product(p, 'Gamma 2', { sku: 'G' }))].join('\n'), 5);
    expect(repeated).toMatchObject({ imported: 1, failed: 1 });
    expect(repeated.errors[0].line).toBe(6);
    expect(await count('SELECT COUNT(*) AS n FROM products WHERE project_id = ?', [p.id])).toBe(3);
  });

  test('a large re-import updates in bulk: changed products get the new text and edit time, unchanged ones keep theirs', async () => {
    const { products } = services();
    const p = await advertiser();
    const body = (tag: (i: number) => string) =>
      Array.from({ length: 301 }, (_, i) => JSON.stringify(product(p, `Item ${i}`, { sku: `S${i}`, description: `Item ${i} ${tag(i)}`, category: i % 2 ? 'odd' : null }))).join('\n');
    const first = await products.importLines(p, body(() => 'first'));
    expect(first).toMatchObject({ created: 301, failed: 0 });
    clock = T0 + 5000;
    const second = await products.importLines(p, body((i) => (i % 3 === 0 ? 'second' : 'first')));
    expect(second).toMatchObject({ created: 0, updated: 101, unchanged: 200, failed: 0 });
    expect(second.product_ids).toEqual(first.product_ids);
    const rows = new Map((await store.stmt<{ sku: string; description: string; category: string | null; updated_at: number | null; seq: number }>(
      'SELECT sku, description, category, updated_at, seq FROM products WHERE project_id = ? ORDER BY seq').all([p.id])).map((r) => [r.sku, r]));
    expect(rows.size).toBe(301);
    expect(rows.get('S3')).toMatchObject({ description: 'Item 3 second', category: 'odd', updated_at: T0 + 5000 });
    expect(rows.get('S0')).toMatchObject({ description: 'Item 0 second', category: null, updated_at: T0 + 5000 });
    expect(rows.get('S1')).toMatchObject({ description: 'Item 1 first', updated_at: null });
    // Created in file order.
    expect([...rows.keys()]).toEqual(Array.from({ length: 301 }, (_, i) => `S${i}`));
    clock = T0;
  });

  test('a publisher project owns no products', async () => {
    const { products } = services();
    const pub = await advertiser(0, { kind: 'publisher' });
    expect((await apiError(products.create(pub, product(pub, 'Nope')))).code).toBe('not_an_advertiser');
    expect((await apiError(products.importLines(pub, JSON.stringify(product(pub, 'Nope'))))).code).toBe('not_an_advertiser');
  });
});

describe('campaigns', () => {
  test('create with listed products or a targeting rule; the units follow catalog changes in the same transaction', async () => {
    const { products, campaigns, synced, changed } = services();
    const p = await advertiser();
    const shoe = await products.create(p, product(p, 'Shoe', { category: 'shoes' }));
    const sock = await products.create(p, product(p, 'Sock', { category: 'socks' }));
    const listed = await campaigns.create(p, { name: 'Listed', base_cpc: '0.40', budget: '10.00', product_ids: [sock.id, shoe.id] });
    expect(listed).toMatchObject({ status: 'paused_user', targeting: null, product_ids: [sock.id, shoe.id], budget_micros: 10_000_000 });
    const byCategory = await campaigns.create(p, { name: 'Shoes', base_cpc: '0.40', budget: '10.00', targeting: { categories: ['Shoes'] } });
    expect(byCategory).toMatchObject({ targeting: { categories: ['shoes'] }, product_ids: [shoe.id] });
    const everything = await campaigns.create(p, { name: 'All', base_cpc: '0.40', budget: '10.00', targeting: { all_products: true } });
    expect(everything.product_ids).toEqual([shoe.id, sock.id]);
    expect(synced).toEqual([listed.id, byCategory.id, everything.id]);
    expect(changed).toEqual([p.id, p.id, p.id]);

    // A new product in the category, and a sock that becomes a shoe: the rule-based campaigns take them.
    synced.length = 0;
    const boot = await campaigns.applyCatalogChange(p.id, (tx) => products.create(p, product(p, 'Boot', { category: 'shoes' }), tx), (v) => [v.id]);
    await campaigns.applyCatalogChange(p.id, (tx) => products.update(p, sock.id, { category: 'shoes' }, tx), (v) => [v.id]);
    expect((await campaigns.get(p.id, byCategory.id)).product_ids.sort()).toEqual([shoe.id, boot.id, sock.id].sort());
    expect((await campaigns.get(p.id, everything.id)).product_ids.sort()).toEqual([shoe.id, boot.id, sock.id].sort());
    expect((await campaigns.get(p.id, listed.id)).product_ids).toEqual([sock.id, shoe.id]);
    expect(new Set(synced)).toEqual(new Set([byCategory.id, everything.id, listed.id]));

    // Out of the category again, then deleted: it leaves the rule, then every campaign.
    await campaigns.applyCatalogChange(p.id, (tx) => products.update(p, sock.id, { category: 'socks' }, tx), (v) => [v.id]);
    expect((await campaigns.get(p.id, byCategory.id)).product_ids.sort()).toEqual([shoe.id, boot.id].sort());
    await campaigns.applyCatalogChange(p.id, (tx) => products.remove(p, shoe.id, tx), (v) => [v.id]);
    expect((await campaigns.get(p.id, listed.id)).product_ids).toEqual([sock.id]);
    expect((await campaigns.get(p.id, byCategory.id)).product_ids).toEqual([boot.id]);
    expect((await campaigns.get(p.id, everything.id)).product_ids.sort()).toEqual([boot.id, sock.id].sort());

    // An import through the catalog change: new products join the all-products campaign.
    const report = await campaigns.applyCatalogChange(p.id, (tx) => products.importLines(p, JSON.stringify(product(p, 'Lace', { category: 'laces' })), 1, tx), (r) => r.product_ids);
    expect((await campaigns.get(p.id, everything.id)).product_ids).toContain(report.product_ids[0]);
  });

  test('a catalog change that fails rolls back the product write and the campaign updates together', async () => {
    const { products, campaigns } = services();
    const p = await advertiser();
    const all = await campaigns.create(p, { name: 'All', base_cpc: '0.40', budget: '10.00', targeting: { all_products: true } });
    const before = await count('SELECT COUNT(*) AS n FROM products WHERE project_id = ?', [p.id]);
    await expect(campaigns.applyCatalogChange(p.id, async (tx) => {
      const made = await products.importLines(p, [JSON.stringify(product(p, 'One')), JSON.stringify(product(p, 'Two'))].join('\n'), 1, tx);
      expect(made.created).toBe(2);
      throw new Error('the request failed after the write');
    }, () => [])).rejects.toThrow('the request failed after the write');
    expect(await count('SELECT COUNT(*) AS n FROM products WHERE project_id = ?', [p.id])).toBe(before);
    expect((await campaigns.get(p.id, all.id)).product_ids).toEqual([]);
    // A sku clash inside the transaction is a 409 and leaves nothing behind either.
    await products.create(p, product(p, 'Kept', { sku: 'K' }));
    const other = await products.create(p, product(p, 'Other'));
    expect((await apiError(campaigns.applyCatalogChange(p.id, (tx) => products.update(p, other.id, { sku: 'K', name: 'Renamed' }, tx), (v) => [v.id]))).code).toBe('sku_taken');
    expect((await products.get(other.id))?.name).toBe('Other');
  });

  test('edits, transitions and their history; an active campaign may not lose its last product', async () => {
    const { products, campaigns } = services();
    const p = await advertiser();
    const shoe = await products.create(p, product(p, 'Shoe', { category: 'shoes' }));
    const c = await campaigns.create(p, { name: 'Spring', base_cpc: '0.40', budget: '10.00', product_ids: [shoe.id] });
    clock = T0 + 1;
    expect((await campaigns.activate(p, c.id)).status).toBe('active');
    expect((await apiError(campaigns.update(p, c.id, { product_ids: [] }))).code).toBe('no_products');
    expect((await apiError(campaigns.update(p, c.id, { targeting: { categories: ['hats'] } }))).code).toBe('no_products');
    // The refused rule was rolled back with its units and history.
    expect(await campaigns.get(p.id, c.id)).toMatchObject({ targeting: null, product_ids: [shoe.id] });
    clock = T0 + 2;
    const edited = await campaigns.update(p, c.id, { name: 'Spring sale', budget: '20.00', end_at: '2032-04-01T00:00:00Z' });
    expect(edited).toMatchObject({ name: 'Spring sale', budget_micros: 20_000_000, end_at: '2032-04-01T00:00:00.000Z', updated_at: new Date(T0 + 2).toISOString() });
    expect((await campaigns.pause(p, c.id)).status).toBe('paused_user');
    expect((await campaigns.archive(p, c.id)).status).toBe('archived');
    expect((await apiError(campaigns.activate(p, c.id))).code).toBe('campaign_archived');
    const events = (await campaigns.history(p.id, c.id)).data;
    expect(events.map((e) => [e.event, e.actor])).toEqual([
      ['archived', 'operator'], ['paused', 'operator'], ['updated', 'operator'], ['activated', 'operator'], ['created', 'operator'],
    ]);
    expect(events[2].detail).toEqual({ name: 'Spring sale', budget_micros: 20_000_000, end_at: Date.parse('2032-04-01T00:00:00Z') });
    expect(events[1].detail).toEqual({ from: 'active' });
    clock = T0;

    const poor = await advertiser(0);
    const item = await products.create(poor, product(poor, 'Item'));
    const q = await campaigns.create(poor, { name: 'Q', base_cpc: '0.40', budget: '10.00', product_ids: [item.id] });
    const refused = await apiError(campaigns.activate(poor, q.id));
    expect(refused.code).toBe('activation_refused');
    expect(refused.message).toContain('no_funds');
    expect((await campaigns.list(poor.id, 10)).data.map((x) => x.id)).toEqual([q.id]);
  });

  test('judging: the system pauses, changes the reason and resumes, each with its history entry; nothing is written when nothing changes', async () => {
    const { products, campaigns, repo } = services();
    const p = await advertiser(10_000_000);
    const item = await products.create(p, product(p, 'Item'));
    const c = await campaigns.create(p, { name: 'Daily', base_cpc: '0.40', budget: '1.00', budget_type: 'daily', product_ids: [item.id] });
    await campaigns.activate(p, c.id);
    const serving = async () => (await campaigns.evaluate(p.id)).map((s) => s.id);
    expect(await serving()).toEqual([c.id]);
    const historyRows = async () => (await repo.history(c.id, 50)).length;
    const quiet = await historyRows();
    expect(await serving()).toEqual([c.id]);
    expect(await historyRows()).toBe(quiet);

    await store.stmt('INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) VALUES (?, ?, ?)').run([c.id, '2032-03-01', 700_000]);
    expect(await serving()).toEqual([]);
    expect(await repo.getAny(c.id)).toMatchObject({ status: 'paused_system', pause_reason: 'budget_exhausted' });
    await store.stmt('UPDATE wallets SET balance_micros = 0 WHERE project_id = ?').run([p.id]);
    clock = Date.parse('2032-03-02T00:00:00Z');
    expect(await serving()).toEqual([]);
    expect(await repo.getAny(c.id)).toMatchObject({ status: 'paused_system', pause_reason: 'funds_short' });
    await store.stmt('UPDATE wallets SET balance_micros = 10000000 WHERE project_id = ?').run([p.id]);
    expect(await serving()).toEqual([c.id]);
    const events = (await campaigns.history(p.id, c.id)).data.slice(0, 3).map((e) => [e.event, e.actor, e.detail]);
    expect(events).toEqual([
      ['resumed', 'system', { previous_reason: 'funds_short' }],
      ['pause_reason_changed', 'system', { reason: 'funds_short' }],
      ['paused', 'system', { reason: 'budget_exhausted' }],
    ]);
    clock = T0;
  });

  test('money held for answers in flight is not available to pay clicks', async () => {
    const { products, campaigns, repo } = services();
    const p = await advertiser(1_000_000);
    const item = await products.create(p, product(p, 'Item'));
    const c = await campaigns.create(p, { name: 'Held', base_cpc: '0.40', budget: '10.00', product_ids: [item.id] });
    await campaigns.activate(p, c.id);
    await store.stmt('UPDATE wallets SET held_micros = 600001 WHERE project_id = ?').run([p.id]);
    expect(await campaigns.evaluate(p.id)).toEqual([]);
    expect(await repo.getAny(c.id)).toMatchObject({ status: 'paused_system', pause_reason: 'funds_short' });
    await store.stmt('UPDATE wallets SET held_micros = 600000 WHERE project_id = ?').run([p.id]);
    expect((await campaigns.evaluate(p.id)).map((x) => [x.id, x.wallet_available_micros])).toEqual([[c.id, 400_000]]);
  });

  test('a judgement made on a stale read never undoes what changed since (an operator pause, another instance)', async () => {
    const { products, campaigns, repo } = services();
    const p = await advertiser(10_000_000);
    const item = await products.create(p, product(p, 'Item'));
    const c = await campaigns.create(p, { name: 'Raced', base_cpc: '0.40', budget: '10.00', product_ids: [item.id] });
    await campaigns.activate(p, c.id);
    // Read while it was system-paused for funds; the operator has paused it since.
    const [read] = await repo.states(clock, p.id);
    const stale = { ...read, status: 'paused_system' as const, pause_reason: 'funds_short' as const };
    await campaigns.pause(p, c.id);
    const historyBefore = (await repo.history(c.id, 50)).length;
    const judging = createCampaignsService({
      repo: { ...repo, states: () => [stale], statesPage: () => [stale] },
      productsOwnedBy: () => [], walletAvailable: () => 0, minCpcMicros: 10_000, syncIndex: () => {}, onChange: () => {}, now,
    });
    expect(await judging.evaluate(p.id)).toEqual([]);
    expect((await judging.evaluatePage('', 10)).serving).toEqual([]);
    expect(await repo.getAny(c.id)).toMatchObject({ status: 'paused_user', pause_reason: null });
    expect((await repo.history(c.id, 50)).length).toBe(historyBefore);
    expect(await repo.judgedStatus(c.id, { status: 'paused_user', reason: null }, 'archived', null, clock)).toBe(true);
    expect(await repo.judgedStatus(c.id, { status: 'paused_user', reason: null }, 'active', null, clock)).toBe(false);
  });

  test('sweep pages walk every serving campaign once, in id order, and say when they are done', async () => {
    const { products, campaigns } = services();
    const p = await advertiser();
    const item = await products.create(p, product(p, 'Item'));
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const c = await campaigns.create(p, { name: `C${i}`, base_cpc: '0.40', budget: '10.00', product_ids: [item.id] });
      await campaigns.activate(p, c.id);
      made.push(c.id);
    }
    const seen: string[] = [];
    let after = '';
    let pages = 0;
    for (;;) {
      const page = await campaigns.evaluatePage(after, 3);
      pages++;
      seen.push(...page.judged);
      for (const s of page.serving) expect(page.judged).toContain(s.id);
      if (page.done || page.lastId === null) break;
      after = page.lastId;
    }
    const mine = seen.filter((id) => made.includes(id));
    expect(mine).toEqual([...made].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    expect(pages).toBeGreaterThanOrEqual(3);
  });
});
