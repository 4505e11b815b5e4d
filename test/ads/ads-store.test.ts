/**
 * The ad serving's own reads and writes on the store the tests run on (SQLite by default, PostgreSQL with
 * VEXRAIL_TEST_STORE=postgres): the ad index read whole (streamed, or in keyset pages) and per campaign, the
 * matcher's index kept in step in the order changes were made, impressions, no-fill counts and judge costs
 * written in one transaction per batch, and a serving set whose judgements answer out of order.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createAdIndexRepo, type UnitRow } from '../../src/ads/ad-index.repo';
import { createImpressionsRepo, type ImpressionRow } from '../../src/ads/impressions.repo';
import type { JudgeCallRow } from '../../src/ads/judge';
import { createMatcher } from '../../src/ads/matcher';
import { createServingSet } from '../../src/ads/serving-set';
import type { CampaignState } from '../../src/campaigns/campaigns.repo';
import type { SqlStore } from '../../src/store/sql-store';
import { createTestStore, TEST_STORE } from '../helpers/test-app';

let opened: { store: SqlStore; close(): Promise<void> };
let store: SqlStore;

const PRODUCTS = ['Trail running shoes', 'Burr coffee grinder', 'Espresso machine', 'Kanban board software', 'Standing desk', 'Desk lamp', 'Noise cancelling headphones'];

beforeAll(async () => {
  opened = await createTestStore();
  store = opened.store;
  for (const id of ['adv_a', 'adv_b', 'pub_a'])
    await store.stmt(`INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at) VALUES ($id, $id, $kind, $domain, 'tok', 0, 0)`)
      .run({ id, kind: id.startsWith('adv') ? 'advertiser' : 'publisher', domain: `${id}.example` });
  for (const [i, name] of PRODUCTS.entries())
    await store.stmt(`INSERT INTO products (id, project_id, name, description, url, keywords, category, created_at) VALUES ($id, $project, $name, $name, $url, $keywords, NULL, 0)`)
      .run({ id: `prod_${i}`, project: i < 4 ? 'adv_a' : 'adv_b', name, url: `https://x.example/${i}`, keywords: JSON.stringify([name.toLowerCase()]) });
  for (const [id, project] of [['camp_a', 'adv_a'], ['camp_b', 'adv_b']])
    await store.stmt(`INSERT INTO campaigns (id, project_id, name, base_cpc_micros, budget_micros, budget_type, status, created_at, updated_at) VALUES ($id, $project, $id, 100000, 1000000, 'total', 'active', 0, 0)`)
      .run({ id, project });
  for (let i = 0; i < PRODUCTS.length; i++)
    await store.stmt('INSERT INTO campaign_products (campaign_id, product_id) VALUES ($campaign, $product)').run({ campaign: i < 4 ? 'camp_a' : 'camp_b', product: `prod_${i}` });
});
afterAll(async () => {
  await opened.close();
});

async function collect(units: Iterable<UnitRow> | AsyncIterable<UnitRow>): Promise<UnitRow[]> {
  const rows: UnitRow[] = [];
  for await (const u of units) rows.push(u);
  return rows;
}

describe(`ad index on ${TEST_STORE}`, () => {
  test('every unit once, in seq order, whatever the page size; and the units of one campaign', async () => {
    for (const pageRows of [1, 3, 7, 100]) {
      const rows = await collect(createAdIndexRepo(store, { pageRows }).allUnits());
      expect(rows.map((r) => r.product_id)).toEqual(PRODUCTS.map((_, i) => `prod_${i}`));
      expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
      expect(typeof rows[0].seq).toBe('number');
      expect(rows[4]).toEqual(expect.objectContaining({ campaign_id: 'camp_b', advertiser_project_id: 'adv_b', campaign_name: 'camp_b', context: '', category: null }));
    }
    const repo = createAdIndexRepo(store);
    expect((await repo.unitsOfCampaign('camp_b')).map((r) => r.name).sort()).toEqual(['Desk lamp', 'Noise cancelling headphones', 'Standing desk']);
    expect(await repo.unitsOfCampaign('camp_none')).toEqual([]);
  });

  test('the matcher ranks after its build, and re-reads changed campaigns in the order they changed', async () => {
    const repo = createAdIndexRepo(store, { pageRows: 2 });
    const matcher = createMatcher({ index: repo });
    await matcher.ready();
    expect(matcher.stats().units).toBe(PRODUCTS.length);
    const names = async (q: string) => (await matcher.rank({ current: q, earlier: [] }, () => true, 5)).map((c) => c.unit.name);
    expect((await names('which burr coffee grinder should I buy'))[0]).toBe('Burr coffee grinder');

    // Renamed, then deleted, each change announced right after it committed: the last one wins.
    await store.stmt("UPDATE products SET name = 'Conical burr grinder' WHERE id = 'prod_1'").run();
    repo.syncCampaign('camp_a');
    const first = matcher.invalidate();
    await store.stmt('UPDATE products SET deleted_at = 1 WHERE id = $id').run({ id: 'prod_1' });
    repo.syncCampaign('camp_a');
    matcher.invalidate();
    await first;
    expect(await names('conical burr grinder')).not.toContain('Conical burr grinder');
    expect(matcher.stats().units).toBe(PRODUCTS.length - 1);
    await store.stmt('UPDATE products SET deleted_at = NULL WHERE id = $id').run({ id: 'prod_1' });
    repo.syncCampaign('camp_a');
    // A ranking waits for the re-read asked before it.
    expect(await names('conical burr grinder')).toContain('Conical burr grinder');
  });
});

describe(`impressions on ${TEST_STORE}`, () => {
  const impression = (i: number): ImpressionRow => ({
    id: `imp_${String(i).padStart(4, '0')}`, publisher_project_id: 'pub_a', advertiser_project_id: 'adv_a', campaign_id: 'camp_a', product_id: 'prod_0',
    conversation_id: i % 2 === 0 ? 'conv_1' : null, request_id: `req_${i}`, turn: i, relevance: 0.5 + i / 10_000, price_micros: 100_000 + i,
    created_at: 1_700_000_000_000 + i, expires_at: 1_700_086_400_000 + i,
  });

  test('a batch of 301 in one transaction (multi-row inserts), written twice, stays 301 rows with their values', async () => {
    const repo = createImpressionsRepo(store);
    const batch = Array.from({ length: 301 }, (_, i) => impression(i));
    await repo.writeBatch(batch, [{ publisherProjectId: 'pub_a', day: '2026-01-01', reason: 'frequency_cap', count: 2 }]);
    await repo.writeBatch(batch.slice(0, 5), [{ publisherProjectId: 'pub_a', day: '2026-01-01', reason: 'frequency_cap', count: 3 }]);
    expect((await store.stmt<{ n: number }>('SELECT count(*) AS n FROM impressions').get())!.n).toBe(301);
    expect(await repo.get('imp_0300')).toEqual(impression(300));
    expect(await repo.get('imp_0007')).toEqual(impression(7));
    expect(await repo.get('imp_none')).toBeNull();
    expect((await repo.lastInConversation('pub_a', 'conv_1'))!.id).toBe('imp_0300');
    expect(await repo.lastInConversation('pub_a', 'conv_none')).toBeNull();
    expect(await store.stmt('SELECT reason, count FROM no_fill_daily').all()).toEqual([{ reason: 'frequency_cap', count: 5 }]);
  });

  test('a batch that fails is rolled back whole', async () => {
    const repo = createImpressionsRepo(store);
    const bad = { ...impression(1000), campaign_id: 'camp_missing' };
    await expect(repo.writeBatch([impression(999), bad], [{ publisherProjectId: 'pub_a', day: '2026-01-02', reason: 'sensitive_topic', count: 1 }])).rejects.toThrow();
    expect(await repo.get('imp_0999')).toBeNull();
    expect(await store.stmt("SELECT count FROM no_fill_daily WHERE day = '2026-01-02'").all()).toEqual([]);
  });

  test('judge calls: written once each', async () => {
    const repo = createImpressionsRepo(store);
    const call = (i: number): JudgeCallRow => ({
      request_id: `req_j${i}`, publisher_project_id: 'pub_a', impression_id: `imp_j${i}`, model: 'gpt-4o-mini', outcome: 'confirmed',
      prompt_tokens: 100 + i, completion_tokens: 10, usage_reported: 1, cost_micros: 7 + i, latency_ms: 30, created_at: 1_700_000_000_000 + i,
    });
    const calls = Array.from({ length: 19 }, (_, i) => call(i));
    await repo.writeJudgeCalls(calls);
    await repo.writeJudgeCalls(calls.slice(3, 6));
    const rows = await store.stmt<JudgeCallRow>('SELECT * FROM judge_calls ORDER BY created_at').all();
    expect(rows).toEqual(calls);
  });
});

describe('serving set with judgements that answer later', () => {
  const state = (id: string, project: string, cpc: number) => ({ id, project_id: project, base_cpc_micros: cpc, status: 'active' }) as unknown as CampaignState;

  test('an older judgement answering after a newer one does not undo it', async () => {
    const answers: Array<(rows: CampaignState[]) => void> = [];
    const set = createServingSet({
      evaluateCampaigns: () => new Promise<CampaignState[]>((resolve) => answers.push(resolve)),
      evaluateCampaignPage: async () => ({ judged: [], serving: [], lastId: null, done: true }),
      networkStore: true,
    });
    const older = set.refresh('adv_a');
    const newer = set.refresh('adv_a');
    // The newer one answers first: the campaign stopped serving. The older one (it still served) comes late.
    answers[1]([]);
    await newer;
    answers[0]([state('camp_a', 'adv_a', 100_000)]);
    await older;
    expect(set.get('camp_a')).toBeNull();
    // A later judgement that serves it again does.
    const again = set.refresh('adv_a');
    answers[2]([state('camp_a', 'adv_a', 200_000)]);
    await again;
    expect(set.get('camp_a')?.base_cpc_micros).toBe(200_000);
  });

  test('a sweep page that answers after a refresh of the same campaign keeps the refresh', async () => {
    let pageAnswer: ((page: { judged: string[]; serving: CampaignState[]; lastId: string | null; done: boolean }) => void) | null = null;
    let refreshRows: CampaignState[] = [state('camp_a', 'adv_a', 100_000)];
    const set = createServingSet({
      evaluateCampaigns: async () => refreshRows,
      evaluateCampaignPage: () => new Promise((resolve) => (pageAnswer = resolve)),
      networkStore: true,
    });
    await set.refresh(null);
    const sweeping = set.sweep({ sliceMs: 1, pause: async () => {} });
    // Paused after the page was read: the refresh (newer) stops it; the page (older, still active) answers after.
    refreshRows = [];
    await set.refresh('adv_a');
    pageAnswer!({ judged: ['camp_a'], serving: [state('camp_a', 'adv_a', 100_000)], lastId: 'camp_a', done: true });
    const report = await sweeping;
    expect(report.judged).toBe(1);
    expect(set.get('camp_a')).toBeNull();
  });
});
