/**
 * Where `/r/<token>` sends people: the product URL, judged again at click time against the advertiser's
 * current domain, verification and link_domains and the internal-address rule; otherwise 404, uncharged.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { auditMarketMoney } from '../../src/clicks/audit';
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
afterAll(async () => {
  for (const t of apps) await t.close();
  await upstream.close();
}, 60_000);

async function app(configFile?: Record<string, unknown>): Promise<TestApp> {
  const t = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile });
  apps.push(t);
  return t;
}

const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
let conversationSeq = 0;

/** An advertiser selling one board product on its own verified domain (no link domains), a publisher, and a tracked link's path. */
async function setUp(t: TestApp, name: string, url: string, linkDomains: string[] = []) {
  const adv = await advertiser(t, { name, catalog: [{ ...CATALOG[0], url }], linkDomains });
  const pub = await publisher(t, `${name} Pub`);
  const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] }, { 'x-conversation-id': `redirect-${++conversationSeq}` });
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  expect(link).not.toBeNull();
  return { adv, path: new URL(link!).pathname };
}

const follow = (t: TestApp, path: string) => t.call('GET', path, { headers: { 'user-agent': BROWSER_UA } });
const balance = async (t: TestApp, id: string) => (await t.admin('GET', `/projects/${id}/wallet`)).body.balance_micros as number;
const setStoredUrl = (t: TestApp, productId: string, url: string) => t.store.stmt('UPDATE products SET url = ? WHERE id = ?').run([url, productId]);

async function expectNoRedirect(t: TestApp, path: string, what: string) {
  const res = await follow(t, path);
  expect({ what, status: res.status, location: res.headers.get('location') }).toEqual({ what, status: 404, location: null });
  expect(((await res.json()) as any).error.code).toBe('link_not_found');
}

const STORED_INTERNAL = [
  'http://127.0.0.1/', 'http://2130706433/', 'http://0x7f.1/', 'http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/',
  'http://192.168.0.1/', 'http://100.64.0.1/', 'http://[::1]/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/',
  'http://localhost/', 'https://legacy-adv.example.com@127.0.0.1/',
];

describe('GET /r/<token> never redirects to an internal address', () => {
  test('a stored URL on an internal address (a row from before the rule) is 404 and charges nothing', async () => {
    const t = await app();
    const { adv, path } = await setUp(t, 'Legacy Adv', 'https://legacy-adv.example.com/boards');
    const before = await balance(t, adv.id);
    for (const url of STORED_INTERNAL) {
      await setStoredUrl(t, adv.productIds[0], url);
      await expectNoRedirect(t, path, url);
    }
    expect(await balance(t, adv.id)).toBe(before);
    expect(await t.store.stmt('SELECT COUNT(*) AS n FROM clicks').get()).toEqual({ n: 0 });

    await setStoredUrl(t, adv.productIds[0], 'https://legacy-adv.example.com/boards');
    const res = await follow(t, path);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://legacy-adv.example.com/boards');
    expect(await balance(t, adv.id)).toBeLessThan(before);
    expect(await auditMarketMoney(t.store)).toEqual([]);
  });

  test('with allow_internal_product_urls, only internal hosts on the advertiser\'s link domains are redirected to', async () => {
    const t = await app({ allow_internal_product_urls: true });
    const { adv, path } = await setUp(t, 'Intranet Adv', 'http://10.0.0.1/wiki', ['10.0.0.1']);
    const res = await follow(t, path);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://10.0.0.1/wiki');
    await setStoredUrl(t, adv.productIds[0], 'http://169.254.169.254/latest/meta-data/');
    await expectNoRedirect(t, path, 'an unlisted internal host');
  });
});

describe('GET /r/<token> after the advertiser\'s domain changes', () => {
  test('a changed or failed domain stops the redirects at once; a verified domain or a link domain restores them', async () => {
    const t = await app();
    const { adv, path } = await setUp(t, 'Moving Adv', 'https://moving-adv.example.com/boards');
    expect((await follow(t, path)).headers.get('location')).toBe('https://moving-adv.example.com/boards');

    expect((await t.admin('PATCH', `/projects/${adv.id}`, { domain: 'moved-elsewhere.example.net' })).body.domain_status).toBe('unverified');
    await expectNoRedirect(t, path, 'domain changed, not verified');
    await t.admin('POST', `/projects/${adv.id}/domain/verify`, { method: 'manual' });
    await expectNoRedirect(t, path, 'the product is on the old domain');

    await t.admin('PATCH', `/projects/${adv.id}`, { domain: 'moving-adv.example.com' });
    await t.admin('POST', `/projects/${adv.id}/domain/verify`, { method: 'manual' });
    expect((await follow(t, path)).status).toBe(302);
    // A DNS re-check that finds no TXT record leaves the domain "failed".
    expect((await t.admin('POST', `/projects/${adv.id}/domain/verify`, { method: 'dns' })).body.domain_status).toBe('failed');
    await expectNoRedirect(t, path, 'domain re-check failed');

    // The operator vouches for the site instead.
    expect((await t.admin('PATCH', `/projects/${adv.id}`, { link_domains: ['moving-adv.example.com'] })).status).toBe(200);
    const res = await follow(t, path);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('https://moving-adv.example.com/boards');
    expect(await auditMarketMoney(t.store)).toEqual([]);
  });
});

describe('GET /r/<token> accepts only the canonical token', () => {
  test('a signature with a changed unused bit or appended padding is 404 and charges nothing; the issued one works', async () => {
    const t = await app();
    const { adv, path } = await setUp(t, 'Token Adv', 'https://token-adv.example.com/boards');
    const before = await balance(t, adv.id);
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = ALPHABET.indexOf(path.at(-1)!);
    expect(last % 16).toBe(0);
    for (let bits = 1; bits < 16; bits++) await expectNoRedirect(t, path.slice(0, -1) + ALPHABET[last + bits], `unused bits ${bits}`);
    for (const tail of ['=', '==', '%3D%3D']) await expectNoRedirect(t, path + tail, `appended ${tail}`);
    expect(await balance(t, adv.id)).toBe(before);
    expect((await follow(t, path)).status).toBe(302);
    expect(await balance(t, adv.id)).toBeLessThan(before);
  });
});
