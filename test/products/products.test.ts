import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
// Hooks get a minute: on the PostgreSQL pass they may start the throwaway server or drop many databases.
beforeAll(async () => {
  t = await createTestApp();
}, 60_000);
afterAll(() => t.close(), 60_000);

let seq = 0;
async function project(kind: 'advertiser' | 'publisher' = 'advertiser'): Promise<string> {
  const n = ++seq;
  // Every shop sells on its own verified shop.example.com (see product-urls.test.ts for the URL rules).
  const res = await t.admin('POST', '/projects', { name: `Shop ${n}`, domain: 'shop.example.com', kind });
  expect(res.status).toBe(201);
  expect((await t.admin('POST', `/projects/${res.body.id}/domain/verify`, { method: 'manual' })).status).toBe(200);
  return res.body.id;
}

const valid = { name: 'Kanbanix Boards', description: 'Visual task boards for small teams.', url: 'https://shop.example.com/boards', keywords: ['kanban', 'task tracking'], category: 'productivity_software' };

async function importLines(projectId: string, raw: string, query = '') {
  const res = await t.call('POST', `/admin/v1/projects/${projectId}/products/import${query}`, {
    raw, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function allProducts(projectId: string) {
  const res = await t.admin('GET', `/projects/${projectId}/products?limit=10000`);
  expect(res.status).toBe(200);
  expect(res.body.has_more).toBe(false);
  return res.body.data as any[];
}

const line = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name: `Product ${i}`, description: `Description of product ${i}`, url: `https://shop.example.com/p/${i}`, keywords: ['shoe'], ...extra });

describe('POST /admin/v1/projects/{id}/products', () => {
  let adv: string;
  beforeAll(async () => {
    adv = await project();
  });

  test('201 with the stored product: trimmed text, lower_snake category, normalized keywords and URL', async () => {
    const res = await t.admin('POST', `/projects/${adv}/products`, {
      name: '  Trailfox Grip Runner ', description: ' Trail running shoes. ', url: 'HTTPS://Shop.Example.COM/grip',
      keywords: ['Trail Running', ' trail running ', 'HIKING'], category: '  Running   Shoes ',
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      object: 'product', project_id: adv, name: 'Trailfox Grip Runner', description: 'Trail running shoes.',
      url: 'https://shop.example.com/grip', keywords: ['trail running', 'hiking'], category: 'running_shoes',
    });
    expect(res.body.id).toMatch(/^prod_/);
    expect(Number.isNaN(Date.parse(res.body.created_at))).toBe(false);
    const listed = await allProducts(adv);
    expect(listed.find((p) => p.id === res.body.id)).toEqual(res.body);
  });

  test('keywords and category are optional; exactly 20 keywords are accepted; http is allowed', async () => {
    const bare = await t.admin('POST', `/projects/${adv}/products`, { name: 'Bare', description: 'No extras.', url: 'http://bare.shop.example.com/' });
    expect(bare.status).toBe(201);
    expect(bare.body).toMatchObject({ keywords: [], category: null, url: 'http://bare.shop.example.com/' });
    const twenty = Array.from({ length: 20 }, (_, i) => `keyword ${i}`);
    const many = await t.admin('POST', `/projects/${adv}/products`, { ...valid, keywords: twenty });
    expect(many.status).toBe(201);
    expect(many.body.keywords).toEqual(twenty);
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ['missing name', { name: undefined }, 'name'],
    ['blank name', { name: '   ' }, 'name'],
    ['name not a string', { name: 42 }, 'name'],
    ['name over 200 characters', { name: 'n'.repeat(201) }, 'name'],
    ['missing description', { description: undefined }, 'description'],
    ['empty description', { description: '' }, 'description'],
    ['description over 2000 characters', { description: 'd'.repeat(2001) }, 'description'],
    ['missing url', { url: undefined }, 'url'],
    ['relative url', { url: '/boards' }, 'url'],
    ['ftp url', { url: 'ftp://shop.example.com/boards' }, 'url'],
    ['javascript url', { url: 'javascript:alert(1)' }, 'url'],
    ['mailto url', { url: 'mailto:sales@shop.example.com' }, 'url'],
    ['21 keywords', { keywords: Array.from({ length: 21 }, (_, i) => `k${i}`) }, 'keywords'],
    ['keywords not an array', { keywords: 'kanban, boards' }, 'keywords'],
    ['an empty keyword', { keywords: ['kanban', ''] }, 'keywords'],
    ['a keyword over 60 characters', { keywords: ['k'.repeat(61)] }, 'keywords'],
    ['a keyword not a string', { keywords: [7] }, 'keywords'],
    ['category over 64 characters', { category: 'c'.repeat(65) }, 'category'],
  ];
  for (const [label, patch, param] of invalid) {
    test(`400 for ${label}`, async () => {
      const before = (await allProducts(adv)).length;
      const res = await t.admin('POST', `/projects/${adv}/products`, { ...valid, ...patch });
      expect(res.status).toBe(400);
      expect(res.body.error.type).toBe('invalid_request_error');
      expect(res.body.error.param).toBe(param);
      expect((await allProducts(adv)).length).toBe(before);
    });
  }

  test('400 for a body that is not an object', async () => {
    for (const raw of ['[1, 2]', '"product"', 'null']) {
      const res = await t.call('POST', `/admin/v1/projects/${adv}/products`, { raw, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
    }
  });

  test('a whitespace-only keyword is refused like an empty one', async () => {
    const res = await t.admin('POST', `/projects/${adv}/products`, { ...valid, keywords: ['kanban', '   '] });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe('keywords');
  });

  test('a publisher project gets 409 not_an_advertiser; an unknown project 404', async () => {
    const pub = await project('publisher');
    const res = await t.admin('POST', `/projects/${pub}/products`, valid);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_an_advertiser');
    expect((await t.admin('GET', `/projects/${pub}/products`)).body.data).toEqual([]);
    expect((await t.admin('POST', '/projects/proj_doesnotexist/products', valid)).status).toBe(404);
    expect((await t.admin('GET', '/projects/proj_doesnotexist/products')).status).toBe(404);
  });

  test('401 without the admin token', async () => {
    const res = await t.call('POST', `/admin/v1/projects/${adv}/products`, { body: valid });
    expect(res.status).toBe(401);
  });
});

describe('GET /admin/v1/projects/{id}/products', () => {
  let adv: string;
  let ids: string[];
  beforeAll(async () => {
    adv = await project();
    const lines = Array.from({ length: 25 }, (_, i) => line(i + 1)).join('\n');
    const report = await importLines(adv, lines);
    expect(report.body.imported).toBe(25);
    ids = report.body.product_ids;
    // Another advertiser's products never show up here.
    const other = await project();
    await importLines(other, line(999));
  });

  test('pages oldest first with cursor and limit, and ends with has_more false', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const res = await t.admin('GET', `/projects/${adv}/products?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.object).toBe('list');
      pages.push(res.body.data.length);
      seen.push(...res.body.data.map((p: any) => p.id));
      expect(res.body.has_more).toBe(res.body.next_cursor !== null);
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(pages).toEqual([10, 10, 5]);
    expect(seen).toEqual(ids);
  });

  test('default limit is 100; a page that ends exactly at the last product has no next page', async () => {
    const all = await t.admin('GET', `/projects/${adv}/products`);
    expect(all.body.data.map((p: any) => p.id)).toEqual(ids);
    expect(all.body).toMatchObject({ has_more: false, next_cursor: null });
    const exact = await t.admin('GET', `/projects/${adv}/products?limit=25`);
    expect(exact.body.data).toHaveLength(25);
    expect(exact.body).toMatchObject({ has_more: false, next_cursor: null });
    const first = await t.admin('GET', `/projects/${adv}/products?limit=24`);
    const last = await t.admin('GET', `/projects/${adv}/products?limit=24&cursor=${first.body.next_cursor}`);
    expect(last.body.data.map((p: any) => p.id)).toEqual([ids[24]]);
    expect(last.body.has_more).toBe(false);
  });

  test('400 for a limit outside 1-10,000 or a bad cursor', async () => {
    for (const q of ['limit=0', 'limit=10001', 'limit=-5', 'limit=2.5', 'limit=ten', 'cursor=abc', 'cursor=-1', 'cursor=1.5']) {
      const res = await t.admin('GET', `/projects/${adv}/products?${q}`);
      expect(res.status).toBe(400);
      expect(res.body.error.param).toBe(q.split('=')[0]);
    }
    expect((await t.admin('GET', `/projects/${adv}/products?limit=10000`)).status).toBe(200);
  });

  test('limit=10000 returns 10,000 products in one page', async () => {
    const big = await project();
    const lines = Array.from({ length: 10_050 }, (_, i) => line(i)).join('\n');
    const report = await importLines(big, lines);
    expect(report.body).toMatchObject({ imported: 10_050, failed: 0, errors: [] });
    const page = await t.admin('GET', `/projects/${big}/products?limit=10000`);
    expect(page.status).toBe(200);
    expect(page.body.data).toHaveLength(10_000);
    expect(page.body.has_more).toBe(true);
    expect(page.body.data[0].name).toBe('Product 0');
    expect(page.body.data[9_999].name).toBe('Product 9999');
    const rest = await t.admin('GET', `/projects/${big}/products?limit=10000&cursor=${page.body.next_cursor}`);
    expect(rest.body.data.map((p: any) => p.name)).toEqual(Array.from({ length: 50 }, (_, i) => `Product ${10_000 + i}`));
    expect(rest.body.has_more).toBe(false);
  });
});

describe('POST /admin/v1/projects/{id}/products/import (JSON Lines)', () => {
  test('good lines are kept, bad lines reported with their line numbers, blank lines skipped', async () => {
    const adv = await project();
    const lines = [
      line(1), // 1
      '', // 2 blank
      '{"name": "Broken", ', // 3 invalid JSON
      JSON.stringify({ description: 'no name', url: 'https://shop.example.com/x' }), // 4 missing name
      line(5, { url: 'ftp://shop.example.com/5' }), // 5 bad URL
      '   ', // 6 whitespace only
      line(7, { category: 'Trail Shoes' }), // 7
      '[1, 2, 3]', // 8 not an object
      line(9, { keywords: Array.from({ length: 21 }, (_, i) => `k${i}`) }), // 9 too many keywords
      JSON.stringify({ name: 'No description', url: 'https://shop.example.com/y' }), // 10 missing description
      JSON.stringify({ name: 'No url', description: 'd' }), // 11 missing url
      line(12), // 12
    ];
    const res = await importLines(adv, lines.join('\n') + '\n');
    expect(res.status).toBe(200);
    expect(res.body.imported).toBe(3);
    expect(res.body.failed).toBe(7);
    expect(res.body.errors.map((e: any) => e.line)).toEqual([3, 4, 5, 8, 9, 10, 11]);
    const message = (n: number) => res.body.errors.find((e: any) => e.line === n).message as string;
    expect(message(3)).toMatch(/json/i);
    expect(message(4)).toContain('name');
    expect(message(5)).toMatch(/url/i);
    expect(message(9)).toContain('keywords');
    expect(message(10)).toContain('description');
    expect(message(11)).toContain('url');
    expect(res.body.product_ids).toHaveLength(3);

    const stored = await allProducts(adv);
    expect(stored.map((p) => p.id)).toEqual(res.body.product_ids);
    expect(stored.map((p) => p.name)).toEqual(['Product 1', 'Product 7', 'Product 12']);
    expect(stored[1].category).toBe('trail_shoes');
  });

  test('CRLF line endings and a missing final newline are handled; first_line offsets the numbers', async () => {
    const adv = await project();
    const res = await importLines(adv, [line(1), 'oops', line(3)].join('\r\n'), '?first_line=2001');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 2, failed: 1 });
    expect(res.body.errors.map((e: any) => e.line)).toEqual([2002]);
    expect((await allProducts(adv)).map((p) => p.name)).toEqual(['Product 1', 'Product 3']);
  });

  test('an empty body imports nothing', async () => {
    const adv = await project();
    const res = await importLines(adv, '');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ imported: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [], product_ids: [] });
  });

  test('2,500 lines in one request across batch boundaries, with failures spread through', async () => {
    const adv = await project();
    const bad = new Set([1, 999, 1000, 1001, 2000, 2500]);
    const lines = Array.from({ length: 2500 }, (_, i) => (bad.has(i + 1) ? line(i + 1, { url: 'not a url' }) : line(i + 1)));
    const res = await importLines(adv, lines.join('\n'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ imported: 2494, failed: 6 });
    expect(res.body.errors.map((e: any) => e.line)).toEqual([...bad]);
    const stored = await allProducts(adv);
    expect(stored).toHaveLength(2494);
    expect(stored.map((p) => p.id)).toEqual(res.body.product_ids);
    expect(new Set(stored.map((p) => p.name)).has('Product 1000')).toBe(false);
    expect(stored[0].name).toBe('Product 2');
    expect(stored.at(-1).name).toBe('Product 2499');
  });

  test('more than 1,000 failures: all counted, the first 1,000 reported', async () => {
    const adv = await project();
    const lines = Array.from({ length: 1205 }, (_, i) => (i % 241 === 0 ? line(i + 1) : '{bad'));
    const res = await importLines(adv, lines.join('\n'));
    expect(res.body.imported).toBe(5);
    expect(res.body.failed).toBe(1200);
    expect(res.body.errors).toHaveLength(1000);
    expect(res.body.errors[0].line).toBe(2);
  });

  test('imported products can be put in a campaign', async () => {
    const adv = await project();
    const res = await importLines(adv, [line(1), line(2)].join('\n'));
    const campaign = await t.admin('POST', `/projects/${adv}/campaigns`, { name: 'Imported', base_cpc: '0.40', budget: '10.00', product_ids: res.body.product_ids });
    expect(campaign.status).toBe(201);
    expect(campaign.body.product_ids).toEqual(res.body.product_ids);
  });

  test('a publisher project gets 409 not_an_advertiser and nothing is stored', async () => {
    const pub = await project('publisher');
    const res = await importLines(pub, [line(1), line(2)].join('\n'));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('not_an_advertiser');
    expect(await t.store.stmt('SELECT COUNT(*) AS n FROM products WHERE project_id = ?').get([pub])).toEqual({ n: 0 });
  });

  test('a body over limits.maxImportBytes is 413 and nothing is stored', async () => {
    const small = await createTestApp({ configFile: { limits: { maxImportBytes: 1000 } } });
    try {
      const created = await small.admin('POST', '/projects', { name: 'Tiny', domain: 'tiny.example.com', kind: 'advertiser' });
      const raw = Array.from({ length: 20 }, (_, i) => line(i)).join('\n');
      expect(Buffer.byteLength(raw)).toBeGreaterThan(1000);
      const res = await small.call('POST', `/admin/v1/projects/${created.body.id}/products/import`, {
        raw, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
      });
      expect(res.status).toBe(413);
      expect(await small.store.stmt('SELECT COUNT(*) AS n FROM products').get()).toEqual({ n: 0 });
    } finally {
      await small.close();
    }
  });
});
