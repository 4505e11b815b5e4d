import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Base62 of random bytes; 16 bytes give ~95 bits once encoded to 22 characters. */
export function randomBase62(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 248 = 62 * 4: rejecting bytes >= 248 keeps every character equally likely.
  for (let i = 0; out.length < length; i++) {
    if (i >= bytes.length) return out + randomBase62(length - out.length);
    if (bytes[i] < 248) out += ALPHABET[bytes[i] % 62];
  }
  return out;
}

/**
 * 20 characters: the time in ms (8 base62 digits, enough until the year 8000) then 12 random ones (~71 bits).
 * Ids made later sort later, so the B-tree indexes keyed by them (conversations and messages of untracked
 * requests, ledger request ids, clicks, impressions) grow at their right edge: a commit dirties a few pages
 * instead of one random page per row, which keeps the WAL, and its checkpoints, small.
 */
export function timeOrderedBase62(nowMs = Date.now()): string {
  let time = '';
  for (let t = Math.floor(nowMs), i = 0; i < 8; i++, t = Math.floor(t / 62)) time = ALPHABET[t % 62] + time;
  return time + randomBase62(12);
}

/** An id such as `proj_0kVd3Xq1...`: not a secret (secrets use randomBase62 alone), ordered by creation time. */
export function newId(prefix: string): string {
  return `${prefix}_${timeOrderedBase62()}`;
}

export function nowMs(): number {
  return Date.now();
}
