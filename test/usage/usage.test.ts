import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { auditMoney } from '../../src/wallet/wallet.repo';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // On PostgreSQL the first app also starts the throwaway server.
}, 60_000);
afterAll(async () => {
  expect(await auditMoney(t.store)).toEqual([]);
  await t.close();
});

const ask = { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hello there' }] };
const today = () => new Date().toISOString().slice(0, 10);

describe('GET /v1/credits', () => {
  test("a publisher reads its project's balance, held and available with its key pair", async () => {
    const p = await t.project('2.50', 'Credits');
    const res = await t.call('GET', '/v1/credits', { headers: p.headers });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      object: 'credits', currency: 'USD', balance: '2.50', held: '0.00', available: '2.50',
      balance_micros: 2_500_000, held_micros: 0, available_micros: 2_500_000,
    });
    expect((await t.call('GET', '/v1/credits')).status).toBe(401);
  });
});

describe('usage reports', () => {
  test('/v1/usage per day and model for the project, ?key=self for the calling key; admin key usage agrees', async () => {
    const p = await t.project('5.00', 'Usage');
    const second = await t.admin('POST', `/projects/${p.id}/keys`, { name: 'second' });
    const secondHeaders = { 'x-publishable-key': second.body.publishable_key, 'x-secret-key': second.body.secret_key };
    const usages: any[] = [];
    for (const headers of [p.headers, p.headers, secondHeaders]) {
      const res = await t.chat(headers, ask);
      expect(res.status).toBe(200);
      usages.push(((await res.json()) as any).usage);
    }
    const wallet = await t.admin('GET', `/projects/${p.id}/wallet`);
    const spent = 5_000_000 - wallet.body.balance_micros;
    expect(spent).toBeGreaterThan(0);

    const project = (await (await t.call('GET', '/v1/usage', { headers: p.headers })).json()) as any;
    expect(project).toMatchObject({ object: 'usage', project_id: p.id, key_id: null, to: today(), requests: 3, cost_micros: spent });
    expect(project.total_tokens).toBe(usages.reduce((n, u) => n + u.total_tokens, 0));
    expect(project.days).toHaveLength(1);
    expect(project.days[0]).toMatchObject({ date: today(), requests: 3, models: [{ model: 'vexrail-demo', requests: 3 }] });
    expect(project.models).toEqual([expect.objectContaining({ model: 'vexrail-demo', requests: 3, cost_micros: spent })]);

    const self = (await (await t.call('GET', '/v1/usage?key=self', { headers: secondHeaders })).json()) as any;
    expect(self).toMatchObject({ key_id: second.body.id, requests: 1, total_tokens: usages[2].total_tokens });

    const admin = await t.admin('GET', `/projects/${p.id}/keys/${p.keyId}/usage?from=${today()}&to=${today()}`);
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ key_id: p.keyId, requests: 2, from: today(), to: today() });
    expect(admin.body.days[0]).toMatchObject({ date: today(), requests: 2, total_tokens: usages[0].total_tokens + usages[1].total_tokens });
    expect(admin.body.cost_micros + self.cost_micros).toBe(spent);

    // Another project's key sees only its own project.
    const other = await t.project('1.00', 'Usage other');
    const theirs = (await (await t.call('GET', '/v1/usage', { headers: other.headers })).json()) as any;
    expect(theirs).toMatchObject({ project_id: other.id, requests: 0, days: [] });
  });

  test('a range in the past is empty; bad dates, reversed ranges and key values are 400 invalid_value', async () => {
    const p = await t.project('1.00', 'Usage ranges');
    expect((await t.chat(p.headers, ask)).status).toBe(200);
    const past = (await (await t.call('GET', '/v1/usage?from=2020-01-01&to=2020-01-31', { headers: p.headers })).json()) as any;
    expect(past).toMatchObject({ requests: 0, days: [], from: '2020-01-01', to: '2020-01-31' });
    for (const [query, param] of [['from=2020-02-30', 'from'], ['to=yesterday', 'to'], ['from=2030-01-02&to=2030-01-01', 'from'], ['from=2020-01-01&to=2022-01-01', 'from'], ['key=key_other', 'key']]) {
      const res = await t.call('GET', `/v1/usage?${query}`, { headers: p.headers });
      expect([res.status, ((await res.json()) as any).error.param]).toEqual([400, param]);
    }
    expect((await t.admin('GET', `/projects/${p.id}/keys/key_nope/usage`)).status).toBe(404);
  });
});
