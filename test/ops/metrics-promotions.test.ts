import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  await advertiser(t);
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

async function metric(sample: string): Promise<number | undefined> {
  const text = await (await t.call('GET', '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

test('promotions decided, delivered and clicked, and no-fills by reason, are counted', async () => {
  const pub = await publisher(t, 'Pub Metrics');
  upstream.script({ kind: 'normal', content: ORGANIC });
  const res = await t.chat(pub.headers, ask('What project management tool can help my team track tasks and deadlines?'));
  const content = ((await res.json()) as any).choices[0].message.content as string;
  const path = new URL(trackedLink(content)!).pathname;
  expect(await metric('vexrail_promotions_decided_total')).toBe(1);
  expect(await metric('vexrail_promotions_delivered_total')).toBe(1);

  expect((await t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } })).status).toBe(302);
  expect((await t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } })).status).toBe(302);
  expect(await metric('vexrail_promotion_clicks_total{status="charged"}')).toBe(1);
  expect(await metric('vexrail_promotion_clicks_total{status="invalid"}')).toBe(1);
  // The tracked link's route is one label, whatever the impression.
  expect(await metric('vexrail_http_requests_total{method="GET",route="/r/:token",status="302"}')).toBe(2);

  // Nothing in the catalog matches the weather: one no-fill, under its reason.
  upstream.script({ kind: 'normal', content: 'The weather is mild today.' });
  await t.chat(pub.headers, ask('How is the weather today?'));
  const noFills = (await (await t.call('GET', '/metrics')).text()).split('\n').filter((l) => l.startsWith('vexrail_promotion_no_fill_total{'));
  expect(noFills).toEqual(['vexrail_promotion_no_fill_total{reason="no_relevant_product"} 1']);
  expect(await metric('vexrail_promotions_decided_total')).toBe(1);
});
