/**
 * Exact o200k_base token counts with a small memory footprint.
 *
 * The result is identical to gpt-tokenizer's `countTokens` from 'gpt-tokenizer/encoding/o200k_base' with special
 * tokens treated as plain text (that is `countTokens(text, { disallowedSpecial: new Set() })`; the package's default
 * throws on text containing e.g. '<|endoftext|>', this counter never throws).
 *
 * gpt-tokenizer keeps its 200k ranks as JS strings in Maps (~68 MB RSS). Here the rank file is parsed once, without a
 * JS string per line, into typed arrays (~5 MB in all): see bpe-ranks.ts, which holds them and the rank look-ups
 * (including one BOM quirk of the reference, reproduced on purpose).
 *
 * Counting: the text is split with the o200k pre-tokenization regex (encoded to UTF-8 a window at a time into one
 * reused buffer); each piece is looked up whole, otherwise byte-level BPE merges run on it (always the adjacent pair
 * with the lowest rank, leftmost first) and the parts left are counted. Short pieces use a simple quadratic loop over
 * typed arrays, long ones a linked list with an indexed heap (O(n log n): a huge single piece cannot stall the
 * process); the counts of recently merged short pieces are cached (bounded).
 */
import { loadRanks, NO_RANK, type Ranks } from './bpe-ranks';
import { createTextMemo } from '../platform/text-memo';

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

/** Pieces longer than this (in bytes) use the heap-based merge. */
let longPieceBytes = 96;

/** The rank tables and look-ups (bpe-ranks.ts), once loaded. */
let ranks: Ranks | undefined;

const encoder = new TextEncoder();
/** Texts are encoded to UTF-8 this many characters at a time, into one reused buffer (up to 3 bytes a character). */
const WINDOW_CHARS = 16384;
let windowChars = WINDOW_CHARS;
const scratch = new Uint8Array(3 * WINDOW_CHARS + 3);
/** Reused boundaries / pair ranks for the short-piece merge. */
const SHORT_CAPACITY = 1024;
const bounds = new Int32Array(SHORT_CAPACITY + 1);
const pairRanks = new Int32Array(SHORT_CAPACITY);

/** Byte-level BPE on b[s, s+n), quadratic in the number of parts (fine for short pieces). Returns the part count. */
function mergeShort(rk: Ranks, b: Uint8Array, s: number, n: number): number {
  const bnd = bounds;
  const pr = pairRanks;
  for (let i = 0; i <= n; i++) bnd[i] = s + i;
  const pairs = rk.pairTable;
  const mergeRank = rk.mergeRank;
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
function mergeLong(rk: Ranks, b: Uint8Array, s: number, n: number): number {
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

  const pairs = rk.pairTable;
  const mergeRank = rk.mergeRank;
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

function countPiece(rk: Ranks, text: string, from: number, to: number, b: Uint8Array, s: number, n: number, wellFormed: boolean): number {
  if (n === 1) return 1;
  // Whole-piece lookup: the reference does it with the piece's JS string, which misses when the piece holds a lone
  // surrogate (encoded as U+FFFD) or starts with U+FEFF (those tokens are not in its string map, nor in our table).
  if (wellFormed && rk.lookup(b, s, n) >= 0) return 1;
  if (to - from > CACHE_PIECE_CHARS) return n <= longPieceBytes ? mergeShort(rk, b, s, n) : mergeLong(rk, b, s, n);
  const key = text.slice(from, to);
  const cached = mergeCache.get(key);
  if (cached !== undefined) return cached;
  const count = n <= longPieceBytes ? mergeShort(rk, b, s, n) : mergeLong(rk, b, s, n);
  if (mergeCache.size >= CACHE_ENTRIES) mergeCache.clear();
  mergeCache.set(key, count);
  return count;
}

/**
 * Counts of recent whole texts: a chat client resends the conversation's history with every turn, so each
 * earlier message is counted once, not once per request. Bounded by characters (see text-memo.ts): texts of 16 to
 * 4,096 characters, at most 2 million characters in all (2-4 MB), a text used again within about a million
 * characters of newer ones kept.
 */
const textCounts = createTextMemo<number>({ maxChars: 2_000_000, maxTextChars: 4096, minChars: 16 });

/** Number of o200k_base tokens in `text` (special tokens such as '<|endoftext|>' count as plain text). */
export function countTokens(text: string): number {
  return textCounts.get(text, countTokensOf);
}

function countTokensOf(text: string): number {
  const len = text.length;
  if (len === 0) return 0;
  const rk = ranks ?? (ranks = loadRanks());
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
    count += countPiece(rk, text, pos, end, buf, bytePos, n, wellFormed);
    bytePos += n;
    pos = end;
  }
  return count;
}

/** Loads the rank tables now instead of on the first count. */
export function warm(): void {
  if (ranks === undefined) ranks = loadRanks();
}

/** Introspection and knobs for the tests. */
export const bpeCounterInternals = {
  tokenCount: () => ranks?.tokenCount ?? 0,
  clearCache: () => mergeCache.clear(),
  /** Encoding window in characters (1 to 16384); returns the previous one. */
  setWindowChars(n: number): number {
    const previous = windowChars;
    windowChars = Math.max(1, Math.min(n, WINDOW_CHARS));
    return previous;
  },
  tableBytes: () => ranks?.tableBytes ?? 0,
  setLongPieceBytes(n: number): number {
    const previous = longPieceBytes;
    longPieceBytes = Math.max(1, Math.min(n, SHORT_CAPACITY));
    mergeCache.clear();
    return previous;
  },
};
