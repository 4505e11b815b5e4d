import type { UnitRow } from './ad-index.repo';
import type { ScoredUnit } from './unit-index-query';
import { createUnitStore, type UnitStore } from './unit-index-store';

// Storage and updates live in unit-index-store.ts; IDF weighting and the query path in unit-index-query.ts.
export { B, FIELDS, K1 } from './unit-index-store';
export { IDF_CAP, IDF_MIN_N, IDF_REFERENCE_N, idfWeight, type ScoredUnit } from './unit-index-query';

/** How long one step of a store's rebuild may hold the event loop. */
const REBUILD_STEP_MS = 1;
/** A store this small is rebuilt at once (well under a millisecond or two); a larger one in steps. */
const REBUILD_AT_ONCE_MAX_DOCS = 256;

/** A store being built from another's live units, and the campaigns changed since it started. */
type Rebuild = { next: UnitStore; from: UnitStore; cursor: number; end: number; changed: Set<string> };

/**
 * In-memory BM25F inverted index of ad units (see unit-index-store.ts), kept in step one campaign at a time.
 *
 * Its upkeep never runs inside a search or an update: when tombstones pile up (a quarter of the documents)
 * or the live field-length averages drift (a catalog that grows from empty, a small one edited), a new
 * store is built from the live units in steps of about REBUILD_STEP_MS between events (compaction keeps
 * the frozen averages, so scores do not move; renormalisation takes the live ones), while searches read
 * the current store. Campaigns replaced meanwhile are brought up to date in the new store (only their
 * changed units are re-indexed), then the new store takes over. Measured before: compacting 100,000 units
 * inside a product edit's next search held it 22-85 ms, renormalising them for seconds.
 */
export function createUnitIndex() {
  let store = createUnitStore();
  let rebuild: Rebuild | null = null;
  let idle: Array<() => void> = [];

  function maintain(): void {
    if (rebuild) return;
    const kind = store.needsMaintenance();
    if (!kind) return;
    const from = store;
    rebuild = { next: createUnitStore(kind === 'renormalize' ? from.liveAverages() : from.averages()), from, cursor: 0, end: from.docCount(), changed: new Set() };
    rebuild.next.reserve(from.size());
    if (from.docCount() <= REBUILD_AT_ONCE_MAX_DOCS) finishNow();
    else scheduleStep(rebuild);
  }

  /** One step: copy live units, then bring changed campaigns up to date; true when the new store is complete. */
  function step(r: Rebuild, budgetMs: number): boolean {
    const started = performance.now();
    while (r.cursor < r.end) {
      const row = r.from.liveRow(r.cursor++);
      if (row) r.next.add(row);
      if ((r.cursor & 31) === 0 && performance.now() - started > budgetMs) return false;
    }
    for (const campaignId of r.changed) {
      r.changed.delete(campaignId);
      r.next.replaceCampaign(campaignId, r.from.unitsOf(campaignId));
      if (performance.now() - started > budgetMs) return r.changed.size === 0;
    }
    return true;
  }

  function swap(r: Rebuild): void {
    r.next.seal();
    store = r.next;
    rebuild = null;
    maintain();
    if (!rebuild) for (const resolve of idle.splice(0)) resolve();
  }

  function scheduleStep(r: Rebuild): void {
    setImmediate(() => {
      if (rebuild !== r) return;
      if (step(r, REBUILD_STEP_MS)) swap(r);
      else scheduleStep(r);
    });
  }

  function finishNow(): void {
    while (rebuild) {
      const r = rebuild;
      step(r, Infinity);
      swap(r);
    }
  }

  /** Brings a campaign to `units` (its units as they now are), in the store searches read and in one being built. */
  function replaceCampaign(campaignId: string, units: UnitRow[]): void {
    store.replaceCampaign(campaignId, units);
    if (rebuild) rebuild.changed.add(campaignId);
    maintain();
  }

  return {
    /** Replaces the whole index at once (start-up); a rebuild under way is dropped. */
    build(units: Iterable<UnitRow>): void {
      rebuild = null;
      store = createUnitStore();
      store.build(units);
      for (const resolve of idle.splice(0)) resolve();
    },
    /**
     * Replaces the whole index with units that arrive asynchronously (pages from PostgreSQL): a new store is
     * filled on the side and takes over when complete; searches read the current one meanwhile. The caller
     * replaces no campaign while it runs (the matcher applies its changes after the build).
     */
    async buildAsync(units: AsyncIterable<UnitRow>): Promise<void> {
      const next = createUnitStore();
      const builder = next.startBuild();
      for await (const u of units) builder.add(u);
      builder.finish();
      rebuild = null;
      store = next;
      for (const resolve of idle.splice(0)) resolve();
    },
    replaceCampaign,
    removeCampaign: (campaignId: string) => replaceCampaign(campaignId, []),
    /** Drops tombstones now, synchronously (finishing a rebuild under way, or compacting). */
    compact(): void {
      if (!rebuild && store.stats().tombstones > 0) {
        const from = store;
        rebuild = { next: createUnitStore(from.averages()), from, cursor: 0, end: from.docCount(), changed: new Set() };
      }
      finishNow();
    },
    /** Resolves once no rebuild is under way (tests, benchmarks). */
    settled: (): Promise<void> => (rebuild ? new Promise<void>((resolve) => idle.push(resolve)) : Promise.resolve()),
    search: (weights: Map<string, number>, accept: (unit: UnitRow) => boolean, limit: number): ScoredUnit[] => store.search(weights, accept, limit),
    /** Live units containing the term. */
    docFrequency: (term: string) => store.docFrequency(term),
    /** The normalised IDF weight a query word gets now. */
    idf: (term: string) => store.idf(term),
    size: () => store.size(),
    stats: () => ({ ...store.stats(), rebuilding: rebuild !== null }),
  };
}
export type UnitIndex = ReturnType<typeof createUnitIndex>;
