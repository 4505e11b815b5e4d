/**
 * Which of a request's messages a conversation already holds. Clients differ: some resend the whole history,
 * some only the latest message, some a sliding window of recent turns. The stored turns and the request agree
 * where the end of what is stored equals the start of what is sent, so the longest such overlap is taken as
 * already stored and the rest is new. Turns are compared by role and a hash of their content, so a write reads
 * no stored content.
 */

/** A stored turn as the matcher sees it: no content, only its role, hash and length. */
export type StoredTurn = { role: string; hash: number; chars: number };
/** A turn of the request, with its content (needed to compare an answer the gateway extended on delivery). */
export type SentTurn = { role: string; content: string; hash: number };

/** Characters hashed per request to compare extended answers: bounds the work a crafted history can cause. */
export const MAX_PREFIX_HASH_CHARS = 4_000_000;

/** The gateway appends its additions (a promotion) to an answer after a blank line. */
const ADDITION_SEPARATOR = '\n\n';

/**
 * 53 bits of SHA-256 of the text: exact as a JS number and as an SQLite INTEGER. Only turns of one conversation
 * at the same role and length are ever compared, so a chance collision is negligible, and finding one on purpose
 * costs about 2^53 hashes (a fast non-cryptographic hash would make that cheap).
 */
export function contentHash(text: string): number {
  const d = Bun.CryptoHasher.hash('sha256', text) as Uint8Array;
  const high = ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
  const low = ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0;
  return high * 2 ** 21 + (low >>> 11);
}

/**
 * Tells whether a stored turn and a sent turn are the same message. An assistant turn also matches when the
 * client resends what it was delivered: the stored answer followed by a gateway addition.
 */
function turnComparer(sent: SentTurn[]) {
  const prefixHashes = new Map<number, number>();
  let budgetChars = MAX_PREFIX_HASH_CHARS;
  const prefixHash = (i: number, chars: number): number | null => {
    const key = chars * sent.length + i;
    const known = prefixHashes.get(key);
    if (known !== undefined) return known;
    if (budgetChars < chars) return null;
    budgetChars -= chars;
    const hash = contentHash(sent[i].content.slice(0, chars));
    prefixHashes.set(key, hash);
    return hash;
  };
  return (stored: StoredTurn, i: number): boolean => {
    const turn = sent[i];
    if (stored.role !== turn.role) return false;
    if (stored.hash === turn.hash && stored.chars === turn.content.length) return true;
    return (
      turn.role === 'assistant' &&
      turn.content.length > stored.chars + ADDITION_SEPARATOR.length &&
      turn.content.startsWith(ADDITION_SEPARATOR, stored.chars) &&
      prefixHash(i, stored.chars) === stored.hash
    );
  };
}

/**
 * The length of the longest run of stored turns, ending with the last one, that equals the first sent turns.
 * At most min(tail, sent) candidates of at most that many comparisons each (sent is bounded by the request's
 * message limit); a full-history resend matches on the first candidate, a latest-only request fails fast.
 */
export function overlapLength(tail: StoredTurn[], sent: SentTurn[]): number {
  const same = turnComparer(sent);
  for (let n = Math.min(tail.length, sent.length); n > 0; n--) {
    const start = tail.length - n;
    let i = 0;
    while (i < n && same(tail[start + i], i)) i++;
    if (i === n) return n;
  }
  return 0;
}

/** How many messages open the request as instructions (system or developer prompts). */
export function leadingInstructionCount(sent: Array<{ role: string }>): number {
  let n = 0;
  while (n < sent.length && isInstruction(sent[n].role)) n++;
  return n;
}

export const isInstruction = (role: string) => role === 'system' || role === 'developer';
