/**
 * Pretrained word vectors as embedded for the learned classifiers: the asset format, its loader and word lookup.
 * The features that use them are in classifier-features.ts.
 */

/** FNV-1a multiplier of every feature and word hash. */
export const FNV_PRIME = 16777619;

/** The final mix of the feature and word-vector hashes (shared with the script that writes the vector asset). */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

export const WORD_VECTORS_MAGIC = 0x56575856; // "VXWV" read as a little-endian uint32
export const WORD_VECTORS_VERSION = 1;
/** Seed of the word hash the vector table is keyed by (FNV-1a over UTF-16 code units, then fmix). */
export const VECTOR_HASH_SEED = 0x6a09e667;
/**
 * SIF weight of a word: a / (a + p(word)), p estimated from its frequency rank r in the source by Zipf's law
 * (1 / ((r + 1) H), H the harmonic number of the source vocabulary). "the" weighs about 0.01, a word of rank 1,000
 * about 0.93, so the average is carried by the words that say what a turn is about.
 */
export const SIF_A = 1e-3;

/**
 * Pretrained word vectors as embedded (src/ads/models/word-vectors.bin, made by scripts/make-word-vectors.ts).
 * Views into the asset's bytes, nothing decoded per word: its size in memory is the file's size.
 * Layout (little endian): 8 uint32 (magic, version, dims, count, tableSize, blobBytes, metaBytes, sourceCount),
 * metadata JSON (padded to 4 bytes), float32 scale[count], uint32 rank[count], uint32 start[count + 1],
 * uint32 table[tableSize] (word index + 1, 0 empty; open addressing, linear probing, keyed by the word hash),
 * int8 vector[count * dims] (component = value * scale), the words' Latin-1 bytes back to back.
 */
export type WordVectors = {
  /** Digest of the asset: a model trained on these vectors records it and refuses any other. */
  id: string;
  dims: number;
  count: number;
  bytes: number;
  meta: Record<string, unknown>;
  /** Per word: SIF weight x quantization scale. */
  weights: Float32Array;
  vectors: Int8Array;
  table: Uint32Array;
  starts: Uint32Array;
  blob: Uint8Array;
};

export function loadWordVectors(data: Uint8Array): WordVectors {
  if (data.byteOffset % 4 !== 0) data = data.slice();
  const head = new Uint32Array(data.buffer, data.byteOffset, 8);
  const [magic, version, dims, count, tableSize, blobBytes, metaBytes, sourceCount] = head;
  if (magic !== WORD_VECTORS_MAGIC || version !== WORD_VECTORS_VERSION) throw new Error('word vectors: unsupported format');
  const meta = JSON.parse(new TextDecoder().decode(data.subarray(32, 32 + metaBytes))) as Record<string, unknown>;
  let o = data.byteOffset + 32 + ((metaBytes + 3) & ~3);
  const scales = new Float32Array(data.buffer, o, count); o += 4 * count;
  const ranks = new Uint32Array(data.buffer, o, count); o += 4 * count;
  const starts = new Uint32Array(data.buffer, o, count + 1); o += 4 * (count + 1);
  const table = new Uint32Array(data.buffer, o, tableSize); o += 4 * tableSize;
  const vectors = new Int8Array(data.buffer, o, count * dims); o += count * dims;
  const blob = new Uint8Array(data.buffer, o, blobBytes); o += blobBytes;
  if (o - data.byteOffset !== data.length || (tableSize & (tableSize - 1)) !== 0) throw new Error('word vectors: truncated or malformed');
  const harmonic = Math.log(Math.max(2, sourceCount)) + 0.5772;
  const weights = new Float32Array(count);
  for (let k = 0; k < count; k++) weights[k] = (scales[k] * SIF_A) / (SIF_A + 1 / ((ranks[k] + 1) * harmonic));
  return { id: String(meta.id), dims, count, bytes: data.length + 4 * count, meta, weights, vectors, table, starts, blob };
}

/** Index of a word given as char codes (Latin-1), or -1. `hash`: FNV-1a from VECTOR_HASH_SEED over the same codes. */
export function vectorIndex(v: WordVectors, hash: number, chars: Uint16Array, from: number, to: number): number {
  const mask = v.table.length - 1;
  const len = to - from;
  for (let slot = fmix(hash) & mask; ; slot = (slot + 1) & mask) {
    const e = v.table[slot];
    if (e === 0) return -1;
    const k = e - 1;
    const s = v.starts[k];
    if (v.starts[k + 1] - s !== len) continue;
    let j = 0;
    while (j < len && v.blob[s + j] === chars[from + j]) j++;
    if (j === len) return k;
  }
}

/** FNV-1a from VECTOR_HASH_SEED over a word's char codes: the hash the features compute for each word they read. */
export function wordHash(word: string): number {
  let h = VECTOR_HASH_SEED;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h;
}

/** The vector of a word (as the features read it), or null: for tests and tools. */
export function wordVector(v: WordVectors, word: string): Float32Array | null {
  const chars = Uint16Array.from(word, (c) => c.charCodeAt(0));
  if (chars.some((c) => c > 255)) return null;
  const k = vectorIndex(v, wordHash(word), chars, 0, chars.length);
  if (k < 0) return null;
  const out = new Float32Array(v.dims);
  for (let d = 0; d < v.dims; d++) out[d] = v.vectors[k * v.dims + d] * v.weights[k];
  return out;
}
