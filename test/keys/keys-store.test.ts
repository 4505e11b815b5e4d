/**
 * Key pairs through the keys service on the store the tests run on (SQLite by default, PostgreSQL with
 * VEXRAIL_TEST_STORE=postgres): authentication answers from its cache without the store once a key was seen,
 * every change reaches the next request, and last-use times only move forward.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { NO_LIMITS } from '../../src/keys/key-limits';
import { createKeysRepo } from '../../src/keys/keys.repo';
import { createKeysService, type KeysService } from '../../src/keys/keys.service';
import { createAdSettingsRepo } from '../../src/projects/ad-settings.repo';
import { createProjectsRepo, type ProjectRow } from '../../src/projects/projects.repo';
import { createProjectsService, type ProjectsService } from '../../src/projects/projects.service';
import type { SqlStore } from '../../src/store/sql-store';
import { createTestStore } from '../helpers/test-app';

let opened: { store: SqlStore; close(): Promise<void> };
let projects: ProjectsService;
let keys: KeysService;
let clock = Date.parse('2030-05-01T00:00:00Z');

beforeAll(async () => {
  opened = await createTestStore();
  projects = createProjectsService({
    repo: createProjectsRepo(opened.store),
    adSettings: createAdSettingsRepo(opened.store),
    resolver: async () => [],
    onChange: (id) => keys.invalidateProject(id),
    hasActiveKey: (id) => keys.hasActiveKey(id),
  });
  keys = createKeysService({ repo: createKeysRepo(opened.store), findProject: projects.find, now: () => clock });
}, 60_000);
afterAll(() => opened.close());

async function verifiedProject(name: string): Promise<ProjectRow> {
  const p = await projects.create({ name, domain: `${name.toLowerCase().replace(/\W+/g, '-')}.example` });
  return (await projects.verifyDomain(p.id, 'manual')).project;
}

const code = async (work: () => unknown) => {
  try {
    await work();
    return null;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe('keys on the store', () => {
  test('a verified domain first; the secret is shown once and stored hashed', async () => {
    const unverified = await projects.create({ name: 'No keys', domain: 'no-keys.example' });
    expect(await code(() => keys.generatePair(unverified, 'k'))).toBe('domain_not_verified');
    const p = await verifiedProject('Hashed');
    const pair = await keys.generatePair(p, { name: 'Prod', rpm_limit: 10, budget: { amount: '1.50', period: 'daily' }, allowed_models: ['a', 'b'] });
    expect(pair).toMatchObject({ name: 'Prod', status: 'active', rpm_limit: 10, budget: { amount_micros: 1_500_000, period: 'daily' }, allowed_models: ['a', 'b'] });
    const rows = await opened.store.stmt('SELECT * FROM api_keys WHERE project_id = $projectId').all({ projectId: p.id });
    expect(JSON.stringify(rows)).not.toContain(pair.secret_key);
    expect(await keys.hasActiveKey(p.id)).toBe(true);
    expect((await keys.list(p.id)).map((k) => k.id)).toEqual([pair.id]);
  });

  test('a key seen once authenticates from the cache, without the store; 401 codes in order', async () => {
    const p = await verifiedProject('Cached');
    const a = await keys.generatePair(p, 'a');
    const b = await keys.generatePair(p, 'b');
    const first = await keys.authenticate(a.publishable_key, a.secret_key);
    expect(first).toMatchObject({ keyId: a.id, projectId: p.id, limits: NO_LIMITS });
    const again = keys.authenticate(a.publishable_key, a.secret_key);
    expect(again).not.toBeInstanceOf(Promise);
    expect((again as typeof first).keyId).toBe(a.id);
    expect(await code(() => keys.authenticate(a.publishable_key, b.secret_key))).toBe('key_pair_mismatch');
    expect(await code(() => keys.authenticate(a.publishable_key, null))).toBe('missing_api_key');
    expect(await code(() => keys.authenticate(a.publishable_key, 'sk_live_short'))).toBe('invalid_api_key');
    expect(await code(() => keys.authenticate(a.publishable_key.slice(0, -6) + 'AAAAAA', a.secret_key))).toBe('invalid_api_key');
  });

  test('deactivation, limits, expiry and rotation reach the very next request', async () => {
    const p = await verifiedProject('Changes');
    const k = await keys.generatePair(p, 'k');
    await keys.authenticate(k.publishable_key, k.secret_key);
    const limited = await keys.update(p.id, k.id, { tpm_limit: 500, expires_at: new Date(clock + 60_000).toISOString() });
    expect(limited).toMatchObject({ tpm_limit: 500, expired: false });
    expect((await keys.authenticate(k.publishable_key, k.secret_key)).limits.tpmLimit).toBe(500);
    clock += 60_000;
    expect(await code(() => keys.authenticate(k.publishable_key, k.secret_key))).toBe('expired_key');
    await keys.update(p.id, k.id, { expires_at: null });
    const rotated = await keys.rotate(p.id, k.id, { grace_period_seconds: 10 });
    expect((await keys.authenticate(k.publishable_key, k.secret_key)).keyId).toBe(k.id);
    expect((await keys.authenticate(k.publishable_key, rotated.secret_key)).keyId).toBe(k.id);
    clock += 10_000;
    expect(await code(() => keys.authenticate(k.publishable_key, k.secret_key))).toBe('invalid_api_key');
    expect((await keys.deactivate(p.id, k.id)).status).toBe('inactive');
    expect(await code(() => keys.authenticate(k.publishable_key, rotated.secret_key))).toBe('inactive_key');
    expect(await code(() => keys.rotate(p.id, k.id, {}))).toBe('inactive_key');
    expect(await code(() => keys.deactivate(p.id, 'key_none'))).toBe('key_not_found');
    expect(await code(() => keys.get(p.id, 'key_\0'))).toBe('key_not_found');
    expect(await code(() => keys.update(p.id, k.id, { name: 'x\0' }))).toBe('invalid_name');
    expect(await keys.hasActiveKey(p.id)).toBe(false);
  });

  test('a lookup under way while the key is deactivated is not cached: the next request is refused', async () => {
    const p = await verifiedProject('Racing');
    const repo = createKeysRepo(opened.store);
    // The lookup reads the row before the deactivation and answers after it (a slow network, a busy pool).
    let answer: () => void = () => {};
    const slowRepo = {
      ...repo,
      findByPublishable: async (pk: string) => {
        const row = await repo.findByPublishable(pk);
        await new Promise<void>((resolve) => (answer = resolve));
        return row;
      },
    };
    const racing = createKeysService({ repo: slowRepo, findProject: projects.find, now: () => clock });
    const k = await racing.generatePair(p, 'k');
    const during = Promise.resolve(racing.authenticate(k.publishable_key, k.secret_key));
    await Bun.sleep(20);
    await racing.deactivate(p.id, k.id);
    answer();
    expect((await during).keyId).toBe(k.id); // read before the deactivation: admitted, as it would have been then
    setTimeout(() => answer(), 20);
    expect(await code(() => racing.authenticate(k.publishable_key, k.secret_key))).toBe('inactive_key');
  });

  test('a project change (domain) drops the cached project: the next request sees it', async () => {
    const p = await verifiedProject('Moving');
    const k = await keys.generatePair(p, 'k');
    expect((await keys.authenticate(k.publishable_key, k.secret_key)).project.domain_status).toBe('verified');
    await projects.update(p.id, { domain: 'elsewhere.example' });
    expect((await keys.authenticate(k.publishable_key, k.secret_key)).project.domain_status).toBe('unverified');
  });

  test('last-use times are written in one batch and never move backwards', async () => {
    const p = await verifiedProject('Touched');
    const k = await keys.generatePair(p, 'k');
    const repo = createKeysRepo(opened.store);
    await repo.touchMany([[k.id, 5_000]]);
    await repo.touchMany([[k.id, 4_000]]);
    expect((await repo.get(p.id, k.id))!.last_used_at).toBe(5_000);
    await keys.authenticate(k.publishable_key, k.secret_key);
    await keys.flushTouches();
    expect((await repo.get(p.id, k.id))!.last_used_at).toBe(clock);
  });
});

describe('two instances on one store', () => {
  test('a change through one instance reaches the other within its cache TTL; the hot path never waits', async () => {
    const p = await verifiedProject('Two instances');
    let t = clock;
    const instance = () => createKeysService({ repo: createKeysRepo(opened.store), findProject: projects.find, now: () => t, cacheTtlMs: 1000 });
    const a = instance();
    const b = instance();
    const k = await a.generatePair(p, 'k');
    await b.authenticate(k.publishable_key, k.secret_key);
    await a.update(p.id, k.id, { rpm_limit: 7 });
    await a.deactivate(p.id, k.id);
    expect(await code(() => a.authenticate(k.publishable_key, k.secret_key))).toBe('inactive_key');
    // B's cache is younger than its TTL: it still admits the key (the bounded delay of a shared store).
    t += 999;
    expect(await code(() => b.authenticate(k.publishable_key, k.secret_key))).toBeNull();
    // Older than the TTL: this request is still answered from the cache, and the row is read again meanwhile.
    t += 1;
    const stale = b.authenticate(k.publishable_key, k.secret_key);
    expect(stale).not.toBeInstanceOf(Promise);
    expect((stale as Awaited<typeof stale>).limits.rpmLimit).toBeNull();
    for (let i = 0; i < 100 && (await code(() => b.authenticate(k.publishable_key, k.secret_key))) === null; i++) await Bun.sleep(5);
    expect(await code(() => b.authenticate(k.publishable_key, k.secret_key))).toBe('inactive_key');
  });

  test('invalidateAll (a change announced by another instance) makes the next request read again', async () => {
    const p = await verifiedProject('Announced');
    const a = createKeysService({ repo: createKeysRepo(opened.store), findProject: projects.find, now: () => clock });
    const b = createKeysService({ repo: createKeysRepo(opened.store), findProject: projects.find, now: () => clock });
    const k = await a.generatePair(p, 'k');
    await b.authenticate(k.publishable_key, k.secret_key);
    await a.update(p.id, k.id, { allowed_models: ['only-this'] });
    expect((await b.authenticate(k.publishable_key, k.secret_key)).limits.allowedModels).toBeNull();
    b.invalidateAll();
    expect((await b.authenticate(k.publishable_key, k.secret_key)).limits.allowedModels).toEqual(['only-this']);
  });
});

describe('budget spend seeded from an asynchronous ledger read', () => {
  test('admission waits for the read; a charge settled while it runs makes it read again, exactly', async () => {
    const p = await verifiedProject('Seeded');
    let release: (micros: number) => void = () => {};
    let reads = 0;
    // The ledger: 300 spent before; the charge settled during the first read lands in it too.
    let ledger = 300;
    const seeded = createKeysService({
      repo: createKeysRepo(opened.store),
      findProject: projects.find,
      now: () => clock,
      spentByKeyMicros: () => {
        reads++;
        return reads === 1 ? new Promise<number>((resolve) => (release = resolve)) : Promise.resolve(ledger);
      },
    });
    const k = await seeded.generatePair(p, { name: 'b', budget: { amount: '0.001000', period: 'total' } });
    const caller = await seeded.authenticate(k.publishable_key, k.secret_key);
    // Before the read is in, a synchronous check refuses rather than promise money it cannot see.
    const admitting = seeded.admit(caller, 'm');
    expect(admitting).toBeInstanceOf(Promise);
    expect(seeded.budget.left(caller)).toBe(0);
    // A request admitted earlier settles while the read is under way: 50 charged.
    const hold = seeded.budget.hold(caller, 100);
    seeded.budget.settle(hold, () => ((ledger += 50), 50));
    // The first read may or may not contain that charge: its answer is not trusted, the ledger is read again.
    release(350);
    expect('error' in (await admitting)).toBe(false);
    expect(reads).toBe(2);
    expect(seeded.budget.left(caller)).toBe(1000 - 350);
    expect(seeded.admit(caller, 'm')).not.toBeInstanceOf(Promise);
    const next = seeded.budget.hold(caller, 600);
    expect(seeded.budget.left(caller)).toBe(50);
    seeded.budget.settle(next, (cap) => Math.min(cap ?? Infinity, 700));
    expect(seeded.budget.left(caller)).toBe(0);
    expect(reads).toBe(2);
  });

  test('a read that keeps overlapping charges is trusted after a few attempts, adding them: never too little', async () => {
    const p = await verifiedProject('Busy seed');
    let reads = 0;
    let ledger = 0;
    const pending: Array<() => void> = [];
    const busy = createKeysService({
      repo: createKeysRepo(opened.store), findProject: projects.find, now: () => clock,
      spentByKeyMicros: () => {
        reads++;
        const answer = ledger;
        return new Promise<number>((resolve) => pending.push(() => resolve(answer)));
      },
    });
    const k = await busy.generatePair(p, { name: 'b', budget: { amount: '0.001000', period: 'total' } });
    const caller = await busy.authenticate(k.publishable_key, k.secret_key);
    const ready = busy.budget.ready(caller)!;
    for (let i = 0; i < 10 && pending.length > 0; i++) {
      // A charge of 10 lands in the ledger while each read is in flight (after it was taken).
      busy.budget.settle(busy.budget.hold(caller, 10), () => ((ledger += 10), 10));
      pending.shift()!();
      await Bun.sleep(1);
    }
    await ready;
    expect(reads).toBe(3);
    // The last read saw 20, the charge during it was added: 30 counted, as charged.
    expect(busy.budget.left(caller)).toBe(1000 - 30);
  });
});
