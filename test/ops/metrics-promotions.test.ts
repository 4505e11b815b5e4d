import { expect, test } from 'bun:test';
import { advertiser, BROWSER_UA, publisher, trackedLink } from '../helpers/market';
import { useUpstreamApp } from '../helpers/upstream-app';

const env = useUpstreamApp({ setUp: (t) => advertiser(t) });

const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const ask = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

async function metric(sample: string): Promise<number | undefined> {
  const text = await (await env.t.call('GET', '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

test('promotions decided, delivered and clicked, and no-fills by reason, are counted', async () => {
  const pub = await publisher(env.t, 'Pub Metrics');
  env.upstream.script({ kind: 'normal', content: ORGANIC });
  const res = await env.t.chat(pub.headers, ask('What project management tool can help my team track tasks and deadlines?'));
  const content = ((await res.json()) as any).choices[0].message.content as string;
  const path = new URL(trackedLink(content)!).pathname;
  expect(await metric('vexrail_promotions_decided_total')).toBe(1);
  expect(await metric('vexrail_promotions_delivered_total')).toBe(1);

  expect((await env.t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } })).status).toBe(302);
  expect((await env.t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } })).status).toBe(302);
  expect(await metric('vexrail_promotion_clicks_total{status="charged"}')).toBe(1);
  expect(await metric('vexrail_promotion_clicks_total{status="invalid"}')).toBe(1);
  // The tracked link's route is one label, whatever the impression.
  expect(await metric('vexrail_http_requests_total{method="GET",route="/r/:token",status="302"}')).toBe(2);

  // Nothing in the catalog matches the weather: one no-fill, under its reason.
  env.upstream.script({ kind: 'normal', content: 'The weather is mild today.' });
  await env.t.chat(pub.headers, ask('How is the weather today?'));
  const noFills = (await (await env.t.call('GET', '/metrics')).text()).split('\n').filter((l) => l.startsWith('vexrail_promotion_no_fill_total{'));
  expect(noFills).toEqual(['vexrail_promotion_no_fill_total{reason="no_relevant_product"} 1']);
  expect(await metric('vexrail_promotions_decided_total')).toBe(1);
});
