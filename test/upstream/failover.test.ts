import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { tokenCostMicros } from '../../src/money/money';
import { attemptOrder, retryAfterMsOf } from '../../src/upstream/upstream.client';
import { createProviderHealth } from '../../src/upstream/provider-health';
import type { ProviderConfig } from '../../src/config/config';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, readSse, type TestApp } from '../helpers/test-app';

const PRICE = { input: '1.00', output: '2.00' };
const ask = (extra: Record<string, unknown> = {}) => ({ model: 'fake-model', messages: [{ role: 'user', content: 'Say hello.' }], ...extra });
const chatCalls = (u: FakeUpstream) => u.requests.filter((r) => r.path === '/v1/chat/completions');

let primary: FakeUpstream;
let backup: FakeUpstream;
beforeAll(async () => {
  primary = await startFakeUpstream();
  backup = await startFakeUpstream();
});
afterAll(async () => {
  await primary.close();
  await backup.close();
});
afterEach(() => {
  primary.script({ kind: 'normal' });
  backup.script({ kind: 'normal' });
});

/** A gateway with two providers of `fake-model` (primary first), each with the given extra settings. */
async function gateway(primaryExtra: Record<string, unknown> = {}, backupExtra: Record<string, unknown> = {}, file: Record<string, unknown> = {}) {
  const t = await createTestApp({
    configFile: {
      providers: [
        { name: 'primary', base_url: primary.baseUrl, api_key: 'sk-primary-SECRET', models: ['fake-model'], retry_backoff_ms: 5, ...primaryExtra },
        { name: 'backup', base_url: backup.baseUrl, api_key: 'sk-backup-SECRET', models: ['fake-model'], retry_backoff_ms: 5, ...backupExtra },
      ],
      prices: { 'fake-model': PRICE },
      ...file,
    },
  });
  const p = await t.project('10.00');
  return { t, p };
}

async function balance(t: TestApp, projectId: string) {
  await t.rt.flushAll();
  return t.rt.wallet.view(projectId, 1, null);
}

describe('failover between the providers of a model', () => {
  test('a 5xx is retried once on the same provider, then the next provider answers; one charge, at the model price', async () => {
    const { t, p } = await gateway();
    try {
      const before = (await balance(t, p.id)).balance_micros;
      const p0 = chatCalls(primary).length;
      const b0 = chatCalls(backup).length;
      primary.script({ kind: 'status', status: 503 });
      backup.script({ kind: 'normal', content: 'Hello from the backup.' });
      const res = await t.chat(p.headers, ask());
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vexrail-provider')).toBe('backup');
      const body = (await res.json()) as any;
      expect(body.choices[0].message.content).toBe('Hello from the backup.');
      expect(chatCalls(primary).length - p0).toBe(2);
      expect(chatCalls(backup).length - b0).toBe(1);
      const after = await balance(t, p.id);
      expect(before - after.balance_micros).toBe(tokenCostMicros(body.usage.prompt_tokens, body.usage.completion_tokens, { inputMicrosPerMTok: 1_000_000, outputMicrosPerMTok: 2_000_000 }));
      expect(t.rt.metrics.render()).toContain('vexrail_upstream_failovers_total{provider="primary",kind="failover"} 1');
      const raw = await (await t.call('GET', '/readyz')).text();
      expect(raw).not.toContain('SECRET');
      expect(raw).not.toContain(primary.baseUrl);
    } finally {
      await t.close();
    }
  });

  test('a 429 with Retry-After is retried on the same provider after the given wait', async () => {
    const { t, p } = await gateway();
    try {
      const p0 = chatCalls(primary).length;
      primary.scriptOnce({ kind: 'status', status: 429, headers: { 'retry-after-ms': '300' } });
      const started = performance.now();
      const res = await t.chat(p.headers, ask());
      const elapsed = performance.now() - started;
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vexrail-provider')).toBe('primary');
      expect(chatCalls(primary).length - p0).toBe(2);
      expect(elapsed).toBeGreaterThanOrEqual(290);
    } finally {
      await t.close();
    }
  });

  test('a Retry-After beyond 10 s is not waited for: the request moves to the next provider at once', async () => {
    const { t, p } = await gateway();
    try {
      primary.scriptOnce({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
      const started = performance.now();
      const res = await t.chat(p.headers, ask());
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vexrail-provider')).toBe('backup');
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await t.close();
    }
  });

  test('a 4xx other than 429 is the client\'s problem: never retried, never failed over', async () => {
    const { t, p } = await gateway();
    try {
      const p0 = chatCalls(primary).length;
      const b0 = chatCalls(backup).length;
      primary.scriptOnce({ kind: 'status', status: 400, body: { error: { message: 'bad', type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' } } });
      const res = await t.chat(p.headers, ask());
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe('context_length_exceeded');
      expect(chatCalls(primary).length - p0).toBe(1);
      expect(chatCalls(backup).length - b0).toBe(0);
      expect((await balance(t, p.id)).balance_micros).toBe(10_000_000);
    } finally {
      await t.close();
    }
  });

  test('a first-byte timeout and a refused connection both fail over', async () => {
    const { t, p } = await gateway({ first_byte_timeout_ms: 150, retries: 0 });
    try {
      primary.scriptOnce({ kind: 'hang' });
      const res = await t.chat(p.headers, ask());
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vexrail-provider')).toBe('backup');
    } finally {
      await t.close();
    }
    const dead = await createTestApp({
      configFile: {
        providers: [
          { name: 'dead', base_url: 'http://127.0.0.1:9/v1', models: ['fake-model'], retries: 2, retry_backoff_ms: 5 },
          { name: 'backup', base_url: backup.baseUrl, models: ['fake-model'] },
        ],
        prices: { 'fake-model': PRICE },
      },
    });
    try {
      const q = await dead.project('1.00');
      const res = await dead.chat(q.headers, ask({ stream: true }));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-vexrail-provider')).toBe('backup');
      const { frames } = await readSse(res);
      expect(frames.at(-1)).toBe('[DONE]');
      const health = ((await (await dead.call('GET', '/readyz')).json()) as any).providers;
      expect(health.find((h: any) => h.name === 'dead')).toMatchObject({ state: 'closed', consecutive_failures: 3, failures: 3 });
      expect(health.find((h: any) => h.name === 'dead').recent_errors.map((e: any) => e.code)).toEqual(['upstream_error', 'upstream_error', 'upstream_error']);
    } finally {
      await dead.close();
    }
  });

  test('nothing is retried once the answer has started: a stream that breaks mid-way ends with an error frame, one attempt', async () => {
    const { t, p } = await gateway();
    try {
      const p0 = chatCalls(primary).length;
      const b0 = chatCalls(backup).length;
      primary.scriptOnce({ kind: 'disconnect_mid_stream', afterChunks: 2 });
      const res = await t.chat(p.headers, ask({ stream: true }));
      expect(res.status).toBe(200);
      const { frames } = await readSse(res);
      expect(JSON.parse(frames.at(-1)!).error.type).toBe('upstream_error');
      expect(chatCalls(primary).length - p0).toBe(1);
      expect(chatCalls(backup).length - b0).toBe(0);
      const wallet = await balance(t, p.id);
      expect(wallet.held_micros).toBe(0);
    } finally {
      await t.close();
    }
  });

  test('when every provider fails the client gets the last failure\'s status and nothing is charged', async () => {
    const { t, p } = await gateway();
    try {
      primary.script({ kind: 'status', status: 500 });
      backup.script({ kind: 'status', status: 429 });
      const res = await t.chat(p.headers, ask());
      expect(res.status).toBe(429);
      expect(((await res.json()) as any).error.type).toBe('rate_limit_error');
      expect((await balance(t, p.id)).balance_micros).toBe(10_000_000);
    } finally {
      await t.close();
    }
  });

  test('the upstream refusing the gateway\'s key (401) moves to the next provider without a retry', async () => {
    const { t, p } = await gateway();
    try {
      const p0 = chatCalls(primary).length;
      primary.scriptOnce({ kind: 'status', status: 401 });
      const res = await t.chat(p.headers, ask());
      expect(res.headers.get('x-vexrail-provider')).toBe('backup');
      expect(chatCalls(primary).length - p0).toBe(1);
    } finally {
      await t.close();
    }
  });

  test('a client that leaves during the backoff ends the request: no further attempt, the hold released', async () => {
    const { t, p } = await gateway({ retry_backoff_ms: 2_000 }, {}, {});
    try {
      const p0 = chatCalls(primary).length;
      const b0 = chatCalls(backup).length;
      primary.scriptOnce({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
      const controller = new AbortController();
      const pending = t.fetch(new Request('http://127.0.0.1:8080/v1/chat/completions', {
        method: 'POST', headers: { ...p.headers, 'content-type': 'application/json' }, body: JSON.stringify(ask()), signal: controller.signal,
      })).catch(() => null);
      await Bun.sleep(200);
      controller.abort();
      await pending;
      await Bun.sleep(1_200);
      expect(chatCalls(primary).length - p0).toBe(1);
      expect(chatCalls(backup).length - b0).toBe(0);
      const wallet = await balance(t, p.id);
      expect(wallet.balance_micros).toBe(10_000_000);
      expect(wallet.held_micros).toBe(0);
    } finally {
      await t.close();
    }
  });
});

describe('circuit breaker', () => {
  test('opens after the configured consecutive failures, skips the provider while cooling down, then lets one probe through', async () => {
    const { t, p } = await gateway({ retries: 0, breaker: { failures: 2, cooldown_ms: 400 } });
    try {
      primary.script({ kind: 'status', status: 500 });
      for (let i = 0; i < 2; i++) expect((await t.chat(p.headers, ask())).headers.get('x-vexrail-provider')).toBe('backup');
      let health = ((await (await t.call('GET', '/readyz')).json()) as any).providers;
      expect(health.find((h: any) => h.name === 'primary').state).toBe('open');
      expect(t.rt.metrics.render()).toContain('vexrail_provider_breaker_state{provider="primary"} 2');
      const p0 = chatCalls(primary).length;
      for (let i = 0; i < 3; i++) expect((await t.chat(p.headers, ask())).headers.get('x-vexrail-provider')).toBe('backup');
      expect(chatCalls(primary).length - p0).toBe(0);
      await Bun.sleep(450);
      health = ((await (await t.call('GET', '/readyz')).json()) as any).providers;
      expect(health.find((h: any) => h.name === 'primary').state).toBe('half_open');
      // The probe fails: open again for another cooldown.
      expect((await t.chat(p.headers, ask())).headers.get('x-vexrail-provider')).toBe('backup');
      expect(chatCalls(primary).length - p0).toBe(1);
      expect((await t.chat(p.headers, ask())).headers.get('x-vexrail-provider')).toBe('backup');
      expect(chatCalls(primary).length - p0).toBe(1);
      // The provider recovers: the next probe closes the breaker.
      primary.script({ kind: 'normal' });
      await Bun.sleep(450);
      expect((await t.chat(p.headers, ask())).headers.get('x-vexrail-provider')).toBe('primary');
      expect((await t.chat(p.headers, ask())).headers.get('x-vexrail-provider')).toBe('primary');
      health = ((await (await t.call('GET', '/readyz')).json()) as any).providers;
      expect(health.find((h: any) => h.name === 'primary')).toMatchObject({ state: 'closed', consecutive_failures: 0 });
    } finally {
      await t.close();
    }
  });

  test('with every provider cooling down the answer is a 502 upstream_unavailable at once', async () => {
    const { t, p } = await gateway({ retries: 0, breaker: { failures: 1, cooldown_ms: 60_000 } }, { retries: 0, breaker: { failures: 1, cooldown_ms: 60_000 } });
    try {
      primary.script({ kind: 'status', status: 500 });
      backup.script({ kind: 'status', status: 500 });
      expect((await t.chat(p.headers, ask())).status).toBe(502);
      const p0 = chatCalls(primary).length + chatCalls(backup).length;
      const res = await t.chat(p.headers, ask());
      expect(res.status).toBe(502);
      expect(((await res.json()) as any).error.code).toBe('upstream_unavailable');
      expect(chatCalls(primary).length + chatCalls(backup).length).toBe(p0);
    } finally {
      await t.close();
    }
  });

  test('only one probe passes a half-open breaker at a time', () => {
    let now = 0;
    const provider = { name: 'x', breakerFailures: 1, breakerCooldownMs: 100 } as ProviderConfig;
    const health = createProviderHealth([provider], () => now);
    health.failure(provider, 'upstream_error');
    expect(health.admit(provider)).toBe(false);
    now = 100;
    expect(health.admit(provider)).toBe(true);
    expect(health.admit(provider)).toBe(false);
    health.release(provider);
    expect(health.admit(provider)).toBe(true);
    health.success(provider, 12);
    expect(health.state(provider)).toBe('closed');
    expect(health.snapshot()[0].latency_ms).toEqual({ p50: 12, p99: 12, samples: 1 });
  });
});

describe('order and weights', () => {
  const p = (name: string, priority: number, weight = 1) => ({ name, priority, weight }) as ProviderConfig;

  test('priorities come first; within one priority the weights share the traffic', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const providers = [p('a', 0, 3), p('b', 0, 1), p('c', 1)];
    const firsts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (let i = 0; i < 4000; i++) {
      const order = attemptOrder(providers, random);
      expect(order.at(-1)!.name).toBe('c');
      expect(new Set(order.map((x) => x.name)).size).toBe(3);
      firsts[order[0].name]++;
    }
    expect(firsts.c).toBe(0);
    expect(firsts.a / 4000).toBeGreaterThan(0.72);
    expect(firsts.a / 4000).toBeLessThan(0.78);
  });

  test('weights through the gateway: equal priority spreads requests', async () => {
    const { t, p: q } = await gateway({ priority: 0, weight: 1 }, { priority: 0, weight: 1 });
    try {
      const served: Record<string, number> = {};
      for (let i = 0; i < 60; i++) {
        const name = (await t.chat(q.headers, ask())).headers.get('x-vexrail-provider')!;
        served[name] = (served[name] ?? 0) + 1;
      }
      expect(served.primary).toBeGreaterThan(10);
      expect(served.backup).toBeGreaterThan(10);
    } finally {
      await t.close();
    }
  });

  test('Retry-After in milliseconds, seconds and as a date', () => {
    expect(retryAfterMsOf(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMsOf(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 7_000)).toBe(3000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'soon' }))).toBeNull();
    expect(retryAfterMsOf(new Headers())).toBeNull();
  });
});

describe('aliases and discovery', () => {
  test('an alias resolves before routing: listed in /v1/models, sent upstream as its model, charged at its price', async () => {
    const t = await createTestApp({
      configFile: {
        providers: [{ name: 'primary', base_url: primary.baseUrl, models: ['fake-model'] }],
        prices: { 'fake-model': PRICE },
        aliases: { fast: 'fake-model' },
      },
    });
    try {
      const q = await t.project('1.00');
      const models = (await (await t.call('GET', '/v1/models', { headers: q.headers })).json()) as any;
      expect(models.data.map((m: any) => m.id).sort()).toEqual(['fake-model', 'fast']);
      const res = await t.chat(q.headers, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200);
      expect(chatCalls(primary).at(-1)!.body.model).toBe('fake-model');
      const body = (await res.json()) as any;
      const wallet = await balance(t, q.id);
      expect(1_000_000 - wallet.balance_micros).toBe(tokenCostMicros(body.usage.prompt_tokens, body.usage.completion_tokens, { inputMicrosPerMTok: 1_000_000, outputMicrosPerMTok: 2_000_000 }));
    } finally {
      await t.close();
    }
  });

  test('a key limited to a model may use its alias; a key limited to the alias may not use other models', async () => {
    const t = await createTestApp({
      configFile: {
        providers: [{ name: 'primary', base_url: primary.baseUrl, models: ['fake-model', 'gpt-4o-mini'] }],
        prices: { 'fake-model': PRICE },
        aliases: { fast: 'fake-model' },
      },
    });
    try {
      const q = await t.project('1.00');
      const key = async (allowed: string[]) => {
        const k = await t.admin('POST', `/projects/${q.id}/keys`, { name: allowed.join('+'), allowed_models: allowed });
        return { 'x-publishable-key': k.body.publishable_key, 'x-secret-key': k.body.secret_key };
      };
      const byModel = await key(['fake-model']);
      expect((await t.chat(byModel, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
      const byAlias = await key(['fast']);
      expect((await t.chat(byAlias, { model: 'fast', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
      const refused = await t.chat(byAlias, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as any).error.code).toBe('model_not_allowed');
    } finally {
      await t.close();
    }
  });

  test('"discover": true serves only the priced models the provider lists', async () => {
    const listing = await startFakeUpstream({ models: ['gpt-4o-mini', 'some-unpriced-model'] });
    const t = await createTestApp({
      configFile: { providers: [{ name: 'listing', base_url: listing.baseUrl, models: ['*'], discover: true }], prices: { 'fake-model': PRICE } },
    });
    try {
      const q = await t.project('1.00');
      const models = (await (await t.call('GET', '/v1/models', { headers: q.headers })).json()) as any;
      expect(models.data.map((m: any) => m.id)).toEqual(['gpt-4o-mini']);
      const refused = await t.chat(q.headers, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      expect(refused.status).toBe(422);
      expect(listing.requests.some((r) => r.method === 'GET' && r.path === '/v1/models' && r.headers.authorization === undefined)).toBe(true);
    } finally {
      await t.close();
      await listing.close();
    }
  });
});
