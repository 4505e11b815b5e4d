import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { CATALOG, catalogDomains, publisher } from '../helpers/market';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
let pub: { headers: Record<string, string> };
// Hooks get a minute: on the PostgreSQL pass they may start the throwaway server or drop many databases.
beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: 'Many teams use a shared board.' });
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  pub = (await publisher(t)) as any;
}, 60_000);
afterAll(async () => {
  await t.close();
  await upstream.close();
}, 60_000);

const PM_QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const COFFEE_QUESTION = 'Which coffee grinder should I buy for espresso?';
const [BOARDS, SHOES, GRINDER] = CATALOG;

let seq = 0;
/** A verified, funded advertiser selling on the catalog's brand sites; no products yet. */
async function advertiserProject(): Promise<string> {
  const created = await t.admin('POST', '/projects', { name: `Catalog ${++seq}`, domain: `catalog-${seq}.example.com`, kind: 'advertiser' });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await t.admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' });
  await t.admin('POST', `/projects/${id}/credits`, { amount: '100.00' });
  expect((await t.admin('PATCH', `/projects/${id}`, { link_domains: catalogDomains(CATALOG) })).status).toBe(200);
  return id;
}

async function addProduct(adv: string, body: Record<string, unknown>) {
  const res = await t.admin('POST', `/projects/${adv}/products`, body);
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function activeCampaign(adv: string, extra: Record<string, unknown>) {
  const res = await t.admin('POST', `/projects/${adv}/campaigns`, { name: 'Catalog push', context: 'tools for teams', base_cpc: '0.40', budget: '50.00', ...extra });
  expect(res.status).toBe(201);
  const on = await t.admin('POST', `/projects/${adv}/campaigns/${res.body.id}/activate`);
  expect(on.status).toBe(200);
  return res.body.id as string;
}

/** Product ids promoted for `query` by this advertiser's campaigns. */
async function served(campaignId: string, query: string): Promise<string[]> {
  const res = await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query, limit: 20 } });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).data.filter((d: any) => d.campaign.id === campaignId).map((d: any) => d.product.id);
}

async function campaignOf(adv: string, id: string) {
  const res = await t.admin('GET', `/projects/${adv}/campaigns/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function importLines(adv: string, lines: unknown[]) {
  const res = await t.call('POST', `/admin/v1/projects/${adv}/products/import`, {
    raw: lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n'),
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function listed(adv: string) {
  const res = await t.admin('GET', `/projects/${adv}/products?limit=1000`);
  expect(res.status).toBe(200);
  return res.body.data as any[];
}

describe('PATCH /admin/v1/projects/{id}/products/{product_id}', () => {
  test('changes only the sent fields, sets updated_at, and the index serves the new text at once', async () => {
    const adv = await advertiserProject();
    const id = await addProduct(adv, { ...GRINDER, sku: 'GR-1' });
    const camp = await activeCampaign(adv, { product_ids: [id], context: 'home baristas' }); // a context that shares no word with PM_QUESTION
    expect(await served(camp, PM_QUESTION)).toEqual([]);
    const res = await t.admin('PATCH', `/projects/${adv}/products/${id}`, { ...BOARDS, category: 'Team Software', sku: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, name: BOARDS.name, category: 'team_software', sku: null, url: BOARDS.url });
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(0);
    expect(await served(camp, PM_QUESTION)).toEqual([id]);
    expect(await served(camp, COFFEE_QUESTION)).toEqual([]);
    const again = await t.admin('PATCH', `/projects/${adv}/products/${id}`, { description: 'Boards for teams.' });
    expect(again.body).toMatchObject({ name: BOARDS.name, description: 'Boards for teams.' });
  });

  test('400 for a bad field, 404 for another project\'s or a deleted product, 409 for a taken sku', async () => {
    const adv = await advertiserProject();
    const other = await advertiserProject();
    const a = await addProduct(adv, { ...BOARDS, sku: 'A' });
    const b = await addProduct(adv, { ...SHOES, sku: 'B' });
    const bad = await t.admin('PATCH', `/projects/${adv}/products/${a}`, { url: 'http://10.0.0.1/x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'url_internal_address', param: 'url' });
    expect((await t.admin('PATCH', `/projects/${adv}/products/${a}`, { name: '' })).status).toBe(400);
    expect((await t.admin('PATCH', `/projects/${other}/products/${a}`, { name: 'x' })).body.error.code).toBe('product_not_found');
    const taken = await t.admin('PATCH', `/projects/${adv}/products/${b}`, { sku: 'A' });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('sku_taken');
    const dup = await t.admin('POST', `/projects/${adv}/products`, { ...GRINDER, sku: 'A' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('sku_taken');
    // Another advertiser may use the same sku.
    expect((await t.admin('POST', `/projects/${other}/products`, { ...GRINDER, sku: 'A' })).status).toBe(201);
    expect((await t.admin('DELETE', `/projects/${adv}/products/${a}`)).status).toBe(200);
    const gone = await t.admin('PATCH', `/projects/${adv}/products/${a}`, { name: 'x' });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('product_not_found');
  });
});

describe('DELETE /admin/v1/projects/{id}/products/{product_id}', () => {
  test('the product leaves every campaign and stops serving at once; the row stays for history; its sku is free again', async () => {
    const adv = await advertiserProject();
    const boards = await addProduct(adv, { ...BOARDS, sku: 'KB' });
    const grinder = await addProduct(adv, GRINDER);
    const listCamp = await activeCampaign(adv, { product_ids: [boards, grinder] });
    const allCamp = await activeCampaign(adv, { targeting: { all_products: true } });
    expect(await served(listCamp, PM_QUESTION)).toEqual([boards]);
    expect(await served(allCamp, PM_QUESTION)).toEqual([boards]);

    const res = await t.admin('DELETE', `/projects/${adv}/products/${boards}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: boards, object: 'product', deleted: true });
    expect(await served(listCamp, PM_QUESTION)).toEqual([]);
    expect(await served(allCamp, PM_QUESTION)).toEqual([]);
    expect((await campaignOf(adv, listCamp)).product_ids).toEqual([grinder]);
    expect((await campaignOf(adv, allCamp)).product_ids).toEqual([grinder]);
    expect((await listed(adv)).map((p) => p.id)).toEqual([grinder]);
    // History keeps it: the row is still there (impressions and clicks point at it).
    expect((await t.rt.market.products.get(boards))?.deleted_at).toBeGreaterThan(0);
    // A deleted product cannot be put back into a campaign, nor deleted twice.
    const readd = await t.admin('PATCH', `/projects/${adv}/campaigns/${listCamp}`, { product_ids: [boards, grinder] });
    expect(readd.status).toBe(400);
    expect((await t.admin('DELETE', `/projects/${adv}/products/${boards}`)).status).toBe(404);
    // The sku is free for a new product.
    expect((await t.admin('POST', `/projects/${adv}/products`, { ...BOARDS, sku: 'KB' })).status).toBe(201);
  });
});

describe('JSON Lines import upserts by sku', () => {
  test('a re-import updates instead of duplicating; created, updated, unchanged and failed are counted', async () => {
    const adv = await advertiserProject();
    const first = await importLines(adv, [{ ...BOARDS, sku: 'KB' }, { ...SHOES, sku: 'TR' }, GRINDER, '{not json']);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: 3, updated: 0, unchanged: 0, failed: 1, imported: 3 });
    const [kb, tr] = first.body.product_ids;
    const second = await importLines(adv, [{ ...BOARDS, sku: 'KB' }, { ...SHOES, sku: 'TR', name: 'Trailfox Grip Runner 2' }, { ...GRINDER, sku: 'GR' }, { sku: 'KB' }]);
    expect(second.body).toMatchObject({ created: 1, updated: 1, unchanged: 1, failed: 1, imported: 3 });
    expect(second.body.errors).toEqual([{ line: 4, message: 'name is required' }]);
    expect(second.body.product_ids.slice(0, 2)).toEqual([kb, tr]);
    const products = await listed(adv);
    expect(products).toHaveLength(4);
    expect(products.find((p) => p.id === tr)).toMatchObject({ sku: 'TR', name: 'Trailfox Grip Runner 2' });
    expect(products.find((p) => p.id === kb).updated_at).toBeNull();
    // The same sku twice in one file is a mistake in the file: the first line is applied, each later one fails
    // naming it (the report must not claim an update of a product that existed before).
    const twice = await importLines(adv, [{ ...GRINDER, sku: 'NEW' }, { ...GRINDER, sku: 'NEW', description: 'Changed.' }, { ...SHOES, sku: 'NEW' }]);
    expect(twice.body).toMatchObject({ created: 1, updated: 0, unchanged: 0, failed: 2, imported: 1 });
    expect(twice.body.errors).toEqual([
      { line: 2, message: 'sku "NEW" repeats line 1 of this import (the first line with a sku is kept; a later one is not applied)' },
      { line: 3, message: 'sku "NEW" repeats line 1 of this import (the first line with a sku is kept; a later one is not applied)' },
    ]);
    const all = await listed(adv);
    expect(all).toHaveLength(5);
    expect(all.find((p) => p.sku === 'NEW')).toMatchObject({ name: GRINDER.name, description: GRINDER.description });
    // With first_line the numbers are the file's (a client sending a large file in parts).
    const part = await t.call('POST', `/admin/v1/projects/${adv}/products/import?first_line=101`, {
      raw: [{ ...BOARDS, sku: 'P1' }, { ...BOARDS, sku: 'P1' }].map((l) => JSON.stringify(l)).join('\n'),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
    });
    expect(((await part.json()) as any).errors[0].line).toBe(102);
  });
});

describe('campaign targeting: all products or categories', () => {
  test('all_products: products added later, by create or import, join at once', async () => {
    const adv = await advertiserProject();
    const grinder = await addProduct(adv, GRINDER);
    const camp = await activeCampaign(adv, { targeting: { all_products: true } });
    const view = await campaignOf(adv, camp);
    expect(view.targeting).toEqual({ all_products: true });
    expect(view.product_ids).toEqual([grinder]);
    expect(await served(camp, PM_QUESTION)).toEqual([]);
    const imported = await importLines(adv, [BOARDS]);
    const boards = imported.body.product_ids[0];
    expect(await served(camp, PM_QUESTION)).toEqual([boards]);
    expect((await campaignOf(adv, camp)).product_ids).toEqual([grinder, boards]);
  });

  test('categories: matching products join; a re-categorized product moves in or out', async () => {
    const adv = await advertiserProject();
    const boards = await addProduct(adv, { ...BOARDS, category: 'coffee_equipment' });
    const grinder = await addProduct(adv, GRINDER);
    const created = await t.admin('POST', `/projects/${adv}/campaigns`, { name: 'By category', base_cpc: '0.40', budget: '50.00', targeting: { categories: ['Productivity Software'] } });
    expect(created.body).toMatchObject({ targeting: { categories: ['productivity_software'] }, product_ids: [] });
    const camp = created.body.id;
    // Nothing matches yet: activation is refused with no_products.
    expect((await t.admin('POST', `/projects/${adv}/campaigns/${camp}/activate`)).body.error.message).toContain('no_products');
    expect((await t.admin('PATCH', `/projects/${adv}/products/${boards}`, { category: 'productivity_software' })).status).toBe(200);
    expect((await t.admin('POST', `/projects/${adv}/campaigns/${camp}/activate`)).status).toBe(200);
    expect(await served(camp, PM_QUESTION)).toEqual([boards]);
    expect((await campaignOf(adv, camp)).product_ids).toEqual([boards]);
    expect((await t.admin('PATCH', `/projects/${adv}/products/${boards}`, { category: null })).status).toBe(200);
    expect(await served(camp, PM_QUESTION)).toEqual([]);
    const later = await addProduct(adv, { ...BOARDS, name: 'Kanbanix Boards Pro', category: 'productivity_software' });
    expect((await campaignOf(adv, camp)).product_ids).toEqual([later]);
    expect(grinder).toBeTruthy();
  });

  test('an active campaign switched to categories that match no product is refused (409 no_products) and keeps its products; a paused one may', async () => {
    const adv = await advertiserProject();
    const grinder = await addProduct(adv, { ...GRINDER, category: 'coffee_equipment' });
    const camp = await activeCampaign(adv, { product_ids: [grinder] });
    const refused = await t.admin('PATCH', `/projects/${adv}/campaigns/${camp}`, { targeting: { categories: ['Garden Tools', 'kites'] }, name: 'Renamed' });
    expect([refused.status, refused.body.error.code]).toEqual([409, 'no_products']);
    expect(refused.body.error.message).toContain('garden_tools, kites');
    // Nothing of the refused edit was applied, and the campaign still serves its product.
    expect(await campaignOf(adv, camp)).toMatchObject({ status: 'active', name: 'Catalog push', targeting: null, product_ids: [grinder] });
    expect(await served(camp, COFFEE_QUESTION)).toEqual([grinder]);
    // A category that matches is accepted.
    const ok = await t.admin('PATCH', `/projects/${adv}/campaigns/${camp}`, { targeting: { categories: ['Coffee Equipment'] } });
    expect([ok.status, ok.body.product_ids]).toEqual([200, [grinder]]);
    // Paused, it may wait for products of a category to come.
    await t.admin('POST', `/projects/${adv}/campaigns/${camp}/pause`);
    const paused = await t.admin('PATCH', `/projects/${adv}/campaigns/${camp}`, { targeting: { categories: ['kites'] } });
    expect([paused.status, paused.body.product_ids]).toEqual([200, []]);
  });

  test('switching between a list and a rule, and refusing bad targeting', async () => {
    const adv = await advertiserProject();
    const boards = await addProduct(adv, BOARDS);
    const grinder = await addProduct(adv, GRINDER);
    const camp = await activeCampaign(adv, { product_ids: [grinder] });
    const toAll = await t.admin('PATCH', `/projects/${adv}/campaigns/${camp}`, { targeting: { all_products: true } });
    expect(toAll.status).toBe(200);
    expect(toAll.body).toMatchObject({ targeting: { all_products: true }, product_ids: [boards, grinder] });
    expect(await served(camp, PM_QUESTION)).toEqual([boards]);
    const toList = await t.admin('PATCH', `/projects/${adv}/campaigns/${camp}`, { product_ids: [grinder] });
    expect(toList.body).toMatchObject({ targeting: null, product_ids: [grinder] });
    expect(await served(camp, PM_QUESTION)).toEqual([]);
    await addProduct(adv, { ...BOARDS, name: 'Kanbanix Boards Lite' });
    expect((await campaignOf(adv, camp)).product_ids).toEqual([grinder]);
    for (const targeting of [{ all_products: false }, { categories: [] }, { categories: 'x' }, { all_products: true, categories: ['x'] }, 'all', { sku: 'x' }]) {
      const res = await t.admin('PATCH', `/projects/${adv}/campaigns/${camp}`, { targeting });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_value', param: 'targeting' });
    }
    const both = await t.admin('POST', `/projects/${adv}/campaigns`, { name: 'x', base_cpc: '0.40', budget: '5.00', product_ids: [grinder], targeting: { all_products: true } });
    expect(both.status).toBe(400);
    expect(both.body.error.param).toBe('targeting');
  });
});

describe('OpenAPI', () => {
  test('documents the catalog routes, their bodies and every query parameter of the market routes', async () => {
    const spec = (await (await t.call('GET', '/swagger/json')).json()) as any;
    const op = (path: string, method: string) => spec.paths[`/admin/v1/projects/{id}${path}`]?.[method];
    const queryNames = (path: string, method = 'get') => (op(path, method)?.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name).sort();
    expect(op('/products/{product_id}', 'patch').requestBody.content['application/json'].schema.properties).toHaveProperty('sku');
    expect(op('/products/{product_id}', 'delete').responses).toHaveProperty('200');
    expect(op('/products/import', 'post').requestBody.content).toHaveProperty('application/x-ndjson');
    expect(op('/products/import', 'post').responses['200'].content['application/json'].schema.properties).toHaveProperty('unchanged');
    expect(op('/campaigns', 'post').requestBody.content['application/json'].schema.properties).toHaveProperty('targeting');
    expect(queryNames('/clicks')).toEqual(['campaign_id', 'cursor', 'limit', 'reason', 'status']);
    expect(queryNames('/analytics')).toEqual(['campaign_id', 'from', 'publisher_project_id', 'to']);
    expect(queryNames('/products')).toEqual(['cursor', 'limit']);
    expect(queryNames('/earnings')).toEqual(['cursor', 'limit']);
    expect(queryNames('/campaigns')).toEqual(['limit']);
    expect(queryNames('/campaigns/{campaign_id}/history')).toEqual(['limit']);
    expect(queryNames('/products/import', 'post')).toEqual(['first_line']);
  });
});
