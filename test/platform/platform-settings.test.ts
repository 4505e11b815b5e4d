import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createRuntime } from '../../src/runtime';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { BROWSER_UA, advertiser, publisher, trackedLink } from '../helpers/market';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

const API = '/dashboard/api/v1';
const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
let upstream: FakeUpstream;
let t: TestApp;
let ops: Record<string, string>;

const settings = async (body?: unknown, headers = ops) => {
  const res = await t.call(body === undefined ? 'GET' : 'PATCH', `${API}/operator/settings`, { body, headers });
  return { status: res.status, body: (await res.json()) as any };
};

/** A promoted answer and one browser click on it; returns the click as the admin API lists it. */
async function chargedClick(pub: Awaited<ReturnType<typeof publisher>>, advertiserId: string) {
  upstream.script({ kind: 'normal', content: 'Many teams use a shared board.' });
  const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] });
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  expect(link).not.toBeNull();
  expect((await t.call('GET', new URL(link!).pathname, { headers: { 'user-agent': BROWSER_UA } })).status).toBe(302);
  const clicks = await t.admin('GET', `/projects/${advertiserId}/clicks`);
  return (clicks.body.data as any[]).find((c) => c.publisher_project_id === pub.id && c.status === 'charged');
}

beforeAll(async () => {
  upstream = await startFakeUpstream();
  t = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile: { prices: { 'gpt-4o-mini': { input: '1.00', output: '2.00' }, 'fake-model': { input: '0', output: '0' } } } });
  const setup = await t.call('POST', `${API}/auth/setup`, { body: { admin_token: ADMIN_TOKEN, email: 'ops@example.com', name: 'Ops', password: 'operator password' } });
  const body = (await setup.json()) as any;
  ops = { cookie: (setup.headers.get('set-cookie') ?? '').split(';')[0], 'x-csrf-token': body.csrf_token };
});
afterAll(async () => {
  t.close();
  await upstream.close();
});

describe('platform settings changed by the operator in the dashboard', () => {
  test('the config file\'s values are shown with their source until changed', async () => {
    const s = await settings();
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ publisher_share_percent: 70, publisher_share_source: 'config', earnings_hold_source: 'config' });
    expect(s.body.models.find((m: any) => m.id === 'gpt-4o-mini')).toMatchObject({ input_per_mtok_micros: 1_000_000, output_per_mtok_micros: 2_000_000, price_source: 'config' });
  });

  test('a new share splits the next click; a hold of 0 days makes its earning available at once', async () => {
    const adv = await advertiser(t, { name: 'Split Adv', baseCpc: '0.40' });
    const pub = await publisher(t, 'Split Pub');
    const before = await chargedClick(pub, adv.id);
    expect(before.publisher_micros).toBe(Math.floor((before.charged_micros * 7000) / 10_000));

    const changed = await settings({ publisher_share_percent: 55.5, earnings_hold_days: 0 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ publisher_share_percent: 55.5, publisher_share_source: 'dashboard', earnings_hold_days: 0 });
    const pub2 = await publisher(t, 'Split Pub 2');
    const after = await chargedClick(pub2, adv.id);
    expect(after.publisher_micros).toBe(Math.floor((after.charged_micros * 5550) / 10_000));
    expect(after.publisher_micros + after.platform_micros).toBe(after.charged_micros);
    const earnings = await t.admin('GET', `/projects/${pub2.id}/earnings`);
    expect(earnings.body.available_micros).toBe(after.publisher_micros);
    // The earlier earning keeps the hold it was given.
    expect((await t.admin('GET', `/projects/${pub.id}/earnings`)).body.pending_micros).toBe(before.publisher_micros);

    // null puts the config file's values back.
    const restored = await settings({ publisher_share_percent: null, earnings_hold_days: null });
    expect(restored.body).toMatchObject({ publisher_share_percent: 70, publisher_share_source: 'config', earnings_hold_source: 'config' });
  });

  test('a new model price prices the next request; it survives a restart on the same store', async () => {
    const p = await t.project('10.00', 'Priced');
    const cost = async () => {
      upstream.script({ kind: 'normal', content: 'one two three four' });
      await t.chat(p.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      const wallet = await t.admin('GET', `/projects/${p.id}/wallet?limit=1`);
      return -wallet.body.transactions[0].amount_micros;
    };
    const atConfig = await cost();
    expect((await settings({ prices: { 'gpt-4o-mini': { input: '10.00', output: '20.00' } } })).status).toBe(200);
    const atNew = await cost();
    expect(atNew).toBe(atConfig * 10);
    expect((await settings()).body.models.find((m: any) => m.id === 'gpt-4o-mini').price_source).toBe('dashboard');

    const again = await createRuntime(t.config, t.store);
    try {
      expect(again.catalog.resolve('gpt-4o-mini')!.price).toEqual({ inputMicrosPerMTok: 10_000_000, outputMicrosPerMTok: 20_000_000 });
    } finally {
      await again.stop();
    }
    await settings({ prices: { 'gpt-4o-mini': null } });
    expect(t.rt.catalog.resolve('gpt-4o-mini')!.price).toEqual({ inputMicrosPerMTok: 1_000_000, outputMicrosPerMTok: 2_000_000 });
  });

  test('bad values are 400 and change nothing; only the operator may change them', async () => {
    for (const body of [{ publisher_share_percent: 101 }, { publisher_share_percent: 12.345 }, { earnings_hold_days: -1 }, { prices: { 'no-such-model': { input: '1', output: '1' } } }, { prices: { toString: { input: '1', output: '1' } } }, { prices: { constructor: { input: '1', output: '1' } } }, { prices: { hasOwnProperty: null } }, { prices: { 'gpt-4o-mini': { input: 'cheap', output: '1' } } }, { revenue: 1 }]) {
      const res = await settings(body);
      expect(`${JSON.stringify(body)}: ${res.status}`).toBe(`${JSON.stringify(body)}: 400`);
    }
    expect((await settings()).body.publisher_share_percent).toBe(70);
    // Names of an object's built-in properties are not models: nothing was stored under them.
    const raw = JSON.stringify((await settings()).body);
    for (const name of ['toString', 'constructor', 'hasOwnProperty']) expect(raw).not.toContain(`"${name}"`);
    const invite = await t.call('POST', `${API}/operator/invites`, { body: { email: 'pat@example.com', roles: { publisher: true, advertiser: false } }, headers: ops });
    const accepted = await t.call('POST', `${API}/auth/accept-invite`, { body: { token: ((await invite.json()) as any).token, name: 'Pat', password: 'a long enough password' } });
    const pat = { cookie: (accepted.headers.get('set-cookie') ?? '').split(';')[0], 'x-csrf-token': ((await accepted.json()) as any).csrf_token };
    expect((await settings({ publisher_share_percent: 99 }, pat)).status).toBe(403);
    expect((await settings({ publisher_share_percent: 99 }, { cookie: ops.cookie })).status).toBe(403);
    expect((await settings()).body.publisher_share_percent).toBe(70);
  });
});
