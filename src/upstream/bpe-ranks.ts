/**
 * The o200k_base rank file, parsed once (without a JS string per line) into typed arrays (~5 MB in all), and the rank
 * look-ups the BPE counter (bpe-counter.ts) runs on them:
 *   - blob:   every token's bytes back to back (Uint8Array, ~1.4 MB)
 *   - starts/lens: where the bytes of rank r are in blob
 *   - table:  open-addressing hash table (linear probing) of rank + 1, keyed by a hash of the token bytes
 *   - pairTable: the rank of every 2-byte token, for the first round of merges
 *
 * One quirk of the reference is reproduced on purpose: it looks merge candidates up by decoding them with a
 * BOM-stripping TextDecoder, so a valid UTF-8 byte string that starts with EF BB BF (U+FEFF) is ranked as the same
 * string without that BOM, and the 9 vocabulary tokens that start with a BOM are never produced.
 */
import { readFileSync } from 'node:fs';
// Bun `type: 'file'` import: a path to the rank file, embedded into the compiled binary.
import rankFilePath from 'gpt-tokenizer/data/o200k_base.tiktoken' with { type: 'file' };

/** Rank of no token: what `mergeRank` and `pairTable` give for bytes that are not a token (above every real rank). */
export const NO_RANK = 0x7fffffff;

/**
 * The loaded ranks: everything bpe-counter.ts needs (frozen; the arrays are shared, never to be written).
 * `lookup` and `mergeRank` take the bytes b[s, s+n).
 */
export type Ranks = Readonly<{
  /** Number of ranks in the file (199,998). */
  tokenCount: number;
  /** Bytes held by the typed arrays (blob, starts, lens, table, pairTable). */
  tableBytes: number;
  /** Rank of every 2-byte token by (first byte << 8 | second byte), NO_RANK if none: the first round of every merge. */
  pairTable: ArrayLike<number>;
  /** Rank of exactly these bytes, or -1. */
  lookup: (b: Uint8Array, s: number, n: number) => number;
  /** Rank of a merge candidate the way the reference ranks it (BOM quirk included), or NO_RANK. */
  mergeRank: (b: Uint8Array, s: number, n: number) => number;
}>;

function hashBytes(b: Uint8Array, s: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = s, e = s + n; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** Strict UTF-8 validity, as gpt-tokenizer's isValidUTF8 (no overlongs, surrogates or code points above U+10FFFF). */
function isValidUtf8(b: Uint8Array, s: number, n: number): boolean {
  let i = s;
  const e = s + n;
  while (i < e) {
    const b1 = b[i];
    let need: number;
    let cp: number;
    if (b1 <= 0x7f) {
      i++;
      continue;
    } else if ((b1 & 0xe0) === 0xc0) {
      if (b1 <= 0xc1) return false;
      need = 2;
      cp = b1 & 0x1f;
    } else if ((b1 & 0xf0) === 0xe0) {
      need = 3;
      cp = b1 & 0x0f;
    } else if ((b1 & 0xf8) === 0xf0) {
      if (b1 > 0xf4) return false;
      need = 4;
      cp = b1 & 0x07;
    } else return false;
    if (i + need > e) return false;
    for (let j = 1; j < need; j++) {
      const c = b[i + j];
      if ((c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if ((need === 3 && cp < 0x800) || (need === 4 && cp < 0x10000)) return false;
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return false;
    i += need;
  }
  return true;
}

function startsWithBom(b: Uint8Array, s: number, n: number): boolean {
  return n >= 3 && b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf;
}

type RankFileSize = { lines: number; bytes: number; maxLen: number };

/** Pass 1 over the rank file: number of lines and of decoded token bytes. */
function measureRankFile(file: Uint8Array): RankFileSize {
  const L = file.length;
  let lines = 0;
  let bytes = 0;
  let maxLen = 0;
  for (let i = 0; i < L; ) {
    let j = i;
    while (j < L && file[j] !== 0x20 && file[j] !== 0x0a) j++;
    const len = j - i;
    if (len > 0) {
      if (len % 4 !== 0) throw new Error('o200k_base rank file: bad base64');
      const decoded = (len >> 2) * 3 - (file[j - 1] === 0x3d ? (file[j - 2] === 0x3d ? 2 : 1) : 0);
      bytes += decoded;
      if (decoded > maxLen) maxLen = decoded;
      lines++;
    }
    while (j < L && file[j] !== 0x0a) j++;
    i = j + 1;
  }
  return { lines, bytes, maxLen };
}

/** Pass 2: decodes each line's base64 straight into `blob` and records where rank r's bytes are. */
function decodeRankFile(file: Uint8Array, blob: Uint8Array, st: Uint32Array, ln: Uint8Array): void {
  const L = file.length;
  const lines = st.length;
  const b64 = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let k = 0; k < 64; k++) b64[alphabet.charCodeAt(k)] = k;
  let out = 0;
  for (let i = 0; i < L; ) {
    let j = i;
    while (j < L && file[j] !== 0x20 && file[j] !== 0x0a) j++;
    if (j === i) {
      i = j + 1;
      continue;
    }
    const tokenStart = out;
    for (let q = i; q < j; q += 4) {
      const c0 = b64[file[q]];
      const c1 = b64[file[q + 1]];
      const p2 = file[q + 2] === 0x3d;
      const p3 = file[q + 3] === 0x3d;
      const c2 = p2 ? 0 : b64[file[q + 2]];
      const c3 = p3 ? 0 : b64[file[q + 3]];
      if ((c0 | c1 | c2 | c3) < 0) throw new Error('o200k_base rank file: bad base64');
      const v = (c0 << 18) | (c1 << 12) | (c2 << 6) | c3;
      blob[out++] = v >>> 16;
      if (!p2) blob[out++] = (v >>> 8) & 0xff;
      if (!p3) blob[out++] = v & 0xff;
    }
    let k = j + 1;
    let rank = 0;
    let digits = 0;
    while (k < L && file[k] >= 0x30 && file[k] <= 0x39) {
      rank = rank * 10 + (file[k] - 0x30);
      k++;
      digits++;
    }
    const len = out - tokenStart;
    // Ranks are distinct and below the line count, so every rank 0..lines-1 gets its bytes.
    if (digits === 0 || rank >= lines || ln[rank] !== 0 || len === 0 || len > 255) throw new Error('o200k_base rank file: bad line');
    st[rank] = tokenStart;
    ln[rank] = len;
    while (k < L && file[k] !== 0x0a) k++;
    i = k + 1;
  }
}

/** The hash table of rank + 1 by token bytes (size: a power of two, at least twice the token count). */
function buildTable(bytes: Uint8Array, st: Uint32Array, ln: Uint8Array): Uint32Array {
  const lines = st.length;
  let size = 1;
  while (size < lines * 2) size <<= 1;
  const tbl = new Uint32Array(size);
  const m = size - 1;
  for (let r = 0; r < lines; r++) {
    const s = st[r];
    const n = ln[r];
    // The reference can never produce a valid UTF-8 token that starts with a BOM (see the header comment).
    if (startsWithBom(bytes, s, n) && isValidUtf8(bytes, s, n)) continue;
    let h = hashBytes(bytes, s, n) & m;
    while (tbl[h] !== 0) h = (h + 1) & m;
    tbl[h] = r + 1;
  }
  return tbl;
}

/** Parses the rank file into the tables and the look-ups over them. */
function load(): Ranks {
  const raw = readFileSync(rankFilePath as string);
  // A plain Uint8Array view (not the Buffer subclass) keeps the parse loops monomorphic: faster, less JIT memory.
  const file = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = measureRankFile(file);
  if (size.maxLen > 255) throw new Error('o200k_base rank file: token too long');
  const blob = new Uint8Array(size.bytes);
  const starts = new Uint32Array(size.lines);
  const lens = new Uint8Array(size.lines);
  decodeRankFile(file, blob, starts, lens);
  const table = buildTable(blob, starts, lens);
  const pairTable = new Int32Array(65536).fill(NO_RANK);
  for (let r = 0; r < size.lines; r++) if (lens[r] === 2) pairTable[(blob[starts[r]] << 8) | blob[starts[r] + 1]] = r;
  const mask = table.length - 1;
  const maxTokenBytes = size.maxLen;

  /** Rank of exactly these bytes, or -1. */
  function lookup(b: Uint8Array, s: number, n: number): number {
    if (n > maxTokenBytes || n === 0) return -1;
    let i = hashBytes(b, s, n) & mask;
    for (;;) {
      const v = table[i];
      if (v === 0) return -1;
      const r = v - 1;
      if (lens[r] === n) {
        const o = starts[r];
        let k = 0;
        while (k < n && blob[o + k] === b[s + k]) k++;
        if (k === n) return r;
      }
      i = (i + 1) & mask;
    }
  }

  /** Rank of a merge candidate the way the reference ranks it (BOM quirk included), or NO_RANK. */
  function mergeRank(b: Uint8Array, s: number, n: number): number {
    let r: number;
    if (b[s] === 0xef && startsWithBom(b, s, n) && isValidUtf8(b, s, n)) r = lookup(b, s + 3, n - 3);
    else r = lookup(b, s, n);
    return r < 0 ? NO_RANK : r;
  }

  return Object.freeze({
    tokenCount: size.lines,
    tableBytes: blob.byteLength + starts.byteLength + lens.byteLength + table.byteLength + pairTable.byteLength,
    pairTable,
    lookup,
    mergeRank,
  });
}

let ranks: Ranks | undefined;

/** The o200k_base ranks, parsed from the rank file on the first call (~130 ms); later calls return the same object. */
export function loadRanks(): Ranks {
  if (ranks === undefined) ranks = load();
  return ranks;
}
