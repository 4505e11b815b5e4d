/**
 * Issue 8's operator features end to end against the COMPILED binary (one process, `--log-format logfmt`,
 * a scripted fake upstream): key limits (rpm, allowed models, expiry, budget), editing and rotating keys,
 * usage by key, /v1/credits and /v1/usage, /metrics, catalog upserts by sku, product deletion, rule-based
 * targeting, the clicks list, and the logfmt request log.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { BROWSER_UA, CATALOG, catalogDomains, trackedLink } from '../helpers/market';
import { ADMIN_TOKEN, leakedSecrets, startGateway, type Gateway, type Project } from './binary.helpers';

// 100 / 200 micro-USD per prompt / answer token: every token moves a balance.
const PRICES = { 'gpt-4o-mini': { input: '100', output: '200' } };
const ORGANIC = 'Many teams use a shared board to plan work and track deadlines.';
const PM_QUESTION = 'What project management tool can help my team track tasks and deadlines?';
const COFFEE_QUESTION = 'Which coffee grinder should I buy for espresso?';
const [BOARDS, SHOES, GRINDER] = CATALOG;

let upstream: FakeUpstream;
let gw: Gateway;
let project: Project;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  upstream.script({ kind: 'normal', content: ORGANIC });
  gw = await startGateway({ upstreamUrl: upstream.baseUrl, config: { prices: PRICES }, args: ['--log-format', 'logfmt'] });
  project = await gw.createProject('10.00');
});

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

async function ok(res: Promise<{ status: number; text: string; body: any }>, expected: number, what: string) {
  const r = await res;
  if (r.status !== expected) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body;
}

/** A new key pair of `project` with the given limits; returns its id and headers. */
async function limitedKey(limits: Record<string, unknown>) {
  const key = await ok(gw.admin('POST', `/projects/${project.id}/keys`, { name: `limited ${crypto.randomUUID().slice(0, 6)}`, ...limits }), 201, 'key');
  return { id: key.id as string, key, headers: { 'x-publishable-key': key.publishable_key as string, 'x-secret-key': key.secret_key as string } };
}

const chat = (headers: Record<string, string>, model = 'gpt-4o-mini', content = 'Hello there') =>
  gw.request('POST', '/v1/chat/completions', { headers, body: { model, messages: [{ role: 'user', content }] } });

const openai = (headers: Record<string, string>) => new OpenAI({ baseURL: gw.apiBase, apiKey: 'unused', defaultHeaders: headers, maxRetries: 0, timeout: 10_000 });

const today = () => new Date().toISOString().slice(0, 10);

describe('keys that can be handed out safely', () => {
  test('rpm_limit 2: the third request is 429 rate_limit_exceeded with Retry-After and x-ratelimit headers', async () => {
    const k = await limitedKey({ rpm_limit: 2 });
    expect(k.key.rpm_limit).toBe(2);
    const first = await chat(k.headers);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await chat(k.headers)).status).toBe(200);
    const third = await chat(k.headers);
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ type: expect.any(String), code: 'rate_limit_exceeded' });
    const retryAfter = Number(third.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(third.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(third.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?(ms|s|m)/);

    // The official SDK (no retries) sees it as a RateLimitError carrying our code and the headers.
    const err = await openai(k.headers)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'again' }] })
      .then(() => null, (e) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limit_exceeded');
    expect(Number(err.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(err.headers.get('x-ratelimit-remaining-requests')).toBe('0');
  });

  test('allowed_models: another model is 403 model_not_allowed, the allowed one works', async () => {
    const k = await limitedKey({ allowed_models: ['gpt-4o-mini'] });
    const refused = await chat(k.headers, 'gpt-4o');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('model_not_allowed');
    expect((await chat(k.headers, 'gpt-4o-mini')).status).toBe(200);
  });

  test('expires_at in the past: 401 expired_key; PATCHed into the future it works again', async () => {
    const k = await limitedKey({ expires_at: '2020-01-01T00:00:00Z' });
    const refused = await chat(k.headers);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('expired_key');
    const patched = await ok(gw.admin('PATCH', `/projects/${project.id}/keys/${k.id}`, { expires_at: '2099-01-01T00:00:00Z' }), 200, 'patch');
    expect(Date.parse(patched.expires_at)).toBe(Date.parse('2099-01-01T00:00:00Z'));
    expect((await chat(k.headers)).status).toBe(200);
  });

  test('budget: after spending it, 403 key_budget_exceeded; other keys of the project keep working', async () => {
    // 0.01 USD = 10,000 micro-USD; one answer of ~12 words costs > 2,400: a few requests spend it.
    const k = await limitedKey({ budget: { amount: '0.01', period: 'total' } });
    let status = 200;
    let spent = 0;
    let last: Awaited<ReturnType<typeof chat>> | undefined;
    for (let i = 0; i < 10 && status === 200; i++) {
      last = await chat(k.headers);
      status = last.status;
      if (status === 200) spent++;
    }
    expect(spent).toBeGreaterThan(0);
    expect(status).toBe(403);
    expect(last!.body.error.code).toBe('key_budget_exceeded');
    expect((await chat(project.headers)).status).toBe(200);
    // Raising the budget with PATCH lets the key spend again.
    await ok(gw.admin('PATCH', `/projects/${project.id}/keys/${k.id}`, { budget: { amount: '5.00', period: 'total' } }), 200, 'raise budget');
    expect((await chat(k.headers)).status).toBe(200);
  });

  test('budget under concurrency: 12 requests at once never spend past it (the key usage report agrees)', async () => {
    const k = await limitedKey({ budget: { amount: '0.008', period: 'total' } });
    const results = await Promise.all(Array.from({ length: 12 }, () => chat(k.headers)));
    const served = results.filter((r) => r.status === 200).length;
    expect(served).toBeGreaterThan(0);
    for (const r of results) if (r.status !== 200) expect([r.status, r.body.error.code]).toEqual([403, 'key_budget_exceeded']);
    const usage = await ok(gw.admin('GET', `/projects/${project.id}/keys/${k.id}/usage`), 200, 'usage');
    expect(usage.requests).toBe(served);
    expect(usage.cost_micros).toBeGreaterThan(0);
    expect(usage.cost_micros).toBeLessThanOrEqual(8_000);
  });

  test('PATCH a key: name and limits change, null removes a limit, the list shows it', async () => {
    const k = await limitedKey({ rpm_limit: 1 });
    expect((await chat(k.headers)).status).toBe(200);
    expect((await chat(k.headers)).status).toBe(429);
    const patched = await ok(gw.admin('PATCH', `/projects/${project.id}/keys/${k.id}`, { name: 'renamed', rpm_limit: null, allowed_models: ['gpt-4o-mini'] }), 200, 'patch');
    expect(patched).toMatchObject({ id: k.id, name: 'renamed', rpm_limit: null, allowed_models: ['gpt-4o-mini'] });
    expect((await chat(k.headers)).status).toBe(200);
    const list = await ok(gw.admin('GET', `/projects/${project.id}/keys`), 200, 'list');
    expect(list.data.find((x: any) => x.id === k.id)).toMatchObject({ name: 'renamed', rpm_limit: null });
    const bad = await gw.admin('PATCH', `/projects/${project.id}/keys/${k.id}`, { rpm_limit: -3 });
    expect(bad.status).toBe(400);
  });

  test('rotate with grace 0: the old secret is refused at once, the new one works, the publishable key stays', async () => {
    const k = await limitedKey({});
    expect((await chat(k.headers)).status).toBe(200);
    const rotated = await ok(gw.admin('POST', `/projects/${project.id}/keys/${k.id}/rotate`, { grace_period_seconds: 0 }), 200, 'rotate');
    expect(rotated.publishable_key).toBe(k.headers['x-publishable-key']);
    expect(rotated.secret_key).toMatch(/^sk_live_/);
    expect(rotated.secret_key).not.toBe(k.headers['x-secret-key']);
    const old = await chat(k.headers);
    expect(old.status).toBe(401);
    expect(old.body.error.code).toBe('invalid_api_key');
    expect((await chat({ ...k.headers, 'x-secret-key': rotated.secret_key })).status).toBe(200);
  });

  test('GET key usage: requests, tokens and cost of that key by day and model', async () => {
    const k = await limitedKey({});
    const answers = [await chat(k.headers), await chat(k.headers)];
    for (const a of answers) expect(a.status).toBe(200);
    const prompt = answers.reduce((n, a) => n + a.body.usage.prompt_tokens, 0);
    const completion = answers.reduce((n, a) => n + a.body.usage.completion_tokens, 0);
    const usage = await ok(gw.admin('GET', `/projects/${project.id}/keys/${k.id}/usage?from=${today()}&to=${today()}`), 200, 'usage');
    expect(usage).toMatchObject({ object: 'usage', key_id: k.id, requests: 2, prompt_tokens: prompt, completion_tokens: completion, cost_micros: prompt * 100 + completion * 200 });
    expect(usage.days).toHaveLength(1);
    expect(usage.days[0]).toMatchObject({ date: today(), requests: 2, models: [{ model: 'gpt-4o-mini', requests: 2 }] });
    const unknown = await gw.admin('GET', `/projects/${project.id}/keys/key_doesnotexist/usage`);
    expect(unknown.status).toBe(404);
  });

  test('/v1/credits and /v1/usage?key=self with the key pair: the project and the calling key', async () => {
    const k = await limitedKey({});
    const answer = await chat(k.headers);
    expect(answer.status).toBe(200);
    const wallet = await gw.wallet(project.id);
    const credits = await ok(gw.request('GET', '/v1/credits', { headers: k.headers }), 200, 'credits');
    expect(credits).toMatchObject({ object: 'credits', balance_micros: wallet.balance_micros, held_micros: 0, available_micros: wallet.balance_micros });
    const self = await ok(gw.request('GET', '/v1/usage?key=self', { headers: k.headers }), 200, 'usage self');
    expect(self).toMatchObject({ key_id: k.id, requests: 1, prompt_tokens: answer.body.usage.prompt_tokens, completion_tokens: answer.body.usage.completion_tokens });
    const whole = await ok(gw.request('GET', '/v1/usage', { headers: k.headers }), 200, 'usage project');
    expect(whole.key_id).toBeNull();
    expect(whole.requests).toBeGreaterThan(self.requests);
    expect((await gw.request('GET', '/v1/usage?key=other', { headers: k.headers })).status).toBe(400);
    expect((await gw.request('GET', '/v1/credits')).status).toBe(401);
  });
});

describe('catalog management, rule-based targeting and the clicks list', () => {
  let adv: string;
  let campaignId: string;
  let publisher: Project;
  let boardsId: string;

  const importLines = async (lines: unknown[]) => {
    const res = await fetch(`${gw.url}/admin/v1/projects/${adv}/products/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
      body: lines.map((l) => JSON.stringify(l)).join('\n'),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as any;
  };

  /** Product ids this advertiser's campaign places for `query`. */
  const served = async (query: string): Promise<string[]> => {
    const res = await ok(gw.request('POST', '/v1/promotions/search', { headers: publisher.headers, body: { query, limit: 20 } }), 200, 'search');
    return res.data.filter((d: any) => d.campaign.id === campaignId).map((d: any) => d.product.id);
  };

  beforeAll(async () => {
    const slug = crypto.randomUUID().slice(0, 8);
    adv = (await ok(gw.admin('POST', '/projects', { name: `Catalog ${slug}`, domain: `catalog-${slug}.example.com`, kind: 'advertiser' }), 201, 'advertiser')).id;
    await ok(gw.admin('POST', `/projects/${adv}/domain/verify`, { method: 'manual' }), 200, 'verify');
    await ok(gw.admin('PATCH', `/projects/${adv}`, { link_domains: catalogDomains(CATALOG) }), 200, 'link domains');
    await ok(gw.admin('POST', `/projects/${adv}/credits`, { amount: '100.00' }), 201, 'credits');
    publisher = await gw.createProject('10.00');
    await ok(gw.admin('PATCH', `/projects/${publisher.id}`, { monetization: true }), 200, 'monetization');
  });

  test('import JSON Lines twice with skus: the second report counts updated and unchanged, no duplicates', async () => {
    const first = await importLines([{ ...BOARDS, sku: 'KB-1' }, { ...SHOES, sku: 'TR-1' }]);
    expect(first).toMatchObject({ created: 2, updated: 0, unchanged: 0, failed: 0 });
    const second = await importLines([{ ...BOARDS, sku: 'KB-1', description: `${BOARDS.description} Now with timelines.` }, { ...SHOES, sku: 'TR-1' }]);
    expect(second).toMatchObject({ created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect(second.product_ids).toEqual(first.product_ids);
    const listed = await ok(gw.admin('GET', `/projects/${adv}/products?limit=1000`), 200, 'products');
    expect(listed.data).toHaveLength(2);
    const boards = listed.data.find((p: any) => p.sku === 'KB-1');
    expect(boards.description).toEndWith('Now with timelines.');
    boardsId = boards.id;
  });

  test('a campaign targeting all_products serves the catalog and picks up a product added later', async () => {
    const created = await ok(
      gw.admin('POST', `/projects/${adv}/campaigns`, { name: 'Everything', context: 'tools for teams', base_cpc: '0.40', budget: '50.00', targeting: { all_products: true } }),
      201,
      'campaign',
    );
    campaignId = created.id;
    await ok(gw.admin('POST', `/projects/${adv}/campaigns/${campaignId}/activate`), 200, 'activate');
    expect(await served(PM_QUESTION)).toEqual([boardsId]);
    expect(await served(COFFEE_QUESTION)).toEqual([]);
    const grinder = await ok(gw.admin('POST', `/projects/${adv}/products`, GRINDER), 201, 'grinder');
    expect(await served(COFFEE_QUESTION)).toEqual([grinder.id]);
    const campaign = await ok(gw.admin('GET', `/projects/${adv}/campaigns/${campaignId}`), 200, 'campaign');
    expect(campaign.product_ids).toContain(grinder.id);
  });

  test('the clicks list shows a charged click and a duplicate with its reason, filterable by status', async () => {
    const answer = await ok(chat(publisher.headers, 'gpt-4o-mini', PM_QUESTION), 200, 'chat');
    const link = trackedLink(answer.choices[0].message.content);
    expect(link).not.toBeNull();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(link!, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
      expect(res.status).toBe(302);
      await res.arrayBuffer();
    }
    const all = await ok(gw.admin('GET', `/projects/${adv}/clicks?campaign_id=${campaignId}`), 200, 'clicks');
    expect(all.data.map((c: any) => c.status).sort()).toEqual(['charged', 'invalid']);
    const invalid = await ok(gw.admin('GET', `/projects/${adv}/clicks?status=invalid`), 200, 'invalid clicks');
    expect(invalid.data).toHaveLength(1);
    expect(invalid.data[0]).toMatchObject({ status: 'invalid', reason: 'duplicate' });
    expect(invalid.data[0].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  test('DELETE a product: it no longer appears in /v1/promotions/search', async () => {
    expect(await served(PM_QUESTION)).toEqual([boardsId]);
    const res = await ok(gw.admin('DELETE', `/projects/${adv}/products/${boardsId}`), 200, 'delete');
    expect(res).toEqual({ id: boardsId, object: 'product', deleted: true });
    expect(await served(PM_QUESTION)).toEqual([]);
    const listed = await ok(gw.admin('GET', `/projects/${adv}/products?limit=1000`), 200, 'products');
    expect(listed.data.map((p: any) => p.id)).not.toContain(boardsId);
  });
});

describe('observability', () => {
  test('the schema a route documents is the one it checks: a misspelled field is 400 unknown_field with a suggestion', async () => {
    const res = await gw.admin('PATCH', `/projects/${project.id}`, { frequency_cap_turn: 3 });
    expect([res.status, res.body.error.code, res.body.error.param]).toEqual([400, 'unknown_field', 'frequency_cap_turn']);
    expect(res.body.error.message).toContain('did you mean frequency_cap_turns?');
    const spec = (await gw.request('GET', '/swagger/json')).body;
    const body = spec.paths['/admin/v1/projects/{id}'].patch.requestBody.content['application/json'].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.frequency_cap_turns).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    const over = await gw.admin('PATCH', `/projects/${project.id}`, { frequency_cap_turns: 1001 });
    expect([over.status, over.body.error.code, over.body.error.param]).toEqual([400, 'invalid_value', 'frequency_cap_turns']);
  });

  test('GET /metrics with the admin token counts the requests made, by route template, with no secrets or ids; a wrong token is 401', async () => {
    const before = await gw.request('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(before.status).toBe(200);
    const count = (text: string, labels: string) => {
      const line = text.split('\n').find((l) => l.startsWith('vexrail_http_requests_total{') && l.includes(labels));
      return line ? Number(line.split(' ').at(-1)) : 0;
    };
    const credits = 'route="/v1/credits",status="200"';
    const limited = 'route="/v1/chat/completions",status="429"';
    const rotations = 'route="/admin/v1/projects/:id/keys/:key_id/rotate",status="200"';
    const [n, n429, nRotate] = [count(before.text, credits), count(before.text, limited), count(before.text, rotations)];
    for (let i = 0; i < 3; i++) expect((await gw.request('GET', '/v1/credits', { headers: project.headers })).status).toBe(200);
    const k = await limitedKey({ rpm_limit: 1 });
    expect((await chat(k.headers)).status).toBe(200);
    expect((await chat(k.headers)).status).toBe(429);
    await ok(gw.admin('POST', `/projects/${project.id}/keys/${k.id}/rotate`, { grace_period_seconds: 60 }), 200, 'rotate');
    const after = await gw.request('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(after.status).toBe(200);
    expect(after.headers.get('content-type')).toContain('text/plain');
    expect(count(after.text, credits)).toBe(n + 3);
    expect(count(after.text, limited)).toBe(n429 + 1);
    expect(count(after.text, rotations)).toBe(nRotate + 1);
    expect(after.text).toMatch(/^vexrail_tokens_total\{[^}]*model="gpt-4o-mini"/m);
    expect(leakedSecrets(after.text, gw.secrets())).toEqual([]);
    expect(after.text).not.toContain(project.id);
    expect(after.text).not.toContain(project.keyId);
    expect(after.text).not.toContain(k.id);
    expect(after.text).not.toMatch(/(pk|sk)_live_/);

    const wrong = await gw.request('GET', '/metrics', { headers: { authorization: 'Bearer not-the-admin-token' } });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain('vexrail_http_requests_total');
  });

  test('--log-format logfmt: the request log on stdout is logfmt, with no secrets', async () => {
    const refused = await chat(project.headers, 'no-such-model');
    expect(refused.status).toBe(422);
    const lines = await eventuallyLines('status=422');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^ts=\S+ (\w+=("[^"]*"|\S*) ?)+$/);
    expect(lines.some((l) => /\bmethod=POST\b/.test(l) && /\bpath=\/v1\/chat\/completions\b/.test(l) && /\bstatus=422\b/.test(l))).toBe(true);
    expect(gw.stdout().split('\n').some((l) => l.startsWith('{'))).toBe(false);
    expect(leakedSecrets(gw.stdout() + gw.stderr(), gw.secrets())).toEqual([]);
  });
});

/** The request-log lines (those with a request id) once the background flush wrote one containing `awaited`. */
async function eventuallyLines(awaited: string): Promise<string[]> {
  const pick = () => gw.stdout().split('\n').filter((l) => l.includes('request_id=req_'));
  const deadline = performance.now() + 3_000;
  while (!pick().some((l) => l.includes(awaited)) && performance.now() < deadline) await Bun.sleep(25);
  return pick();
}
