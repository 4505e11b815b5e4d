import { afterAll, afterEach, beforeAll, describe, expect, setSystemTime, test } from 'bun:test';
import { blockingReason, createCampaignsService } from '../../src/campaigns/campaigns.service';
import { createCampaignsRepo, type CampaignState } from '../../src/campaigns/campaigns.repo';
import { auditMarketMoney } from '../../src/clicks/audit';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, CATALOG, catalogDomains, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
const apps: TestApp[] = [];

// Hooks get a minute: on the PostgreSQL pass they may start the throwaway server or drop many databases.
beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: ORGANIC });
}, 60_000);
afterEach(() => {
  // Tests that move the clock put it back even when they fail.
  setSystemTime();
});
afterAll(async () => {
  for (const t of apps) await t.close();
  await upstream.close();
}, 60_000);

const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const PM_QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const COFFEE_QUESTION = 'Which coffee grinder should I buy for espresso?';

/** A fresh app per test that matches ads, so campaigns of other tests never compete. */
async function app(configFile?: Record<string, unknown>): Promise<TestApp> {
  const t = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile });
  apps.push(t);
  return t;
}

/** An advertiser project with products but no campaign. */
async function advertiserProject(t: TestApp, name: string, opts: { verify?: boolean; funds?: string; catalog?: typeof CATALOG } = {}) {
  const created = await t.admin('POST', '/projects', { name, domain: `${name.toLowerCase().replace(/\W+/g, '-')}.example.com`, kind: 'advertiser' });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  if (opts.verify !== false) await t.admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' });
  if (opts.funds !== '0') await t.admin('POST', `/projects/${id}/credits`, { amount: opts.funds ?? '100.00' });
  expect((await t.admin('PATCH', `/projects/${id}`, { link_domains: catalogDomains(CATALOG) })).status).toBe(200);
  const productIds: string[] = [];
  for (const p of opts.catalog ?? CATALOG) {
    const res = await t.admin('POST', `/projects/${id}/products`, p);
    expect(res.status).toBe(201);
    productIds.push(res.body.id);
  }
  return { id, productIds };
}

const campaignBody = (extra: Record<string, unknown> = {}) => ({ name: 'Spring push', context: 'tools for teams', base_cpc: '0.40', budget: '50.00', ...extra });

async function search(t: TestApp, headers: Record<string, string>, query: string) {
  const res = await t.call('POST', '/v1/promotions/search', { headers, body: { query, limit: 20 } });
  expect(res.status).toBe(200);
  return ((await res.json()) as any).data as Array<{ product: { id: string; name: string }; campaign: { id: string } }>;
}

async function history(t: TestApp, advId: string, campaignId: string) {
  const res = await t.admin('GET', `/projects/${advId}/campaigns/${campaignId}/history`);
  expect(res.status).toBe(200);
  return res.body.data as Array<{ id: number; event: string; actor: string; detail: any; created_at: string }>;
}

async function campaign(t: TestApp, advId: string, campaignId: string) {
  const res = await t.admin('GET', `/projects/${advId}/campaigns/${campaignId}`);
  expect(res.status).toBe(200);
  return res.body;
}

/** Asks one question in a new conversation; returns the tracked link path, or null when no promotion came. */
async function promotedPath(t: TestApp, headers: Record<string, string>, question: string, conversation: string): Promise<string | null> {
  const res = await t.chat(headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] }, { 'x-conversation-id': conversation });
  expect(res.status).toBe(200);
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  return link ? new URL(link).pathname : null;
}

async function clickAs(t: TestApp, path: string) {
  const res = await t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } });
  expect(res.status).toBe(302);
  return res;
}

/** Time alone changed: what the periodic sweep (every 5 s in a running server) does. */
async function sweep(t: TestApp): Promise<void> {
  await t.rt.market.refreshCampaigns(null);
}

async function audits(t: TestApp) {
  expect(await auditMarketMoney(t.store)).toEqual([]);
  expect(await auditMoney(t.store)).toEqual([]);
}

describe('creating a campaign', () => {
  let t: TestApp;
  let adv: { id: string; productIds: string[] };
  let other: { id: string; productIds: string[] };
  beforeAll(async () => {
    t = await app();
    adv = await advertiserProject(t, 'Validation Adv');
    other = await advertiserProject(t, 'Other Adv', { catalog: [CATALOG[1]] });
  }, 60_000);

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['base_cpc as a number', { base_cpc: 0.4 }, 'base_cpc'],
    ['base_cpc not a decimal', { base_cpc: 'forty cents' }, 'base_cpc'],
    ['negative base_cpc', { base_cpc: '-0.40' }, 'base_cpc'],
    ['base_cpc below the minimum CPC', { base_cpc: '0.001' }, 'base_cpc'],
    ['base_cpc with seven decimals', { base_cpc: '0.4000001' }, 'base_cpc'],
    ['missing base_cpc', { base_cpc: undefined }, 'base_cpc'],
    ['budget not a decimal', { budget: '50 dollars' }, 'budget'],
    ['budget as a number', { budget: 50 }, 'budget'],
    ['missing budget', { budget: undefined }, 'budget'],
    ['budget below base_cpc', { base_cpc: '0.40', budget: '0.39' }, 'budget'],
    ['unknown budget_type', { budget_type: 'weekly' }, 'budget_type'],
    ['end before start', { start_at: '2030-05-02T00:00:00Z', end_at: '2030-05-01T00:00:00Z' }, 'end_at'],
    ['end equal to start', { start_at: '2030-05-01T00:00:00Z', end_at: '2030-05-01T00:00:00Z' }, 'end_at'],
    ['start not a date', { start_at: 'next tuesday' }, 'start_at'],
    ['missing name', { name: undefined }, 'name'],
    ['blank name', { name: '   ' }, 'name'],
    ['product_ids not an array', { product_ids: 'prod_x' }, 'product_ids'],
  ];
  test('a decimal the parser refuses is called too large or too precise, not malformed', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ budget: '9999999999999' }, 'budget must be between'],
      [{ budget: '9007199254.740992' }, 'budget must be between'],
      [{ base_cpc: '0.4000001' }, 'base_cpc has more than six decimals'],
      [{ budget: '50 dollars' }, 'budget must be a decimal string'],
    ];
    for (const [patch, message] of cases) {
      const res = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody(patch));
      expect([res.status, res.body.error.message.slice(0, message.length)]).toEqual([400, message]);
    }
  });
  for (const [label, patch, param] of invalid) {
    test(`400 for ${label}`, async () => {
      const res = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody(patch));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value', param });
    });
  }

  test('400 for unknown or foreign product ids, naming them', async () => {
    const unknown = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: [adv.productIds[0], 'prod_doesnotexist000000'] }));
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.param).toBe('product_ids');
    expect(unknown.body.error.message).toContain('prod_doesnotexist000000');
    expect(unknown.body.error.message).not.toContain(adv.productIds[0]);
    const foreign = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: [other.productIds[0]] }));
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toContain(other.productIds[0]);
  });

  test('nothing is created by a refused request', async () => {
    const list = await t.admin('GET', `/projects/${adv.id}/campaigns`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
    expect(await t.store.stmt('SELECT COUNT(*) AS n FROM campaigns').get()).toEqual({ n: 0 });
  });

  test('a publisher project gets 409 not_an_advertiser; an unknown project 404', async () => {
    const pub = await t.project('1.00', 'Not An Advertiser');
    const res = await t.admin('POST', `/projects/${pub.id}/campaigns`, campaignBody());
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_an_advertiser');
    const missing = await t.admin('POST', '/projects/proj_doesnotexist/campaigns', campaignBody());
    expect(missing.status).toBe(404);
  });

  test('a valid campaign starts paused_user with its fields, deduplicated products and a "created" history event', async () => {
    const res = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({
      name: '  Spring push  ', base_cpc: '0.4', budget: '12.5', budget_type: 'daily',
      start_at: '2030-05-01T00:00:00Z', end_at: '2030-06-01T00:00:00.000Z',
      product_ids: [adv.productIds[1], adv.productIds[0], adv.productIds[1]],
    }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'campaign', project_id: adv.id, name: 'Spring push', context: 'tools for teams', base_cpc: '0.40', budget: '12.50',
      budget_type: 'daily', start_at: '2030-05-01T00:00:00.000Z', end_at: '2030-06-01T00:00:00.000Z', status: 'paused_user',
      pause_reason: null, spent_total: '0.00', product_ids: [adv.productIds[1], adv.productIds[0]],
    });
    expect(res.body.id).toMatch(/^camp_/);
    expect(await campaign(t, adv.id, res.body.id)).toMatchObject({ id: res.body.id, status: 'paused_user', product_ids: [adv.productIds[1], adv.productIds[0]] });
    const events = await history(t, adv.id, res.body.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event: 'created', actor: 'operator', detail: { status: 'paused_user', product_ids: [adv.productIds[1], adv.productIds[0]] } });
    // The default budget type is total; the campaign is in the project's list (newest first) and in no other project's.
    const second = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ name: 'Second' }));
    expect(second.body.budget_type).toBe('total');
    const list = await t.admin('GET', `/projects/${adv.id}/campaigns`);
    expect(list.body.data.map((c: any) => c.name)).toEqual(['Second', 'Spring push']);
    expect((await t.admin('GET', `/projects/${other.id}/campaigns/${res.body.id}`)).status).toBe(404);
  });
});

describe('activation, pause, archive', () => {
  test('activation is refused with every unmet reason at once, and succeeds once each is fixed', async () => {
    const t = await app();
    const adv = await advertiserProject(t, 'Unready Adv', { verify: false, funds: '0', catalog: [] });
    const created = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody());
    expect(created.status).toBe(201);
    const id = created.body.id;
    const refused = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('activation_refused');
    for (const reason of ['domain_unverified', 'no_products', 'no_funds']) expect(refused.body.error.message).toContain(reason);
    expect(refused.body.error.message).not.toContain('end_date_passed');
    expect((await campaign(t, adv.id, id)).status).toBe('paused_user');
    expect((await history(t, adv.id, id)).map((h) => h.event)).toEqual(['created']);

    await t.admin('POST', `/projects/${adv.id}/domain/verify`, { method: 'manual' });
    const second = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`);
    expect(second.status).toBe(409);
    expect(second.body.error.message).not.toContain('domain_unverified');
    expect(second.body.error.message).toContain('no_products');
    expect(second.body.error.message).toContain('no_funds');

    const product = await t.admin('POST', `/projects/${adv.id}/products`, CATALOG[0]);
    expect((await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, { product_ids: [product.body.id] })).status).toBe(200);
    // Funds below base_cpc still count as no funds.
    await t.admin('POST', `/projects/${adv.id}/credits`, { amount: '0.39' });
    const third = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`);
    expect(third.status).toBe(409);
    expect(third.body.error.message).not.toContain('no_products');
    expect(third.body.error.message).toContain('no_funds');

    await t.admin('POST', `/projects/${adv.id}/credits`, { amount: '0.01' });
    const ok = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'active', pause_reason: null });
  });

  test('a campaign whose end date has passed cannot be activated', async () => {
    const t = await app();
    const adv = await advertiserProject(t, 'Late Adv');
    const created = await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({
      product_ids: adv.productIds, start_at: '2020-01-01T00:00:00Z', end_at: '2020-02-01T00:00:00Z',
    }));
    expect(created.status).toBe(201);
    const refused = await t.admin('POST', `/projects/${adv.id}/campaigns/${created.body.id}/activate`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('activation_refused');
    expect(refused.body.error.message).toContain('end_date_passed');
    expect(refused.body.error.message).not.toMatch(/domain_unverified|no_products|no_funds/);
  });

  test('activate, pause, activate, archive; an archived campaign refuses every change; history is newest first', async () => {
    const t = await app();
    const adv = await advertiserProject(t, 'Lifecycle Adv');
    const pub = await publisher(t, 'Lifecycle Pub');
    const id = (await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: adv.productIds }))).body.id;
    // Paused_user: not eligible.
    expect(await search(t, pub.headers, COFFEE_QUESTION)).toEqual([]);

    const activated = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`);
    expect(activated.status).toBe(200);
    expect(activated.body.status).toBe('active');
    expect((await search(t, pub.headers, COFFEE_QUESTION)).map((r) => r.campaign.id)).toEqual([id]);

    const paused = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused_user', pause_reason: null });
    expect(await search(t, pub.headers, COFFEE_QUESTION)).toEqual([]);
    expect(await promotedPath(t, pub.headers, COFFEE_QUESTION, 'lifecycle-1')).toBeNull();

    expect((await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`)).body.status).toBe('active');
    expect(await promotedPath(t, pub.headers, COFFEE_QUESTION, 'lifecycle-2')).not.toBeNull();

    const archived = await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/archive`);
    expect(archived.status).toBe(200);
    expect(archived.body.status).toBe('archived');
    expect(await search(t, pub.headers, COFFEE_QUESTION)).toEqual([]);

    const attempts = [
      await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`),
      await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/pause`),
      await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/archive`),
      await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, { name: 'Revived' }),
      await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, { product_ids: [adv.productIds[0]] }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('campaign_archived');
    }
    const after = await campaign(t, adv.id, id);
    expect(after).toMatchObject({ status: 'archived', name: 'Spring push', product_ids: adv.productIds });

    const events = await history(t, adv.id, id);
    expect(events.map((h) => [h.event, h.actor])).toEqual([
      ['archived', 'operator'], ['activated', 'operator'], ['paused', 'operator'], ['activated', 'operator'], ['created', 'operator'],
    ]);
    expect(events[0].detail).toEqual({ from: 'active' });
    expect(events[2].detail).toEqual({ from: 'active' });
    expect(events[3].detail).toEqual({ from: 'paused_user' });
    for (let i = 1; i < events.length; i++) {
      expect(events[i].id).toBeLessThan(events[i - 1].id);
      expect(Date.parse(events[i].created_at)).toBeLessThanOrEqual(Date.parse(events[i - 1].created_at));
    }
  });

  test('unknown campaigns and campaigns of another project are 404 campaign_not_found', async () => {
    const t = await app();
    const a = await advertiserProject(t, 'Owner Adv', { catalog: [CATALOG[0]] });
    const b = await advertiserProject(t, 'Stranger Adv', { catalog: [CATALOG[1]] });
    const id = (await t.admin('POST', `/projects/${a.id}/campaigns`, campaignBody({ product_ids: a.productIds }))).body.id;
    for (const [method, path, body] of [
      ['GET', `/projects/${b.id}/campaigns/${id}`, undefined],
      ['PATCH', `/projects/${b.id}/campaigns/${id}`, { name: 'stolen' }],
      ['POST', `/projects/${b.id}/campaigns/${id}/activate`, undefined],
      ['POST', `/projects/${b.id}/campaigns/${id}/archive`, undefined],
      ['GET', `/projects/${b.id}/campaigns/${id}/history`, undefined],
      ['GET', `/projects/${a.id}/campaigns/camp_doesnotexist00000000`, undefined],
    ] as const) {
      const res = await t.admin(method, path, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('campaign_not_found');
    }
    expect(await campaign(t, a.id, id)).toMatchObject({ name: 'Spring push', status: 'paused_user' });
  });
});

describe('editing a campaign', () => {
  test('PATCH changes fields, records only real changes, and validates like create', async () => {
    const t = await app();
    const adv = await advertiserProject(t, 'Editor Adv');
    const id = (await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: adv.productIds }))).body.id;
    const res = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, {
      name: 'Summer push', context: 'outdoor gear', base_cpc: '0.55', budget: '80.00', budget_type: 'daily', end_at: '2031-01-01T00:00:00Z',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Summer push', context: 'outdoor gear', base_cpc: '0.55', budget: '80.00', budget_type: 'daily', end_at: '2031-01-01T00:00:00.000Z', status: 'paused_user' });
    expect(await campaign(t, adv.id, id)).toMatchObject({ name: 'Summer push', base_cpc: '0.55', budget: '80.00' });
    let events = await history(t, adv.id, id);
    expect(events[0]).toMatchObject({ event: 'updated', actor: 'operator' });
    expect(events[0].detail).toEqual({
      name: 'Summer push', context: 'outdoor gear', base_cpc_micros: 550_000, budget_micros: 80_000_000, budget_type: 'daily', end_at: Date.parse('2031-01-01T00:00:00Z'),
    });

    // Same values again: nothing changed, nothing recorded.
    expect((await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, { name: 'Summer push', base_cpc: '0.55' })).status).toBe(200);
    events = await history(t, adv.id, id);
    expect(events.map((h) => h.event)).toEqual(['updated', 'created']);

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ base_cpc: '0.00' }, 'base_cpc'],
      [{ base_cpc: 'cheap' }, 'base_cpc'],
      [{ budget: 'x' }, 'budget'],
      [{ budget_type: 'monthly' }, 'budget_type'],
      [{ start_at: '2031-06-01T00:00:00Z' }, 'end_at'],
      [{ end_at: 'soon' }, 'end_at'],
      [{ name: 42 }, 'name'],
      [{ product_ids: ['prod_doesnotexist000000'] }, 'product_ids'],
    ];
    for (const [body, param] of bad) {
      const r = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, body);
      expect(r.status).toBe(400);
      expect(r.body.error.param).toBe(param);
    }
    expect(await campaign(t, adv.id, id)).toMatchObject({ name: 'Summer push', base_cpc: '0.55', budget: '80.00', budget_type: 'daily', start_at: null, product_ids: adv.productIds });
    expect((await history(t, adv.id, id)).map((h) => h.event)).toEqual(['updated', 'created']);
  });

  test('PATCH refuses a budget below base_cpc, like create (400 budget)', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Shrink Adv', baseCpc: '0.40', budget: '50.00', catalog: [CATALOG[0]] });
    const lower = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { budget: '0.10' });
    const higher = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { base_cpc: '60.00' });
    expect([lower.status, higher.status]).toEqual([400, 400]);
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ base_cpc: '0.40', budget: '50.00' });
  });

  test('PATCH can move start_at past the old end date while clearing end_at', async () => {
    const t = await app();
    const adv = await advertiserProject(t, 'Reschedule Adv', { catalog: [CATALOG[0]] });
    const id = (await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: adv.productIds, end_at: '2030-06-01T00:00:00Z' }))).body.id;
    const res = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, { start_at: '2031-01-01T00:00:00Z', end_at: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ start_at: '2031-01-01T00:00:00.000Z', end_at: null });
  });

  test('an active campaign cannot drop all its products (409 no_products); a paused one can', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Keeper Adv' });
    const res = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { product_ids: [] });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('no_products');
    expect((await campaign(t, adv.id, adv.campaignId)).product_ids).toEqual(adv.productIds);
    await t.admin('POST', `/projects/${adv.id}/campaigns/${adv.campaignId}/pause`);
    const emptied = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { product_ids: [] });
    expect(emptied.status).toBe(200);
    expect(emptied.body.product_ids).toEqual([]);
    const refused = await t.admin('POST', `/projects/${adv.id}/campaigns/${adv.campaignId}/activate`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('no_products');
  });

  test('replacing the product set changes what matches: a removed product is no longer offered, an added one is', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Swap Adv', catalog: [CATALOG[0], CATALOG[2]], linkDomains: catalogDomains(CATALOG) });
    const [kanbanix, brewmaster] = adv.productIds;
    const trail = (await t.admin('POST', `/projects/${adv.id}/products`, CATALOG[1])).body.id;
    const pub = await publisher(t, 'Swap Pub');
    expect((await search(t, pub.headers, COFFEE_QUESTION)).map((r) => r.product.id)).toEqual([brewmaster]);
    expect((await search(t, pub.headers, 'trail running shoes for muddy paths')).map((r) => r.product.id)).toEqual([]);

    const res = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { product_ids: [kanbanix, trail] });
    expect(res.status).toBe(200);
    expect(res.body.product_ids).toEqual([kanbanix, trail]);
    expect(await search(t, pub.headers, COFFEE_QUESTION)).toEqual([]);
    expect(await promotedPath(t, pub.headers, COFFEE_QUESTION, 'swap-coffee')).toBeNull();
    expect((await search(t, pub.headers, 'trail running shoes for muddy paths')).map((r) => r.product.id)).toEqual([trail]);
    expect((await search(t, pub.headers, PM_QUESTION)).map((r) => r.product.id)).toEqual([kanbanix]);

    const events = await history(t, adv.id, adv.campaignId);
    expect(events[0]).toMatchObject({ event: 'updated', actor: 'operator', detail: { product_ids: [kanbanix, trail] } });

    // Putting a product back makes it match again.
    await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { product_ids: [brewmaster] });
    expect((await search(t, pub.headers, COFFEE_QUESTION)).map((r) => r.product.id)).toEqual([brewmaster]);
    expect((await search(t, pub.headers, PM_QUESTION)).map((r) => r.product.id)).not.toContain(kanbanix);
  });

  test('a context change changes matching', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Context Adv', catalog: [CATALOG[0]], context: 'tools for teams' });
    const pub = await publisher(t, 'Context Pub');
    const query = 'which app should we use for agile sprint planning and scrum retrospectives?';
    expect(await search(t, pub.headers, query)).toEqual([]);
    const res = await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { context: 'agile sprint planning and retrospectives for scrum teams' });
    expect(res.status).toBe(200);
    expect((await search(t, pub.headers, query)).map((r) => r.campaign.id)).toEqual([adv.campaignId]);
    await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { context: 'tools for teams' });
    expect(await search(t, pub.headers, query)).toEqual([]);
  });
});

describe('system pauses and resumptions', () => {
  test('a total budget that can no longer pay base_cpc after a click pauses the campaign (budget_exhausted)', async () => {
    const t = await app();
    // Budget = base CPC: after any charged click the rest of the budget is below base_cpc.
    const adv = await advertiser(t, { name: 'Budget Adv', baseCpc: '0.40', budget: '0.40', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Budget Pub');
    const path = await promotedPath(t, pub.headers, PM_QUESTION, 'budget-1');
    expect(path).not.toBeNull();
    await clickAs(t, path!);
    const wallet = (await t.admin('GET', `/projects/${adv.id}/wallet`)).body;
    const charged = -wallet.transactions.find((x: any) => x.type === 'cpc_cost').amount_micros;
    expect(charged).toBeGreaterThan(0);

    // The next decision sees it: no promotion, and the campaign is paused by the system with the reason.
    expect(await promotedPath(t, pub.headers, PM_QUESTION, 'budget-2')).toBeNull();
    const c = await campaign(t, adv.id, adv.campaignId);
    expect(c).toMatchObject({ status: 'paused_system', pause_reason: 'budget_exhausted' });
    expect(Math.round(Number(c.spent_total) * 1e6)).toBe(charged);
    const events = await history(t, adv.id, adv.campaignId);
    expect(events[0]).toMatchObject({ event: 'paused', actor: 'system', detail: { reason: 'budget_exhausted' } });
    expect(events.filter((e) => e.event === 'paused')).toHaveLength(1);

    // Raising the budget lets it resume on its own.
    expect((await t.admin('PATCH', `/projects/${adv.id}/campaigns/${adv.campaignId}`, { budget: '5.00' })).status).toBe(200);
    expect(await search(t, pub.headers, PM_QUESTION)).toHaveLength(1);
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'active', pause_reason: null });
    expect((await history(t, adv.id, adv.campaignId))[0]).toMatchObject({ event: 'resumed', actor: 'system', detail: { previous_reason: 'budget_exhausted' } });
    await audits(t);
  });

  test('a daily budget spent today pauses the campaign, which resumes by itself the next UTC day', async () => {
    setSystemTime(new Date('2030-03-10T15:00:00Z'));
    const t = await app();
    const adv = await advertiser(t, { name: 'Daily Adv', baseCpc: '0.40', budget: '0.40', budgetType: 'daily', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Daily Pub');
    const path = await promotedPath(t, pub.headers, PM_QUESTION, 'daily-1');
    expect(path).not.toBeNull();
    await clickAs(t, path!);
    expect(await promotedPath(t, pub.headers, PM_QUESTION, 'daily-2')).toBeNull();
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'paused_system', pause_reason: 'budget_exhausted' });

    // Later the same day: still paused.
    setSystemTime(new Date('2030-03-10T23:59:00Z'));
    await sweep(t);
    expect(await search(t, pub.headers, PM_QUESTION)).toEqual([]);
    expect((await campaign(t, adv.id, adv.campaignId)).status).toBe('paused_system');

    // The next UTC day: resumed by the system, serving again.
    setSystemTime(new Date('2030-03-11T00:00:30Z'));
    await sweep(t);
    expect((await search(t, pub.headers, PM_QUESTION)).map((r) => r.campaign.id)).toEqual([adv.campaignId]);
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'active', pause_reason: null });
    const events = await history(t, adv.id, adv.campaignId);
    expect(events.slice(0, 2).map((e) => [e.event, e.actor, e.detail])).toEqual([
      ['resumed', 'system', { previous_reason: 'budget_exhausted' }],
      ['paused', 'system', { reason: 'budget_exhausted' }],
    ]);
    expect(await promotedPath(t, pub.headers, PM_QUESTION, 'daily-3')).not.toBeNull();
    const spend = (await t.store.stmt('SELECT day, spent_micros FROM campaign_daily_spend WHERE campaign_id = ?').all([adv.campaignId])) as any[];
    expect(spend.map((s) => s.day)).toEqual(['2030-03-10']);
    await audits(t);
  });

  test('funds below base_cpc pause the campaign (funds_short); a top-up resumes it on the next decision', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Poor Adv', funds: '0.40', baseCpc: '0.40', budget: '50.00', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Poor Pub');
    const path = await promotedPath(t, pub.headers, PM_QUESTION, 'poor-1');
    expect(path).not.toBeNull();
    await clickAs(t, path!);
    expect(await promotedPath(t, pub.headers, PM_QUESTION, 'poor-2')).toBeNull();
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'paused_system', pause_reason: 'funds_short' });
    expect((await history(t, adv.id, adv.campaignId))[0]).toMatchObject({ event: 'paused', actor: 'system', detail: { reason: 'funds_short' } });

    const topUp = await t.admin('POST', `/projects/${adv.id}/credits`, { amount: '2.00' });
    expect(topUp.status).toBe(201);
    expect(await promotedPath(t, pub.headers, PM_QUESTION, 'poor-3')).not.toBeNull();
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'active', pause_reason: null });
    const events = await history(t, adv.id, adv.campaignId);
    expect(events[0]).toMatchObject({ event: 'resumed', actor: 'system', detail: { previous_reason: 'funds_short' } });
    expect(events.map((e) => e.event)).toEqual(['resumed', 'paused', 'activated', 'created']);
    await audits(t);
  });

  test('a campaign past its end date is paused (end_date_passed) and resumes when the end date moves', async () => {
    setSystemTime(new Date('2030-04-01T10:00:00Z'));
    const t = await app();
    const adv = await advertiserProject(t, 'Ending Adv', { catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Ending Pub');
    const id = (await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: adv.productIds, end_at: '2030-04-01T12:00:00Z' }))).body.id;
    expect((await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`)).body.status).toBe('active');
    expect(await search(t, pub.headers, PM_QUESTION)).toHaveLength(1);

    setSystemTime(new Date('2030-04-01T12:00:01Z'));
    await sweep(t);
    expect(await search(t, pub.headers, PM_QUESTION)).toEqual([]);
    expect(await campaign(t, adv.id, id)).toMatchObject({ status: 'paused_system', pause_reason: 'end_date_passed' });
    expect((await history(t, adv.id, id))[0]).toMatchObject({ event: 'paused', actor: 'system', detail: { reason: 'end_date_passed' } });

    expect((await t.admin('PATCH', `/projects/${adv.id}/campaigns/${id}`, { end_at: '2030-05-01T00:00:00Z' })).status).toBe(200);
    expect(await search(t, pub.headers, PM_QUESTION)).toHaveLength(1);
    expect(await campaign(t, adv.id, id)).toMatchObject({ status: 'active', pause_reason: null });
    expect((await history(t, adv.id, id))[0]).toMatchObject({ event: 'resumed', actor: 'system', detail: { previous_reason: 'end_date_passed' } });
  });

  test('a campaign before its start date is active but does not serve', async () => {
    setSystemTime(new Date('2030-04-01T10:00:00Z'));
    const t = await app();
    const adv = await advertiserProject(t, 'Early Adv', { catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Early Pub');
    const id = (await t.admin('POST', `/projects/${adv.id}/campaigns`, campaignBody({ product_ids: adv.productIds, start_at: '2030-04-02T00:00:00Z' }))).body.id;
    expect((await t.admin('POST', `/projects/${adv.id}/campaigns/${id}/activate`)).body.status).toBe('active');
    expect(await search(t, pub.headers, PM_QUESTION)).toEqual([]);
    setSystemTime(new Date('2030-04-02T00:00:01Z'));
    await sweep(t);
    expect(await search(t, pub.headers, PM_QUESTION)).toHaveLength(1);
  });

  test('an advertiser domain that becomes unverified pauses its campaigns (domain_unverified); verification resumes them', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Moving Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Moving Pub');
    expect((await t.admin('PATCH', `/projects/${adv.id}`, { domain: 'moved-elsewhere.example.com' })).body.domain_status).toBe('unverified');
    expect(await search(t, pub.headers, PM_QUESTION)).toEqual([]);
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'paused_system', pause_reason: 'domain_unverified' });
    await t.admin('POST', `/projects/${adv.id}/domain/verify`, { method: 'manual' });
    expect(await search(t, pub.headers, PM_QUESTION)).toHaveLength(1);
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'active', pause_reason: null });
    expect((await history(t, adv.id, adv.campaignId)).slice(0, 2).map((e) => [e.event, e.actor])).toEqual([['resumed', 'system'], ['paused', 'system']]);
  });

  test('a user pause is never undone by the system', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Held Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Held Pub');
    await t.admin('POST', `/projects/${adv.id}/campaigns/${adv.campaignId}/pause`);
    await t.admin('POST', `/projects/${adv.id}/credits`, { amount: '5.00' });
    expect(await search(t, pub.headers, PM_QUESTION)).toEqual([]);
    expect(await campaign(t, adv.id, adv.campaignId)).toMatchObject({ status: 'paused_user', pause_reason: null });
    expect((await t.rt.market.campaigns.evaluate()).map((c) => c.id)).not.toContain(adv.campaignId);
    expect((await history(t, adv.id, adv.campaignId)).filter((e) => e.actor === 'system')).toEqual([]);
  });
});

describe('evaluate and blockingReason with an injected clock', () => {
  const base: CampaignState = {
    id: 'camp_x', project_id: 'proj_x', name: 'x', context: '', base_cpc_micros: 400_000, budget_micros: 1_000_000, budget_type: 'total',
    start_at: null, end_at: null, status: 'active', pause_reason: null, spent_total_micros: 0, targeting: 'products', target_categories: '[]', created_at: 0, updated_at: 0,
    wallet_available_micros: 10_000_000, spent_today_micros: 0, domain_status: 'verified', advertiser_name: 'x',
  };
  const now = Date.parse('2030-01-01T12:00:00Z');

  test('blockingReason: the cause that needs the operator first, and exact thresholds', () => {
    expect(blockingReason(base, now)).toBeNull();
    expect(blockingReason({ ...base, spent_total_micros: 600_000 }, now)).toBeNull();
    expect(blockingReason({ ...base, spent_total_micros: 600_001 }, now)).toBe('budget_exhausted');
    expect(blockingReason({ ...base, budget_type: 'daily', spent_total_micros: 900_000, spent_today_micros: 600_000 }, now)).toBeNull();
    expect(blockingReason({ ...base, budget_type: 'daily', spent_today_micros: 600_001 }, now)).toBe('budget_exhausted');
    expect(blockingReason({ ...base, wallet_available_micros: 400_000 }, now)).toBeNull();
    expect(blockingReason({ ...base, wallet_available_micros: 399_999 }, now)).toBe('funds_short');
    expect(blockingReason({ ...base, end_at: now }, now)).toBe('end_date_passed');
    expect(blockingReason({ ...base, end_at: now + 1 }, now)).toBeNull();
    const everything = { ...base, domain_status: 'unverified', end_at: now - 1, spent_total_micros: 1_000_000, wallet_available_micros: 0 };
    expect(blockingReason(everything, now)).toBe('domain_unverified');
    expect(blockingReason({ ...everything, domain_status: 'verified' }, now)).toBe('end_date_passed');
    expect(blockingReason({ ...everything, domain_status: 'verified', end_at: null }, now)).toBe('budget_exhausted');
  });

  test('evaluate over the real repo: daily budget exhausted today, resumed the next UTC day; reason changes are recorded', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Clock Adv', baseCpc: '0.40', budget: '1.00', budgetType: 'daily', catalog: [CATALOG[0]] });
    const day1 = Date.parse('2031-07-04T08:00:00Z');
    await t.store.stmt('INSERT INTO campaign_daily_spend (campaign_id, day, spent_micros) VALUES (?, ?, ?)').run([adv.campaignId, '2031-07-04', 700_000]);
    await t.store.stmt('UPDATE campaigns SET spent_total_micros = 700000 WHERE id = ?').run([adv.campaignId]);
    let clock = day1;
    const repo = createCampaignsRepo(t.store);
    const service = createCampaignsService({
      repo, productsOwnedBy: () => [], walletAvailable: () => 0, minCpcMicros: 10_000, syncIndex: () => {}, onChange: () => {}, now: () => clock,
    });
    const row = async () => (await repo.getAny(adv.campaignId))!;

    expect((await service.evaluate()).map((c) => c.id)).not.toContain(adv.campaignId);
    expect(await row()).toMatchObject({ status: 'paused_system', pause_reason: 'budget_exhausted' });
    clock = Date.parse('2031-07-04T23:59:59.999Z');
    expect((await service.evaluate()).map((c) => c.id)).not.toContain(adv.campaignId);
    expect((await row()).status).toBe('paused_system');

    // The advertiser wallet empties overnight: still paused, now for funds.
    await t.store.stmt('UPDATE wallets SET balance_micros = 0 WHERE project_id = ?').run([adv.id]);
    clock = Date.parse('2031-07-05T00:00:00Z');
    expect((await service.evaluate()).map((c) => c.id)).not.toContain(adv.campaignId);
    expect(await row()).toMatchObject({ status: 'paused_system', pause_reason: 'funds_short' });
    await t.store.stmt('UPDATE wallets SET balance_micros = 5000000 WHERE project_id = ?').run([adv.id]);
    const serving = await service.evaluate();
    expect(serving.map((c) => c.id)).toContain(adv.campaignId);
    expect(await row()).toMatchObject({ status: 'active', pause_reason: null });
    const events = (await repo.history(adv.campaignId, 10)).map((h) => [h.event, h.actor, JSON.parse(h.detail ?? 'null')]);
    expect(events.slice(0, 3)).toEqual([
      ['resumed', 'system', { previous_reason: 'funds_short' }],
      ['pause_reason_changed', 'system', { reason: 'funds_short' }],
      ['paused', 'system', { reason: 'budget_exhausted' }],
    ]);
    // Put the ledger back in step with the wallet for the audit (the balance was edited directly above).
    await t.store.stmt('UPDATE campaigns SET spent_total_micros = 0 WHERE id = ?').run([adv.campaignId]);
    await t.store.stmt('DELETE FROM campaign_daily_spend WHERE campaign_id = ?').run([adv.campaignId]);
    await t.store.stmt('UPDATE wallets SET balance_micros = (SELECT CAST(SUM(amount_micros) AS BIGINT) FROM ledger_entries WHERE project_id = $p) WHERE project_id = $p').run({ p: adv.id });
    await audits(t);
  });
});
