import type { AdIndexRepo, UnitRow } from './ad-index.repo';
import { INFORMATIONAL_FACTOR, informationalOnly } from './intent';
import { synonymsOf, terms } from './text';
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

/** A BM25F score as relevance in [0, 1) (before the informational-question factor). */
export function toRelevance(score: number): number {
  return score / (score + SATURATION);
}

export function queryWeights(ctx: MatchContext): Map<string, number> {
  const weights = new Map<string, number>();
  const add = (term: string, w: number) => {
    if (w > (weights.get(term) ?? 0)) weights.set(term, w);
  };
  for (const t of terms(ctx.current)) add(t, CURRENT_WEIGHT);
  ctx.earlier.forEach((text, i) => {
    for (const t of terms(text)) add(t, EARLIER_WEIGHT * EARLIER_DECAY ** i);
  });
  for (const [t, w] of [...weights]) for (const s of synonymsOf(t)) add(s, w * SYNONYM_FACTOR);
  return new Map([...weights].sort((a, b) => b[1] - a[1]).slice(0, MAX_QUERY_TERMS));
}

/**
 * Ranks ad units against a conversation with an in-memory BM25F inverted index (src/ads/unit-index.ts),
 * built from the database once at start-up and kept in step one campaign at a time: query words weighted
 * by the turn they came from (synonyms lower), fields weighted by what they say about the product.
 */
export function createMatcher(deps: { index: AdIndexRepo }) {
  const units = createUnitIndex();
  const started = performance.now();
  deps.index.takeSynced();
  units.build(deps.index.allUnits());
  const buildMs = performance.now() - started;

  /** Brings the campaigns synced since the last look (created, edited, products replaced) into the index. */
  function applySynced() {
    for (const campaignId of deps.index.takeSynced()) units.replaceCampaign(campaignId, deps.index.unitsOfCampaign(campaignId));
  }

  function rank(ctx: MatchContext, accept: (unit: UnitRow) => boolean, limit: number): Candidate[] {
    applySynced();
    const weights = queryWeights(ctx);
    if (weights.size === 0) return [];
    const intent = informationalOnly(ctx.current) ? INFORMATIONAL_FACTOR : 1;
    return units.search(weights, accept, limit).map(({ unit, score, matched }) => ({ unit, relevance: intent * toRelevance(score), matched }));
  }

  return {
    rank,
    /** Something changed: only the campaigns whose units were re-synced are re-read; nothing else is dropped. */
    invalidate: applySynced,
    /** Size and memory of the in-memory index, and how long the start-up build took. */
    stats: () => ({ ...units.stats(), buildMs }),
  };
}
export type Matcher = ReturnType<typeof createMatcher>;
