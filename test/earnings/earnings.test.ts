import { afterAll, afterEach, beforeAll, describe, expect, setSystemTime, test } from 'bun:test';
import { createTrackingToken } from '../../src/ads/tracking-token';
import { auditMarketMoney } from '../../src/clicks/audit';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, CATALOG, publisher, trackedLink } from '../helpers/market';
import { createTestApp, createTestStore, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
const apps: TestApp[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: 'Here is an organic answer.' });
  // The tests make their own apps: the PostgreSQL pass starts its shared server here, not inside the first test.
  await (await createTestStore()).close();
}, 60_000);
afterEach(() => {
  setSystemTime();
});
afterAll(async () => {
  for (const t of apps) await t.close();
  await upstream.close();
}, 60_000);

const PM_QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const COFFEE_QUESTION = 'Which coffee grinder should I buy for espresso?';
const DAY_MS = 86_400_000;

async function app(ads?: Record<string, unknown>): Promise<TestApp> {
  const t = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile: ads ? { ads } : undefined });
  apps.push(t);
  return t;
}

async function audits(t: TestApp) {
  expect(await auditMarketMoney(t.store)).toEqual([]);
  expect(await auditMoney(t.store)).toEqual([]);
}

let conversationSeq = 0;
/** One question in a new conversation; the tracked link's path (the promotion must be there). */
async function promotedPath(t: TestApp, headers: Record<string, string>, question = PM_QUESTION): Promise<string> {
  const res = await t.chat(headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] }, { 'x-conversation-id': `earn-${++conversationSeq}` });
  expect(res.status).toBe(200);
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  expect(link).not.toBeNull();
  return new URL(link!).pathname;
}

async function click(t: TestApp, path: string, ua = BROWSER_UA) {
  const res = await t.call('GET', path, { headers: { 'user-agent': ua } });
  expect(res.status).toBe(302);
  return res;
}

const wallet = async (t: TestApp, id: string) => (await t.admin('GET', `/projects/${id}/wallet`)).body;
const earnings = async (t: TestApp, id: string) => {
  const res = await t.admin('GET', `/projects/${id}/earnings`);
  expect(res.status).toBe(200);
  return res.body;
};

/** The latest charged click of an advertiser, found through its wallet's cpc_cost transaction. */
async function lastCharge(t: TestApp, advId: string): Promise<{ clickId: string; charged: number }> {
  const cost = (await wallet(t, advId)).transactions.find((x: any) => x.type === 'cpc_cost');
  expect(cost).toBeDefined();
  expect(cost.click_id).toMatch(/^clk_/);
  return { clickId: cost.click_id, charged: -cost.amount_micros };
}

const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);

describe('earnings hold', () => {
  test('with earningsHoldDays 0 the earning is available at once and can no longer be refunded', async () => {
    const t = await app({ earningsHoldDays: 0 });
    const adv = await advertiser(t, { name: 'Instant Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Instant Pub');
    await click(t, await promotedPath(t, pub.headers));
    const { clickId, charged } = await lastCharge(t, adv.id);
    const share = Math.floor(charged * 0.7);
    const e = await earnings(t, pub.id);
    expect(e).toMatchObject({ object: 'earnings', project_id: pub.id, currency: 'USD', available_micros: share, pending_micros: 0 });
    expect(micros(e.available)).toBe(share);
    expect(micros(e.pending)).toBe(0);
    expect(micros(e.total)).toBe(share);
    expect(e.transactions).toHaveLength(1);
    expect(e.transactions[0]).toMatchObject({ type: 'earning', status: 'succeeded', amount_micros: share, click_id: clickId });
    expect(Date.parse(e.transactions[0].available_at)).toBe(Date.parse(e.transactions[0].created_at));

    const balance = (await wallet(t, adv.id)).balance_micros;
    const refused = await t.admin('POST', `/clicks/${clickId}/invalidate`, { reason: 'too late' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('earning_available');
    expect((await wallet(t, adv.id)).balance_micros).toBe(balance);
    expect((await t.admin('GET', `/clicks/${clickId}`)).body).toMatchObject({ status: 'charged', reason: null });
    expect((await earnings(t, pub.id)).available_micros).toBe(share);
    await audits(t);
  });

  test('with the default 7 days the earning stays pending, then becomes available; a refund is refused after that', async () => {
    const start = Date.parse('2030-06-01T09:00:00Z');
    setSystemTime(new Date(start));
    const t = await app();
    const adv = await advertiser(t, { name: 'Held Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Held Pub');
    await click(t, await promotedPath(t, pub.headers));
    const { clickId, charged } = await lastCharge(t, adv.id);
    const share = Math.floor(charged * 0.7);
    let e = await earnings(t, pub.id);
    expect(e).toMatchObject({ available_micros: 0, pending_micros: share });
    expect(micros(e.total)).toBe(share);
    expect(e.transactions[0]).toMatchObject({ type: 'earning', status: 'pending', click_id: clickId });
    expect(Date.parse(e.transactions[0].available_at)).toBe(start + 7 * DAY_MS);

    setSystemTime(new Date(start + 7 * DAY_MS - 1));
    expect(await earnings(t, pub.id)).toMatchObject({ available_micros: 0, pending_micros: share });

    setSystemTime(new Date(start + 7 * DAY_MS));
    e = await earnings(t, pub.id);
    expect(e).toMatchObject({ available_micros: share, pending_micros: 0 });
    expect(e.transactions[0].status).toBe('succeeded');
    const refused = await t.admin('POST', `/clicks/${clickId}/invalidate`, { reason: 'late complaint' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('earning_available');
    await audits(t);
  });

  test('a non-numeric or negative earningsHoldDays is a configuration error', async () => {
    const start = async (earningsHoldDays: unknown) => (await createTestApp({ configFile: { ads: { earningsHoldDays } } })).close();
    await expect(start('abc')).rejects.toThrow(/earningsHoldDays/);
    await expect(start(-3)).rejects.toThrow(/earningsHoldDays/);
  });

  test('earnings transactions page newest first with limit and cursor; sums cover every page', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Paging Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Paging Pub');
    const clickIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      await click(t, await promotedPath(t, pub.headers));
      clickIds.push((await lastCharge(t, adv.id)).clickId);
    }
    const first = await t.admin('GET', `/projects/${pub.id}/earnings?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.transactions.map((x: any) => x.click_id)).toEqual([clickIds[2], clickIds[1]]);
    expect(first.body.has_more).toBe(true);
    const second = await t.admin('GET', `/projects/${pub.id}/earnings?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.transactions.map((x: any) => x.click_id)).toEqual([clickIds[0]]);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    const perClick = Math.floor(10_000 * 0.7);
    expect(first.body.pending_micros).toBe(3 * perClick);
    expect(second.body.pending_micros).toBe(3 * perClick);
    // Cursors are read as the server writes them: no exponent, sign, space or zero.
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=abc', 'cursor=-2', 'cursor=1e3', 'cursor=+5', 'cursor=%205', 'cursor=+', 'cursor=0', 'cursor=05', 'cursor=5.0']) {
      const res = await t.admin('GET', `/projects/${pub.id}/earnings?${q}`);
      expect(`${q}: ${res.status} ${res.body.error?.code}`).toBe(`${q}: 400 ${q.startsWith('limit') ? 'invalid_value' : 'invalid_cursor'}`);
    }
    await audits(t);
  });

  test('earnings are for publisher projects only', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Not Pub Adv', catalog: [CATALOG[0]] });
    const res = await t.admin('GET', `/projects/${adv.id}/earnings`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_a_publisher');
    expect((await t.admin('GET', '/projects/proj_doesnotexist/earnings')).status).toBe(404);
  });
});

describe('refunds', () => {
  test('invalidating a pending click refunds the advertiser, reverses the earning and the spend; twice is 409', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Refund Adv', funds: '20.00', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Refund Pub');
    const start = (await wallet(t, adv.id)).balance_micros;
    const path = await promotedPath(t, pub.headers);
    await click(t, path);
    const { clickId, charged } = await lastCharge(t, adv.id);
    const share = Math.floor(charged * 0.7);

    const before = await t.admin('GET', `/clicks/${clickId}`);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({
      id: clickId, status: 'charged', reason: null, charged_micros: charged, publisher_micros: share, platform_micros: charged - share,
      campaign_id: adv.campaignId, publisher_project_id: pub.id, advertiser_project_id: adv.id, user_agent: BROWSER_UA,
    });
    expect(micros((await t.admin('GET', `/projects/${adv.id}/campaigns/${adv.campaignId}`)).body.spent_total)).toBe(charged);
    expect((await earnings(t, pub.id)).pending_micros).toBe(share);

    const res = await t.admin('POST', `/clicks/${clickId}/invalidate`, { reason: 'click fraud' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: clickId, status: 'refunded', reason: 'click fraud', charged_micros: charged });
    expect((await t.admin('GET', `/clicks/${clickId}`)).body).toMatchObject({ status: 'refunded', reason: 'click fraud' });

    const w = await wallet(t, adv.id);
    expect(w.balance_micros).toBe(start);
    expect(w.transactions[0]).toMatchObject({ type: 'refund', amount_micros: charged, click_id: clickId, balance_after: w.balance });
    expect(w.transactions[1]).toMatchObject({ type: 'cpc_cost', amount_micros: -charged, click_id: clickId });

    const e = await earnings(t, pub.id);
    expect(e).toMatchObject({ pending_micros: 0, available_micros: 0 });
    expect(micros(e.total)).toBe(0);
    expect(e.transactions.map((x: any) => [x.type, x.amount_micros, x.click_id])).toEqual([['refund', -share, clickId], ['earning', share, clickId]]);

    const c = (await t.admin('GET', `/projects/${adv.id}/campaigns/${adv.campaignId}`)).body;
    expect(c.spent_total).toBe('0.00');
    expect(await t.store.stmt('SELECT CAST(SUM(spent_micros) AS BIGINT) AS s FROM campaign_daily_spend WHERE campaign_id = ?').get([adv.campaignId])).toEqual({ s: 0 });

    const again = await t.admin('POST', `/clicks/${clickId}/invalidate`, { reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('click_not_charged');
    expect((await wallet(t, adv.id)).balance_micros).toBe(start);

    // The impression was charged once and refunded: clicking the link again does not charge it again.
    await click(t, path);
    expect((await wallet(t, adv.id)).balance_micros).toBe(start);

    // Analytics count the refunded click as invalid, with no cost and no earning.
    await t.rt.flushAll();
    const ra = (await t.admin('GET', `/projects/${adv.id}/analytics`)).body;
    expect(ra.totals).toMatchObject({ impressions: 1, valid_clicks: 0, invalid_clicks: 2, ctr: 0, avg_cpc: '0.00', cost: '0.00' });
    const rp = (await t.admin('GET', `/projects/${pub.id}/analytics`)).body;
    expect(rp.totals).toMatchObject({ impressions: 1, valid_clicks: 0, invalid_clicks: 2, earnings: '0.00' });
    await audits(t);
  });

  test('only charged clicks can be invalidated: an invalid click is 409, an unknown click 404 on GET', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Bot Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Bot Pub');
    await click(t, await promotedPath(t, pub.headers), 'Slackbot-LinkExpanding 1.0');
    const bot = (await t.store.stmt(`SELECT id, status, reason FROM clicks`).all()) as any[];
    expect(bot).toEqual([{ id: expect.stringMatching(/^clk_/), status: 'invalid', reason: 'non_human_agent' }]);
    const res = await t.admin('POST', `/clicks/${bot[0].id}/invalidate`, { reason: 'x' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('click_not_charged');
    const missing = await t.admin('GET', '/clicks/clk_doesnotexist');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('click_not_found');
    expect((await wallet(t, adv.id)).transactions.filter((x: any) => x.type !== 'top_up')).toEqual([]);
    await audits(t);
  });

  test('a refund makes an exhausted budget serve again', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Reopen Adv', baseCpc: '0.40', budget: '0.40', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Reopen Pub');
    await click(t, await promotedPath(t, pub.headers));
    const { clickId } = await lastCharge(t, adv.id);
    const none = await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query: PM_QUESTION } });
    expect(((await none.json()) as any).data).toEqual([]);
    expect((await t.admin('POST', `/clicks/${clickId}/invalidate`, { reason: 'refund' })).status).toBe(200);
    const again = await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query: PM_QUESTION } });
    expect(((await again.json()) as any).data).toHaveLength(1);
    expect((await t.admin('GET', `/projects/${adv.id}/campaigns/${adv.campaignId}`)).body).toMatchObject({ status: 'active', spent_total: '0.00' });
    await audits(t);
  });
});

describe('publisher share', () => {
  // A single bidder pays the minimum CPC; an odd minimum makes the split's rounding visible.
  const cases: Array<[number, number, number]> = [
    [50, 5000, 5001],
    [70, 7000, 3001],
    [33.33, 3333, 6668],
    [100, 10001, 0],
    [0, 0, 10001],
  ];
  for (const [percent, publisherShare, platformShare] of cases) {
    test(`publisherSharePercent ${percent}: a 0.010001 click splits ${publisherShare} + ${platformShare} micro-USD`, async () => {
      const t = await app({ publisherSharePercent: percent, minCpc: '0.010001' });
      const adv = await advertiser(t, { name: 'Split Adv', catalog: [CATALOG[0]] });
      const pub = await publisher(t, 'Split Pub');
      await click(t, await promotedPath(t, pub.headers));
      const { clickId, charged } = await lastCharge(t, adv.id);
      expect(charged).toBe(10_001);
      expect((await t.admin('GET', `/clicks/${clickId}`)).body).toMatchObject({ charged_micros: 10_001, publisher_micros: publisherShare, platform_micros: platformShare });
      expect((await earnings(t, pub.id)).pending_micros).toBe(publisherShare);
      expect(await t.store.stmt('SELECT type, amount_micros FROM platform_entries WHERE click_id = ?').all([clickId])).toEqual([{ type: 'fee', amount_micros: platformShare }]);
      await audits(t);
    });
  }

  test('with two bidders the second price is charged and still splits to the micro-unit', async () => {
    const t = await app({ publisherSharePercent: 50 });
    await advertiser(t, { name: 'High Adv', baseCpc: '0.90', catalog: [CATALOG[0]] });
    await advertiser(t, { name: 'Low Adv', baseCpc: '0.37', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Auction Pub');
    await click(t, await promotedPath(t, pub.headers));
    const row = (await t.store.stmt(`SELECT charged_micros, publisher_micros, platform_micros FROM clicks WHERE status = 'charged'`).get()) as any;
    expect(row.charged_micros).toBeGreaterThan(10_000);
    expect(row.charged_micros).toBeLessThanOrEqual(900_000);
    expect(row.publisher_micros).toBe(Math.floor(row.charged_micros / 2));
    expect(row.publisher_micros + row.platform_micros).toBe(row.charged_micros);
    await audits(t);
  });
});

describe('expired links', () => {
  test('a link past its expiry redirects but charges nothing (click invalid, reason expired)', async () => {
    const t = await app();
    const adv = await advertiser(t, { name: 'Expiry Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Expiry Pub');
    const path = await promotedPath(t, pub.headers);
    await t.rt.flushAll();
    const impressionId = /\/r\/(imp_[0-9A-Za-z]{20})\./.exec(path)![1];
    expect(await t.store.stmt('SELECT id FROM impressions WHERE id = ?').get([impressionId])).toEqual({ id: impressionId });
    const keyHex = ((await t.store.stmt(`SELECT value FROM settings WHERE key = 'link_signing_key'`).get()) as { value: string }).value;
    const key = Buffer.from(keyHex, 'hex');
    const balance = (await wallet(t, adv.id)).balance_micros;

    const expired = createTrackingToken(key, impressionId, Date.now() - 1000);
    const res = await click(t, `/r/${expired}`);
    expect(res.headers.get('location')).toBe(CATALOG[0].url);
    expect((await wallet(t, adv.id)).balance_micros).toBe(balance);
    expect(await t.store.stmt('SELECT status, reason, charged_micros FROM clicks WHERE impression_id = ?').all([impressionId])).toEqual([{ status: 'invalid', reason: 'expired', charged_micros: 0 }]);
    expect((await earnings(t, pub.id)).pending_micros).toBe(0);

    // A token signed with another key is not ours: 404, no redirect.
    const forged = createTrackingToken(Buffer.alloc(32, 7), impressionId, Date.now() + DAY_MS);
    const bad = await t.call('GET', `/r/${forged}`, { headers: { 'user-agent': BROWSER_UA } });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('location')).toBeNull();

    // The real link is still valid and is charged once.
    await click(t, path);
    expect((await wallet(t, adv.id)).balance_micros).toBeLessThan(balance);
    await audits(t);
  });

  test('clickTtlDays: the real link expires after the configured days', async () => {
    const start = Date.parse('2030-07-01T12:00:00Z');
    setSystemTime(new Date(start));
    const t = await app({ clickTtlDays: 1 });
    const adv = await advertiser(t, { name: 'Ttl Adv', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Ttl Pub');
    const path = await promotedPath(t, pub.headers);
    const balance = (await wallet(t, adv.id)).balance_micros;
    setSystemTime(new Date(start + DAY_MS + 1000));
    const res = await click(t, path);
    expect(res.headers.get('location')).toBe(CATALOG[0].url);
    expect((await wallet(t, adv.id)).balance_micros).toBe(balance);
    expect(await t.store.stmt('SELECT status, reason FROM clicks').all()).toEqual([{ status: 'invalid', reason: 'expired' }]);
    await audits(t);
  });

  test('clickTtlDays below 1 is a configuration error', async () => {
    const start = async (clickTtlDays: unknown) => (await createTestApp({ configFile: { ads: { clickTtlDays } } })).close();
    await expect(start(0)).rejects.toThrow(/clickTtlDays/);
    await expect(start(1.5)).rejects.toThrow(/clickTtlDays/);
  });
});

describe('analytics', () => {
  test('advertiser and publisher reports: impressions, valid/invalid clicks, cost vs earnings, avg_cpc, ctr, daily and per campaign', async () => {
    const now = Date.parse('2030-05-05T10:00:00Z');
    setSystemTime(new Date(now));
    const t = await app();
    const a = await advertiser(t, { name: 'Boards Adv', catalog: [CATALOG[0]], context: 'project management' });
    const b = await advertiser(t, { name: 'Coffee Adv', catalog: [CATALOG[2]], context: 'coffee' });
    const p1 = await publisher(t, 'Analytics Pub One');
    const p2 = await publisher(t, 'Analytics Pub Two');

    const a1 = await promotedPath(t, p1.headers);
    const a2 = await promotedPath(t, p1.headers);
    const a3 = await promotedPath(t, p1.headers);
    const b1 = await promotedPath(t, p1.headers, COFFEE_QUESTION);
    const a4 = await promotedPath(t, p2.headers);
    const none = await t.chat(p1.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is the capital of Peru?' }] });
    expect(none.status).toBe(200);

    await click(t, a1);
    const chargeA1 = (await lastCharge(t, a.id)).charged;
    await click(t, a1); // duplicate: invalid
    await click(t, a2, 'facebookexternalhit/1.1'); // crawler: invalid
    // a3: shown, never clicked.
    expect(a3).toStartWith('/r/imp_');
    await click(t, b1);
    const chargeB1 = (await lastCharge(t, b.id)).charged;
    await click(t, a4);
    const chargeA4 = (await lastCharge(t, a.id)).charged;
    await t.rt.flushAll();

    const share = (c: number) => Math.floor(c * 0.7);

    // Advertiser A: 4 impressions (3 on P1, 1 on P2), 2 valid clicks, 2 invalid (duplicate, crawler).
    const ra = await t.admin('GET', `/projects/${a.id}/analytics?from=2030-05-05&to=2030-05-05`);
    expect(ra.status).toBe(200);
    expect(ra.body).toMatchObject({ object: 'analytics', project_id: a.id, kind: 'advertiser', from: '2030-05-05', to: '2030-05-05' });
    const costA = chargeA1 + chargeA4;
    expect(ra.body.totals).toMatchObject({ impressions: 4, clicks: 4, valid_clicks: 2, invalid_clicks: 2, unbilled_clicks: 0, ctr: 0.5 });
    expect(micros(ra.body.totals.cost)).toBe(costA);
    expect(micros(ra.body.totals.avg_cpc)).toBe(Math.round(costA / 2));
    expect(ra.body.totals).toMatchObject({ cost_micros: costA, avg_cpc_micros: Math.round(costA / 2) });
    expect(ra.body.totals.earnings).toBeUndefined();
    expect(ra.body.daily).toHaveLength(1);
    expect(ra.body.daily[0]).toMatchObject({ date: '2030-05-05', impressions: 4, valid_clicks: 2, invalid_clicks: 2 });
    expect(ra.body.campaigns).toEqual([expect.objectContaining({ campaign_id: a.campaignId, name: 'Boards Adv campaign', impressions: 4, valid_clicks: 2 })]);
    expect(ra.body.no_fill).toBeUndefined();
    // Where A's promotions ran: per publisher project, by its domain; publisher_project_id filters the report.
    const byPublisher = Object.fromEntries(ra.body.publishers.map((x: any) => [x.publisher_project_id, x]));
    expect(byPublisher[p1.id]).toMatchObject({ impressions: 3, valid_clicks: 1, invalid_clicks: 2, cost_micros: chargeA1 });
    expect(byPublisher[p2.id]).toMatchObject({ impressions: 1, valid_clicks: 1, cost_micros: chargeA4 });
    expect(byPublisher[p1.id].domain).toMatch(/\./);
    const onlyP2 = await t.admin('GET', `/projects/${a.id}/analytics?from=2030-05-05&to=2030-05-05&publisher_project_id=${p2.id}`);
    expect(onlyP2.body.totals).toMatchObject({ impressions: 1, valid_clicks: 1, invalid_clicks: 0, cost_micros: chargeA4 });
    expect(onlyP2.body.publishers.map((x: any) => x.publisher_project_id)).toEqual([p2.id]);

    // Publisher P1: 4 impressions (3 of A, 1 of B), valid clicks a1 and b1, earnings = its shares.
    const rp = await t.admin('GET', `/projects/${p1.id}/analytics?from=2030-05-05&to=2030-05-05`);
    expect(rp.status).toBe(200);
    expect(rp.body.kind).toBe('publisher');
    expect(rp.body.totals).toMatchObject({ impressions: 4, clicks: 4, valid_clicks: 2, invalid_clicks: 2, ctr: 0.5 });
    expect(micros(rp.body.totals.earnings)).toBe(share(chargeA1) + share(chargeB1));
    expect(micros(rp.body.totals.advertiser_spend)).toBe(chargeA1 + chargeB1);
    expect(micros(rp.body.totals.avg_cpc)).toBe(Math.round((chargeA1 + chargeB1) / 2));
    expect(rp.body.totals).toMatchObject({ earnings_micros: share(chargeA1) + share(chargeB1), advertiser_spend_micros: chargeA1 + chargeB1, avg_cpc_micros: Math.round((chargeA1 + chargeB1) / 2) });
    expect(rp.body.totals.cost).toBeUndefined();
    const byCampaign = Object.fromEntries(rp.body.campaigns.map((c: any) => [c.campaign_id, c]));
    expect(Object.keys(byCampaign).sort()).toEqual([a.campaignId, b.campaignId].sort());
    expect(byCampaign[a.campaignId]).toMatchObject({ name: 'Boards Adv campaign', impressions: 3, valid_clicks: 1, invalid_clicks: 2, ctr: 0.3333 });
    expect(byCampaign[b.campaignId]).toMatchObject({ name: 'Coffee Adv campaign', impressions: 1, valid_clicks: 1, invalid_clicks: 0, ctr: 1 });
    expect(micros(byCampaign[b.campaignId].earnings)).toBe(share(chargeB1));
    expect(rp.body.no_fill).toEqual({ no_relevant_product: 1 });
    expect(rp.body.daily_no_fill).toEqual({ '2030-05-05': { no_relevant_product: 1 } });

    // campaign_id filters both sides.
    const onlyB = await t.admin('GET', `/projects/${p1.id}/analytics?from=2030-05-05&to=2030-05-05&campaign_id=${b.campaignId}`);
    expect(onlyB.body.totals).toMatchObject({ impressions: 1, clicks: 1, valid_clicks: 1, invalid_clicks: 0, ctr: 1 });
    expect(micros(onlyB.body.totals.earnings)).toBe(share(chargeB1));
    expect(onlyB.body.campaigns.map((c: any) => c.campaign_id)).toEqual([b.campaignId]);
    const foreign = await t.admin('GET', `/projects/${a.id}/analytics?campaign_id=${b.campaignId}`);
    expect(foreign.body.totals).toMatchObject({ impressions: 0, clicks: 0, ctr: 0, avg_cpc: '0.00', cost: '0.00' });

    // Publisher P2 sees only its own impression and click.
    const r2 = await t.admin('GET', `/projects/${p2.id}/analytics`);
    expect(r2.body.totals).toMatchObject({ impressions: 1, valid_clicks: 1, invalid_clicks: 0, ctr: 1 });
    expect(micros(r2.body.totals.earnings)).toBe(share(chargeA4));
    expect(r2.body).toMatchObject({ from: '2030-04-06', to: '2030-05-05' });

    // A range without activity is all zeros; the default range ends today.
    const empty = await t.admin('GET', `/projects/${a.id}/analytics?from=2030-05-01&to=2030-05-04`);
    expect(empty.status).toBe(200);
    expect(empty.body.totals).toEqual({ impressions: 0, clicks: 0, valid_clicks: 0, invalid_clicks: 0, unbilled_clicks: 0, ctr: 0, avg_cpc: '0.00', avg_cpc_micros: 0, cost: '0.00', cost_micros: 0 });
    expect(empty.body.daily).toEqual([]);
    expect(empty.body.campaigns).toEqual([]);
    await audits(t);
  });

  test('400 for bad dates', async () => {
    const t = await app();
    const pub = await publisher(t, 'Dates Pub');
    for (const q of ['from=2030-5-5', 'from=yesterday&to=2030-05-05', 'from=2030-05-01&to=2030-5-5', 'from=2030-05-06&to=2030-05-05', 'from=2029-01-01&to=2030-05-05', 'from=2030-13-01&to=2030-12-31']) {
      const res = await t.admin('GET', `/projects/${pub.id}/analytics?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_value');
    }
    expect((await t.admin('GET', `/projects/${pub.id}/analytics?from=2030-05-05&to=2030-05-05`)).status).toBe(200);
    expect((await t.admin('GET', '/projects/proj_doesnotexist/analytics')).status).toBe(404);
  });

  test('a malformed `to` without `from` is 400, not 500', async () => {
    const t = await app();
    const pub = await publisher(t, 'Bad To Pub');
    for (const q of ['to=yesterday', 'to=2030-5-5']) {
      const res = await t.admin('GET', `/projects/${pub.id}/analytics?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_value', param: 'to' });
    }
  });

  test('an impossible calendar date is 400', async () => {
    const t = await app();
    const pub = await publisher(t, 'Bad Day Pub');
    for (const q of ['from=2030-02-30&to=2030-03-28', 'from=2030-02-01&to=2030-02-30', 'from=2030-04-31&to=2030-05-05']) {
      const res = await t.admin('GET', `/projects/${pub.id}/analytics?${q}`);
      expect(res.status).toBe(400);
    }
  });
});
