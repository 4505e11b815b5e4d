/**
 * Exact o200k_base token counts with a small memory footprint.
 *
 * The result is identical to gpt-tokenizer's `countTokens` from 'gpt-tokenizer/encoding/o200k_base' with special
 * tokens treated as plain text (that is `countTokens(text, { disallowedSpecial: new Set() })`; the package's default
 * throws on text containing e.g. '<|endoftext|>', this counter never throws).
 *
 * gpt-tokenizer keeps its 200k ranks as JS strings in Maps (~68 MB RSS). Here the rank file is parsed once, without a
 * JS string per line, into typed arrays (~5 MB in all):
 *   - blob:   every token's bytes back to back (Uint8Array, ~1.4 MB)
 *   - starts/lens: where the bytes of rank r are in blob
 *   - table:  open-addressing hash table (linear probing) of rank + 1, keyed by a hash of the token bytes
 *   - pairTable: the rank of every 2-byte token, for the first round of merges
 *
 * Counting: the text is split with the o200k pre-tokenization regex (encoded to UTF-8 a window at a time into one
 * reused buffer); each piece is looked up whole, otherwise byte-level BPE merges run on it (always the adjacent pair
 * with the lowest rank, leftmost first) and the parts left are counted. Short pieces use a simple quadratic loop over
 * typed arrays, long ones a linked list with an indexed heap (O(n log n): a huge single piece cannot stall the
 * process); the counts of recently merged short pieces are cached (bounded).
 *
 * One quirk of the reference is reproduced on purpose: it looks merge candidates up by decoding them with a
 * BOM-stripping TextDecoder, so a valid UTF-8 byte string that starts with EF BB BF (U+FEFF) is ranked as the same
 * string without that BOM, and the 9 vocabulary tokens that start with a BOM are never produced.
 */
import { readFileSync } from 'node:fs';
// @ts-ignore -- Bun `type: 'file'` import: a path to the rank file (embedded into the compiled binary); .tiktoken has no typings
import rankFilePath from 'gpt-tokenizer/data/o200k_base.tiktoken' with { type: 'file' };

const CONTRACTION_SUFFIX = String.raw`'(?:[sS]|[dD]|[mM]|[tT]|[lL][lL]|[vV][eE]|[rR][eE])`;
const OPTIONAL_CONTRACTION_SUFFIX = String.raw`(?:${CONTRACTION_SUFFIX})?`;
/** The o200k_base pre-tokenization pattern (same source as gpt-tokenizer's and tiktoken's). */
export const O200K_SPLIT_PATTERN = String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+${OPTIONAL_CONTRACTION_SUFFIX}|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*${OPTIONAL_CONTRACTION_SUFFIX}|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

/**
 * Sticky: the pattern matches at every position (each character is whitespace, a letter, a number or something
 * else, and every class has an alternative), so pieces are contiguous and `test` finds each one's end without
 * allocating a match.
 */
const splitRegex = new RegExp(O200K_SPLIT_PATTERN, 'uy');
/** Non-sticky twin, only for the (unreachable in practice) case where nothing matches at a position. */
const searchRegex = new RegExp(O200K_SPLIT_PATTERN, 'gu');

const NO_RANK = 0x7fffffff;
/** Pieces longer than this (in bytes) use the heap-based merge. */
let longPieceBytes = 96;

let blob: Uint8Array = new Uint8Array(0);
let starts: Uint32Array = new Uint32Array(0);
let lens: Uint8Array = new Uint8Array(0);
let table: Uint32Array = new Uint32Array(0);
/** Rank of every 2-byte token by (first byte << 8 | second byte), NO_RANK if none: the first round of every merge. */
let pairTable: Int32Array = new Int32Array(0);
let mask = 0;
let maxTokenBytes = 0;
let tokenCount = 0;
let loaded = false;

const encoder = new TextEncoder();
/** Texts are encoded to UTF-8 this many characters at a time, into one reused buffer (up to 3 bytes a character). */
const WINDOW_CHARS = 16384;
let windowChars = WINDOW_CHARS;
const scratch = new Uint8Array(3 * WINDOW_CHARS + 3);
/** Reused boundaries / pair ranks for the short-piece merge. */
const SHORT_CAPACITY = 1024;
const bounds = new Int32Array(SHORT_CAPACITY + 1);
const pairRanks = new Int32Array(SHORT_CAPACITY);

function hashBytes(b: Uint8Array, s: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = s, e = s + n; i < e; i++) h = Math.imul(h ^ b[i], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

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

/** Rank of a merge candidate the way the reference ranks it (BOM quirk included), or NO_RANK. */
function mergeRank(b: Uint8Array, s: number, n: number): number {
  let r: number;
  if (b[s] === 0xef && startsWithBom(b, s, n) && isValidUtf8(b, s, n)) r = lookup(b, s + 3, n - 3);
  else r = lookup(b, s, n);
  return r < 0 ? NO_RANK : r;
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

function load(): void {
  const raw = readFileSync(rankFilePath as string);
  // A plain Uint8Array view (not the Buffer subclass) keeps the parse loops monomorphic: faster, less JIT memory.
  const file = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = measureRankFile(file);
  if (size.maxLen > 255) throw new Error('o200k_base rank file: token too long');
  const bytes = new Uint8Array(size.bytes);
  const st = new Uint32Array(size.lines);
  const ln = new Uint8Array(size.lines);
  decodeRankFile(file, bytes, st, ln);
  const tbl = buildTable(bytes, st, ln);
  const pairs = new Int32Array(65536).fill(NO_RANK);
  for (let r = 0; r < size.lines; r++) if (ln[r] === 2) pairs[(bytes[st[r]] << 8) | bytes[st[r] + 1]] = r;
  blob = bytes;
  pairTable = pairs;
  starts = st;
  lens = ln;
  table = tbl;
  mask = tbl.length - 1;
  maxTokenBytes = size.maxLen;
  tokenCount = size.lines;
  loaded = true;
}

/** Byte-level BPE on b[s, s+n), quadratic in the number of parts (fine for short pieces). Returns the part count. */
function mergeShort(b: Uint8Array, s: number, n: number): number {
  const bnd = bounds;
  const pr = pairRanks;
  for (let i = 0; i <= n; i++) bnd[i] = s + i;
  const pairs = pairTable;
  for (let i = 0; i < n - 1; i++) pr[i] = pairs[(b[s + i] << 8) | b[s + i + 1]];
  let m = n;
  while (m > 1) {
    let best = NO_RANK;
    let bi = -1;
    for (let i = 0; i < m - 1; i++) {
      if (pr[i] < best) {
        best = pr[i];
        bi = i;
      }
    }
    if (bi < 0) break;
    // Merge parts bi and bi+1: drop boundary bi+1 and pair rank bi.
    for (let i = bi + 1; i < m; i++) bnd[i] = bnd[i + 1];
    for (let i = bi; i < m - 2; i++) pr[i] = pr[i + 1];
    m--;
    if (bi < m - 1) pr[bi] = mergeRank(b, bnd[bi], bnd[bi + 2] - bnd[bi]);
    if (bi > 0) pr[bi - 1] = mergeRank(b, bnd[bi - 1], bnd[bi + 1] - bnd[bi - 1]);
  }
  return m;
}

/**
 * Byte-level BPE for long pieces in O(n log n): the parts form a linked list (by start offset), and the parts that
 * can merge with their right neighbour sit in an indexed binary min-heap ordered by (pair rank, start), so the top is
 * always the reference's choice: the lowest rank, leftmost on ties. 20 bytes of scratch per byte of the piece.
 */
function mergeLong(b: Uint8Array, s: number, n: number): number {
  const nxt = new Int32Array(n); // start of the next part (n after the last)
  const prv = new Int32Array(n); // start of the previous part (-1 before the first)
  const rank = new Int32Array(n); // rank of the pair (part, next part), NO_RANK if none
  const heap = new Int32Array(n); // part starts
  const at = new Int32Array(n).fill(-1); // heap index of a part, -1 if not in the heap
  let size = 0;

  const before = (x: number, y: number) => rank[x] < rank[y] || (rank[x] === rank[y] && x < y);
  const siftUp = (k: number) => {
    const x = heap[k];
    while (k > 0) {
      const parent = (k - 1) >> 1;
      const y = heap[parent];
      if (!before(x, y)) break;
      heap[k] = y;
      at[y] = k;
      k = parent;
    }
    heap[k] = x;
    at[x] = k;
  };
  const siftDown = (k: number) => {
    const x = heap[k];
    for (;;) {
      let c = 2 * k + 1;
      if (c >= size) break;
      if (c + 1 < size && before(heap[c + 1], heap[c])) c++;
      const y = heap[c];
      if (!before(y, x)) break;
      heap[k] = y;
      at[y] = k;
      k = c;
    }
    heap[k] = x;
    at[x] = k;
  };
  const remove = (x: number) => {
    const k = at[x];
    at[x] = -1;
    const last = heap[--size];
    if (k === size) return;
    heap[k] = last;
    at[last] = k;
    siftUp(k);
    siftDown(at[last]);
  };
  const setRank = (x: number, r: number) => {
    const old = rank[x];
    rank[x] = r;
    if (at[x] < 0) {
      if (r === NO_RANK) return;
      heap[size] = x;
      siftUp(size++);
    } else if (r === NO_RANK) remove(x);
    else if (r < old) siftUp(at[x]);
    else siftDown(at[x]);
  };

  const pairs = pairTable;
  for (let i = 0; i < n; i++) {
    nxt[i] = i + 1;
    prv[i] = i - 1;
    rank[i] = i + 1 < n ? pairs[(b[s + i] << 8) | b[s + i + 1]] : NO_RANK;
    if (rank[i] !== NO_RANK) heap[size++] = i;
  }
  for (let k = size - 1; k >= 0; k--) at[heap[k]] = k;
  for (let k = (size >> 1) - 1; k >= 0; k--) siftDown(k);

  let count = n;
  while (size > 0) {
    const i = heap[0];
    const j = nxt[i]; // merge part j into part i
    const k = nxt[j];
    if (at[j] >= 0) remove(j);
    nxt[i] = k;
    if (k < n) prv[k] = i;
    count--;
    setRank(i, k < n ? mergeRank(b, s + i, nxt[k] - i) : NO_RANK);
    const p = prv[i];
    if (p >= 0) setRank(p, mergeRank(b, s + p, k - p));
  }
  return count;
}

/**
 * Counts of recently merged pieces (rare words repeat within a text, and chat history is resent every turn).
 * Bounded: pieces up to CACHE_PIECE_CHARS characters, cleared when it holds CACHE_ENTRIES.
 */
const CACHE_ENTRIES = 4096;
const CACHE_PIECE_CHARS = 64;
const mergeCache = new Map<string, number>();

function countPiece(text: string, from: number, to: number, b: Uint8Array, s: number, n: number, wellFormed: boolean): number {
  if (n === 1) return 1;
  // Whole-piece lookup: the reference does it with the piece's JS string, which misses when the piece holds a lone
  // surrogate (encoded as U+FFFD) or starts with U+FEFF (those tokens are not in its string map, nor in our table).
  if (wellFormed && lookup(b, s, n) >= 0) return 1;
  if (to - from > CACHE_PIECE_CHARS) return n <= longPieceBytes ? mergeShort(b, s, n) : mergeLong(b, s, n);
  const key = text.slice(from, to);
  const cached = mergeCache.get(key);
  if (cached !== undefined) return cached;
  const count = n <= longPieceBytes ? mergeShort(b, s, n) : mergeLong(b, s, n);
  if (mergeCache.size >= CACHE_ENTRIES) mergeCache.clear();
  mergeCache.set(key, count);
  return count;
}

/** Number of o200k_base tokens in `text` (special tokens such as '<|endoftext|>' count as plain text). */
export function countTokens(text: string): number {
  const len = text.length;
  if (len === 0) return 0;
  if (!loaded) load();
  const re = splitRegex;
  let buf = scratch;
  // buf holds the UTF-8 bytes of text up to windowEnd (bytePos: where the current piece starts); text is encoded a window at a time so a long text
  // needs no buffer of its own size (UTF-8 offsets are tracked piece by piece).
  let windowEnd = 0;
  let pos = 0;
  let bytePos = 0;
  let count = 0;
  re.lastIndex = 0;
  while (pos < len) {
    if (!re.test(text)) {
      // Not reachable with this pattern (see splitRegex); mirror matchAll anyway and skip to the next match.
      searchRegex.lastIndex = pos;
      const m = searchRegex.exec(text);
      pos = m ? m.index : len;
      re.lastIndex = pos;
      windowEnd = 0;
      continue;
    }
    const end = re.lastIndex;
    let n = 0;
    let wellFormed = true;
    for (let i = pos; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c <= 0xdfff) {
        if (c <= 0xdbff && i + 1 < end) {
          const d = text.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            n += 4;
            i++;
            continue;
          }
        }
        wellFormed = false;
        n += 3; // TextEncoder writes a lone surrogate as U+FFFD
      } else n += 3;
    }
    if (end > windowEnd) {
      if (n > scratch.length) {
        // One piece bigger than the buffer: encode just that piece into a buffer of its size.
        buf = new Uint8Array(n);
        encoder.encodeInto(text.slice(pos, end), buf);
        windowEnd = end;
      } else {
        buf = scratch;
        let stop = Math.min(len, Math.max(end, pos + windowChars));
        // Keep a surrogate pair in one window.
        if (stop < len && (text.charCodeAt(stop - 1) & 0xfc00) === 0xd800 && (text.charCodeAt(stop) & 0xfc00) === 0xdc00) stop++;
        encoder.encodeInto(pos === 0 && stop === len ? text : text.slice(pos, stop), buf);
        windowEnd = stop;
      }
      bytePos = 0;
    }
    count += countPiece(text, pos, end, buf, bytePos, n, wellFormed);
    bytePos += n;
    pos = end;
  }
  return count;
}

/** Loads the rank tables now instead of on the first count. */
export function warm(): void {
  if (!loaded) load();
}

/** Introspection and knobs for the tests. */
export const bpeCounterInternals = {
  tokenCount: () => tokenCount,
  clearCache: () => mergeCache.clear(),
  /** Encoding window in characters (1 to 16384); returns the previous one. */
  setWindowChars(n: number): number {
    const previous = windowChars;
    windowChars = Math.max(1, Math.min(n, WINDOW_CHARS));
    return previous;
  },
  tableBytes: () => blob.byteLength + starts.byteLength + lens.byteLength + table.byteLength + pairTable.byteLength,
  setLongPieceBytes(n: number): number {
    const previous = longPieceBytes;
    longPieceBytes = Math.max(1, Math.min(n, SHORT_CAPACITY));
    mergeCache.clear();
    return previous;
  },
};
