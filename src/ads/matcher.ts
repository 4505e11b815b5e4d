import type { AdIndexRepo, UnitRow } from './ad-index.repo';
import { INFORMATIONAL_FACTOR, informationalOnly } from './intent';
import { synonymsOf, terms } from './text';

/** The user's side of the conversation: the latest user message and the earlier ones, newest first. */
export type MatchContext = { current: string; earlier: string[] };
export type Candidate = { unit: UnitRow; relevance: number; matched: string[] };

/** How much a query word counts, by where it came from. */
const CURRENT_WEIGHT = 1;
const EARLIER_WEIGHT = 0.6;
const EARLIER_DECAY = 0.7;
const SYNONYM_FACTOR = 0.4;
const MAX_QUERY_TERMS = 32;
/** BM25F: per-field weights and length normalisation, then the usual saturation k1. */
const FIELDS = { name: 3, keywords: 2.5, category: 2, description: 1, context: 0.8 } as const;
const B = 0.75;
const K1 = 1.2;
/**
 * Scores map to relevance in [0, 1): score / (score + SATURATION). IDF is taken relative to the rarest
 * possible word, so relevance means the same for a catalog of ten products or a million.
 */
const SATURATION = 2.5;
/** Words in more than this share of ad units are too common to retrieve by (they still score). */
const COMMON_SHARE = 0.1;
const MAX_CACHED = 200_000;

type FieldName = keyof typeof FIELDS;
type UnitTerms = Record<FieldName, string[]>;

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

function unitTerms(u: UnitRow): UnitTerms {
  return {
    name: terms(u.name),
    keywords: terms((JSON.parse(u.keywords) as string[]).join(' ')),
    category: terms((u.category ?? '').replace(/_/g, ' ')),
    description: terms(u.description),
    context: terms(u.context),
  };
}

/**
 * Ranks ad units against a conversation. SQLite FTS5 retrieves candidates (BM25 over the stemmed index,
 * very common words left out); each candidate is then scored with BM25F: query words weighted by the
 * turn they came from (synonyms lower), fields weighted by what they say about the product.
 */
export function createMatcher(deps: { index: AdIndexRepo; maxCandidates?: number }) {
  const maxCandidates = deps.maxCandidates ?? 150;
  const dfCache = new Map<string, number>();
  const unitCache = new Map<number, { row: UnitRow; terms: UnitTerms }>();
  const lengthSums: Record<FieldName, number> = { name: 0, keywords: 0, category: 0, description: 0, context: 0 };
  let unitCount: number | null = null;

  const docFrequency = (term: string) => {
    let df = dfCache.get(term);
    if (df === undefined) {
      if (dfCache.size >= MAX_CACHED) dfCache.clear();
      dfCache.set(term, (df = deps.index.docFrequency(term)));
    }
    return df;
  };

  /** Candidate rows with their terms, from memory where possible (one query for the rest). */
  function load(seqs: number[]) {
    const missing = seqs.filter((s) => !unitCache.has(s));
    if (missing.length > 0) {
      if (unitCache.size + missing.length > MAX_CACHED) resetUnits();
      for (const row of deps.index.units(missing)) {
        const t = unitTerms(row);
        unitCache.set(row.seq, { row, terms: t });
        for (const f of Object.keys(FIELDS) as FieldName[]) lengthSums[f] += t[f].length;
      }
    }
    return seqs.map((s) => unitCache.get(s)).filter((u) => u !== undefined);
  }

  function resetUnits() {
    unitCache.clear();
    for (const f of Object.keys(lengthSums) as FieldName[]) lengthSums[f] = 0;
  }

  function bm25f(u: UnitTerms, weights: Map<string, number>, idf: Map<string, number>, matched: string[]): number {
    const cached = Math.max(1, unitCache.size);
    let score = 0;
    for (const [term, w] of weights) {
      const termIdf = idf.get(term);
      if (!termIdf) continue;
      let tf = 0;
      for (const f of Object.keys(FIELDS) as FieldName[]) {
        const words = u[f];
        let count = 0;
        for (const x of words) if (x === term) count++;
        if (count === 0) continue;
        const avg = Math.max(1, lengthSums[f] / cached);
        tf += (FIELDS[f] * count) / (1 - B + (B * words.length) / avg);
      }
      if (tf === 0) continue;
      matched.push(term);
      score += w * termIdf * ((tf * (K1 + 1)) / (tf + K1));
    }
    return score;
  }

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
    const intent = informationalOnly(ctx.current) ? INFORMATIONAL_FACTOR : 1;
    const scored: Candidate[] = [];
    for (const { row, terms: unit } of load(hits.map((h) => h.seq))) {
      if (!accept(row)) continue;
      const matched: string[] = [];
      const score = bm25f(unit, weights, idf, matched);
      if (score > 0) scored.push({ unit: row, relevance: (intent * score) / (score + SATURATION), matched });
    }
    return scored.sort((a, b) => b.relevance - a.relevance || a.unit.seq - b.unit.seq).slice(0, limit);
  }

  return {
    rank,
    /** The index changed: document frequencies, the unit count and cached units must be read again. */
    invalidate() {
      dfCache.clear();
      resetUnits();
      unitCount = null;
    },
  };
}
export type Matcher = ReturnType<typeof createMatcher>;
