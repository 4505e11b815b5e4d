import type { CampaignState } from '../campaigns/campaigns.repo';
import type { Awaitable } from '../store/sql-store';

/**
 * What one sweep did: campaigns judged, how long each slice held the event loop and when it started
 * (performance.now()), the sweep's wall time.
 */
export type SweepReport = { judged: number; sliceMs: number[]; sliceStartMs: number[]; durationMs: number };

export type CampaignPage = { judged: string[]; serving: CampaignState[]; lastId: string | null; done: boolean };

type Deps = {
  /** Judges campaigns (all, or one advertiser's) and returns those that can serve. */
  evaluateCampaigns: (advertiserProjectId?: string | null) => Awaitable<CampaignState[]>;
  /** Judges up to `limit` campaigns after `afterId` in id order, stopping once `budgetMs` passed (a sweep's slice). */
  evaluateCampaignPage: (afterId: string, limit: number, budgetMs: number) => Awaitable<CampaignPage>;
  /**
   * The store answers over the network (PostgreSQL): while a page is read the event loop serves others, so a
   * slice counts only the time before and after that wait. Else (SQLite, whose transactions resolve in
   * microtasks of the same turn) the whole page counts.
   */
  networkStore?: boolean;
};

/**
 * One campaign the set has seen serve. `state` is null while it does not serve: the entry stays in the map
 * and is only flagged, because a bun Map that loses and regains thousands of keys rehashes all of them
 * (measured: single deletes or inserts of 2,000 out of 10,000 keys stalled up to 7.6 ms, flagging stays
 * under 1 ms). `judged` is the tick of the last judgement that looked at it: ticks are taken when a judgement
 * starts (before its read), so a judgement that started earlier but answered later (an asynchronous store)
 * never overwrites what a newer one decided.
 */
type Entry = { id: string; projectId: string; state: CampaignState | null; judged: number };

/** Bounds of a sweep page (campaigns judged in one slice of the event loop). */
const SWEEP_PAGE_MIN = 8;
const SWEEP_PAGE_MAX = 256;
const SWEEP_PAGE_START = 32;
/** A page is sized to take this share of the slice at the cheapest cost per campaign seen (writes make some dearer). */
const SWEEP_PAGE_FILL = 0.6;
/** The cheapest cost per campaign forgets itself this fast (per slice), so a real rise in cost is followed. */
const SWEEP_COST_DRIFT = 1.1;
/** Entries of campaigns that stopped serving are dropped (a rebuild of the map) once they outnumber this and the serving ones. */
const COMPACT_MIN_IDLE = 4096;

/**
 * The campaigns that can serve now, kept in memory for decisions (which only read it). Refreshed by whoever
 * changes a campaign (admin edits, top-ups, clicks: one advertiser at a time; synchronously on SQLite, once
 * its read answers on PostgreSQL) and by a
 * periodic sweep for time-based changes, which judges every campaign a page at a time and yields to the
 * event loop between pages so that a decision waits for one page at most.
 *
 * No update deletes from a map: campaigns that stop serving are flagged (state null), so a sweep that pauses
 * and resumes thousands of campaigns never makes bun rehash the map; a campaign whose state did not change
 * keeps its object (the fresh row dies young instead of turning an old-generation object into garbage).
 */
export function createServingSet(deps: Deps) {
  let entries = new Map<string, Entry>();
  /** Every entry of each advertiser (serving or not): one advertiser's refresh touches its own campaigns only. */
  let byProject = new Map<string, Entry[]>();
  let live = 0;
  /** Incremented by every judgement (a refresh, a sweep page): an entry's `judged` says which one saw it last. */
  let tick = 0;
  /** The newest refresh applied for all campaigns, and for each advertiser (one entry per advertiser ever refreshed). */
  let allJudgedAt = 0;
  const projectJudgedAt = new Map<string, number>();

  function entryOf(c: CampaignState): Entry {
    let e = entries.get(c.id);
    if (e && e.projectId !== c.project_id) {
      // A campaign never changes owner; should it, the old owner's list forgets it on the next compaction.
      setState(e, null);
      e = undefined;
    }
    if (!e) {
      e = { id: c.id, projectId: c.project_id, state: null, judged: 0 };
      entries.set(c.id, e);
      const own = byProject.get(c.project_id);
      if (own) own.push(e);
      else byProject.set(c.project_id, [e]);
    }
    return e;
  }

  function setState(e: Entry, state: CampaignState | null): void {
    if (e.state === null && state !== null) live++;
    else if (e.state !== null && state === null) live--;
    e.state = state;
  }

  /** Serves `c` as judgement `at` saw it, unless a newer judgement already decided; unchanged states keep their object. */
  function serve(c: CampaignState, at: number): void {
    const e = entryOf(c);
    if (e.judged > at) return;
    if (e.state === null || !sameState(e.state, c)) setState(e, c);
    e.judged = at;
  }

  /** Judgement `at` looked at `e` and did not serve it: it stops, unless that judgement or a newer one served it. */
  function stop(e: Entry, at: number): void {
    if (e.judged >= at) return;
    setState(e, null);
    e.judged = at;
  }

  /** Rebuilds the maps without the entries of campaigns that stopped serving, once they are many. */
  function compactIfIdle(): void {
    if (entries.size - live <= Math.max(COMPACT_MIN_IDLE, live)) return;
    const keptEntries = new Map<string, Entry>();
    const keptByProject = new Map<string, Entry[]>();
    for (const e of entries.values()) {
      if (e.state === null) continue;
      keptEntries.set(e.id, e);
      const own = keptByProject.get(e.projectId);
      if (own) own.push(e);
      else keptByProject.set(e.projectId, [e]);
    }
    entries = keptEntries;
    byProject = keptByProject;
  }

  /**
   * Judges the campaigns now: one advertiser's (cheap: its campaigns only), or all (start-up, tests). Applied
   * in the caller's turn when the store answers synchronously (SQLite); else once it answers.
   */
  function refresh(advertiserProjectId: string | null = null): Awaitable<void> {
    const at = ++tick;
    const fresh = deps.evaluateCampaigns(advertiserProjectId);
    if (fresh instanceof Promise) return fresh.then((rows) => applyRefresh(advertiserProjectId, rows, at));
    applyRefresh(advertiserProjectId, fresh, at);
  }

  function applyRefresh(advertiserProjectId: string | null, fresh: CampaignState[], at: number): void {
    for (const c of fresh) {
      // A campaign without an entry has no tick of its own: a newer judgement of its advertiser (or of all)
      // that did not serve it leaves no trace but the advertiser's tick.
      if (!entries.has(c.id) && Math.max(allJudgedAt, projectJudgedAt.get(c.project_id) ?? 0) > at) continue;
      serve(c, at);
    }
    if (advertiserProjectId === null) allJudgedAt = Math.max(allJudgedAt, at);
    else projectJudgedAt.set(advertiserProjectId, Math.max(projectJudgedAt.get(advertiserProjectId) ?? 0, at));
    const judged = advertiserProjectId === null ? entries.values() : (byProject.get(advertiserProjectId) ?? []);
    for (const e of judged) stop(e, at);
    compactIfIdle();
  }

  /**
   * The periodic sweep for time-based changes (a new day, an end or start date): judges every campaign
   * again a page at a time and calls `pause()` (a turn of the event loop) between pages. Page sizes adapt so
   * that a slice takes about `sliceMs`. Changes by other refreshes during the sweep stay: each page is judged
   * fresh, and at the end only campaigns that neither the sweep nor a refresh judged since it started are
   * dropped (they are no longer active or system-paused).
   */
  async function sweep(opts: { sliceMs: number; pause: () => Promise<void> }): Promise<SweepReport> {
    const started = performance.now();
    const startTick = ++tick;
    let pageSize = SWEEP_PAGE_START;
    /** The cheapest milliseconds per campaign of this sweep's slices: time lost to other processes or GC only adds. */
    let msPerCampaign = Infinity;
    let afterId = '';
    let judgedCount = 0;
    const sliceMs: number[] = [];
    const sliceStartMs: number[] = [];
    for (;;) {
      let t0 = performance.now();
      sliceStartMs.push(t0);
      const at = ++tick;
      const asked = deps.evaluateCampaignPage(afterId, pageSize, opts.sliceMs);
      // A network store holds the event loop only before and after its read: the wait is not the slice's.
      let heldMs = 0;
      let page: CampaignPage;
      if (asked instanceof Promise) {
        if (deps.networkStore) heldMs = performance.now() - t0;
        page = await asked;
        if (deps.networkStore) t0 = performance.now();
      } else page = asked;
      for (const c of page.serving) serve(c, at);
      for (const id of page.judged) {
        const e = entries.get(id);
        if (e) stop(e, at);
      }
      judgedCount += page.judged.length;
      const tookMs = heldMs + performance.now() - t0;
      sliceMs.push(tookMs);
      if (page.done || page.lastId === null) break;
      afterId = page.lastId;
      // Pages are sized from the cheapest cost per campaign seen, not from the last slice alone: on a busy
      // machine a slice that lost the CPU would otherwise shrink pages to the minimum for the rest of the sweep.
      // The page is read whole even when judging stops at the budget, so its reading must fit in the slice.
      if (page.judged.length > 0) msPerCampaign = Math.min(msPerCampaign * SWEEP_COST_DRIFT, tookMs / page.judged.length);
      const fits = Math.floor((opts.sliceMs * SWEEP_PAGE_FILL) / msPerCampaign);
      pageSize = Math.max(SWEEP_PAGE_MIN, Math.min(SWEEP_PAGE_MAX, pageSize * 2, Number.isFinite(fits) ? fits : pageSize));
      await opts.pause();
    }
    // Serving, yet neither active nor system-paused any more (no page returned it), and not refreshed since.
    const t0 = performance.now();
    sliceStartMs.push(t0);
    for (const e of entries.values()) if (e.state !== null && e.judged < startTick) setState(e, null);
    compactIfIdle();
    sliceMs.push(performance.now() - t0);
    return { judged: judgedCount, sliceMs, sliceStartMs, durationMs: performance.now() - started };
  }

  return {
    /** The campaign's state if it serves now, else null. */
    get: (campaignId: string): CampaignState | null => entries.get(campaignId)?.state ?? null,
    /** How many campaigns serve now. */
    size: () => live,
    refresh,
    sweep,
    /** Campaigns serving, and entries kept for campaigns that stopped (dropped by compaction). */
    stats: () => ({ serving: live, entries: entries.size }),
  };
}
export type ServingSet = ReturnType<typeof createServingSet>;

/** Same values in every field (rows of one query have the same fields). */
function sameState(a: CampaignState, b: CampaignState): boolean {
  for (const key in b) if ((a as Record<string, unknown>)[key] !== (b as Record<string, unknown>)[key]) return false;
  return true;
}
