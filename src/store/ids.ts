const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Random bytes drawn from one buffer that the system CSPRNG (crypto.getRandomValues) refills when it runs out, so
 * an id costs no allocation and no call into the generator of its own (Node's randomUUID pools its entropy the same
 * way). Every byte is handed out once.
 */
const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

function randomByte(): number {
  if (poolAt === POOL_BYTES) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++];
}

/** Base62 of random bytes; 16 bytes give ~95 bits once encoded to 22 characters. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const b = randomByte();
    // 248 = 62 * 4: rejecting bytes >= 248 keeps every character equally likely.
    if (b < 248) out += ALPHABET[b % 62];
  }
  return out;
}

/** The time part of the last id made, for the millisecond it was made in (ids come many per millisecond under load). */
let lastTimeMs = -1;
let lastTime = '';

/**
 * 20 characters: the time in ms (8 base62 digits, enough until the year 8000) then 12 random ones (~71 bits).
 * Ids made later sort later, so the B-tree indexes keyed by them (conversations and messages of untracked
 * requests, ledger request ids, clicks, impressions) grow at their right edge: a commit dirties a few pages
 * instead of one random page per row, which keeps the WAL, and its checkpoints, small.
 */
export function timeOrderedBase62(nowMs = Date.now()): string {
  const ms = Math.floor(nowMs);
  if (ms !== lastTimeMs) {
    let time = '';
    for (let t = ms, i = 0; i < 8; i++, t = Math.floor(t / 62)) time = ALPHABET[t % 62] + time;
    lastTimeMs = ms;
    lastTime = time;
  }
  return lastTime + randomBase62(12);
}

/** An id such as `proj_0kVd3Xq1...`: not a secret (secrets use randomBase62 alone), ordered by creation time. */
export function newId(prefix: string): string {
  return `${prefix}_${timeOrderedBase62()}`;
}

export function nowMs(): number {
  return Date.now();
}
