import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { auditMarketMoney } from '../../src/clicks/audit';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, CATALOG, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: 'Here is an organic answer.' });
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const QUESTIONS = [
  'What project management tool can help my team track tasks and deadlines?',
  'Which trail running shoes work on rocky and muddy paths?',
  'Recommend a burr coffee grinder for espresso',
];

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function prng(seed: number) {
  return (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
}

async function promotedLink(headers: Record<string, string>, question: string, conversation: string): Promise<string | null> {
  const res = await t.chat(headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] }, { 'x-conversation-id': conversation });
  const link = trackedLink((await res.json() as any).choices[0].message.content);
  return link ? new URL(link).pathname : null;
}

describe('marketplace money under randomized and concurrent clicks', () => {
  test('charges never exceed budgets or wallets; advertiser charges = publisher earnings + platform share', async () => {
    // Small budgets and wallets so that they run out during the run.
    const advertisers = [
      // All three bid on the same products, so second-price auctions set real prices.
      await advertiser(t, { name: 'Adv Total', funds: '3.00', baseCpc: '0.45', budget: '1.50', budgetType: 'total' }),
      await advertiser(t, { name: 'Adv Daily', funds: '5.00', baseCpc: '0.30', budget: '1.00', budgetType: 'daily' }),
      await advertiser(t, { name: 'Adv Poor', funds: '0.30', baseCpc: '0.25', budget: '20.00', budgetType: 'total' }),
    ];
    const publishers = [await publisher(t, 'Pub One'), await publisher(t, 'Pub Two')];
    const rand = prng(7);
    const links: string[] = [];
    for (let round = 0; round < 12; round++) {
      const batch = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          promotedLink(publishers[rand(2)].headers, QUESTIONS[rand(QUESTIONS.length)], `money-${round}-${i}`),
        ),
      );
      for (const link of batch) if (link) links.push(link);
      // Clicks race: the same link several times at once, sometimes by a crawler, sometimes repeated later.
      await Promise.all(
        batch.flatMap((link) => {
          if (!link) return [];
          const agent = rand(5) === 0 ? 'Twitterbot/1.0' : BROWSER_UA;
          return Array.from({ length: 1 + rand(4) }, () => t.call('GET', link, { headers: { 'user-agent': agent } }).then((r) => expect(r.status).toBe(302)));
        }),
      );
      if (links.length > 0 && rand(3) === 0) await t.call('GET', links[rand(links.length)], { headers: { 'user-agent': BROWSER_UA } });
    }
    await t.rt.flushAll();
    await t.rt.market.writesSettled();
    expect(links.length).toBeGreaterThan(5);

    const clicks = await t.store.stmt<any>(`SELECT status, reason, count(*) AS n FROM clicks GROUP BY status, reason`).all();
    const count = (status: string, reason?: string) => clicks.filter((c) => c.status === status && (reason === undefined || c.reason === reason)).reduce((a, c) => a + c.n, 0);
    expect(count('charged')).toBeGreaterThan(0);
    expect(count('invalid', 'duplicate')).toBeGreaterThan(0);
    expect(count('invalid', 'non_human_agent')).toBeGreaterThan(0);

    for (const adv of advertisers) {
      const campaign = (await t.admin('GET', `/projects/${adv.id}/campaigns/${adv.campaignId}`)).body;
      const wallet = (await t.admin('GET', `/projects/${adv.id}/wallet`)).body;
      expect(wallet.balance_micros).toBeGreaterThanOrEqual(0);
      if (campaign.budget_type === 'total') expect(Number(campaign.spent_total)).toBeLessThanOrEqual(Number(campaign.budget));
    }
    // Budgets and wallets ran out: the system paused those campaigns itself, with the reason.
    const paused = await t.store.stmt<any>(`SELECT pause_reason FROM campaigns WHERE status = 'paused_system'`).all();
    expect(paused.map((p) => p.pause_reason).sort()).toEqual(['budget_exhausted', 'budget_exhausted', 'funds_short']);
    expect(await auditMarketMoney(t.store)).toEqual([]);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('one impression clicked 20 times at once is charged exactly once', async () => {
    await advertiser(t, { name: 'Adv Race', funds: '10.00', catalog: [CATALOG[0]] });
    const pub = await publisher(t, 'Pub Race');
    const link = await promotedLink(pub.headers, QUESTIONS[0], 'race-1');
    expect(link).not.toBeNull();
    await t.rt.flushAll();
    await t.rt.market.writesSettled();
    const impressionId = /\/r\/(imp_[0-9A-Za-z]+)\./.exec(link!)![1];
    const { advertiser_project_id: advId } = (await t.store.stmt<any>('SELECT advertiser_project_id FROM impressions WHERE id = ?').get([impressionId]))!;
    const before = (await t.admin('GET', `/projects/${advId}/wallet`)).body.balance_micros;
    const results = await Promise.all(Array.from({ length: 20 }, () => t.call('GET', link!, { headers: { 'user-agent': BROWSER_UA } })));
    expect(results.every((r) => r.status === 302)).toBe(true);
    const wallet = (await t.admin('GET', `/projects/${advId}/wallet`)).body;
    expect(wallet.transactions.filter((x: any) => x.type === 'cpc_cost')).toHaveLength(1);
    const charge = before - wallet.balance_micros;
    expect(charge).toBeGreaterThan(0);
    const statuses = await t.store.stmt('SELECT status, count(*) AS n FROM clicks WHERE impression_id = ? GROUP BY status ORDER BY status').all([impressionId]);
    expect(statuses).toEqual([{ status: 'charged', n: 1 }, { status: 'invalid', n: 19 }]);
    const earnings = (await t.admin('GET', `/projects/${pub.id}/earnings`)).body;
    expect(earnings.pending_micros).toBe(Math.floor(charge * 0.7));
    expect(await auditMarketMoney(t.store)).toEqual([]);
  });
});
