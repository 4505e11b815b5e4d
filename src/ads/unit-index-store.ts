import type { UnitRow } from './ad-index.repo';
import { productTypeTerms, terms } from './text';
import { idfWeight, searchUnits, type ScoredUnit } from './unit-index-query';
import { createRowTable } from './unit-rows';

/**
 * Storage of the in-memory BM25F inverted index of ad units (a product inside a campaign); unit-index.ts
 * wraps it with its maintenance (compaction and new length averages, built in steps off the query path).
 *
 * Per stemmed term (from `terms()`), a postings list of internal document ids (ascending) with the
 * already saturated BM25F term weight of that unit: tf = sum over fields of weight * count / length norm,
 * stored as tf * (K1 + 1) / (tf + K1), and a flag per posting when the term names the unit's product type
 * (`productTypeTerms`: head nouns of title, category and keyword phrases; see unit-index-query.ts). A query
 * only reads the postings of its words, accumulates into a typed scoreboard, and exact-scores the best
 * candidates; no SQLite on the query path.
 *
 * Updates: `replaceCampaign()` tombstones the campaign's changed and removed units and appends the new ones
 * (posting lists stay sorted because ids only grow). Field length averages are frozen when the store is
 * built (from its units, or given); `needsMaintenance()` says when tombstones or a drift of the live
 * averages call for a new store.
 */
export const FIELDS = { name: 3, keywords: 2.5, category: 2, description: 1, context: 0.8 } as const;
export const B = 0.75;
export const K1 = 1.2;
type FieldName = keyof typeof FIELDS;
const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];
const FIELD_WEIGHTS = FIELD_NAMES.map((f) => FIELDS[f]);
const NF = FIELD_NAMES.length;
/** unitFields() adds the unit's product-type words after the fields: flags, not a weighted field (its words are in the fields). */
const TYPE_SLOT = NF;

/** A new store (compaction) when this share of documents is tombstoned. */
const DEAD_SHARE = 0.25;
/** New length averages (renormalisation) when a live field-length average drifts this far (relative) from the frozen one. */
const DRIFT = 1 / 3;

export function unitFields(u: UnitRow): string[][] {
  let keywords: string[] = [];
  try {
    const parsed = JSON.parse(u.keywords);
    if (Array.isArray(parsed)) keywords = parsed.map(String);
  } catch {
    keywords = [];
  }
  return [terms(u.name), terms(keywords.join(' ')), terms((u.category ?? '').replace(/_/g, ' ')), terms(u.description), terms(u.context), productTypeTerms(u.name, keywords, u.category)];
}

/** Every field the index reads is the same (a unit whose product or campaign text changed is re-indexed). */
function sameUnit(a: UnitRow, b: UnitRow): boolean {
  return a.seq === b.seq && a.name === b.name && a.description === b.description && a.url === b.url && a.keywords === b.keywords
    && a.category === b.category && a.context === b.context && a.campaign_name === b.campaign_name && a.advertiser_project_id === b.advertiser_project_id;
}

/** `averages`: the field-length averages to weigh by (one per field), else 1 until `build()` learns them. */
export function createUnitStore(averages?: Float64Array) {
  // ---- documents (internal ids, dense, growable)
  let cap = 0;
  let docCount = 0; // ids in use, live or dead
  let live = 0;
  /** The documents' rows, off the heap's object graph (see unit-rows.ts). */
  let rows = createRowTable();
  let alive = new Uint8Array(0);
  let seqOf = new Int32Array(0);
  let fieldLens = new Uint16Array(0); // NF per doc
  // Query scratch (see PostingsView): slotOf by document; the others by slot, the order documents were first touched.
  let slotOf = new Int32Array(0);
  let candAt = new Int32Array(0);
  let touched = new Int32Array(0);
  let scores = new Float64Array(0);
  let typeEv = new Float64Array(0);
  let hits = new Uint8Array(0);
  let matchMask = new Uint32Array(0);
  let keyBuf = new Float64Array(0);
  const byCampaign = new Map<string, number[]>();

  // ---- terms
  const termIds = new Map<string, number>();
  let termNames: string[] = [];
  let pDocs: Int32Array[] = [];
  let pWeights: Float32Array[] = [];
  /** Per posting: 1 when the term is one of the unit's product-type words. */
  let pTypes: Uint8Array[] = [];
  let pLen: number[] = [];
  let df: number[] = [];

  // ---- field length statistics
  const liveLenSums = new Float64Array(NF);
  const avgLen = new Float64Array(NF).fill(1);
  if (averages) avgLen.set(averages);

  function ensureDocCapacity(n: number) {
    if (n <= cap) return;
    const next = Math.max(n, Math.ceil(cap * 1.5), 64);
    const grow = <T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(a: T, size: number): T => {
      const b = new (a.constructor as any)(size) as T;
      b.set(a);
      return b;
    };
    rows.ensure(next);
    alive = grow(alive, next);
    seqOf = grow(seqOf, next);
    fieldLens = grow(fieldLens, next * NF);
    slotOf = new Int32Array(next);
    candAt = new Int32Array(next);
    touched = new Int32Array(next);
    scores = new Float64Array(next);
    typeEv = new Float64Array(next);
    hits = new Uint8Array(next);
    matchMask = new Uint32Array(next);
    keyBuf = new Float64Array(next);
    cap = next;
  }

  function termId(t: string): number {
    let id = termIds.get(t);
    if (id === undefined) {
      id = termNames.length;
      termIds.set(t, id);
      termNames.push(t);
      pDocs.push(new Int32Array(4));
      pWeights.push(new Float32Array(4));
      pTypes.push(new Uint8Array(4));
      pLen.push(0);
      df.push(0);
    }
    return id;
  }

  function appendPosting(tid: number, doc: number, w: number, isType: boolean) {
    let len = pLen[tid];
    if (len === pDocs[tid].length) {
      const size = Math.max(4, Math.ceil(len * 1.5));
      const d = new Int32Array(size);
      d.set(pDocs[tid]);
      const ww = new Float32Array(size);
      ww.set(pWeights[tid]);
      const tt = new Uint8Array(size);
      tt.set(pTypes[tid]);
      pDocs[tid] = d;
      pWeights[tid] = ww;
      pTypes[tid] = tt;
    }
    pDocs[tid][len] = doc;
    pWeights[tid][len] = w;
    pTypes[tid][len] = isType ? 1 : 0;
    pLen[tid] = len + 1;
    df[tid]++;
  }

  /** Field-weighted, length-normalised, saturated term weights of one unit. */
  function weighTerms(fields: string[][]): Map<string, number> {
    const tf = new Map<string, number>();
    for (let f = 0; f < NF; f++) {
      const words = fields[f];
      if (words.length === 0) continue;
      const add = FIELD_WEIGHTS[f] / (1 - B + (B * words.length) / avgLen[f]);
      for (const t of words) tf.set(t, (tf.get(t) ?? 0) + add);
    }
    for (const [t, v] of tf) tf.set(t, (v * (K1 + 1)) / (v + K1));
    return tf;
  }

  /** A document's row, made again from the row table. */
  const rowOf = (doc: number): UnitRow => rows.get(doc, seqOf[doc]);

  /** Gives a unit the next document number and records it everywhere but in the postings. */
  function registerDoc(row: UnitRow, fields: string[][]): number {
    const doc = docCount++;
    rows.set(doc, row);
    alive[doc] = 1;
    seqOf[doc] = row.seq;
    for (let f = 0; f < NF; f++) {
      const n = Math.min(65535, fields[f].length);
      fieldLens[doc * NF + f] = n;
      liveLenSums[f] += n;
    }
    live++;
    let list = byCampaign.get(row.campaign_id);
    if (!list) byCampaign.set(row.campaign_id, (list = []));
    list.push(doc);
    return doc;
  }

  function addDoc(row: UnitRow, fields: string[][]): void {
    ensureDocCapacity(docCount + 1);
    const doc = registerDoc(row, fields);
    const types = new Set(fields[TYPE_SLOT]);
    for (const [t, w] of weighTerms(fields)) appendPosting(termId(t), doc, w, types.has(t));
  }

  function killDoc(doc: number): void {
    if (!alive[doc]) return;
    alive[doc] = 0;
    live--;
    for (let f = 0; f < NF; f++) liveLenSums[f] -= fieldLens[doc * NF + f];
    // Document frequencies: the unit's terms, recomputed from its row (cheap: one campaign at a time).
    const seen = new Set<string>();
    for (const words of unitFields(rowOf(doc))) for (const t of words) seen.add(t);
    for (const t of seen) {
      const id = termIds.get(t);
      if (id !== undefined) df[id]--;
    }
  }

  function reset() {
    cap = 0;
    docCount = 0;
    live = 0;
    rows = createRowTable();
    alive = new Uint8Array(0);
    seqOf = new Int32Array(0);
    fieldLens = new Uint16Array(0);
    slotOf = new Int32Array(0);
    candAt = new Int32Array(0);
    touched = new Int32Array(0);
    scores = new Float64Array(0);
    typeEv = new Float64Array(0);
    hits = new Uint8Array(0);
    matchMask = new Uint32Array(0);
    keyBuf = new Float64Array(0);
    byCampaign.clear();
    termIds.clear();
    termNames = [];
    pDocs = [];
    pWeights = [];
    pTypes = [];
    pLen = [];
    df = [];
    liveLenSums.fill(0);
    avgLen.fill(1);
  }

  /** Replaces the whole index: one pass to tokenize (and learn field lengths), one to write postings. */
  function build(units: Iterable<UnitRow>): void {
    const builder = startBuild();
    for (const u of units) builder.add(u);
    builder.finish();
  }

  /**
   * The same build fed one unit at a time (rows that arrive in pages from an asynchronous store): units are
   * tokenized as they come, and `finish()` replaces the index with them; nothing changes before it.
   */
  function startBuild() {
    const tokenized: Array<{ row: UnitRow; fields: string[][] }> = [];
    const sums = new Float64Array(NF);
    return {
      add(u: UnitRow): void {
        const fields = unitFields(u);
        for (let f = 0; f < NF; f++) sums[f] += fields[f].length;
        tokenized.push({ row: u, fields });
      },
      finish: () => buildFrom(tokenized, sums),
    };
  }

  function buildFrom(tokenized: Array<{ row: UnitRow; fields: string[][] }>, sums: Float64Array) {
    reset();
    for (let f = 0; f < NF; f++) avgLen[f] = Math.max(1, sums[f] / Math.max(1, tokenized.length));
    ensureDocCapacity(tokenized.length);
    // Each unit goes in as an edit would add it (appendPosting grows each list), and its tokens are dropped as
    // soon as it is indexed so the collector can take them back during the build: at 100,000 products this
    // lowers the start-up peak. The lists are then cut to their exact size.
    for (let i = 0; i < tokenized.length; i++) {
      const { row, fields } = tokenized[i];
      (tokenized as Array<unknown>)[i] = null;
      addDoc(row, fields);
    }
    tokenized.length = 0;
    rows.seal();
    for (let id = 0; id < termNames.length; id++) {
      pDocs[id] = pDocs[id].slice(0, pLen[id]);
      pWeights[id] = pWeights[id].slice(0, pLen[id]);
      pTypes[id] = pTypes[id].slice(0, pLen[id]);
    }
  }

  /** What the store's upkeep calls for: new length averages, a compaction of tombstones, or nothing. */
  function needsMaintenance(): 'renormalize' | 'compact' | null {
    if (live > 0)
      for (let f = 0; f < NF; f++) {
        const avg = Math.max(1, liveLenSums[f] / live);
        if (Math.abs(avg - avgLen[f]) > DRIFT * avgLen[f]) return 'renormalize';
      }
    return docCount - live > Math.max(64, docCount * DEAD_SHARE) ? 'compact' : null;
  }

  /**
   * Brings a campaign to `units` (its units as they now are): units that did not change keep their documents,
   * changed and removed ones are tombstoned, changed and new ones added. The cost follows what changed, not
   * the campaign's size: one product edited in a campaign of 10,000 tokenizes two units, not 20,000.
   */
  function replaceCampaign(campaignId: string, units: UnitRow[]): void {
    const current = byCampaign.get(campaignId) ?? [];
    const unchanged = new Map<string, number>();
    for (const doc of current) unchanged.set(rows.productId(doc), doc);
    const kept: number[] = [];
    const added: UnitRow[] = [];
    for (const u of units) {
      const doc = unchanged.get(u.product_id);
      if (doc !== undefined && sameUnit(rowOf(doc), u)) {
        unchanged.delete(u.product_id);
        kept.push(doc);
      } else added.push(u);
    }
    for (const doc of unchanged.values()) killDoc(doc);
    if (kept.length > 0 || added.length > 0) byCampaign.set(campaignId, kept);
    else if (current.length > 0) byCampaign.delete(campaignId);
    for (const u of added) addDoc(u, unitFields(u));
  }

  // ---------------------------------------------------------------------------------- query

  /** See `searchUnits` (unit-index-query.ts): reads the index's current arrays, never writes beyond scratch. */
  function search(weights: Map<string, number>, accept: (unit: UnitRow) => boolean, limit: number): ScoredUnit[] {
    return searchUnits({ live, termIds, df, pDocs, pWeights, pTypes, pLen, alive, seqOf, rowOf, slotOf, candAt, touched, scores, typeEv, hits, matchMask, keyBuf }, weights, accept, limit);
  }

  function stats() {
    let postings = 0, bytes = 0;
    for (let id = 0; id < termNames.length; id++) {
      postings += pLen[id];
      bytes += pDocs[id].byteLength + pWeights[id].byteLength + pTypes[id].byteLength;
    }
    const table = rows.size();
    bytes += alive.byteLength + seqOf.byteLength + fieldLens.byteLength + slotOf.byteLength + candAt.byteLength + touched.byteLength + scores.byteLength + typeEv.byteLength + hits.byteLength + matchMask.byteLength + keyBuf.byteLength + table.bytes;
    /** rowTextChars: the characters of the units' own text held in the row table's shared strings (tombstoned units' included). */
    return { units: live, tombstones: docCount - live, terms: termNames.length, postings, typedArrayBytes: bytes, rowTextChars: table.chars };
  }

  return {
    build,
    startBuild,
    replaceCampaign,
    search,
    /** Live units containing the term. */
    docFrequency: (term: string) => {
      const id = termIds.get(term);
      return id === undefined ? 0 : df[id];
    },
    /** The normalised IDF weight a query word gets now. */
    idf: (term: string) => {
      const id = termIds.get(term);
      return id === undefined || df[id] <= 0 ? 0 : idfWeight(df[id], live);
    },
    size: () => live,
    stats,
    needsMaintenance,
    /** The field-length averages the postings are weighed by. */
    averages: () => Float64Array.from(avgLen),
    /** The field-length averages of the live units now. */
    liveAverages: () => Float64Array.from(liveLenSums, (sum) => Math.max(1, sum / Math.max(1, live))),
    /** Document ids in use (live or tombstoned): `liveRow()` takes 0 to docCount() - 1. */
    docCount: () => docCount,
    liveRow: (doc: number): UnitRow | null => (alive[doc] ? rowOf(doc) : null),
    /** The campaign's units as the store holds them. */
    unitsOf: (campaignId: string): UnitRow[] => (byCampaign.get(campaignId) ?? []).map(rowOf),
    /** A store being rebuilt has all its units: see the row table's seal(). */
    seal: () => rows.seal(),
    /** Adds one unit (a store being rebuilt from another's live units). */
    add: (u: UnitRow) => addDoc(u, unitFields(u)),
    /** Makes room for `docs` documents at once (a rebuild knows how many units it will add). */
    reserve: (docs: number) => ensureDocCapacity(docs),
  };
}
export type UnitStore = ReturnType<typeof createUnitStore>;
