import type { AdIndexRepo, UnitRow } from './ad-index.repo';
import { synonymsOf, terms } from './text';

/** The user's side of the conversation: the latest user message and the earlier ones, newest first. */
export type MatchContext = { current: string; earlier: string[] };
export type Candidate = { unit: UnitRow; relevance: number; matched: string[] };

/** How much a query word counts, by where it came from. */
const CURRENT_WEIGHT = 1;
const EARLIER_WEIGHT = 0.6;
const EARLIER_DECAY = 0.7;
const SYNONYM_FACTOR = 0.5;
const MAX_QUERY_TERMS = 32;
/** Where in the ad unit a word matched: the name and keywords say most about what a product is. */
const FIELD_WEIGHTS = { name: 1, keywords: 1, category: 0.8, description: 0.6, context: 0.5 } as const;
/**
 * Raw scores map to relevance in [0, 1): raw / (raw + SATURATION). Word weights use IDF relative to the
 * rarest possible word, so relevance means the same thing for a catalog of ten products or a million.
 */
const SATURATION = 1.5;
/** Words in more than this share of ad units are too common to retrieve by (they still score). */
const COMMON_SHARE = 0.1;
const MAX_DF_CACHE = 50_000;

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

type Fields = Record<keyof typeof FIELD_WEIGHTS, Set<string>>;

function unitFields(u: UnitRow): Fields {
  return {
    name: new Set(terms(u.name)),
    keywords: new Set(terms((JSON.parse(u.keywords) as string[]).join(' '))),
    category: new Set(terms((u.category ?? '').replace(/_/g, ' '))),
    description: new Set(terms(u.description)),
    context: new Set(terms(u.context)),
  };
}

function bestFieldWeight(fields: Fields, term: string): number {
  let best = 0;
  for (const key of Object.keys(FIELD_WEIGHTS) as Array<keyof Fields>)
    if (FIELD_WEIGHTS[key] > best && fields[key].has(term)) best = FIELD_WEIGHTS[key];
  return best;
}

/**
 * Ranks ad units against a conversation. SQLite FTS5 retrieves candidates (BM25 over the stemmed index,
 * common words left out), then each candidate is scored by the inverse-document-frequency-weighted
 * words it shares with the conversation, weighted by recency of the turn and by the field they matched.
 */
export function createMatcher(deps: { index: AdIndexRepo; maxCandidates?: number }) {
  const maxCandidates = deps.maxCandidates ?? 100;
  const dfCache = new Map<string, number>();
  let unitCount: number | null = null;

  const docFrequency = (term: string) => {
    let df = dfCache.get(term);
    if (df === undefined) {
      if (dfCache.size >= MAX_DF_CACHE) dfCache.clear();
      dfCache.set(term, (df = deps.index.docFrequency(term)));
    }
    return df;
  };

  function rank(ctx: MatchContext, accept: (unit: UnitRow) => boolean, limit: number): Candidate[] {
    const weights = queryWeights(ctx);
    const n = (unitCount ??= deps.index.unitCount());
    if (n === 0 || weights.size === 0) return [];
    const idf = new Map<string, number>();
    const idfOf = (df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));
    const rarest = idfOf(1);
    for (const term of weights.keys()) {
      const df = docFrequency(term);
      if (df > 0) idf.set(term, idfOf(df) / rarest);
    }
    if (idf.size === 0) return [];
    const present = [...idf.keys()];
    let retrieval = present.filter((t) => docFrequency(t) <= Math.max(50, n * COMMON_SHARE));
    if (retrieval.length === 0) retrieval = present.sort((a, b) => docFrequency(a) - docFrequency(b)).slice(0, 3);
    const hits = deps.index.search(retrieval.map((t) => `"${t}"`).join(' OR '), maxCandidates);
    if (hits.length === 0) return [];
    const scored: Candidate[] = [];
    for (const unit of deps.index.units(hits.map((h) => h.seq))) {
      if (!accept(unit)) continue;
      const fields = unitFields(unit);
      let raw = 0;
      const matched: string[] = [];
      for (const [term, w] of weights) {
        const field = bestFieldWeight(fields, term);
        if (field === 0) continue;
        raw += w * (idf.get(term) ?? 0) * field;
        matched.push(term);
      }
      if (raw > 0) scored.push({ unit, relevance: raw / (raw + SATURATION), matched });
    }
    return scored.sort((a, b) => b.relevance - a.relevance || a.unit.seq - b.unit.seq).slice(0, limit);
  }

  return {
    rank,
    /** The index changed: document frequencies and the unit count must be read again. */
    invalidate() {
      dfCache.clear();
      unitCount = null;
    },
  };
}
export type Matcher = ReturnType<typeof createMatcher>;
