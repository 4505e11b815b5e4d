import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { advertiser, publisher } from '../helpers/market';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The schema a route documents is the one it validates with: driven from the served spec, every JSON body
 * refuses a field it does not define, and every documented integer query parameter refuses text, each with
 * the field named. Chat completions is the exception the OpenAI contract makes: unknown fields pass through.
 */
let t: TestApp;
let spec: any;
let ids: Record<string, string>;
let publisherHeaders: Record<string, string>;
/** An operator's dashboard session: its cookie and CSRF token. */
let dashboardHeaders: Record<string, string>;

beforeAll(async () => {
  t = await createTestApp();
  const adv = await advertiser(t);
  const pub = await publisher(t);
  publisherHeaders = pub.headers;
  const keys = await t.admin('GET', `/projects/${pub.id}/keys`);
  const products = await t.admin('GET', `/projects/${adv.id}/products`);
  ids = { campaign_id: adv.campaignId, product_id: products.body.data[0].id, key_id: keys.body.data[0].id, click_id: 'click_none', token: 'none' };
  spec = await (await t.call('GET', '/swagger/json')).json();
  const setup = await t.call('POST', '/dashboard/api/v1/auth/setup', { body: { admin_token: ADMIN_TOKEN, email: 'ops@example.com', name: 'Ops', password: 'operator password' } });
  dashboardHeaders = { cookie: (setup.headers.get('set-cookie') ?? '').split(';')[0], 'x-csrf-token': ((await setup.json()) as any).csrf_token };
});
afterAll(() => t.close());

/** A concrete path: `{id}` is the advertiser for product and campaign routes, else the publisher. */
function concrete(path: string, advertiserId: string, publisherId: string): string {
  const projectId = /products|campaigns/.test(path) ? advertiserId : publisherId;
  return path.replace('{id}', projectId).replace(/\{(\w+)\}/g, (_, name) => ids[name] ?? 'x');
}

function operations(): Array<{ path: string; method: string; op: any }> {
  return Object.entries<any>(spec.paths).flatMap(([path, item]) => Object.entries<any>(item).map(([method, op]) => ({ path, method, op })));
}

function headersFor(path: string): Record<string, string> {
  if (path.startsWith('/dashboard/')) return dashboardHeaders;
  return path.startsWith('/admin/') ? { authorization: `Bearer ${ADMIN_TOKEN}` } : publisherHeaders;
}

describe('route input schemas, end to end', () => {
  test('every JSON body except chat completions refuses an unknown field as 400 unknown_field, naming it', async () => {
    const adv = (await t.admin('GET', '/projects?limit=100')).body.data;
    const advertiserId = adv.find((p: any) => p.kind === 'advertiser').id;
    const publisherId = adv.find((p: any) => p.kind === 'publisher').id;
    const checked: string[] = [];
    for (const { path, method, op } of operations()) {
      const schema = op.requestBody?.content?.['application/json']?.schema;
      if (!schema || path === '/v1/chat/completions') continue;
      const res = await t.call(method.toUpperCase(), concrete(path, advertiserId, publisherId), { body: { zz_not_a_field: 1 }, headers: headersFor(path) });
      const body = (await res.json()) as any;
      expect([res.status, body.error?.code, body.error?.param], `${method} ${path}`).toEqual([400, 'unknown_field', 'zz_not_a_field']);
      expect(schema.additionalProperties, `${method} ${path}`).toBe(false);
      checked.push(`${method} ${path}`);
    }
    expect(checked.length).toBeGreaterThanOrEqual(12);
  });

  test('chat completions passes unknown fields through (the OpenAI contract) but checks the ones it documents', async () => {
    const op = spec.paths['/v1/chat/completions'].post;
    const schema = op.requestBody.content['application/json'].schema;
    expect(schema.additionalProperties).toBe(true);
    expect(schema.properties.messages.items.properties.role.enum).toContain('function');
    const ok = await t.chat(publisherHeaders, { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }], zz_vendor_field: { a: 1 } });
    expect(ok.status).toBe(200);
    for (const [field, value, status, code] of [['temperature', 3, 422, 'invalid_value'], ['temperature', 'hot', 400, 'invalid_type'], ['presence_penalty', -5, 422, 'invalid_value'], ['n', 1.5, 400, 'invalid_type']] as const) {
      const bound = schema.properties[field];
      expect(bound, field).toBeDefined();
      const res = await t.chat(publisherHeaders, { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }], [field]: value });
      const body = (await res.json()) as any;
      expect([res.status, body.error.code, body.error.param], `${field}=${value}`).toEqual([status, code, field]);
    }
  });

  test('every documented integer query parameter refuses text and values past its bounds, naming it', async () => {
    const all = (await t.admin('GET', '/projects?limit=100')).body.data;
    const advertiserId = all.find((p: any) => p.kind === 'advertiser').id;
    const publisherId = all.find((p: any) => p.kind === 'publisher').id;
    let checked = 0;
    for (const { path, method, op } of operations()) {
      for (const param of op.parameters ?? []) {
        if (param.in !== 'query' || param.schema?.type !== 'integer') continue;
        const base = concrete(path, advertiserId, publisherId);
        const bad = ['ten', '1.5', ...(param.schema.maximum !== undefined ? [String(param.schema.maximum + 1)] : [])];
        for (const value of bad) {
          const res = await t.call(method.toUpperCase(), `${base}?${param.name}=${value}`, { headers: headersFor(path), ...(method === 'post' ? { raw: '' } : {}) });
          const body = (await res.json()) as any;
          expect([res.status, body.error?.param], `${method} ${path}?${param.name}=${value}`).toEqual([400, param.name]);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(10);
  });
});
