/**
 * Impressions go through a write-behind queue, but a full queue must never drop one: a click on an
 * impression that never reached the store is revenue lost. The marketplace here has a queue of two and a
 * timer that never fires, so only the overflow path can write.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createMarketplace, type Marketplace } from '../../src/ads/marketplace';
import type { AnswerDecorator } from '../../src/chat/answer-decorator';
import { createUpstreamClient } from '../../src/upstream/upstream.client';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
let small: Marketplace;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: 'Many teams use a shared board to plan work and track deadlines.' });
  // Answers are decorated by the small-queue marketplace built below, once the runtime it needs exists.
  const decorator: AnswerDecorator = { decide: (ctx) => small.ads.decorator.decide(ctx) };
  t = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile: { flush_interval_ms: 3_600_000 }, runtime: { decorator } });
  await advertiser(t);
  small = createMarketplace({
    config: t.config, store: t.store, projects: t.rt.projects, wallet: t.rt.wallet, catalog: t.rt.catalog,
    upstream: createUpstreamClient({ fetch: (url, init) => fetch(url, init), demo: () => Promise.reject(new Error('unused')) }),
    recentUserMessages: t.rt.conversations.recentUserMessages,
    impressionQueueMax: 2,
  });
  await small.refreshCampaigns(null);
  await small.ready();
});
afterAll(async () => {
  await small.stop();
  await t.close();
  await upstream.close();
});

const stored = async (id: string) => (await t.store.stmt<{ n: number }>('SELECT count(*) AS n FROM impressions WHERE id = ?').get([id]))!;

describe('impressions are never dropped by a full queue', () => {
  test('the answer that overflows the queue writes every queued impression before it completes, and all are clickable', async () => {
    const pub = await publisher(t, 'Queue Pub');
    const links: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What project management tool can help my team track tasks and deadlines?' }] });
      const link = trackedLink(((await res.json()) as any).choices[0].message.content);
      expect(link).not.toBeNull();
      links.push(new URL(link!).pathname);
    }
    const ids = links.map((l) => /\/r\/(imp_[0-9A-Za-z]+)\./.exec(l)![1]);
    // No flush ran: the third impression overflowed the queue of two and took all three to the store (a write
    // that answers later on PostgreSQL: started by the overflow, awaited here, nothing else writes them).
    await small.writesSettled();
    expect(await Promise.all(ids.map(async (id) => (await stored(id)).n))).toEqual([1, 1, 1]);
    expect(small.impressionQueueStats()).toEqual({ queued: 0, dropped: 0, failed: 0, writtenThrough: 1 });

    const click = await t.call('GET', links[0], { headers: { 'user-agent': BROWSER_UA } });
    expect(click.status).toBe(302);
    expect(await t.store.stmt('SELECT status FROM clicks WHERE impression_id = ?').all([ids[0]])).toEqual([{ status: 'charged' }]);
  });
});
