/**
 * Where product URLs may point: http(s), no userinfo, on the advertiser's verified domain or its subdomains
 * or on an operator-added link domain, and never at an internal address unless the operator allows it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
let intranet: TestApp;
// Hooks get a minute: on the PostgreSQL pass they may start the throwaway server or drop many databases.
beforeAll(async () => {
  t = await createTestApp();
  intranet = await createTestApp({ configFile: { allow_internal_product_urls: true } });
}, 60_000);
afterAll(async () => {
  await t.close();
  await intranet.close();
}, 60_000);

let seq = 0;
/** An advertiser on `domain`, verified unless told otherwise, with optional link_domains. */
async function advertiser(app: TestApp, domain: string, opts: { verify?: boolean; linkDomains?: string[] } = {}): Promise<string> {
  const created = await app.admin('POST', '/projects', { name: `Url shop ${++seq}`, domain, kind: 'advertiser' });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  if (opts.verify !== false) expect((await app.admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' })).status).toBe(200);
  if (opts.linkDomains) expect((await app.admin('PATCH', `/projects/${id}`, { link_domains: opts.linkDomains })).status).toBe(200);
  return id;
}

const product = (url: string) => ({ name: 'Kanbanix Boards', description: 'Visual task boards for small teams.', url });
const addProduct = (app: TestApp, id: string, url: string) => app.admin('POST', `/projects/${id}/products`, product(url));

async function expectRefused(app: TestApp, id: string, url: string, code: string) {
  const res = await addProduct(app, id, url);
  expect({ url, status: res.status, code: res.body.error?.code, param: res.body.error?.param }).toEqual({ url, status: 400, code, param: 'url' });
}

/** Each internal form, and the host the URL parser turns it into (what an operator lists in link_domains). */
const INTERNAL: Array<[string, string]> = [
  ['http://127.0.0.1/admin', '127.0.0.1'],
  ['http://2130706433/', '127.0.0.1'],
  ['http://0x7f.1/', '127.0.0.1'],
  ['http://0177.0.0.1/', '127.0.0.1'],
  ['http://127.1:8080/', '127.0.0.1'],
  ['http://0x7f000001/', '127.0.0.1'],
  ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
  ['http://0xa9fea9fe/', '169.254.169.254'],
  ['http://10.0.0.1/', '10.0.0.1'],
  ['http://172.16.5.4/', '172.16.5.4'],
  ['http://192.168.1.1/', '192.168.1.1'],
  ['http://100.64.0.1/', '100.64.0.1'],
  ['http://100.100.100.200/', '100.100.100.200'],
  ['http://0.0.0.0/', '0.0.0.0'],
  ['http://0/', '0.0.0.0'],
  ['http://224.0.0.251/', '224.0.0.251'],
  ['http://[::1]/', '[::1]'],
  ['http://[0:0:0:0:0:0:0:1]/', '[::1]'],
  ['http://[::]/', '[::]'],
  ['http://[::ffff:127.0.0.1]/', '[::ffff:7f00:1]'],
  ['http://[::ffff:a9fe:a9fe]/', '[::ffff:a9fe:a9fe]'],
  ['http://[fe80::1]/', '[fe80::1]'],
  ['http://[fd00:ec2::254]/', '[fd00:ec2::254]'],
  ['http://[fc00::1]/', '[fc00::1]'],
  ['http://[ff02::1]/', '[ff02::1]'],
  ['http://[64:ff9b::a9fe:a9fe]/', '[64:ff9b::a9fe:a9fe]'],
  ['http://[2002:7f00:1::]/', '[2002:7f00:1::]'],
];
const internalHosts = [...new Set(INTERNAL.map(([, host]) => host))];

describe('internal addresses', () => {
  test('every internal form is 400 url_internal_address, even on a listed link domain, and nothing is stored', async () => {
    expect(internalHosts.length).toBeLessThanOrEqual(40);
    const onDomain = await advertiser(t, 'shop.example.com');
    const listed = [
      await advertiser(t, 'shop.example.com', { linkDomains: internalHosts.slice(0, 20) }),
      await advertiser(t, 'shop.example.com', { linkDomains: internalHosts.slice(20) }),
    ];
    for (const [url, host] of INTERNAL) {
      await expectRefused(t, onDomain, url, 'url_internal_address');
      await expectRefused(t, listed[internalHosts.indexOf(host) < 20 ? 0 : 1], url, 'url_internal_address');
    }
    await expectRefused(t, onDomain, 'http://localhost:3000/', 'url_internal_address');
    await expectRefused(t, onDomain, 'http://admin.localhost/', 'url_internal_address');
    for (const id of [onDomain, ...listed]) expect((await t.admin('GET', `/projects/${id}/products`)).body.data).toEqual([]);
  });

  test('an internal IP cannot be an advertiser\'s own domain, so it cannot open product URLs to an internal address', async () => {
    for (const domain of ['10.1.2.3', '127.0.0.1', 'http://192.168.1.10/']) {
      const created = await t.admin('POST', '/projects', { name: 'Intranet shop', domain, kind: 'advertiser' });
      expect([domain, created.status, created.body.error?.code]).toEqual([domain, 400, 'invalid_domain']);
    }
  });

  test('with allow_internal_product_urls, internal addresses on the advertiser\'s link domains are accepted in their normalized form', async () => {
    const ids = [
      await advertiser(intranet, 'intranet.example.com', { linkDomains: internalHosts.slice(0, 20) }),
      await advertiser(intranet, 'intranet.example.com', { linkDomains: internalHosts.slice(20) }),
    ];
    for (const [url, host] of INTERNAL) {
      const res = await addProduct(intranet, ids[internalHosts.indexOf(host) < 20 ? 0 : 1], url);
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
      expect(new URL(res.body.url).hostname).toBe(host);
    }
    // The switch lifts the internal-address rule only: unlisted internal hosts stay off the advertiser's domain.
    await expectRefused(intranet, ids[0], 'http://10.9.9.9/', 'url_not_on_advertiser_domain');
  });

  test('with allow_internal_product_urls, the domain rule still holds', async () => {
    const id = await advertiser(intranet, 'intranet.example.com', { linkDomains: ['10.0.0.1'] });
    await expectRefused(intranet, id, 'http://10.0.0.2/', 'url_not_on_advertiser_domain');
    await expectRefused(intranet, id, 'http://127.0.0.1/', 'url_not_on_advertiser_domain');
    await expectRefused(intranet, id, 'http://admin@10.0.0.1/', 'url_has_userinfo');
    expect((await addProduct(intranet, id, 'http://10.0.0.1/wiki')).status).toBe(201);
    expect((await addProduct(intranet, id, 'https://docs.intranet.example.com/')).status).toBe(201);
  });

  test('public neighbours of the internal blocks are ordinary hosts; the blocks\' edges are internal', async () => {
    const publicHosts = ['93.184.216.34', '172.32.0.1', '100.128.0.1', '192.169.0.1', '169.255.0.1', '[2606:4700::1111]', '[64:ff9b::808:808]', '[2002:808:808::]'];
    const edges = ['172.31.255.255', '100.127.255.255', '169.254.0.1', '192.168.255.255', '[64:ff9b::a00:1]', '[2002:c0a8:101::]', '[febf::1]'];
    const id = await advertiser(t, 'shop.example.com', { linkDomains: [...publicHosts, ...edges] });
    for (const host of publicHosts) {
      const res = await addProduct(t, id, `http://${host}/p`);
      expect({ host, status: res.status }).toEqual({ host, status: 201 });
    }
    for (const host of edges) await expectRefused(t, id, `http://${host}/p`, 'url_internal_address');
    await expectRefused(t, id, 'https://localhost.example.com/', 'url_not_on_advertiser_domain');
  });
});

describe('the advertiser\'s domain', () => {
  test('the verified domain and its subdomains are accepted; the URL is stored in canonical form', async () => {
    const id = await advertiser(t, 'shop.example.com');
    for (const [url, stored] of [
      ['https://shop.example.com/boards', 'https://shop.example.com/boards'],
      ['HTTPS://WWW.Shop.Example.COM/a?b=c#d', 'https://www.shop.example.com/a?b=c#d'],
      ['http://eu.store.shop.example.com:8080/', 'http://eu.store.shop.example.com:8080/'],
      ['https://shop.example.com./trailing-dot', 'https://shop.example.com./trailing-dot'],
    ]) {
      const res = await addProduct(t, id, url);
      expect({ url, status: res.status, stored: res.body.url }).toEqual({ url, status: 201, stored });
    }
    await expectRefused(t, id, 'https://notshop.example.com/boards', 'url_not_on_advertiser_domain');
  });

  test('a www. domain covers its root domain (where the TXT record lives) and the root\'s subdomains', async () => {
    const id = await advertiser(t, 'www.brand.example');
    for (const url of ['https://brand.example/', 'https://shop.brand.example/x', 'https://www.brand.example/y']) expect((await addProduct(t, id, url)).status).toBe(201);
    await expectRefused(t, id, 'https://otherbrand.example/', 'url_not_on_advertiser_domain');
  });

  test('other hosts are 400 url_not_on_advertiser_domain', async () => {
    const id = await advertiser(t, 'shop.example.com');
    for (const url of [
      'https://evil.example/',
      'https://example.com/', // the parent is not the advertiser's
      'https://evilshop.example.com/', // a suffix without a dot boundary
      'https://shop.example.com.evil.net/',
      'https://shop-example.com/',
      'https://evil.example/#@shop.example.com',
      'https://evil.example\\@shop.example.com/',
      'https://evil.example?@shop.example.com',
      'http://93.184.216.34/',
    ])
      await expectRefused(t, id, url, 'url_not_on_advertiser_domain');
  });

  test('an unverified domain is 400 advertiser_domain_not_verified until it is verified', async () => {
    const id = await advertiser(t, 'pending-shop.example.com', { verify: false });
    await expectRefused(t, id, 'https://pending-shop.example.com/boards', 'advertiser_domain_not_verified');
    await expectRefused(t, id, 'https://www.pending-shop.example.com/boards', 'advertiser_domain_not_verified');
    await t.admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' });
    expect((await addProduct(t, id, 'https://pending-shop.example.com/boards')).status).toBe(201);
  });

  test('userinfo and its look-alikes are 400 url_has_userinfo', async () => {
    const id = await advertiser(t, 'shop.example.com');
    for (const url of [
      'https://shop.example.com@127.0.0.1/',
      'https://shop.example.com@evil.example/',
      'https://user:secret@shop.example.com/',
      'https://user@shop.example.com/',
      'https://:pw@shop.example.com/',
      'http://shop.example.com:80@169.254.169.254/',
    ])
      await expectRefused(t, id, url, 'url_has_userinfo');
  });

  test('look-alikes that the URL parser reads as the advertiser\'s host are stored with that host', async () => {
    const id = await advertiser(t, 'shop.example.com');
    for (const [url, stored] of [
      ['https://shop.example.com\\@evil.example/', 'https://shop.example.com/@evil.example/'],
      ['https://@shop.example.com/x', 'https://shop.example.com/x'],
      ['https://shop.example.com#@evil.example', 'https://shop.example.com/#@evil.example'],
    ]) {
      const res = await addProduct(t, id, url);
      expect({ url, status: res.status, stored: res.body.url }).toEqual({ url, status: 201, stored });
    }
    await expectRefused(t, id, 'https://shop.example.com%40evil.example/', 'invalid_url');
    await expectRefused(t, id, 'https://shop.example.com@evil.example/', 'url_has_userinfo');
  });
});

describe('link_domains (PATCH /admin/v1/projects/{id})', () => {
  test('normalized, deduplicated and shown in the project view; products on them and their subdomains are accepted', async () => {
    const id = await advertiser(t, 'reseller.example.com');
    await expectRefused(t, id, 'https://kanbanix.example/boards', 'url_not_on_advertiser_domain');
    const res = await t.admin('PATCH', `/projects/${id}`, { link_domains: ['Kanbanix.Example', 'kanbanix.example.', ' trailfox.example ', 'xn--brew-6qa.example'] });
    expect(res.status).toBe(200);
    expect(res.body.link_domains).toEqual(['kanbanix.example', 'trailfox.example', 'xn--brew-6qa.example']);
    expect((await t.admin('GET', `/projects/${id}`)).body.link_domains).toEqual(res.body.link_domains);
    for (const url of ['https://kanbanix.example/boards', 'https://shop.trailfox.example/grip', 'https://reseller.example.com/own'])
      expect((await addProduct(t, id, url)).status).toBe(201);
    await expectRefused(t, id, 'https://brewmaster.example/', 'url_not_on_advertiser_domain');
  });

  test('link domains need no verification of the project domain', async () => {
    const id = await advertiser(t, 'unverified-reseller.example.com', { verify: false, linkDomains: ['kanbanix.example'] });
    expect((await addProduct(t, id, 'https://kanbanix.example/boards')).status).toBe(201);
    await expectRefused(t, id, 'https://unverified-reseller.example.com/', 'advertiser_domain_not_verified');
  });

  test('an empty array removes them: new products on them are refused', async () => {
    const id = await advertiser(t, 'reseller.example.com', { linkDomains: ['kanbanix.example'] });
    expect((await t.admin('PATCH', `/projects/${id}`, { link_domains: [] })).body.link_domains).toEqual([]);
    await expectRefused(t, id, 'https://kanbanix.example/boards', 'url_not_on_advertiser_domain');
  });

  test('invalid values are 400 invalid_link_domains and change nothing', async () => {
    const id = await advertiser(t, 'reseller.example.com', { linkDomains: ['kanbanix.example'] });
    const tooMany = Array.from({ length: 21 }, (_, i) => `brand${i}.example`);
    for (const value of [
      'kanbanix.example', null, {}, tooMany, [42], [''], ['https://kanbanix.example'], ['kanbanix.example/path'], ['kanbanix.example:8080'],
      ['user@kanbanix.example'], ['intranet'], ['-bad.example'], ['a..example'], ['*.kanbanix.example'], ['kanbanix .example'], ['[::1'], ['x'.repeat(64) + '.example'],
    ]) {
      const res = await t.admin('PATCH', `/projects/${id}`, { link_domains: value, name: 'Renamed' });
      expect({ value, status: res.status, code: res.body.error?.code, param: res.body.error?.param }).toEqual({ value, status: 400, code: 'invalid_link_domains', param: 'link_domains' });
    }
    expect((await t.admin('GET', `/projects/${id}`)).body).toMatchObject({ name: expect.stringMatching(/^Url shop/), link_domains: ['kanbanix.example'] });
    expect((await t.admin('PATCH', `/projects/${id}`, { link_domains: tooMany.slice(0, 20) })).status).toBe(200);
  });

  test('a publisher project is 409 not_an_advertiser; a new project shows an empty list', async () => {
    const created = await t.admin('POST', '/projects', { name: 'Pub links', domain: 'pub-links.example.com' });
    expect(created.body.link_domains).toEqual([]);
    const res = await t.admin('PATCH', `/projects/${created.body.id}`, { link_domains: ['kanbanix.example'] });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_an_advertiser');
  });
});

describe('the JSON Lines import applies the same rule', () => {
  test('internal, off-domain, unverified-looking and userinfo URLs fail with their reason; good lines are kept', async () => {
    const id = await advertiser(t, 'shop.example.com', { linkDomains: ['partner.example'] });
    const lines = [
      product('https://shop.example.com/1'),
      product('http://169.254.169.254/latest/meta-data/'),
      product('http://2130706433/'),
      product('https://evil.example/'),
      product('https://shop.example.com@10.0.0.1/'),
      product('http://[::1]/'),
      product('https://www.partner.example/6'),
      product('http://0x7f.1/'),
    ].map((p) => JSON.stringify(p));
    const res = await t.call('POST', `/admin/v1/projects/${id}/products/import`, {
      raw: lines.join('\n'), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
    });
    const report = (await res.json()) as any;
    expect(res.status).toBe(200);
    expect(report).toMatchObject({ imported: 2, failed: 6 });
    expect(report.errors.map((e: any) => e.line)).toEqual([2, 3, 4, 5, 6, 8]);
    for (const n of [2, 3, 6, 8]) expect(report.errors.find((e: any) => e.line === n).message).toContain('internal address');
    expect(report.errors.find((e: any) => e.line === 4).message).toContain('shop.example.com');
    expect(report.errors.find((e: any) => e.line === 5).message).toContain('user name or password');
    const stored = (await t.admin('GET', `/projects/${id}/products`)).body.data.map((p: any) => p.url);
    expect(stored).toEqual(['https://shop.example.com/1', 'https://www.partner.example/6']);
  });

  test('an import into an advertiser whose domain is not verified stores nothing on that domain', async () => {
    const id = await advertiser(t, 'pending-import.example.com', { verify: false });
    const res = await t.call('POST', `/admin/v1/projects/${id}/products/import`, {
      raw: JSON.stringify(product('https://pending-import.example.com/1')), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
    });
    const report = (await res.json()) as any;
    expect(report).toMatchObject({ imported: 0, failed: 1 });
    expect(report.errors[0].message).toContain('not verified');
  });
});
