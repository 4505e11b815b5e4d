import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { isPrivateListenAddress } from '../../src/ops/metrics.routes';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';
import { TEST_STORE } from '../helpers/test-app';

let upstream: FakeUpstream;
let t: TestApp;
let p: Awaited<ReturnType<TestApp['project']>>;
const METRICS_TOKEN = 'metrics-reader-token-0123';

beforeAll(async () => {
  upstream = await startFakeUpstream();
  t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  p = await t.project('10.00');
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

async function scrape(headers: Record<string, string> = {}): Promise<string[]> {
  const res = await t.call('GET', '/metrics', { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return (await res.text()).split('\n');
}
const value = (lines: string[], sample: string) => {
  const line = lines.find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
};
const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What tools can help me manage my projects?' }] };

describe('GET /metrics', () => {
  test('a completion shows up by route template, status, provider and model; ids never do', async () => {
    upstream.script({ kind: 'normal', content: 'Try a kanban board.' });
    const res = await t.chat(p.headers, ask);
    const usage = ((await res.json()) as any).usage;
    // A 5xx is retried once on the same provider (the default), then the client gets the 502.
    upstream.scriptOnce({ kind: 'status', status: 500 });
    upstream.scriptOnce({ kind: 'status', status: 500 });
    expect((await t.chat(p.headers, ask)).status).toBe(502);
    await t.admin('GET', `/projects/${p.id}`);
    await t.call('GET', `/no/such/${p.id}`);
    const lines = await scrape();
    const text = lines.join('\n');
    expect(value(lines, 'vexrail_http_requests_total{method="POST",route="/v1/chat/completions",status="200"}')).toBe(1);
    expect(value(lines, 'vexrail_http_requests_total{method="POST",route="/v1/chat/completions",status="502"}')).toBe(1);
    expect(value(lines, 'vexrail_http_requests_total{method="GET",route="/admin/v1/projects/:id",status="200"}')).toBe(1);
    expect(value(lines, 'vexrail_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(value(lines, 'vexrail_http_request_duration_ms_count{method="POST",route="/v1/chat/completions",status="200"}')).toBe(1);
    expect(value(lines, 'vexrail_gateway_overhead_ms_count')).toBe(1);
    expect(value(lines, 'vexrail_upstream_duration_ms_count{provider="fake"}')).toBe(1);
    expect(value(lines, 'vexrail_upstream_errors_total{provider="fake",code="upstream_error"}')).toBe(2);
    expect(value(lines, 'vexrail_upstream_failovers_total{provider="fake",kind="retry"}')).toBe(1);
    expect(value(lines, 'vexrail_provider_breaker_state{provider="fake"}')).toBe(0);
    expect(value(lines, 'vexrail_provider_consecutive_failures{provider="fake"}')).toBe(2);
    expect(value(lines, 'vexrail_tokens_total{model="gpt-4o-mini",kind="prompt"}')).toBe(usage.prompt_tokens);
    expect(value(lines, 'vexrail_tokens_total{model="gpt-4o-mini",kind="completion"}')).toBe(usage.completion_tokens);
    expect(value(lines, 'vexrail_spend_micros_total{model="gpt-4o-mini"}')).toBeGreaterThan(0);
    expect(value(lines, 'vexrail_wallet_holds_outstanding')).toBe(0);
    expect(value(lines, 'vexrail_wallet_held_micros')).toBe(0);
    expect(value(lines, 'vexrail_write_behind_queued{queue="conversations"}')).toBeGreaterThanOrEqual(0);
    expect(value(lines, 'vexrail_write_behind_dropped_total{queue="impressions"}')).toBe(0);
    expect(value(lines, 'vexrail_event_loop_lag_max_ms')).toBeGreaterThanOrEqual(0);
    // The WAL write gate exists on the embedded store only.
    expect(value(lines, 'vexrail_store_write_holds_total')).toBe(TEST_STORE === 'sqlite' ? 0 : undefined);
    expect(value(lines, 'vexrail_store_write_hold_max_ms')).toBe(TEST_STORE === 'sqlite' ? 0 : undefined);
    expect(value(lines, 'vexrail_promotion_no_fill_total{reason="monetization_off"}')).toBe(2);
    for (const secret of [p.id, p.keyId, p.pk, p.sk, ADMIN_TOKEN, METRICS_TOKEN]) expect(text).not.toContain(secret);
  });

  test('a hold is outstanding while its completion is in flight', async () => {
    upstream.scriptOnce({ kind: 'slow_first_byte', delayMs: 150 });
    const pending = t.chat(p.headers, ask);
    await Bun.sleep(50);
    const during = await scrape();
    expect(value(during, 'vexrail_wallet_holds_outstanding')).toBe(1);
    expect(value(during, 'vexrail_wallet_held_micros')).toBeGreaterThan(0);
    expect((await pending).status).toBe(200);
    expect(value(await scrape(), 'vexrail_wallet_holds_outstanding')).toBe(0);
  });

  test('the admin token is accepted; a wrong token never is', async () => {
    await scrape({ authorization: `Bearer ${ADMIN_TOKEN}`, 'x-forwarded-for': '203.0.113.9' });
    const wrong = await t.call('GET', '/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.code).toBe('invalid_admin_token');
  });

  test('without a token: open on a loopback listener, refused through a proxy', async () => {
    await scrape();
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      const res = await t.call('GET', '/metrics', { headers: { [header]: '203.0.113.9' } });
      expect(res.status).toBe(401);
    }
  });
});

test('with a metrics token set, it (or the admin token) is required even on a loopback listener', async () => {
  const tok = await createTestApp({ upstreamUrl: upstream.baseUrl, env: { VEXRAIL_METRICS_TOKEN: METRICS_TOKEN } });
  try {
    expect((await tok.call('GET', '/metrics')).status).toBe(401);
    expect((await tok.call('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}`, 'x-forwarded-for': '203.0.113.9' } })).status).toBe(200);
    expect((await tok.call('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    expect((await tok.call('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
  } finally {
    tok.close();
  }
});

test('a public listen address needs a token', async () => {
  const pub = await createTestApp({ upstreamUrl: upstream.baseUrl, env: { VEXRAIL_HOST: '0.0.0.0' } });
  try {
    expect((await pub.call('GET', '/metrics')).status).toBe(401);
    expect((await pub.call('GET', '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
  } finally {
    pub.close();
  }
});

test('private listen addresses', () => {
  for (const h of ['127.0.0.1', '127.8.0.1', 'localhost', '::1', '[::1]', '10.1.2.3', '172.16.0.1', '172.31.255.1', '192.168.1.10', 'fd12:3456::1', '::ffff:10.0.0.1'])
    expect(isPrivateListenAddress(h)).toBe(true);
  for (const h of ['0.0.0.0', '::', '172.32.0.1', '192.169.0.1', '8.8.8.8', 'example.com', 'fe80::1', '11.0.0.1'])
    expect(isPrivateListenAddress(h)).toBe(false);
});
