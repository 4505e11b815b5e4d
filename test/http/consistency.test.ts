import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, BROWSER_UA, CATALOG, publisher, trackedLink } from '../helpers/market';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

/**
 * Issue 8 §5: every JSON response of the public and admin API writes times as ISO 8601 strings and money as
 * a decimal string with 2-6 decimals beside its integer micro-USD count. The routes come from the OpenAPI
 * document, so a new GET route is checked without editing this file.
 */

const ISO_8601 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)$/;
const MONEY = /^-?\d+\.\d{2,6}$/;
/** A string made of digits, with or without a fraction: a number sent as text, which here is always money. */
const NUMERIC_STRING = /^-?\d+(\.\d*)?$/;
const TIME_KEY = /(^|_)(at|until)$/;
/** Field names that hold money; checked even when the value is not numeric-looking (e.g. "$1.50"). */
const MONEY_KEY = /(^|_)(cost|amount|balance|held|available|pending|total|budget|spend|spent|charged|earnings|cpc|price)(_|$)|^(spent_today|spent_total|base_cpc|balance_after)$/;
/** OpenAI's own wire fields that stay as OpenAI defines them (GET /v1/models: `created` in epoch seconds). */
const OPENAI_CONTRACT_KEYS = new Set(['created']);

/** The integer sibling of a money field: `cost` -> `cost_micros`; `publisher_amount` -> `publisher_micros` too. */
function microsSiblings(key: string): string[] {
  const names = [`${key}_micros`];
  if (key.endsWith('_amount')) names.push(`${key.slice(0, -'_amount'.length)}_micros`);
  return names;
}

/** Every place in `body` that breaks the rules, as "path: problem". Empty when the body is consistent. */
export function findInconsistencies(body: unknown, path = '$'): string[] {
  const problems: string[] = [];
  if (Array.isArray(body)) {
    body.forEach((item, i) => problems.push(...findInconsistencies(item, `${path}[${i}]`)));
    return problems;
  }
  if (body === null || typeof body !== 'object') return problems;
  const obj = body as Record<string, unknown>;
  for (const [key, value] of Object.entries(obj)) {
    const here = `${path}.${key}`;
    if (TIME_KEY.test(key) && value !== null && !(typeof value === 'string' && ISO_8601.test(value)))
      problems.push(`${here}: a time must be an ISO 8601 string or null, got ${JSON.stringify(value)}`);
    const moneyLooking = typeof value === 'string' && (NUMERIC_STRING.test(value) || (MONEY_KEY.test(key) && !TIME_KEY.test(key) && /\d/.test(value)));
    if (moneyLooking && !OPENAI_CONTRACT_KEYS.has(key)) {
      if (!MONEY.test(value as string)) problems.push(`${here}: money must have 2-6 decimals, got ${JSON.stringify(value)}`);
      const sibling = microsSiblings(key).find((name) => name in obj);
      if (sibling === undefined) problems.push(`${here}: money needs an integer sibling ${microsSiblings(key).join(' or ')}`);
      else if (!Number.isSafeInteger(obj[sibling])) problems.push(`${path}.${sibling}: must be an integer, got ${JSON.stringify(obj[sibling])}`);
      else if (MONEY.test(value as string) && Math.round(Number(value) * 1_000_000) !== obj[sibling])
        problems.push(`${here}: ${JSON.stringify(value)} disagrees with ${sibling} = ${obj[sibling]}`);
    }
    if (typeof value === 'object') problems.push(...findInconsistencies(value, here));
  }
  return problems;
}

describe('the checker', () => {
  test('finds a planted epoch-ms time, a one-decimal amount and a money string without its micros', () => {
    const planted = { data: [{ id: 'clk_1', created_at: 1764667712345, charged: '0.4', charged_micros: 400_000, cost: '1.50' }] };
    expect(findInconsistencies(planted)).toEqual([
      '$.data[0].created_at: a time must be an ISO 8601 string or null, got 1764667712345',
      '$.data[0].charged: money must have 2-6 decimals, got "0.4"',
      '$.data[0].cost: money needs an integer sibling cost_micros',
    ]);
  });

  test('finds micros that disagree with the string, and accepts a consistent body', () => {
    expect(findInconsistencies({ budget: { amount: '5.00', amount_micros: 5_000_001 } })).toEqual([
      '$.budget.amount: "5.00" disagrees with amount_micros = 5000001',
    ]);
    const good = { created_at: '2026-12-02T09:00:00.000Z', expires_at: null, cost: '0.000004', cost_micros: 4, publisher_amount: '0.28', publisher_micros: 280_000, from: '2026-12-01' };
    expect(findInconsistencies(good)).toEqual([]);
  });
});

describe('every JSON response of the public and admin API', () => {
  let upstream: FakeUpstream;
  let t: TestApp;
  let contexts: Array<{ label: string; params: Record<string, string>; headers: Record<string, string> }>;

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.script({ kind: 'normal', content: 'Here is an organic answer.' });
    t = await createTestApp({ upstreamUrl: upstream.baseUrl });
    const adv = await advertiser(t, { name: 'Consistency Adv', catalog: [CATALOG[0]] });
    const advKey = await t.admin('POST', `/projects/${adv.id}/keys`, { name: 'Ads', budget: { amount: '5.00', period: 'daily' }, expires_at: '2030-01-01T00:00:00Z' });
    const pub = await publisher(t, 'Consistency Pub');
    await t.admin('PATCH', `/projects/${pub.id}/keys/${pub.keyId}`, { budget: { amount: '2.50', period: 'monthly' }, rpm_limit: 100 });
    // A priced call (usage and conversation costs), an answer with a promotion, one charged click and one invalid one.
    await t.chat(pub.headers, { model: 'fake-model', messages: [{ role: 'user', content: 'Hello there' }] }, { 'x-conversation-id': 'consistency-0' });
    const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What project management tool can help my team track tasks and deadlines?' }] }, { 'x-conversation-id': 'consistency-1' });
    const link = trackedLink(((await res.json()) as any).choices[0].message.content);
    if (!link) throw new Error('no promotion was served');
    const linkPath = new URL(link).pathname;
    for (const ua of [BROWSER_UA, BROWSER_UA]) await t.call('GET', linkPath, { headers: { 'user-agent': ua } });
    await t.rt.flushAll();
    const clicks = await t.admin('GET', `/projects/${adv.id}/clicks`);
    const clickId = (clicks.body.data as any[]).find((c) => c.status === 'charged').id as string;
    const conversations = await (await t.call('GET', '/v1/conversations', { headers: pub.headers })).json() as any;
    const conversationId = conversations.data[0].id as string;
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    contexts = [
      { label: 'publisher', params: { id: pub.id, key_id: pub.keyId, campaign_id: adv.campaignId, click_id: clickId }, headers: { ...admin, ...pub.headers } },
      { label: 'advertiser', params: { id: adv.id, key_id: advKey.body.id, campaign_id: adv.campaignId, click_id: clickId }, headers: admin },
      { label: 'conversation', params: { id: conversationId }, headers: pub.headers },
    ];
    const setup = await t.call('POST', '/dashboard/api/v1/auth/setup', { body: { admin_token: ADMIN_TOKEN, email: 'ops@example.com', name: 'Ops', password: 'operator password' } });
    // The operator's dashboard session sees every project: the publisher's ids serve its project routes.
    const cookie = { cookie: (setup.headers.get('set-cookie') ?? '').split(';')[0] };
    contexts.push({ label: 'dashboard', params: { id: pub.id, key_id: pub.keyId, click_id: clickId, conversation_id: 'consistency-1' }, headers: cookie });
    contexts.push({ label: 'dashboard', params: { id: adv.id, key_id: advKey.body.id, campaign_id: adv.campaignId, click_id: clickId }, headers: cookie });
  });
  afterAll(async () => {
    t.close();
    await upstream.close();
  });

  test('write responses (create, edit, rotate, grant, invalidate, search) follow the same rules', async () => {
    const [pub, adv] = [contexts[0], contexts[1]];
    const bodies: Array<[string, unknown]> = [];
    const send = async (method: string, path: string, body?: unknown, headers: Record<string, string> = adv.headers) => {
      const res = await t.call(method, path, { body, headers });
      expect(res.status).toBeLessThan(300);
      bodies.push([`${method} ${path}`, await res.json()]);
    };
    await send('POST', '/admin/v1/projects', { name: 'Write Adv', domain: 'write-adv.example.com', kind: 'advertiser' });
    await send('POST', `/admin/v1/projects/${adv.params.id}/credits`, { amount: '1.5' });
    await send('POST', `/admin/v1/projects/${adv.params.id}/keys`, { name: 'Limited', budget: { amount: '3', period: 'total' }, expires_at: '2031-01-01T00:00:00Z' });
    await send('PATCH', `/admin/v1/projects/${adv.params.id}/keys/${adv.params.key_id}`, { budget: { amount: '7.5', period: 'monthly' } });
    await send('POST', `/admin/v1/projects/${adv.params.id}/keys/${adv.params.key_id}/rotate`, { grace_period_seconds: 60 });
    await send('POST', `/admin/v1/projects/${adv.params.id}/campaigns`, { name: 'Second', context: 'kanban boards for teams', base_cpc: '0.5', budget: '20', budget_type: 'daily', start_at: '2026-01-01T00:00:00Z', targeting: { all_products: true } });
    await send('PATCH', `/admin/v1/projects/${adv.params.id}/campaigns/${adv.params.campaign_id}`, { budget: '60' });
    await send('POST', `/admin/v1/clicks/${adv.params.click_id}/invalidate`, { reason: 'fraud review' });
    await send('POST', '/v1/promotions/search', { query: 'a kanban board to track my team tasks' }, pub.headers);
    const problems = bodies.flatMap(([label, body]) => findInconsistencies(body, label));
    expect(problems).toEqual([]);
  });

  test('every GET route of the OpenAPI document writes times as ISO 8601 and money as decimals with their micros', async () => {
    const spec = (await (await t.call('GET', '/swagger/json')).json()) as { paths: Record<string, Record<string, any>> };
    const paths = Object.keys(spec.paths).filter((p) => spec.paths[p].get && p !== '/swagger/json' && p !== '/r/{token}' && p !== '/metrics');
    expect(paths.length).toBeGreaterThan(15);
    const checked: Record<string, number> = {};
    const problems: string[] = [];
    for (const path of paths) {
      checked[path] = 0;
      for (const ctx of contexts) {
        if (path.startsWith('/v1/conversations/') && ctx.label !== 'conversation') continue;
        if (!path.startsWith('/v1/conversations/') && ctx.label === 'conversation') continue;
        if (path.startsWith('/dashboard/') !== (ctx.label === 'dashboard')) continue;
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => ctx.params[name] ?? `missing_${name}`);
        const queries = path.endsWith('/v1/usage') ? ['', '?key=self'] : [''];
        for (const query of queries) {
          const res = await t.call('GET', `${url}${query}`, { headers: ctx.headers });
          if (res.status !== 200 || !(res.headers.get('content-type') ?? '').includes('application/json')) continue;
          checked[path]++;
          problems.push(...findInconsistencies(await res.json(), `${ctx.label} GET ${url}${query}`));
        }
      }
    }
    expect(problems).toEqual([]);
    // Every documented route answered at least once, so none was skipped by a wrong id.
    expect(Object.entries(checked).filter(([, n]) => n === 0).map(([p]) => p)).toEqual([]);
  });
});

describe('invalid_value has the status the README documents', () => {
  let t: TestApp;
  let pub: Awaited<ReturnType<TestApp['project']>>;
  beforeAll(async () => {
    t = await createTestApp();
    pub = await t.project('1.00', 'Status Pub');
  });
  afterAll(() => t.close());

  const codeOf = async (res: Response) => [res.status, ((await res.json()) as any).error.code];

  test('422 for a chat number out of its range', async () => {
    const res = await t.chat(pub.headers, { model: 'demo', messages: [{ role: 'user', content: 'hi' }], temperature: 3 });
    expect(await codeOf(res)).toEqual([422, 'invalid_value']);
  });

  test('400 for a bad value in an admin body, an admin query or a public query', async () => {
    const adv = await t.admin('POST', '/projects', { name: 'Status Adv', domain: 'status-adv.example.com', kind: 'advertiser' });
    const campaign = await t.admin('POST', `/projects/${adv.body.id}/campaigns`, { name: 'C', context: 'x', base_cpc: '999999.00', budget: '10.00', budget_type: 'total', product_ids: [] });
    expect([campaign.status, campaign.body.error.code]).toEqual([400, 'invalid_value']);
    const paged = await t.admin('GET', '/projects?limit=0');
    expect([paged.status, paged.body.error.code]).toEqual([400, 'invalid_value']);
    expect(await codeOf(await t.call('GET', '/v1/usage?from=yesterday', { headers: pub.headers }))).toEqual([400, 'invalid_value']);
  });
});
