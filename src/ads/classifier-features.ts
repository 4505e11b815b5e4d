/**
 * Features of the learned conversation classifiers (shopping intent, safety), shared by the training script
 * (scripts/train-promotion-classifiers.ts) and by inference, so the features a model was trained on are exactly
 * the features it is scored on. The models themselves (assets, scoring) are in classifier.ts; the pretrained word
 * vectors in word-vectors.ts.
 *
 * Features (all hashed into 2^HASH_BITS buckets, FNV-1a + a final mix, one seed per namespace):
 * - two namespaces: the latest user turn ("L") and the earlier user turns ("E", up to MAX_EARLIER_TURNS);
 * - per namespace: word unigrams, word bigrams (with a start-of-turn marker, so openers such as
 *   "<s> explain" or "<s> recommend" are features), and character 3-5-grams inside each word padded with
 *   "<" and ">" (so "managing" and "management" share "<man", "mana", ...; typos and unseen words still land
 *   near seen ones);
 * - the shape of the latest turn: a length bucket, whether it has a "?", and for short turns without pronouns,
 *   auxiliaries or question words a "bare query" marker ("cordless drill 20v"); dev: intent AP 0.980 -> 0.984;
 * - light normalization: NFKC when needed, lower case, apostrophes dropped ("don't" = "dont");
 * - values: each group (words, chars) of a namespace gets total L2 mass 1 for the latest turn and
 *   EARLIER_WEIGHT for earlier turns (value = weight / sqrt(count)), so long texts do not dominate and the
 *   latest turn counts most;
 * - dense word-vector features (when the model was trained with word vectors, see WordVectors): per turn the
 *   SIF-weighted sum of the pretrained vectors of its words, then per namespace the L2-normalized sum ("turns":
 *   the latest turn, and the earlier turns times EARLIER_WEIGHT; "pooled": every turn, and each turn alone for
 *   turnMax). A word the training data never had still moves the score the way its neighbours in the vector
 *   space do ("espresso grinder" and "coffee mill").
 * Limits: each text is cut at MAX_TEXT_CHARS (head and tail kept), at most MAX_EARLIER_TURNS earlier turns.
 */

import { headAndTail } from '../platform/text-ends';
import { fmix, FNV_PRIME, vectorIndex, VECTOR_HASH_SEED, wordHash, type WordVectors } from './word-vectors';

export const HASH_BITS = 18;
export const MAX_TEXT_CHARS = 4096;
export const MAX_EARLIER_TURNS = 3;
export const EARLIER_WEIGHT = 0.5;

const MASK = (1 << HASH_BITS) - 1;
// One seed per (namespace, kind); any distinct 32-bit constants do.
const SEED = { Lw: 0x811c9dc5, Lb: 0x2f6b1a37, Lc: 0x5bd1e995, Ew: 0x1b873593, Eb: 0x7e3a9c21, Ec: 0x3c6ef372 } as const;
const BOS = 0x9e3779b1;

/**
 * A growable list of (bucket, value) pairs; reused across calls so inference allocates nothing per request.
 * `tag` (word or char feature) and `segs` (where each turn's features start, `nseg` of them) let a model score each
 * turn of a pooled conversation on its own from the same extraction (see scoreFeatures); both are optional.
 */
export type FeatureBuffer = {
  idx: Int32Array; val: Float32Array; n: number; tag?: Uint8Array; segs?: Int32Array; nseg?: number;
  /**
   * Dense inputs when extracted with word vectors: "turns": [latest (dims), earlier (dims)]; "pooled": [all turns
   * (dims), then each turn alone (dims each, in segment order)]. `denseN` floats are in use; 0 without vectors.
   */
  dense?: Float32Array; denseN?: number;
  /** Scratch: the SIF-weighted vector sum of each turn. */
  vsum?: Float32Array;
};

export function newFeatureBuffer(capacity = 4096): FeatureBuffer {
  return { idx: new Int32Array(capacity), val: new Float32Array(capacity), n: 0, tag: new Uint8Array(capacity), segs: new Int32Array(MAX_EARLIER_TURNS + 2), nseg: 0 };
}

// While extracting, `val` holds the group tag of each feature; assignValues turns tags into values.
const WORD_TAG = 0;
export const CHAR_TAG = 1;

/** Makes room for `more` features (callers then write without bounds checks). */
function reserve(buf: FeatureBuffer, more: number): void {
  if (buf.n + more <= buf.idx.length) return;
  const size = Math.max(buf.idx.length * 2, buf.n + more);
  const idx = new Int32Array(size);
  idx.set(buf.idx.subarray(0, buf.n));
  const val = new Float32Array(size);
  val.set(buf.val.subarray(0, buf.n));
  buf.idx = idx;
  buf.val = val;
  if (buf.tag) buf.tag = new Uint8Array(size);
}

/**
 * Identifier-like runs: 16 or more letters, digits, "-" and "_" without a space (UUIDs, hashes, order and tracking
 * numbers, API keys). With at least 4 digits such a run becomes the one word ID_WORD: its characters are noise to
 * the models (a random UUID appended to one question moved its intent score between 0.83 and 1.0), while that an
 * identifier was pasted is a feature worth keeping. Model numbers ("wh-1000xm4", "128gb") are shorter and stay.
 */
const ID_RUN = /[0-9a-z][0-9a-z_-]{15,}/g;
export const ID_WORD = 'idref';
const replaceId = (run: string) => {
  let digits = 0;
  for (let i = 0; i < run.length; i++) if (run.charCodeAt(i) >= 48 && run.charCodeAt(i) <= 57) digits++;
  return digits >= 4 ? ID_WORD : run;
};

/**
 * Lower case, compatibility forms folded (only when non-ASCII is present: NFKC is the slow part), head and tail
 * kept, identifier-like runs replaced by ID_WORD.
 */
export function normalizeText(text: string): string {
  let t = headAndTail(text, MAX_TEXT_CHARS);
  if (/[^\x00-\x7f]/.test(t)) t = t.normalize('NFKC').replace(/[\u2018\u2019\u02bc]/g, "'");
  t = t.toLowerCase();
  return /[0-9]/.test(t) ? t.replace(ID_RUN, replaceId) : t;
}

/** 1: letter or digit (part of a word), 2: not; 0: not looked up yet. Filled lazily per UTF-16 code unit. */
const WORD_CHAR = new Uint8Array(65536);
const LETTER_OR_DIGIT = /[\p{L}\p{N}\p{M}]/u;

function isWordChar(c: number): boolean {
  let k = WORD_CHAR[c];
  if (k === 0) {
    k = (c >= 0xd800 && c <= 0xdfff) || LETTER_OR_DIGIT.test(String.fromCharCode(c)) ? 1 : 2;
    WORD_CHAR[c] = k;
  }
  return k === 1;
}

/** Char codes of the current word, padded with "<" and ">" (reused scratch space). */
let padded = new Uint16Array(64);

function charGrams(buf: FeatureBuffer, seed: number, n: number): void {
  const { idx, val } = buf;
  let k = buf.n;
  for (let start = 0; start + 3 <= n; start++) {
    let h = seed;
    const end = Math.min(start + 5, n);
    for (let j = start; j < end; j++) {
      h = Math.imul(h ^ padded[j], FNV_PRIME);
      if (j - start >= 2) {
        idx[k] = fmix(h) & MASK;
        val[k++] = CHAR_TAG;
      }
    }
  }
  buf.n = k;
}

/**
 * Appends the word unigram, bigram and char n-gram features of one text. A word is a run of letters and
 * digits; an apostrophe between two of them is dropped ("don't" = "dont").
 */
function textFeatures(buf: FeatureBuffer, text: string, latest: boolean, vectors?: WordVectors | null, seg = 0, drop: ReadonlySet<number> | null = null): void {
  const sw = latest ? SEED.Lw : SEED.Ew;
  const sb = latest ? SEED.Lb : SEED.Eb;
  const sc = latest ? SEED.Lc : SEED.Ec;
  const lower = normalizeText(text);
  // Per word of m chars: 2 word features and at most 3m char n-grams (padded to m + 2 chars), so 4 per char plus slack.
  reserve(buf, 4 * lower.length + 16);
  let prev = BOS;
  let i = 0;
  let words = 0;
  const len = lower.length;
  while (i < len) {
    if (!isWordChar(lower.charCodeAt(i))) { i++; continue; }
    let n = 0;
    padded[n++] = 60;
    let h: number = sw;
    let hv: number = VECTOR_HASH_SEED;
    let wide = 0;
    for (; i < len; i++) {
      const c = lower.charCodeAt(i);
      if (!isWordChar(c)) {
        if (c === 39 && i + 1 < len && isWordChar(lower.charCodeAt(i + 1))) continue;
        break;
      }
      if (n + 2 > padded.length) {
        const grown = new Uint16Array(padded.length * 2);
        grown.set(padded);
        padded = grown;
      }
      padded[n++] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
      hv = Math.imul(hv ^ c, FNV_PRIME);
      wide |= c;
    }
    if (vectors && wide < 256) addWordVector(buf, vectors, seg, hv, n);
    words++;
    // A dropped word gives no sparse feature (its vector still counts, and the next bigram pairs across it).
    if (drop !== null && drop.has(hv >>> 0)) continue;
    padded[n++] = 62;
    buf.idx[buf.n] = fmix(h) & MASK;
    buf.val[buf.n++] = WORD_TAG;
    buf.idx[buf.n] = fmix(Math.imul(sb ^ prev, FNV_PRIME) ^ h) & MASK;
    buf.val[buf.n++] = WORD_TAG;
    charGrams(buf, sc, n);
    prev = h;
  }
  if (latest && words > 0) shapeFeatures(buf, lower, words);
}

/**
 * Words a model may be trained to ignore (ClassifierAsset.drop): the hashes textFeatures compares each word with
 * (the word as the features read it: lower case, apostrophes inside it dropped, so "he's" is "hes").
 */
export function dropSet(words: readonly string[]): ReadonlySet<number> {
  return new Set(words.map((w) => wordHash(normalizeText(w).replace(/'/g, '')) >>> 0));
}

/** Pronouns, auxiliaries and question words: a latest turn without any of them reads as a bare query. */
const FUNCTION_WORDS = /(?:^|[^\p{L}\p{N}])(?:i|im|ive|id|me|my|we|our|us|you|your|it|is|are|was|do|does|did|how|what|which|where|who|why|when|should|can|could|would|will|any|anyone|the)(?=$|[^\p{L}\p{N}])/u;
const SHAPE_SEED = 0x68e31da4;
const shapeBucket = (words: number) => (words <= 3 ? words : words <= 5 ? 4 : words <= 8 ? 5 : words <= 14 ? 6 : 7);

/**
 * Shape of the latest turn: its length bucket, whether it asks (a "?"), and for short turns (<= 8 words) whether it
 * is a bare query (no pronoun, auxiliary or question word: "cordless drill 20v", "trail running shoes women").
 */
function shapeFeatures(buf: FeatureBuffer, lower: string, words: number): void {
  const bucket = shapeBucket(words);
  const asks = lower.includes('?') ? 1 : 0;
  const bare = words <= 8 && !asks && !FUNCTION_WORDS.test(lower) ? 1 : 0;
  reserve(buf, 3);
  buf.idx[buf.n] = fmix(Math.imul(SHAPE_SEED ^ bucket, FNV_PRIME)) & MASK;
  buf.val[buf.n++] = WORD_TAG;
  buf.idx[buf.n] = fmix(Math.imul(SHAPE_SEED ^ (16 + asks), FNV_PRIME)) & MASK;
  buf.val[buf.n++] = WORD_TAG;
  if (bare) {
    buf.idx[buf.n] = fmix(Math.imul(SHAPE_SEED ^ (32 + bucket), FNV_PRIME)) & MASK;
    buf.val[buf.n++] = WORD_TAG;
  }
}

/** Turns group tags in [from, to) into values: each group gets total L2 mass `weight` (weight / sqrt(count)). */
function assignValues(buf: FeatureBuffer, from: number, to: number, weight: number): void {
  let chars = 0;
  const tag = buf.tag;
  if (tag) for (let i = from; i < to; i++) tag[i] = buf.val[i];
  for (let i = from; i < to; i++) chars += buf.val[i];
  const words = to - from - chars;
  const vw = words > 0 ? weight / Math.sqrt(words) : 0;
  const vc = chars > 0 ? weight / Math.sqrt(chars) : 0;
  for (let i = from; i < to; i++) buf.val[i] = buf.val[i] === CHAR_TAG ? vc : vw;
}

/**
 * A text's features as textFeatures appends them (group tags, before assignValues), and its turn's vector sum when
 * word vectors were added. Chat clients send the whole history with every request, so a conversation's earlier
 * turns come back with each new one: their features are kept here, per text, instead of extracted again (a turn of a
 * four-turn conversation took 2-5 us per feature mode). One cache per way of reading a text: namespace (latest turn
 * or earlier), drop list and word vectors (or none); each holds texts of at most TEXT_CACHE_CHARS characters and at
 * most TEXT_CACHE_FEATURES features in all (about 1.3 MB), and is cleared when full.
 */
type TextEntry = { idx: Int32Array; tags: Float32Array; vsum: Float32Array | null };
type TextCache = { latest: boolean; drop: ReadonlySet<number> | null; vectors: WordVectors | null; texts: Map<string, TextEntry>; features: number };
const TEXT_CACHE_CHARS = 1024;
const TEXT_CACHE_FEATURES = 1 << 18;
const textCaches: TextCache[] = [];

function textCacheFor(latest: boolean, drop: ReadonlySet<number> | null, vectors: WordVectors | null): TextCache {
  for (const c of textCaches) if (c.latest === latest && c.drop === drop && c.vectors === vectors) return c;
  const made: TextCache = { latest, drop, vectors, texts: new Map(), features: 0 };
  // A few ways of reading are in use at a time (two models); more would mean drop lists or vectors being replaced.
  if (textCaches.length >= 8) textCaches.length = 0;
  textCaches.push(made);
  return made;
}

/** textFeatures, from the cache when this text was read the same way before (same features, same vector sum). */
function cachedTextFeatures(buf: FeatureBuffer, text: string, latest: boolean, vectors: WordVectors | null, seg: number, drop: ReadonlySet<number> | null): void {
  if (text.length > TEXT_CACHE_CHARS) return textFeatures(buf, text, latest, vectors, seg, drop);
  const cache = textCacheFor(latest, drop, vectors);
  const hit = cache.texts.get(text);
  if (hit === undefined) {
    const from = buf.n;
    textFeatures(buf, text, latest, vectors, seg, drop);
    const count = buf.n - from;
    if (cache.features + count > TEXT_CACHE_FEATURES) {
      cache.texts.clear();
      cache.features = 0;
    }
    // The turn's sum starts at zero (extractFeatures clears the sums when it adds vectors), so it is this text's.
    const vsum = vectors ? buf.vsum!.slice(seg * vectors.dims, (seg + 1) * vectors.dims) : null;
    cache.texts.set(text, { idx: buf.idx.slice(from, buf.n), tags: buf.val.slice(from, buf.n), vsum });
    cache.features += count;
    return;
  }
  reserve(buf, hit.idx.length);
  buf.idx.set(hit.idx, buf.n);
  buf.val.set(hit.tags, buf.n);
  buf.n += hit.idx.length;
  if (vectors) buf.vsum!.set(hit.vsum!, seg * vectors.dims);
}

/**
 * How turns become features. "turns": the latest user turn and the earlier ones in separate namespaces, earlier
 * ones weighing EARLIER_WEIGHT (shopping intent: what the user asks now matters most). "pooled": every turn in
 * one namespace at full weight (safety: a crisis told two turns ago still counts).
 */
export type FeatureMode = 'turns' | 'pooled';

/**
 * The features of a conversation: `current` is the latest user turn, `earlier` the previous user turns,
 * most recent first (only the first MAX_EARLIER_TURNS count). Fills `buf` (reset first). `drop` (see dropSet): words
 * that give no sparse feature; the word vectors still see them, so the vector sums stay shareable between models.
 */
export function extractFeatures(buf: FeatureBuffer, current: string, earlier: readonly string[], mode: FeatureMode = 'turns', vectors: WordVectors | null = null, reuseVectorSums = false, drop: ReadonlySet<number> | null = null, cacheTexts = false): FeatureBuffer {
  buf.n = 0;
  buf.denseN = 0;
  const segs = buf.segs;
  let nseg = 0;
  if (vectors) {
    const size = (MAX_EARLIER_TURNS + 2) * vectors.dims;
    if (!buf.vsum || buf.vsum.length < size) { buf.vsum = new Float32Array(size); buf.dense = new Float32Array(size); reuseVectorSums = false; }
    if (!reuseVectorSums) buf.vsum.fill(0);
  }
  // The per-turn vector sums do not depend on the mode: a second extraction of the same turns may keep them.
  const adding = reuseVectorSums ? null : vectors;
  if (segs) segs[0] = 0;
  // With cacheTexts, earlier turns come from the per-text cache; the latest turn too in "pooled" mode, where it is read
  // as it will be when it is an earlier turn (in "turns" mode the latest turn is read apart and would not come back).
  const readEarlier = cacheTexts ? cachedTextFeatures : textFeatures;
  const readLatest = mode === 'pooled' ? readEarlier : textFeatures;
  readLatest(buf, typeof current === 'string' ? current : '', true, adding, nseg++, drop);
  const latestEnd = buf.n;
  const turns = Math.min(earlier.length, MAX_EARLIER_TURNS);
  for (let t = 0; t < turns; t++) {
    if (typeof earlier[t] !== 'string') continue;
    if (segs) segs[nseg] = buf.n;
    readEarlier(buf, earlier[t], mode === 'pooled', adding, nseg++, drop);
  }
  buf.nseg = segs ? nseg : 0;
  if (vectors) denseInputs(buf, vectors.dims, nseg, mode);
  if (mode === 'pooled') return (assignValues(buf, 0, buf.n, 1), buf);
  assignValues(buf, 0, latestEnd, 1);
  assignValues(buf, latestEnd, buf.n, EARLIER_WEIGHT);
  return buf;
}

/** Every word of a text as the features read it (lower case, letters and digits, apostrophes inside a word dropped). */
export function splitWords(text: string): string[] {
  const lower = normalizeText(text);
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (isWordChar(c)) word += lower[i];
    else if (c === 39 && word && i + 1 < lower.length && isWordChar(lower.charCodeAt(i + 1))) continue;
    else if (word) { words.push(word); word = ''; }
  }
  if (word) words.push(word);
  return words;
}

/** Adds the weighted vector of the word in padded[1, n) (if the vocabulary has it) to turn `seg`'s sum. */
function addWordVector(buf: FeatureBuffer, v: WordVectors, seg: number, hash: number, n: number): void {
  const k = vectorIndex(v, hash, padded, 1, n);
  if (k < 0) return;
  const dims = v.dims;
  const w = v.weights[k];
  const sum = buf.vsum!;
  const vec = v.vectors;
  for (let d = 0, o = seg * dims, at = k * dims; d < dims; d++) sum[o + d] += w * vec[at + d];
}

/** Copies `count` turn sums starting at turn `first` into dense[to, to + dims), summed, L2-normalized, times `weight`. */
function pooledUnit(buf: FeatureBuffer, dims: number, first: number, count: number, to: number, weight: number): void {
  const sum = buf.vsum!;
  const dense = buf.dense!;
  let norm = 0;
  for (let d = 0; d < dims; d++) {
    let x = 0;
    for (let s = first; s < first + count; s++) x += sum[s * dims + d];
    dense[to + d] = x;
    norm += x * x;
  }
  const f = norm > 0 ? weight / Math.sqrt(norm) : 0;
  for (let d = 0; d < dims; d++) dense[to + d] *= f;
}

function denseInputs(buf: FeatureBuffer, dims: number, nseg: number, mode: FeatureMode): void {
  if (mode === 'turns') {
    pooledUnit(buf, dims, 0, 1, 0, 1);
    pooledUnit(buf, dims, 1, nseg - 1, dims, EARLIER_WEIGHT);
    buf.denseN = 2 * dims;
    return;
  }
  pooledUnit(buf, dims, 0, nseg, 0, 1);
  for (let s = 0; s < nseg; s++) pooledUnit(buf, dims, s, 1, (1 + s) * dims, 1);
  buf.denseN = (1 + nseg) * dims;
}

/** How many dense weights a model of this feature mode has per vector dimension. */
export const denseBlocks = (mode: FeatureMode) => (mode === 'turns' ? 2 : 1);
