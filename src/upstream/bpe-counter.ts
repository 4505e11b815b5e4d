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
 *
 * Counting: the text is split with the o200k pre-tokenization regex; each piece is looked up whole, otherwise
 * byte-level BPE merges run on it (always the adjacent pair with the lowest rank, leftmost first) and the parts
 * left are counted. Short pieces use a simple quadratic loop over typed arrays; long ones a linked list with a heap.
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
const DEAD = -1;
/** Pieces longer than this (in bytes) use the heap-based merge. */
let longPieceBytes = 96;

let blob: Uint8Array = new Uint8Array(0);
let starts: Uint32Array = new Uint32Array(0);
let lens: Uint8Array = new Uint8Array(0);
let table: Uint32Array = new Uint32Array(0);
let mask = 0;
let maxTokenBytes = 0;
let tokenCount = 0;
let loaded = false;

const encoder = new TextEncoder();
/** Reused UTF-8 buffer for texts up to SCRATCH_MAX / 3 characters; larger texts get a temporary one. */
const SCRATCH_MAX = 3 * 65536;
let scratch = new Uint8Array(3 * 8192);
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

function load(): void {
  const file: Uint8Array = readFileSync(rankFilePath as string);
  const L = file.length;
  // Pass 1: number of lines and of decoded bytes.
  let lines = 0;
  let total = 0;
  for (let i = 0; i < L; ) {
    let j = i;
    while (j < L && file[j] !== 0x20 && file[j] !== 0x0a) j++;
    const len = j - i;
    if (len > 0) {
      if (len % 4 !== 0) throw new Error('o200k_base rank file: bad base64');
      let pad = 0;
      if (file[j - 1] === 0x3d) pad++;
      if (len > 1 && file[j - 2] === 0x3d) pad++;
      total += (len >> 2) * 3 - pad;
      lines++;
    }
    while (j < L && file[j] !== 0x0a) j++;
    i = j + 1;
  }
  const b64 = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let k = 0; k < 64; k++) b64[alphabet.charCodeAt(k)] = k;

  const bytes = new Uint8Array(total);
  const st = new Uint32Array(lines);
  const ln = new Uint8Array(lines);
  const seen = new Uint8Array(lines);
  let out = 0;
  let maxLen = 0;
  // Pass 2: decode base64 straight into the blob, parse the rank.
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
      bytes[out++] = v >>> 16;
      if (!p2) bytes[out++] = (v >>> 8) & 0xff;
      if (!p3) bytes[out++] = v & 0xff;
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
    if (digits === 0 || rank >= lines || seen[rank] || len === 0 || len > 255) throw new Error('o200k_base rank file: bad line');
    seen[rank] = 1;
    st[rank] = tokenStart;
    ln[rank] = len;
    if (len > maxLen) maxLen = len;
    while (k < L && file[k] !== 0x0a) k++;
    i = k + 1;
  }

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
  blob = bytes;
  starts = st;
  lens = ln;
  table = tbl;
  mask = m;
  maxTokenBytes = maxLen;
  tokenCount = lines;
  loaded = true;
}

/** Byte-level BPE on b[s, s+n), quadratic in the number of parts (fine for short pieces). Returns the part count. */
function mergeShort(b: Uint8Array, s: number, n: number): number {
  const bnd = bounds;
  const pr = pairRanks;
  for (let i = 0; i <= n; i++) bnd[i] = s + i;
  for (let i = 0; i < n - 1; i++) pr[i] = mergeRank(b, s + i, 2);
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

const TWO_32 = 4294967296;

/**
 * Byte-level BPE for long pieces: parts in a linked list, candidate pairs in a binary min-heap keyed by
 * rank * 2^32 + start (lowest rank first, leftmost on ties, exactly the reference's order). Stale heap entries are
 * skipped: a part's pair only ever grows, so (rank, start) identifies one pair.
 */
function mergeLong(b: Uint8Array, s: number, n: number): number {
  const nxt = new Int32Array(n);
  const prv = new Int32Array(n);
  const cur = new Int32Array(n);
  let heap = new Float64Array(2 * n + 16);
  let hs = 0;
  const push = (key: number) => {
    if (hs === heap.length) {
      const grown = new Float64Array(heap.length * 2);
      grown.set(heap);
      heap = grown;
    }
    let i = hs++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heap[p] <= key) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = key;
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap[--hs];
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= hs) break;
      const r = l + 1;
      const c = r < hs && heap[r] < heap[l] ? r : l;
      if (heap[c] >= last) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = last;
    return top;
  };
  for (let i = 0; i < n; i++) {
    nxt[i] = i + 1;
    prv[i] = i - 1;
  }
  for (let i = 0; i < n - 1; i++) {
    const r = mergeRank(b, s + i, 2);
    cur[i] = r;
    if (r !== NO_RANK) push(r * TWO_32 + i);
  }
  cur[n - 1] = NO_RANK;
  let count = n;
  while (hs > 0) {
    const key = pop();
    const r = Math.floor(key / TWO_32);
    const i = key - r * TWO_32;
    if (cur[i] !== r) continue;
    const j = nxt[i];
    const k = j < n ? nxt[j] : n;
    nxt[i] = k;
    if (k < n) prv[k] = i;
    cur[j] = DEAD;
    count--;
    if (k < n) {
      const r2 = mergeRank(b, s + i, nxt[k] - i);
      cur[i] = r2;
      if (r2 !== NO_RANK) push(r2 * TWO_32 + i);
    } else cur[i] = NO_RANK;
    const p = prv[i];
    if (p >= 0) {
      const r3 = mergeRank(b, s + p, k - p);
      cur[p] = r3;
      if (r3 !== NO_RANK) push(r3 * TWO_32 + p);
    }
  }
  return count;
}

function countPiece(b: Uint8Array, s: number, n: number, wellFormed: boolean): number {
  if (n === 1) return 1;
  // Whole-piece lookup: the reference does it with the piece's JS string, which misses when the piece holds a lone
  // surrogate (encoded as U+FFFD) or starts with U+FEFF (those tokens are not in its string map, nor in our table).
  if (wellFormed && lookup(b, s, n) >= 0) return 1;
  return n <= longPieceBytes ? mergeShort(b, s, n) : mergeLong(b, s, n);
}

/** UTF-8 length of text[from, to) as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c <= 0xdbff && c >= 0xd800 && i + 1 < to && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Number of o200k_base tokens in `text` (special tokens such as '<|endoftext|>' count as plain text). */
export function countTokens(text: string): number {
  const len = text.length;
  if (len === 0) return 0;
  if (!loaded) load();
  let buf = scratch;
  if (len * 3 > buf.length) {
    if (len * 3 <= SCRATCH_MAX) {
      let size = buf.length;
      while (size < len * 3) size *= 2;
      buf = scratch = new Uint8Array(Math.min(size, SCRATCH_MAX));
    } else buf = new Uint8Array(len * 3);
  }
  encoder.encodeInto(text, buf);
  const re = splitRegex;
  let pos = 0;
  let bytePos = 0;
  let count = 0;
  re.lastIndex = 0;
  while (pos < len) {
    if (!re.test(text)) {
      // Not reachable with this pattern (see splitRegex); mirror matchAll anyway and skip to the next match.
      searchRegex.lastIndex = pos;
      const m = searchRegex.exec(text);
      const next = m ? m.index : len;
      bytePos += utf8Length(text, pos, next);
      pos = next;
      re.lastIndex = pos;
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
        n += 3;
      } else n += 3;
    }
    count += countPiece(buf, bytePos, n, wellFormed);
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
  tableBytes: () => blob.byteLength + starts.byteLength + lens.byteLength + table.byteLength,
  setLongPieceBytes(n: number): number {
    const previous = longPieceBytes;
    longPieceBytes = Math.max(1, Math.min(n, SHORT_CAPACITY));
    return previous;
  },
};
