/**
 * A tracked link shown for a product the advertiser deleted afterwards: the reader is still redirected to the
 * product's page (the link they were shown keeps working), but the click is recorded as invalid with reason
 * product_deleted and moves no money; the advertiser sees it in the clicks list.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test';
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
}, 60_000);
afterAll(async () => {
  await t.close();
  await upstream.close();
}, 60_000);

const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
let conversations = 0;

async function shownLink(pubHeaders: Record<string, string>) {
  const res = await t.chat(pubHeaders, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] }, { 'x-conversation-id': `deleted-product-${++conversations}` });
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  expect(link).not.toBeNull();
  return new URL(link!).pathname;
}

const follow = (path: string) => t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } });
const balance = async (id: string) => (await t.admin('GET', `/projects/${id}/wallet`)).body.balance_micros as number;
const earnings = async (id: string) => (await t.admin('GET', `/projects/${id}/earnings`)).body;

test('a link shown before the product was deleted still redirects, but is not charged and says why', async () => {
  const adv = await advertiser(t, { name: 'Deleting Adv', catalog: [{ ...CATALOG[0], url: 'https://deleting-adv.example.com/boards' }] });
  const pub = await publisher(t, 'Deleting Pub');
  const [gone, kept] = [await shownLink(pub.headers), await shownLink(pub.headers)];
  const advBefore = await balance(adv.id);
  const pubBefore = await earnings(pub.id);

  expect((await t.admin('DELETE', `/projects/${adv.id}/products/${adv.productIds[0]}`)).status).toBe(200);
  const res = await follow(gone);
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('https://deleting-adv.example.com/boards');
  // A second click on the same link: still no charge, still the same reason.
  expect((await follow(kept)).status).toBe(302);

  expect(await balance(adv.id)).toBe(advBefore);
  expect(await earnings(pub.id)).toEqual(pubBefore);
  const list = await t.admin('GET', `/projects/${adv.id}/clicks`);
  expect(list.status).toBe(200);
  expect(list.body.data.map((c: any) => [c.status, c.reason, c.charged_micros])).toEqual([['invalid', 'product_deleted', 0], ['invalid', 'product_deleted', 0]]);
  expect(await auditMarketMoney(t.store)).toEqual([]);
  expect(await auditMoney(t.store)).toEqual([]);
});

test('control: the same link for a product that is not deleted is charged', async () => {
  const adv = await advertiser(t, { name: 'Keeping Adv', catalog: [{ ...CATALOG[0], url: 'https://keeping-adv.example.com/boards' }] });
  const pub = await publisher(t, 'Keeping Pub');
  const path = await shownLink(pub.headers);
  const before = await balance(adv.id);
  expect((await follow(path)).status).toBe(302);
  expect(await balance(adv.id)).toBeLessThan(before);
  const list = await t.admin('GET', `/projects/${adv.id}/clicks`);
  expect(list.body.data.map((c: any) => [c.status, c.reason])).toEqual([['charged', null]]);
});
