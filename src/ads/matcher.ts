import type { Awaitable } from '../store/sql-store';
import type { AdIndexRepo, UnitRow } from './ad-index.repo';
import { queryTerms, synonymsOf } from './text';
import { createUnitIndex } from './unit-index';

/** The user's side of the conversation: the latest user message and the earlier ones, newest first. */
export type MatchContext = { current: string; earlier: string[] };
export type Candidate = { unit: UnitRow; relevance: number; matched: string[] };

/** How much a query word counts, by where it came from. */
const CURRENT_WEIGHT = 1;
const EARLIER_WEIGHT = 0.6;
const EARLIER_DECAY = 0.7;
const SYNONYM_FACTOR = 0.4;
const MAX_QUERY_TERMS = 32;
/**
 * Scores map to relevance in [0, 1): score / (score + SATURATION). IDF is taken from the share of units
 * a word appears in, against a fixed reference (see idfWeight in unit-index.ts), so relevance means the
 * same for a catalog of a thousand products or a million.
 */
const SATURATION = 2.5;

/** A BM25F score as relevance in [0, 1). */
export function toRelevance(score: number): number {
  return score / (score + SATURATION);
}

export function queryWeights(ctx: MatchContext): Map<string, number> {
  const weights = new Map<string, number>();
  const add = (term: string, w: number) => {
    if (w > (weights.get(term) ?? 0)) weights.set(term, w);
  };
  for (const t of queryTerms(ctx.current)) add(t, CURRENT_WEIGHT);
  ctx.earlier.forEach((text, i) => {
    for (const t of queryTerms(text)) add(t, EARLIER_WEIGHT * EARLIER_DECAY ** i);
  });
  for (const [t, w] of [...weights]) for (const s of synonymsOf(t)) add(s, w * SYNONYM_FACTOR);
  return new Map([...weights].sort((a, b) => b[1] - a[1]).slice(0, MAX_QUERY_TERMS));
}

/**
 * Ranks ad units against a conversation with an in-memory BM25F inverted index (src/ads/unit-index.ts),
 * built from the database once at start-up and kept in step one campaign at a time: query words weighted
 * by the turn they came from (synonyms lower), fields weighted by what they say about the product.
 *
 * On SQLite the build and every re-read happen in the caller's turn. On PostgreSQL they are reads that
 * answer later: they run one after another in the order they were asked for (the start-up build first), and
 * a ranking waits for those asked before it, so it never sees a campaign older than the last committed change.
 */
export function createMatcher(deps: { index: AdIndexRepo }) {
  const units = createUnitIndex();
  let buildMs = 0;
  /** Index work still under way on an asynchronous store (the build, re-reads of changed campaigns), in order. */
  let pending: Promise<void> | null = null;

  const started = performance.now();
  deps.index.takeSynced();
  const all = deps.index.allUnits();
  /** The store answers later (PostgreSQL): its reads are queued; else they happen in the caller's turn. */
  const asynchronous = Symbol.asyncIterator in all;
  let built: Promise<void>;
  if (asynchronous) {
    built = units.buildAsync(all).then(() => {
      buildMs = performance.now() - started;
    });
    track(built.catch((err) => console.error(JSON.stringify({ level: 'error', msg: 'ad index build failed', error: String(err) }))));
  } else {
    units.build(all as Iterable<UnitRow>);
    buildMs = performance.now() - started;
    built = Promise.resolve();
  }

  /** Makes `work` the last of the pending index work; it is forgotten once nothing newer was queued behind it. */
  function track(work: Promise<void>): Promise<void> {
    const tracked: Promise<void> = work.finally(() => {
      if (pending === tracked) pending = null;
    });
    pending = tracked;
    return tracked;
  }

  /** Re-reads campaigns after the pending work; a read that fails gives its campaigns back for the next look. */
  function enqueue(campaignIds: string[]): Promise<void> {
    const after = pending ?? Promise.resolve();
    return track(after.then(async () => {
      for (let i = 0; i < campaignIds.length; i++) {
        try {
          units.replaceCampaign(campaignIds[i], await deps.index.unitsOfCampaign(campaignIds[i]));
        } catch (err) {
          for (const id of campaignIds.slice(i)) deps.index.syncCampaign(id);
          console.error(JSON.stringify({ level: 'error', msg: 'ad index re-read failed', error: String(err) }));
          return;
        }
      }
    }));
  }

  /** Brings the campaigns synced since the last look (created, edited, products replaced) into the index. */
  function applySynced(): Awaitable<void> {
    const ids = deps.index.takeSynced();
    if (ids.length === 0) return pending ?? undefined;
    if (asynchronous) return enqueue(ids);
    for (const id of ids) units.replaceCampaign(id, deps.index.unitsOfCampaign(id) as UnitRow[]);
  }

  function search(ctx: MatchContext, accept: (unit: UnitRow) => boolean, limit: number): Candidate[] {
    const weights = queryWeights(ctx);
    if (weights.size === 0) return [];
    // Relevance is the match alone. Whether the conversation asks for something is the learned intent gate's to
    // say (src/ads/classifier.ts); a word-list discount of questions that open like "what's" or "how do" used to
    // sit here too, and cut "What's a good app to learn Italian?" below the floor (README, Relevance).
    return units.search(weights, accept, limit).map(({ unit, score, matched }) => ({ unit, relevance: toRelevance(score), matched }));
  }

  /** Candidates best first: at once when the index is up to date, else once the pending re-reads are in. */
  function rank(ctx: MatchContext, accept: (unit: UnitRow) => boolean, limit: number): Awaitable<Candidate[]> {
    const applying = applySynced();
    return applying ? applying.then(() => search(ctx, accept, limit)) : search(ctx, accept, limit);
  }

  return {
    rank,
    /** Something changed: only the campaigns whose units were re-synced are re-read; nothing else is dropped. */
    invalidate: applySynced,
    /** Resolves once the start-up build is complete (at once on SQLite); rejects if it failed. */
    ready: (): Promise<void> => built,
    /** Size and memory of the in-memory index, and how long the start-up build took. */
    stats: () => ({ ...units.stats(), buildMs }),
  };
}
export type Matcher = ReturnType<typeof createMatcher>;
