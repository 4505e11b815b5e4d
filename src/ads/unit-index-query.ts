import type { UnitRow } from './ad-index.repo';
import { stem } from './text';

/**
 * Query side of the unit index (src/ads/unit-index.ts): IDF weighting, candidate retrieval over the
 * postings of the query words, exact scoring of the best candidates and the `accept()` loop. It only
 * reads the index through a `PostingsView`; all storage, building and updating stays in unit-index.ts.
 */

/**
 * Catalog-size-stable IDF: ln(N / df), the log of the inverse share of units a word appears in, divided
 * by a fixed constant (ln of a reference catalog size), never by the IDF of the catalog's own rarest word
 * (which grows with the catalog and made relevance fall as it grew: fill at a fixed floor went from 70 %
 * at 5k products to 37 % at 100k). A word in 1 % of units weighs the same in 1,000 units or 1,000,000.
 * Catalogs smaller than IDF_MIN_N count as that size (a word seen once in three products is no evidence
 * that it is common), and the weight is capped so very rare words in huge catalogs do not dominate.
 */
export const IDF_REFERENCE_N = 1000;
export const IDF_MIN_N = 100;
export const IDF_CAP = 1.25;
const IDF_SCALE = Math.log(IDF_REFERENCE_N);
export function idfWeight(df: number, n: number): number {
  if (df <= 0) return 0;
  const N = Math.max(n, IDF_MIN_N, df);
  return Math.min(IDF_CAP, Math.log(N / df) / IDF_SCALE);
}

/** Words in more than this share of units are too common to retrieve by (they still score candidates). */
const COMMON_SHARE = 0.1;
/** Candidates exactly scored per round (the best by the retrieval words). */
const CANDIDATES = 150;
/**
 * A common word's postings are read straight through when there are at most this many per candidate (a binary
 * search costs about log2 of their number in unpredictable steps; a straight read one cheap step each).
 */
const SCAN_PER_CANDIDATE = 8;

/**
 * A match must name what the product is, or be more than one shared word. A unit matched by a single query
 * word that is not one of its product-type words (`productTypeTerms`: "regular" in "Pantsuit, Regular &
 * Petite", "pro", "smart", "film" in a camera bag's title) has its score multiplied by TYPE_MISS_FACTOR, so
 * that one generic word cannot carry it over the relevance floor. Credit for a type word is its query
 * weight / TYPE_FULL_CREDIT_WEIGHT, at most 1: full from the current or an earlier turn, partial from a
 * synonym. Matches of two or more words are left alone (TYPE_MISS_FACTOR_MULTI = 1): on the labelled
 * dev conversations, penalising them too (0.85) cost 8 points of P@1 at the same false-promotion rate,
 * because shoppers often describe the need, not the product's type. Measured with scripts/relevance-dev.ts.
 */
export const TYPE_MISS_FACTOR = 0.5;
export const TYPE_MISS_FACTOR_MULTI = 1;
const TYPE_FULL_CREDIT_WEIGHT = 0.6;
function typeFactor(credit: number, hits: number): number {
  const miss = hits >= 2 ? TYPE_MISS_FACTOR_MULTI : TYPE_MISS_FACTOR;
  return miss + (1 - miss) * Math.min(1, credit);
}

export type ScoredUnit = { unit: UnitRow; score: number; matched: string[] };

/**
 * Out-of-vocabulary query words split against the index's own vocabulary. Names of products the catalog does
 * not carry are often compounds of what they are ("nordvpn", "turbotax", "1password", "docusign"): a query word
 * no unit contains is cut in two at every point, and the longest part (at least COMPOUND_MIN_PART letters) that
 * is an indexed word, stemmed, stands for it at COMPOUND_FACTOR of its weight. Only words of at least
 * COMPOUND_MIN_WORD letters are cut, and only when no unit contains them, so known words are never re-read; and
 * only words the user typed in the latest turns (query weight at least COMPOUND_MIN_WEIGHT), not the matcher's
 * synonyms (weight 0.4 at most) nor words from turns long past.
 */
export const COMPOUND_FACTOR = 0.6;
const COMPOUND_MIN_WEIGHT = 0.5;
const COMPOUND_MIN_PART = 3;
const COMPOUND_MIN_WORD = 6;
export function compoundPart(word: string, known: (term: string) => boolean): string | null {
  if (word.length < COMPOUND_MIN_WORD || !/^[a-z0-9]+$/.test(word)) return null;
  let best: string | null = null;
  let bestLen = 0;
  for (let i = 1; i < word.length; i++) {
    for (const part of [word.slice(0, i), word.slice(i)]) {
      if (part.length < COMPOUND_MIN_PART || part.length <= bestLen || /^\d+$/.test(part)) continue;
      const s = stem(part);
      if (known(s)) {
        best = s;
        bestLen = part.length;
      }
    }
  }
  return best;
}

/**
 * What the query path reads of the index, taken afresh for every query (the index replaces its arrays
 * when it grows, builds or renormalises). Documents are internal ids; postings lists are sorted by id.
 */
export interface PostingsView {
  /** Live (not tombstoned) documents. */
  readonly live: number;
  readonly termIds: ReadonlyMap<string, number>;
  /** Per term id: live documents containing the term. */
  readonly df: readonly number[];
  /** Per term id: postings (doc ids ascending), their saturated BM25F weights, and the used length. */
  readonly pDocs: readonly Int32Array[];
  readonly pWeights: readonly Float32Array[];
  /** Per term id: per posting, 1 when the term is one of the document's product-type words. */
  readonly pTypes: readonly Uint8Array[];
  readonly pLen: readonly number[];
  /** Per doc: 1 when live, its row's seq (tie-break). */
  readonly alive: Uint8Array;
  readonly seqOf: Int32Array;
  /** A live document's row (made again on each call: see unit-rows.ts). */
  readonly rowOf: (doc: number) => UnitRow;
  /**
   * Query scratch, of document capacity each. A query gives each document it touches a slot, in the order they
   * are first touched: `slotOf` (by document) is 1 + the slot, 0 when untouched (all zero between queries: a
   * query clears what it set); the arrays by slot are overwritten on first touch, so they need no clearing.
   */
  readonly slotOf: Int32Array;
  /** Per doc: 1 + its position among the round's candidates while their common words are added (zero otherwise). */
  readonly candAt: Int32Array;
  /** Per slot: the document. */
  readonly touched: Int32Array;
  /** Per slot: the score by the retrieval words so far. */
  readonly scores: Float64Array;
  /** Per slot: the best product-type credit of the query words met so far. */
  readonly typeEv: Float64Array;
  /** Per slot: how many query words the document contains, counted up to 255. */
  readonly hits: Uint8Array;
  /** Per slot: bit j set when the document contains the j-th query word found in the index (j < 32). */
  readonly matchMask: Uint32Array;
  /** Per slot: the rank key (score x type factor), -1 once the document was taken as a candidate. */
  readonly keyBuf: Float64Array;
}

/** The k-th largest value (1-based) of xs, reordering xs in place (Hoare quickselect). */
function kthLargest(xs: Float64Array, k: number): number {
  let lo = 0, hi = xs.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = xs[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (xs[i] > pivot) i++;
      while (xs[j] < pivot) j--;
      if (i <= j) {
        const t = xs[i];
        xs[i] = xs[j];
        xs[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return xs[target];
  }
  return xs[target];
}

/**
 * The k-th largest (1-based, counting repeats) of the non-negative values among keys[0, count), with `heap` (k
 * long) as scratch: a min-heap of the k largest seen so far, so a value below its top costs one comparison.
 * The caller makes sure at least k values are non-negative. Same answer as kthLargest over those values.
 */
export function kthLargestKey(keys: Float64Array, count: number, k: number, heap: Float64Array): number {
  let size = 0;
  for (let i = 0; i < count; i++) {
    const v = keys[i];
    if (v < 0) continue;
    if (size < k) {
      // Sift up.
      let at = size++;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (heap[parent] <= v) break;
        heap[at] = heap[parent];
        at = parent;
      }
      heap[at] = v;
    } else if (v > heap[0]) {
      // Replace the smallest and sift down.
      let at = 0;
      for (;;) {
        const l = 2 * at + 1;
        if (l >= k) break;
        const r = l + 1;
        const c = r < k && heap[r] < heap[l] ? r : l;
        if (heap[c] >= v) break;
        heap[at] = heap[c];
        at = c;
      }
      heap[at] = v;
    }
  }
  return heap[0];
}

/** Position of doc in a term's postings (its first `len` entries), or -1 (binary search; lists are sorted by doc id). */
function find(docs: Int32Array, len: number, doc: number): number {
  let lo = 0, hi = len - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = docs[mid];
    if (v === doc) return mid;
    if (v < doc) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Sorts order[0, n) by score descending, then seq ascending (insertion sort while n is a few dozen). */
function sortBest(order: Int32Array, n: number, score: Float64Array, seq: (i: number) => number): void {
  if (n > 48) {
    order.subarray(0, n).sort((a, b) => score[b] - score[a] || seq(a) - seq(b));
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = order[i], sx = score[x], qx = seq(x);
    let j = i - 1;
    while (j >= 0 && (score[order[j]] < sx || (score[order[j]] === sx && seq(order[j]) > qx))) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = x;
  }
}

/** Adds one retrieval word's postings to the slots (a document's slot is made on its first touch); returns the new slot count. */
function accumulate(view: PostingsView, docs: Int32Array, ws: Float32Array, ts: Uint8Array, len: number, f: number, credit: number, bit: number, count: number): number {
  const { alive, slotOf, touched, scores, typeEv, hits, matchMask } = view;
  for (let i = 0; i < len; i++) {
    const d = docs[i];
    if (alive[d] === 0) continue;
    let s = slotOf[d] - 1;
    if (s < 0) {
      s = count++;
      slotOf[d] = s + 1;
      touched[s] = d;
      scores[s] = 0;
      typeEv[s] = 0;
      hits[s] = 0;
      matchMask[s] = 0;
    }
    scores[s] += f * ws[i];
    matchMask[s] |= bit;
    if (hits[s] < 255) hits[s]++;
    if (ts[i] === 1 && credit > typeEv[s]) typeEv[s] = credit;
  }
  return count;
}

/** Each slot's rank key: its score by the retrieval words times its type factor. */
function rankKeys(view: PostingsView, count: number): void {
  const { scores, typeEv, hits, keyBuf } = view;
  for (let s = 0; s < count; s++) keyBuf[s] = scores[s] * typeFactor(typeEv[s], hits[s]);
}

/**
 * The best units for weighted query terms, BM25F-scored, best first, filtered by `accept` from the best
 * down until `limit` are accepted or the units containing a query word are exhausted.
 */
export function searchUnits(
  view: PostingsView,
  weights: Map<string, number>,
  accept: (unit: UnitRow) => boolean,
  limit: number,
): ScoredUnit[] {
  const { live, termIds, df, pDocs, pWeights, pTypes, pLen, seqOf, rowOf, slotOf, candAt, touched, scores, typeEv, hits, matchMask, keyBuf } = view;
  if (live === 0 || weights.size === 0 || limit <= 0) return [];
  const present: Array<{ term: string; tid: number; f: number; credit: number; bit: number }> = [];
  const known = (t: string) => {
    const id = termIds.get(t);
    return id !== undefined && df[id] > 0;
  };
  for (const [word, weight] of weights) {
    let term = word, w = weight;
    if (!known(term)) {
      if (weight < COMPOUND_MIN_WEIGHT) continue;
      const part = compoundPart(term, known);
      if (part === null || weights.has(part)) continue;
      term = part;
      w = weight * COMPOUND_FACTOR;
    }
    const tid = termIds.get(term)!;
    if (present.some((p) => p.tid === tid)) continue;
    const f = w * idfWeight(df[tid], live);
    // Bit of the word in matchMask (0 past the 32nd word: those are looked up one by one for `matched`).
    if (f > 0) present.push({ term, tid, f, credit: w / TYPE_FULL_CREDIT_WEIGHT, bit: present.length < 32 ? 1 << present.length : 0 });
  }
  if (present.length === 0) return [];
  const commonLimit = Math.max(50, live * COMMON_SHARE);
  let retrieval = present.filter((p) => df[p.tid] <= commonLimit);
  if (retrieval.length === 0) retrieval = [...present].sort((a, b) => df[a.tid] - df[b.tid]).slice(0, 3);
  const others = present.filter((p) => !retrieval.includes(p));

  // Accumulate over the retrieval words' postings, by slot: the key pass, the candidate pass and the clean-up
  // then read slots in order instead of documents at random (README Performance: 113 us of a search over 100k
  // products went to computing keys by document, 52 us to clearing).
  let count = 0;
  for (const { tid, f, credit, bit } of retrieval) count = accumulate(view, pDocs[tid], pWeights[tid], pTypes[tid], pLen[tid], f, credit, bit, count);
  // Ranked by score x type factor; a slot's key becomes -1 once it is taken.
  rankKeys(view, count);

  const out: ScoredUnit[] = [];
  let remaining = count;
  const perRound = Math.max(CANDIDATES, limit * 3);
  // A round's candidates in typed scratch (no object per candidate).
  const rDoc = new Int32Array(perRound), rScore = new Float64Array(perRound), rCredit = new Float64Array(perRound);
  const rHits = new Uint16Array(perRound), rMask = new Uint32Array(perRound), taken = new Uint8Array(perRound);
  // The picks of a batch, and the scores left to choose from.
  const best = new Int32Array(perRound), left = new Float64Array(perRound), heap = new Float64Array(perRound);
  const seqAt = (c: number) => seqOf[rDoc[c]];
  try {
    while (out.length < limit && remaining > 0) {
      // The next best `perRound` by the retrieval words.
      const threshold = remaining > perRound ? kthLargestKey(keyBuf, count, perRound, heap) : -Infinity;
      let n = 0;
      for (let i = 0; i < count && n < perRound; i++) {
        const k = keyBuf[i];
        if (k >= 0 && k >= threshold) {
          rDoc[n] = touched[i];
          rScore[n] = scores[i];
          rCredit[n] = typeEv[i];
          rHits[n] = hits[i];
          rMask[n] = matchMask[i];
          n++;
          keyBuf[i] = -1;
        }
      }
      remaining -= n;
      // Common words add to the candidates only. A word whose postings are few next to the candidates' binary
      // searches in them is read straight through, the candidates marked in `candAt`; a longer one is searched
      // per candidate.
      let marked = false;
      for (const { tid, f, credit, bit } of others) {
        const docs = pDocs[tid], ws = pWeights[tid], ts = pTypes[tid], len = pLen[tid];
        if (len <= n * SCAN_PER_CANDIDATE) {
          if (!marked) for (let c = 0; c < n; c++) candAt[rDoc[c]] = c + 1;
          marked = true;
          for (let at = 0; at < len; at++) {
            const c = candAt[docs[at]] - 1;
            if (c < 0) continue;
            rScore[c] += f * ws[at];
            rHits[c]++;
            rMask[c] |= bit;
            if (ts[at] === 1 && credit > rCredit[c]) rCredit[c] = credit;
          }
          continue;
        }
        for (let c = 0; c < n; c++) {
          const at = find(docs, len, rDoc[c]);
          if (at < 0) continue;
          rScore[c] += f * ws[at];
          rHits[c]++;
          rMask[c] |= bit;
          if (ts[at] === 1 && credit > rCredit[c]) rCredit[c] = credit;
        }
      }
      if (marked) for (let c = 0; c < n; c++) candAt[rDoc[c]] = 0;
      for (let c = 0; c < n; c++) rScore[c] *= typeFactor(rCredit[c], rHits[c]);
      // Best first (score, then seq), in batches of as many as are still wanted: the batch is the untaken
      // candidates at or above the wanted-th best score (ties included), sorted; `accept` may turn some down,
      // and then the next batch follows. Usually one batch is enough, so the round is never sorted whole.
      taken.fill(0, 0, n);
      let untaken = n;
      while (untaken > 0 && out.length < limit) {
        const want = limit - out.length;
        let floor = -Infinity;
        if (untaken > want) {
          let m = 0;
          for (let c = 0; c < n; c++) if (taken[c] === 0) left[m++] = rScore[c];
          floor = kthLargest(left.subarray(0, m), want);
        }
        let b = 0;
        for (let c = 0; c < n; c++) if (taken[c] === 0 && rScore[c] >= floor) best[b++] = c;
        sortBest(best, b, rScore, seqAt);
        for (let i = 0; i < b; i++) {
          const c = best[i];
          taken[c] = 1;
          untaken--;
          const unit = rowOf(rDoc[c]);
          if (!accept(unit)) continue;
          const matched: string[] = [];
          for (const p of present) if (p.bit !== 0 ? (rMask[c] & p.bit) !== 0 : find(pDocs[p.tid], pLen[p.tid], rDoc[c]) >= 0) matched.push(p.term);
          out.push({ unit, score: rScore[c], matched });
          if (out.length >= limit) break;
        }
      }
    }
  } finally {
    for (let i = 0; i < count; i++) slotOf[touched[i]] = 0;
  }
  return out;
}
