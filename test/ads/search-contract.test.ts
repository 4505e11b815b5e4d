import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, CATALOG, publisher } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** Six coffee grinders from one brand: more matching products than a campaign may place in one result. */
const GRINDERS = ['Conical', 'Flat', 'Hand', 'Travel', 'Studio', 'Cafe'].map((model, i) => ({
  name: `Brewmaster ${model} Burr Grinder`,
  // Half of them say "espresso": within the campaign they rank above the others for an espresso question.
  description: `A ${model.toLowerCase()} burr coffee grinder with ${20 + i * 5} grind settings${i % 2 === 0 ? ' for espresso shots' : ' for filter coffee'}.`,
  url: `https://brewmaster.example/${model.toLowerCase()}`,
  keywords: ['coffee grinder', 'espresso', 'burr'],
  category: 'coffee_equipment',
}));
const RIVAL = [
  { name: 'Grindwell Espresso Grinder', description: 'A stepless burr coffee grinder for espresso at home.', url: 'https://grindwell.example/espresso', keywords: ['coffee grinder', 'espresso'], category: 'coffee_equipment' },
  { name: 'Grindwell Pour-Over Grinder', description: 'A burr coffee grinder tuned for pour-over and filter coffee.', url: 'https://grindwell.example/pour-over', keywords: ['coffee grinder', 'pour-over'], category: 'coffee_equipment' },
];
const QUESTION = 'Which burr coffee grinder should I buy for espresso?';

type Result = { product: { id: string; name: string; url: string }; campaign: { id: string }; advertiser: { id: string }; relevance: number };

async function searchAs(t: TestApp, headers: Record<string, string>, body: Record<string, unknown>) {
  const res = await t.call('POST', '/v1/promotions/search', { headers, body });
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Result[] }).data;
}

function perCampaign(results: Result[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of results) counts.set(r.campaign.id, (counts.get(r.campaign.id) ?? 0) + 1);
  return counts;
}

describe('promotion search: several products per campaign (default maxProductsPerCampaign 3)', () => {
  let upstream: FakeUpstream;
  let t: TestApp;
  let brew: Awaited<ReturnType<typeof advertiser>>;
  let grind: Awaited<ReturnType<typeof advertiser>>;
  let pub: Awaited<ReturnType<typeof publisher>>;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    t = await createTestApp({ upstreamUrl: upstream.baseUrl });
    // Equal bids: the order is the relevance order.
    brew = await advertiser(t, { name: 'Brewmaster', catalog: GRINDERS, baseCpc: '0.40', context: 'coffee lovers grinding beans at home' });
    grind = await advertiser(t, { name: 'Grindwell', catalog: RIVAL, baseCpc: '0.40', context: 'coffee lovers grinding beans at home' });
    await advertiser(t, { name: 'Other Goods', catalog: CATALOG.slice(0, 2), baseCpc: '0.40' });
    pub = await publisher(t, 'Carousel Pub');
  });
  afterAll(async () => {
    t.close();
    await upstream.close();
  });

  test('a campaign places at most 3 products, its most relevant; rivals fill the rest, best first', async () => {
    const results = await searchAs(t, pub.headers, { query: QUESTION, limit: 20 });
    const counts = perCampaign(results);
    expect(counts.get(brew.campaignId)).toBe(3);
    expect(counts.get(grind.campaignId)).toBe(2);
    expect(results.length).toBe(5);
    // Best first (equal bids): relevance never rises down the list.
    for (let i = 1; i < results.length; i++) expect(results[i].relevance).toBeLessThanOrEqual(results[i - 1].relevance);
    expect(new Set(results.map((r) => r.product.id)).size).toBe(results.length);
    // The three Brewmaster products shown are its three most relevant ones (as a search with a larger cap ranks them).
    const wide = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile: { ads: { maxProductsPerCampaign: 10 } } });
    try {
      await advertiser(wide, { name: 'Brewmaster', catalog: GRINDERS, baseCpc: '0.40', context: 'coffee lovers grinding beans at home' });
      const widePub = await publisher(wide, 'Wide Pub');
      const all = await searchAs(wide, widePub.headers, { query: QUESTION, limit: 20 });
      expect(all.length).toBe(GRINDERS.length);
      const names = (rs: Result[]) => rs.filter((r) => r.product.name.startsWith('Brewmaster')).map((r) => r.product.name);
      expect(names(results)).toEqual(names(all).slice(0, 3));
      expect(all[2].relevance).toBeGreaterThan(all[3].relevance);
    } finally {
      wide.close();
    }
  });

  test('limit is respected and keeps the head of the same ranking', async () => {
    const full = await searchAs(t, pub.headers, { query: QUESTION, limit: 20 });
    for (const limit of [1, 2, 4]) {
      const head = await searchAs(t, pub.headers, { query: QUESTION, limit });
      expect(head.length).toBe(limit);
      expect(head.map((r) => r.product.id)).toEqual(full.slice(0, limit).map((r) => r.product.id));
    }
    // Default limit 5; 0, 21 and non-integers are refused.
    expect((await searchAs(t, pub.headers, { query: QUESTION })).length).toBe(5);
    for (const limit of [0, 21, 2.5, '3'])
      expect((await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query: QUESTION, limit } })).status).toBe(400);
  });

  test('an answer still carries exactly one promotion', async () => {
    upstream.script({ kind: 'normal', content: 'A burr grinder gives an even grind, which matters most for espresso.' });
    const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] });
    const content: string = ((await res.json()) as any).choices[0].message.content;
    expect(content.match(/\*Sponsored:\*/g)?.length).toBe(1);
    expect(content.match(/\]\(http:\/\/127\.0\.0\.1:8080\/r\//g)?.length).toBe(1);
  });

  test('the relevance floor and every gate still apply', async () => {
    // Below the floor: nothing, however large the limit.
    expect(await searchAs(t, pub.headers, { query: 'history of the roman empire', limit: 20 })).toEqual([]);
    // Sensitive conversation: nothing.
    expect(await searchAs(t, pub.headers, { query: 'I want to kill myself, which coffee grinder should I buy?', limit: 20 })).toEqual([]);
    // Every result clears the floor.
    for (const r of await searchAs(t, pub.headers, { query: QUESTION, limit: 20 })) expect(r.relevance).toBeGreaterThanOrEqual(t.config.ads.relevanceFloor);
    // Blocked category: none of its products, from any campaign.
    const blocked = await publisher(t, 'Blocking Pub');
    expect((await t.admin('PATCH', `/projects/${blocked.id}`, { blocked_categories: ['coffee_equipment'] })).status).toBe(200);
    expect(await searchAs(t, blocked.headers, { query: QUESTION, limit: 20 })).toEqual([]);
    // Monetization off: nothing.
    const off = await t.project('10.00', 'Unmonetized Pub');
    expect(await searchAs(t, off.headers, { query: QUESTION, limit: 20 })).toEqual([]);
    // A paused campaign places none of its products.
    expect((await t.admin('POST', `/projects/${grind.id}/campaigns/${grind.campaignId}/pause`)).status).toBe(200);
    const paused = await searchAs(t, pub.headers, { query: QUESTION, limit: 20 });
    expect(perCampaign(paused).has(grind.campaignId)).toBe(false);
    expect(perCampaign(paused).get(brew.campaignId)).toBe(3);
    expect((await t.admin('POST', `/projects/${grind.id}/campaigns/${grind.campaignId}/activate`)).status).toBe(200);
  });
});

describe('promotion search with maxProductsPerCampaign 1', () => {
  test('one product per campaign, the most relevant', async () => {
    const t = await createTestApp({ configFile: { ads: { maxProductsPerCampaign: 1 } } });
    try {
      const brew = await advertiser(t, { name: 'Brewmaster', catalog: GRINDERS, context: 'coffee lovers grinding beans at home' });
      const grind = await advertiser(t, { name: 'Grindwell', catalog: RIVAL, context: 'coffee lovers grinding beans at home' });
      const pub = await publisher(t, 'Single Pub');
      const results = await searchAs(t, pub.headers, { query: QUESTION, limit: 20 });
      expect([...perCampaign(results).entries()].sort()).toEqual([[brew.campaignId, 1], [grind.campaignId, 1]].sort() as [string, number][]);
    } finally {
      t.close();
    }
  });
});
