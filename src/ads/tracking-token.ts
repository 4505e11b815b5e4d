import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Click-tracking tokens: `<impression id>.<expiry, base36 seconds>.<HMAC-SHA256, 128 bits, base64url>`.
 * Unguessable (random id and signature), tamper-evident, and self-expiring; the redirect target is never
 * in the token: it is looked up from the impression.
 */
const SIG_BYTES = 16;
/**
 * The one encoding of 16 bytes: 22 base64url characters, no padding, and a last character whose 4 unused
 * low bits are zero (A, Q, g or w). Node's decoder ignores those bits and any `=`, so without this one
 * signature would have many spellings, and each spelling would be a "different" link for the same click.
 */
const CANONICAL_SIGNATURE = /^[A-Za-z0-9_-]{21}[AQgw]$/;

function sign(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, SIG_BYTES);
}

export function createTrackingToken(key: Buffer, impressionId: string, expiresAtMs: number): string {
  const payload = `${impressionId}.${Math.floor(expiresAtMs / 1000).toString(36)}`;
  return `${payload}.${sign(key, payload).toString('base64url')}`;
}

export type VerifiedToken = { impressionId: string; expiresAtMs: number };

/** Null when the token is malformed or its signature is wrong; expiry is the caller's to judge. */
export function verifyTrackingToken(key: Buffer, token: string): VerifiedToken | null {
  if (token.length > 200) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || !/^imp_[0-9A-Za-z]{20}$/.test(parts[0]) || !/^[0-9a-z]{1,10}$/.test(parts[1])) return null;
  if (!CANONICAL_SIGNATURE.test(parts[2])) return null;
  const given = Buffer.from(parts[2], 'base64url');
  const expected = sign(key, `${parts[0]}.${parts[1]}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return { impressionId: parts[0], expiresAtMs: parseInt(parts[1], 36) * 1000 };
}
