import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { formatMicros } from '../../src/money/money';
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

const ask = { model: 'vexrail-demo', messages: [{ role: 'user', content: 'hi' }] };

async function errorOf(res: Response) {
  return [res.status, ((await res.json()) as any).error.code];
}

/** A project whose key pair is created with `limits`. */
async function keyWith(name: string, limits: Record<string, unknown>) {
  const p = await t.project('5.00', name);
  const created = await t.admin('POST', `/projects/${p.id}/keys`, { name: 'limited', ...limits });
  expect(created.status).toBe(201);
  const headers = { 'x-publishable-key': created.body.publishable_key, 'x-secret-key': created.body.secret_key };
  return { projectId: p.id, keyId: created.body.id as string, headers, view: created.body, other: p };
}

describe('key limits at creation and in PATCH', () => {
  test('limits are stored, shown, edited and cleared; bad values are 400 invalid_value naming the field', async () => {
    const k = await keyWith('Limits view', { rpm_limit: 10, tpm_limit: 5000, budget: { amount: '5.00', period: 'daily' }, expires_at: '2099-01-31T00:00:00Z', allowed_models: ['vexrail-demo'] });
    expect(k.view).toMatchObject({
      rpm_limit: 10, tpm_limit: 5000, budget: { amount: '5.00', amount_micros: 5_000_000, period: 'daily' },
      expires_at: '2099-01-31T00:00:00.000Z', expired: false, allowed_models: ['vexrail-demo'],
    });
    const edited = await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, { name: 'renamed', rpm_limit: null, budget: { amount: '1.5' } });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ name: 'renamed', rpm_limit: null, tpm_limit: 5000, budget: { amount: '1.50', period: 'total' } });
    const list = await t.admin('GET', `/projects/${k.projectId}/keys`);
    expect(list.body.data.find((x: any) => x.id === k.keyId)).toMatchObject({ name: 'renamed', tpm_limit: 5000 });
    for (const [body, param] of [
      [{ rpm_limit: 0 }, 'rpm_limit'], [{ tpm_limit: 1.5 }, 'tpm_limit'], [{ budget: { amount: '-1' } }, 'budget.amount'],
      [{ budget: { amount: '1', period: 'weekly' } }, 'budget.period'], [{ expires_at: 'tomorrow' }, 'expires_at'],
      [{ allowed_models: [] }, 'allowed_models'], [{ name: '' }, 'name'],
      [{ expires_at: '2027-02-30T00:00:00Z' }, 'expires_at'], [{ expires_at: '2027-02-30' }, 'expires_at'],
    ] as const) {
      const res = await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, body);
      expect([res.status, res.body.error.param]).toEqual([400, param]);
    }
    expect((await t.admin('PATCH', `/projects/${k.projectId}/keys/key_nope`, { rpm_limit: 1 })).status).toBe(404);
  });
});

describe('enforcement', () => {
  test('an expired key is 401 expired_key; moving expires_at forward lets it back in', async () => {
    const k = await keyWith('Expiry', {});
    expect((await t.chat(k.headers, ask)).status).toBe(200);
    await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, { expires_at: '2020-01-01T00:00:00Z' });
    expect(await errorOf(await t.chat(k.headers, ask))).toEqual([401, 'expired_key']);
    expect(await errorOf(await t.call('GET', '/v1/credits', { headers: k.headers }))).toEqual([401, 'expired_key']);
    await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, { expires_at: null });
    expect((await t.chat(k.headers, ask)).status).toBe(200);
  });

  test('a model outside allowed_models is 403 model_not_allowed, before any charge', async () => {
    const k = await keyWith('Models', { allowed_models: ['some-other-model'] });
    const before = await t.admin('GET', `/projects/${k.projectId}/wallet`);
    expect(await errorOf(await t.chat(k.headers, ask))).toEqual([403, 'model_not_allowed']);
    const after = await t.admin('GET', `/projects/${k.projectId}/wallet`);
    expect(after.body.balance_micros).toBe(before.body.balance_micros);
    await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, { allowed_models: ['vexrail-demo'] });
    expect((await t.chat(k.headers, ask)).status).toBe(200);
  });

  test('rpm_limit: 429 rate_limit_exceeded in the OpenAI envelope with Retry-After and the x-ratelimit headers', async () => {
    const k = await keyWith('RPM', { rpm_limit: 2 });
    const first = await t.chat(k.headers, ask);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect((await t.chat(k.headers, ask)).status).toBe(200);
    const refused = await t.chat(k.headers, ask);
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as any;
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+s$/);
    // The project's other key is not limited by this one.
    expect((await t.chat(k.other.headers, ask)).status).toBe(200);
  });

  test('tpm_limit: tokens counted at settle; once the minute holds tpm_limit tokens, 429 with the -tokens trio', async () => {
    const k = await keyWith('TPM', { tpm_limit: 5 });
    const first = await t.chat(k.headers, ask);
    expect(first.status).toBe(200);
    const used = ((await first.json()) as any).usage.total_tokens;
    expect(used).toBeGreaterThanOrEqual(5);
    const refused = await t.chat(k.headers, ask);
    expect(await errorOf(refused)).toEqual([429, 'rate_limit_exceeded']);
    expect(refused.headers.get('x-ratelimit-limit-tokens')).toBe('5');
    expect(refused.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
    expect(refused.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+s$/);
    expect(refused.headers.get('retry-after')).not.toBeNull();
  });

  test('budget: 403 key_budget_exceeded when what is left cannot pay for the smallest request; nothing is charged', async () => {
    const k = await keyWith('Budget', { budget: { amount: '0.000001', period: 'daily' } });
    expect(await errorOf(await t.chat(k.headers, ask))).toEqual([403, 'key_budget_exceeded']);
    const charges = async () => (await t.store.stmt(`SELECT key_id, model, prompt_tokens, amount_micros FROM ledger_entries WHERE project_id = $projectId AND type = 'consumption'`).all({ projectId: k.projectId })) as any[];
    expect(await charges()).toHaveLength(0);
    // Another key of the same project has its own budget (none).
    expect((await t.chat(k.other.headers, ask)).status).toBe(200);
    await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, { budget: { amount: '1.00', period: 'daily' } });
    expect((await t.chat(k.headers, ask)).status).toBe(200);
    const mine = (await charges()).filter((r) => r.key_id === k.keyId);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ key_id: k.keyId, model: 'vexrail-demo' });
    expect(mine[0].prompt_tokens).toBeGreaterThan(0);
  });

  test('budget: requests lower their max_tokens to what is left, are refused once it cannot pay for a minimal answer, never spend past it', async () => {
    const k = await keyWith('Budget spend', { budget: { amount: '0.000100', period: 'total' } });
    const statuses: number[] = [];
    for (let i = 0; i < 60 && statuses.at(-1) !== 403; i++) {
      const res = await t.chat(k.headers, { ...ask, max_tokens: 4000 });
      statuses.push(res.status);
      if (res.status === 403) expect(((await res.json()) as any).error.code).toBe('key_budget_exceeded');
    }
    expect(statuses.at(-1)).toBe(403);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    const spent = (await t.store.stmt<{ s: number }>('SELECT CAST(-SUM(amount_micros) AS BIGINT) AS s FROM ledger_entries WHERE key_id = $keyId').get({ keyId: k.keyId }))!.s;
    expect(spent).toBeGreaterThan(50);
    expect(spent).toBeLessThanOrEqual(100);
    expect(t.rt.keys.budget.heldMicros(k.keyId)).toBe(0);
  });

  test('budget spend is seeded from the ledger: a fresh runtime on the same database sees what is left', async () => {
    const k = await keyWith('Budget seed', { budget: { amount: '0.001000', period: 'total' } });
    expect((await t.chat(k.headers, ask)).status).toBe(200);
    const spent = (await t.store.stmt<{ s: number }>('SELECT CAST(-SUM(amount_micros) AS BIGINT) AS s FROM ledger_entries WHERE key_id = $keyId').get({ keyId: k.keyId }))!.s;
    expect(spent).toBeGreaterThan(0);
    const { createKeysService } = await import('../../src/keys/keys.service');
    const { createKeysRepo } = await import('../../src/keys/keys.repo');
    const fresh = createKeysService({ repo: createKeysRepo(t.store), findProject: (id) => t.rt.projects.find(id), spentByKeyMicros: t.rt.wallet.spentByKeyMicros });
    const caller = await fresh.authenticate(k.headers['x-publishable-key'], k.headers['x-secret-key']);
    await fresh.budget.ready(caller);
    expect(fresh.budget.left(caller)).toBe(1000 - spent);
    await t.admin('PATCH', `/projects/${k.projectId}/keys/${k.keyId}`, { budget: { amount: formatMicros(spent), period: 'total' } });
    const again = createKeysService({ repo: createKeysRepo(t.store), findProject: (id) => t.rt.projects.find(id), spentByKeyMicros: t.rt.wallet.spentByKeyMicros });
    const verdict = await again.admit(await again.authenticate(k.headers['x-publishable-key'], k.headers['x-secret-key']), 'vexrail-demo');
    expect('error' in verdict && verdict.error.code).toBe('key_budget_exceeded');
  });
});

describe('rotation', () => {
  test('rotating a deactivated key pair is 409 inactive_key (the admin is authenticated); nothing changes', async () => {
    const k = await keyWith('Rotate inactive', {});
    await t.admin('POST', `/projects/${k.projectId}/keys/${k.keyId}/deactivate`);
    const res = await t.admin('POST', `/projects/${k.projectId}/keys/${k.keyId}/rotate`, { grace_period_seconds: 0 });
    expect([res.status, res.body.error.code, res.body.error.type]).toEqual([409, 'inactive_key', 'invalid_request_error']);
    expect(res.body.secret_key).toBeUndefined();
    const view = await t.admin('GET', `/projects/${k.projectId}/keys`);
    expect(view.body.data.find((x: any) => x.id === k.keyId)).toMatchObject({ status: 'inactive', rotated_at: null });
  });

  test('a new secret at once; the old one works until the grace ends, then is refused', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const { createKeysService } = await import('../../src/keys/keys.service');
    const { createKeysRepo } = await import('../../src/keys/keys.repo');
    const k = await keyWith('Rotate', {});
    const keys = createKeysService({ repo: createKeysRepo(t.store), findProject: (id) => t.rt.projects.find(id), now: () => clock });
    const rotated = await keys.rotate(k.projectId, k.keyId, { grace_period_seconds: 600 });
    expect(rotated.secret_key).not.toBe(k.headers['x-secret-key']);
    expect(rotated.previous_secret_valid_until).toBe('2030-01-01T00:10:00.000Z');
    const pk = k.headers['x-publishable-key'];
    expect((await keys.authenticate(pk, rotated.secret_key)).keyId).toBe(k.keyId);
    expect((await keys.authenticate(pk, k.headers['x-secret-key'])).keyId).toBe(k.keyId);
    clock += 600_000;
    await expect(Promise.resolve().then(() => keys.authenticate(pk, k.headers['x-secret-key']))).rejects.toThrow('Invalid API key');
    expect((await keys.authenticate(pk, rotated.secret_key)).keyId).toBe(k.keyId);
  });

  test('over HTTP: grace 0 ends the old secret at once; the response is no-store; bad grace is 400', async () => {
    const k = await keyWith('Rotate HTTP', {});
    const bad = await t.admin('POST', `/projects/${k.projectId}/keys/${k.keyId}/rotate`, { grace_period_seconds: -1 });
    expect([bad.status, bad.body.error.param]).toEqual([400, 'grace_period_seconds']);
    const res = await t.admin('POST', `/projects/${k.projectId}/keys/${k.keyId}/rotate`, { grace_period_seconds: 0 });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await errorOf(await t.chat(k.headers, ask))).toEqual([401, 'invalid_api_key']);
    expect((await t.chat({ ...k.headers, 'x-secret-key': res.body.secret_key }, ask)).status).toBe(200);
    const grace = await t.admin('POST', `/projects/${k.projectId}/keys/${k.keyId}/rotate`, {});
    expect((await t.chat({ ...k.headers, 'x-secret-key': res.body.secret_key }, ask)).status).toBe(200);
    expect((await t.chat({ ...k.headers, 'x-secret-key': grace.body.secret_key }, ask)).status).toBe(200);
  });
});
