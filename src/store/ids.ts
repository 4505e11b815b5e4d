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

export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(20)}`;
}

export function nowMs(): number {
  return Date.now();
}
