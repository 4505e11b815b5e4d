import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from '../store/ids';

/**
 * Keys are `pk_live_` / `sk_live_` + 32 base62 characters (~190 bits) + a 6-character checksum, so a
 * mistyped or truncated key is refused without touching the database.
 */
export const PUBLISHABLE_PREFIX = 'pk_live_';
export const SECRET_PREFIX = 'sk_live_';
const BODY_CHARS = 32;
const CHECKSUM_CHARS = 6;
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_SHAPE = /^(pk|sk)_live_[0-9A-Za-z]{38}$/;

function checksum(prefixAndBody: string): string {
  let n = Bun.hash.crc32(prefixAndBody);
  let out = '';
  for (let i = 0; i < CHECKSUM_CHARS; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateKey(prefix: typeof PUBLISHABLE_PREFIX | typeof SECRET_PREFIX): string {
  const head = prefix + randomBase62(BODY_CHARS);
  return head + checksum(head);
}

export function isWellFormedKey(key: string, prefix: string): boolean {
  if (key.length !== prefix.length + BODY_CHARS + CHECKSUM_CHARS || !key.startsWith(prefix) || !KEY_SHAPE.test(key)) return false;
  const head = key.slice(0, -CHECKSUM_CHARS);
  return checksum(head) === key.slice(-CHECKSUM_CHARS);
}

/** Secrets carry ~190 random bits, so one SHA-256 is enough; a slow KDF would only slow every request. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}

/** What may be shown after creation: enough to recognise a key, far too little to use it. */
export function secretPrefixOf(secret: string): string {
  return secret.slice(0, SECRET_PREFIX.length + 4);
}
