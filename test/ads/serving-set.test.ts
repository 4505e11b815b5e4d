import { describe, expect, test } from 'bun:test';
import { createServingSet } from '../../src/ads/serving-set';
import type { CampaignState } from '../../src/campaigns/campaigns.repo';

/** Campaigns as the fake store holds them: `serves` is what judging them now would say. */
type Fake = { id: string; project_id: string; base_cpc_micros: number; serves: boolean; listed: boolean };

function fakeStore(n: number, advertisers: number) {
  const campaigns: Fake[] = Array.from({ length: n }, (_, i) => ({
    id: `camp_${String(i).padStart(5, '0')}`, project_id: `adv_${i % advertisers}`, base_cpc_micros: 100_000, serves: true, listed: true,
  }));
  const byId = new Map(campaigns.map((c) => [c.id, c]));
  // A fresh row object per judgement, as SQLite returns one.
  const state = (c: Fake) => ({ id: c.id, project_id: c.project_id, base_cpc_micros: c.base_cpc_micros, status: 'active' }) as unknown as CampaignState;
  const pageLimits: number[] = [];
  let beforePage: (() => void) | null = null;
  const deps = {
    evaluateCampaigns: (advertiser: string | null = null) =>
      campaigns.filter((c) => c.listed && c.serves && (advertiser === null || c.project_id === advertiser)).map(state),
    evaluateCampaignPage: (afterId: string, limit: number) => {
      beforePage?.();
      pageLimits.push(limit);
      const rows = campaigns.filter((c) => c.listed && c.id > afterId).slice(0, limit);
      return {
        judged: rows.map((c) => c.id), serving: rows.filter((c) => c.serves).map(state),
        lastId: rows.at(-1)?.id ?? null, done: rows.length < limit,
      };
    },
  };
  return { campaigns, byId, deps, pageLimits, onPage: (fn: (() => void) | null) => (beforePage = fn) };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('serving set', () => {
  test('a sweep serves and stops campaigns in place: entries are flagged, never added and removed again', async () => {
    const store = fakeStore(1000, 50);
    const set = createServingSet(store.deps);
    set.refresh(null);
    expect(set.size()).toBe(1000);
    for (let round = 0; round < 4; round++) {
      const off = round % 2 === 0;
      store.campaigns.forEach((c, i) => (c.serves = i % 5 === 0 ? !off : true));
      const report = await set.sweep({ sliceMs: 1, pause: turn });
      expect(report.judged).toBe(1000);
      expect(set.size()).toBe(off ? 800 : 1000);
      expect(set.get('camp_00000')?.id ?? null).toBe(off ? null : 'camp_00000');
      expect(set.get('camp_00001')).toEqual(expect.objectContaining({ id: 'camp_00001' }));
      // Campaigns that stopped keep their (flagged) entry: the map never shrinks and regrows.
      expect(set.stats()).toEqual({ serving: off ? 800 : 1000, entries: 1000 });
    }
  });

  test('pages stay within their bounds and the sweep yields between them', async () => {
    const store = fakeStore(3000, 10);
    const set = createServingSet(store.deps);
    set.refresh(null);
    let pauses = 0;
    const report = await set.sweep({ sliceMs: 1, pause: () => (pauses++, turn()) });
    expect(report.judged).toBe(3000);
    expect(Math.max(...store.pageLimits)).toBeLessThanOrEqual(256);
    expect(Math.min(...store.pageLimits)).toBeGreaterThanOrEqual(8);
    expect(pauses).toBe(store.pageLimits.length - 1);
    // One entry per page, and the closing check (campaigns no page returned) as its own slice.
    expect(report.sliceMs.length).toBe(store.pageLimits.length + 1);
  });

  test('an unchanged campaign keeps its state object; a changed one takes the fresh state', async () => {
    const store = fakeStore(10, 2);
    const set = createServingSet(store.deps);
    set.refresh(null);
    const before = set.get('camp_00003');
    const other = set.get('camp_00004');
    store.byId.get('camp_00004')!.base_cpc_micros = 250_000;
    await set.sweep({ sliceMs: 1, pause: turn });
    expect(set.get('camp_00003')).toBe(before);
    expect(set.get('camp_00004')).not.toBe(other);
    expect(set.get('camp_00004')!.base_cpc_micros).toBe(250_000);
  });

  test("one advertiser's refresh judges its own campaigns only, at once", () => {
    const store = fakeStore(100, 10);
    const set = createServingSet(store.deps);
    set.refresh(null);
    // adv_3 loses one campaign and another advertiser's changes wait for their own refresh (or the sweep).
    store.byId.get('camp_00003')!.serves = false;
    store.byId.get('camp_00004')!.serves = false;
    set.refresh('adv_3');
    expect(set.get('camp_00003')).toBeNull();
    expect(set.get('camp_00004')).not.toBeNull();
    expect(set.size()).toBe(99);
    store.byId.get('camp_00003')!.serves = true;
    set.refresh('adv_3');
    expect(set.get('camp_00003')).not.toBeNull();
    expect(set.stats()).toEqual({ serving: 100, entries: 100 });
  });

  test('a refresh during a sweep is not undone by it; campaigns no page returned stop serving', async () => {
    const store = fakeStore(2000, 20);
    const set = createServingSet(store.deps);
    set.refresh(null);
    // camp_00000 is paused by its advertiser: no page lists it any more (only active and system-paused are read).
    store.byId.get('camp_00000')!.listed = false;
    // camp_01999 leaves the list too, but is activated again while the sweep is under way (its refresh serves it).
    const late = store.byId.get('camp_01999')!;
    late.listed = false;
    let pages = 0;
    store.onPage(() => {
      if (++pages !== 2) return;
      late.listed = true;
      set.refresh(late.project_id);
      late.listed = false;
    });
    const report = await set.sweep({ sliceMs: 1, pause: turn });
    expect(report.judged).toBe(1998);
    expect(set.get('camp_00000')).toBeNull();
    expect(set.get('camp_01999')).not.toBeNull();
    expect(set.size()).toBe(1999);
  });

  test('entries of campaigns that stopped serving are dropped once they outnumber the serving ones', async () => {
    const store = fakeStore(10_000, 100);
    const set = createServingSet(store.deps);
    set.refresh(null);
    store.campaigns.forEach((c, i) => (c.serves = i < 1000));
    await set.sweep({ sliceMs: 5, pause: turn });
    expect(set.stats()).toEqual({ serving: 1000, entries: 1000 });
    // And they come back as new entries when they serve again.
    store.campaigns.forEach((c) => (c.serves = true));
    set.refresh('adv_7');
    expect(set.size()).toBe(1090);
    await set.sweep({ sliceMs: 5, pause: turn });
    expect(set.stats()).toEqual({ serving: 10_000, entries: 10_000 });
  });
});
