import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, CATALOG, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
let adv: { id: string; campaignId: string };
let pub: { id: string; headers: Record<string, string> };
let other: { id: string; campaignId: string };

const QUESTION = 'What project management tool can help my team track tasks and deadlines?';

async function linkPath(conversation: string): Promise<string> {
  const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] }, { 'x-conversation-id': conversation });
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  expect(link).not.toBeNull();
  return new URL(link!).pathname;
}

const follow = async (path: string, ua: string) => expect((await t.call('GET', path, { headers: { 'user-agent': ua } })).status).toBe(302);

async function list(projectId: string, query = '') {
  const res = await t.admin('GET', `/projects/${projectId}/clicks${query}`);
  return res;
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: 'Here is an organic answer.' });
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  adv = await advertiser(t, { name: 'Clicks Adv', catalog: [CATALOG[0]] });
  other = await advertiser(t, { name: 'Quiet Adv', catalog: [CATALOG[2]] });
  pub = (await publisher(t, 'Clicks Pub')) as any;
  // Oldest to newest: a charged click, its duplicate, a crawler's click on a second link.
  const first = await linkPath('clicks-1');
  await follow(first, BROWSER_UA);
  await follow(first, BROWSER_UA);
  await follow(await linkPath('clicks-2'), 'curl/8.5.0');
}, 60_000);
afterAll(async () => {
  await t.close();
  await upstream.close();
}, 60_000);

describe('GET /admin/v1/projects/{id}/clicks', () => {
  test('an advertiser sees its clicks newest first, with status, reason, money and ISO 8601 times', async () => {
    const res = await list(adv.id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    const data = res.body.data as any[];
    expect(data.map((c) => [c.status, c.reason])).toEqual([['invalid', 'non_human_agent'], ['invalid', 'duplicate'], ['charged', null]]);
    const charged = data[2];
    expect(charged).toMatchObject({ object: 'click', campaign_id: adv.campaignId, advertiser_project_id: adv.id, publisher_project_id: pub.id, user_agent: BROWSER_UA });
    expect(charged.charged_micros).toBeGreaterThan(0);
    expect(charged.charged_micros).toBe(charged.publisher_micros + charged.platform_micros);
    expect(charged.charged).toMatch(/^\d+\.\d{2,6}$/);
    expect(charged.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(data[0].charged).toBe('0.00');
    // The single-click view has the same shape.
    expect((await t.admin('GET', `/clicks/${charged.id}`)).body).toEqual(charged);
  });

  test('a publisher sees the same clicks; another advertiser sees none', async () => {
    expect(((await list(pub.id)).body.data as any[]).map((c) => c.id)).toEqual(((await list(adv.id)).body.data as any[]).map((c) => c.id));
    expect((await list(other.id)).body.data).toEqual([]);
  });

  test('filters by status, reason and campaign', async () => {
    expect(((await list(adv.id, '?status=invalid')).body.data as any[]).map((c) => c.reason)).toEqual(['non_human_agent', 'duplicate']);
    expect(((await list(adv.id, '?status=charged')).body.data as any[]).map((c) => c.status)).toEqual(['charged']);
    expect(((await list(pub.id, '?reason=duplicate')).body.data as any[]).map((c) => c.reason)).toEqual(['duplicate']);
    expect(((await list(adv.id, `?campaign_id=${adv.campaignId}&status=invalid&reason=non_human_agent`)).body.data as any[])).toHaveLength(1);
    expect((await list(pub.id, `?campaign_id=${other.campaignId}`)).body.data).toEqual([]);
  });

  test('pages with limit and cursor, newest first, without gaps or repeats', async () => {
    const all = ((await list(adv.id)).body.data as any[]).map((c) => c.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const res = await list(adv.id, `?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((c: any) => c.id));
      cursor = res.body.next_cursor;
      expect(res.body.has_more).toBe(cursor !== null);
      if (!cursor) break;
    }
    expect(seen).toEqual(all);
  });

  test('400 for a bad status, limit or cursor; 404 for an unknown project; 401 without the admin token', async () => {
    const bad = await list(adv.id, '?status=valid');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_value', param: 'status' });
    expect((await list(adv.id, '?limit=0')).body.error).toMatchObject({ code: 'invalid_value', param: 'limit' });
    expect((await list(adv.id, '?limit=1001')).status).toBe(400);
    expect((await list(adv.id, '?cursor=abc')).body.error).toMatchObject({ code: 'invalid_cursor', param: 'cursor' });
    expect((await list('proj_missing')).status).toBe(404);
    expect((await t.call('GET', `/admin/v1/projects/${adv.id}/clicks`)).status).toBe(401);
  });
});
