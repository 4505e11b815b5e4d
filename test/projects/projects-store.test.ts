/**
 * Projects, domain checks and ad settings through the services on the store the tests run on (SQLite by
 * default, PostgreSQL with VEXRAIL_TEST_STORE=postgres): the same answers from both.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createAdSettingsRepo, DEFAULT_AD_SETTINGS, type AdSettings } from '../../src/projects/ad-settings.repo';
import { createProjectsRepo } from '../../src/projects/projects.repo';
import { createProjectsService, type ProjectsService } from '../../src/projects/projects.service';
import type { SqlStore } from '../../src/store/sql-store';
import { createTestStore } from '../helpers/test-app';

let opened: { store: SqlStore; close(): Promise<void> };
let projects: ProjectsService;
let clock = Date.parse('2030-05-01T00:00:00Z');
const changed: string[] = [];
let activeKey = false;

beforeAll(async () => {
  opened = await createTestStore();
  projects = createProjectsService({
    repo: createProjectsRepo(opened.store),
    adSettings: createAdSettingsRepo(opened.store),
    resolver: async (host) => (host === 'good.example' ? [['vexrail-verification=', 'x']] : []),
    onChange: (id) => changed.push(id),
    hasActiveKey: async () => activeKey,
    now: () => clock++,
  });
}, 60_000);
afterAll(() => opened.close());

describe('projects on the store', () => {
  test('create, get, find and a 404 for an unknown id', async () => {
    const p = await projects.create({ name: '  Shop  ', domain: 'https://www.Shop.example/path' });
    expect(p).toMatchObject({ name: 'Shop', kind: 'publisher', domain: 'www.shop.example', domain_status: 'unverified', monetization: 0, link_domains: '[]' });
    expect(typeof p.created_at).toBe('number');
    expect(await projects.get(p.id)).toEqual(p);
    expect(await projects.find(p.id)).toEqual(p);
    expect(await projects.find('proj_none')).toBeNull();
    await expect(projects.get('proj_none')).rejects.toThrow('No project with id proj_none');
    // Text PostgreSQL cannot hold (NUL) is refused or matches nothing, the same on both stores.
    await expect(projects.get('proj_\0')).rejects.toThrow('No project with id');
    await expect(projects.create({ name: 'a\0b', domain: 'nul.example' })).rejects.toThrow('NUL');
    await expect(projects.update(p.id, { disclosure_label: 'Ad\0' })).rejects.toThrow('disclosure_label');
  });

  test('pages newest first by (created_at, id) with a keyset cursor', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await projects.create({ name: `Paged ${i}`, domain: `paged${i}.example`, kind: 'advertiser' }));
    const all = await projects.list(1000, null);
    const order = all.map((p) => p.id);
    expect(order.indexOf(made[4].id)).toBeLessThan(order.indexOf(made[0].id));
    const first = await projects.list(2, null);
    expect(first.map((p) => p.id)).toEqual(order.slice(0, 2));
    const last = first[first.length - 1];
    const next = await projects.list(2, { id: last.id, createdAt: last.created_at });
    expect(next.map((p) => p.id)).toEqual(order.slice(2, 4));
  });

  test('manual and DNS verification record checks, newest first; a failed check turns monetization off', async () => {
    const p = await projects.create({ name: 'Verify', domain: 'verify.example' });
    const manual = await projects.verifyDomain(p.id, 'manual');
    expect(manual.project).toMatchObject({ domain_status: 'verified', domain_verify_method: 'manual' });
    expect(manual.project.domain_verified_at).toBeNumber();
    const dns = await projects.verifyDomain(p.id, 'dns');
    expect(dns.project).toMatchObject({ domain_status: 'failed', domain_verified_at: null, domain_verify_method: null, monetization: 0 });
    const checks = await projects.listChecks(p.id);
    expect(checks.map((c) => [c.method, c.result])).toEqual([['dns', 'failed'], ['manual', 'verified']]);
    expect(checks[0]).toMatchObject({ project_id: p.id, domain: 'verify.example' });
    expect(typeof checks[0].id).toBe('number');
    expect(changed).toContain(p.id);
  });

  test('monetization needs a verified domain and an active key; anyMonetized follows', async () => {
    const p = await projects.create({ name: 'Money', domain: 'money.example' });
    await expect(projects.update(p.id, { monetization: true })).rejects.toThrow('Verify the project domain');
    await projects.verifyDomain(p.id, 'manual');
    activeKey = false;
    await expect(projects.update(p.id, { monetization: true })).rejects.toThrow('active key pair');
    expect(await projects.anyMonetized()).toBe(false);
    activeKey = true;
    expect((await projects.update(p.id, { monetization: true })).monetization).toBe(1);
    expect(await projects.anyMonetized()).toBe(true);
    // A new domain resets verification (NULLs written through parameters) and monetization.
    const moved = await projects.update(p.id, { domain: 'moved.example' });
    expect(moved).toMatchObject({ domain: 'moved.example', domain_status: 'unverified', domain_verified_at: null, domain_verify_method: null, monetization: 0 });
    expect(moved.verification_token).not.toBe(p.verification_token);
    expect(await projects.anyMonetized()).toBe(false);
  });

  test('ad settings: defaults, a change, the cached value follows it; link domains for advertisers', async () => {
    const p = await projects.create({ name: 'Ads', domain: 'ads.example', kind: 'advertiser' });
    expect(await projects.adSettings(p.id)).toEqual(DEFAULT_AD_SETTINGS);
    await projects.update(p.id, { disclosure_label: 'Ad', frequency_cap_turns: 5, blocked_categories: ['Gambling Sites'], bridge_mode: 'llm', link_domains: ['Shop.Ads.example'] });
    const expected: AdSettings = { disclosureLabel: 'Ad', frequencyCapTurns: 5, blockedCategories: ['gambling_sites'], bridgeMode: 'llm' };
    expect(await projects.adSettings(p.id)).toEqual(expected);
    // Read on every monetized request: once read, a cache hit answers without the store.
    const cached = projects.adSettings(p.id);
    expect(cached).not.toBeInstanceOf(Promise);
    expect(cached).toEqual(expected);
    // A second service on the same store (another instance) reads what the first stored.
    const other = createAdSettingsRepo(opened.store);
    expect(await other.get(p.id)).toEqual(cached as AdSettings);
    const view = await projects.view(await projects.get(p.id));
    expect(view.link_domains).toEqual(['shop.ads.example']);
    expect(view.ad_settings).toEqual({ disclosure_label: 'Ad', frequency_cap_turns: 5, blocked_categories: ['gambling_sites'], bridge_mode: 'llm' });
  });

  test('two instances: ad settings changed through one reach the other within its cache TTL, or at once when announced', async () => {
    let t = clock;
    const instance = () => createProjectsService({
      repo: createProjectsRepo(opened.store), adSettings: createAdSettingsRepo(opened.store), resolver: async () => [],
      onChange: () => {}, hasActiveKey: async () => true, now: () => t, cacheTtlMs: 1000,
    });
    const a = instance();
    const b = instance();
    const p = await a.create({ name: 'Shared settings', domain: 'shared-settings.example' });
    expect((await b.adSettings(p.id)).frequencyCapTurns).toBe(3);
    await a.update(p.id, { frequency_cap_turns: 9 });
    t += 999;
    expect((await b.adSettings(p.id)).frequencyCapTurns).toBe(3);
    t += 1;
    const stale = b.adSettings(p.id);
    expect(stale).not.toBeInstanceOf(Promise);
    expect((stale as AdSettings).frequencyCapTurns).toBe(3);
    for (let i = 0; i < 100 && (await b.adSettings(p.id)).frequencyCapTurns === 3; i++) await Bun.sleep(5);
    expect((await b.adSettings(p.id)).frequencyCapTurns).toBe(9);
    await a.update(p.id, { frequency_cap_turns: 11 });
    b.invalidateAll();
    expect((await b.adSettings(p.id)).frequencyCapTurns).toBe(11);
  });
});
