import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { createTrackingToken, verifyTrackingToken } from '../../src/ads/tracking-token';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const impressionId = (i: number) => `imp_${i.toString().padStart(20, '0')}`;

describe('tracking tokens: only the canonical signature encoding', () => {
  test('every issued token verifies; each spelling with changed unused bits in the last character does not', () => {
    for (let i = 0; i < 200; i++) {
      const key = randomBytes(32);
      const token = createTrackingToken(key, impressionId(i), 1_900_000_000_000 + i * 1000);
      expect(verifyTrackingToken(key, token)).toEqual({ impressionId: impressionId(i), expiresAtMs: 1_900_000_000_000 + i * 1000 });
      const sig = token.split('.')[2];
      expect(sig).toHaveLength(22);
      const last = ALPHABET.indexOf(sig.at(-1)!);
      for (let bits = 1; bits < 16; bits++) {
        const variant = token.slice(0, -1) + ALPHABET[(last & ~15) | bits];
        // Node decodes the variant to the very same 16 bytes: only the encoding check tells them apart.
        expect(Buffer.from(variant.split('.')[2], 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
        expect(verifyTrackingToken(key, variant)).toBeNull();
      }
    }
  });

  test('appended padding, whitespace or standard-base64 characters are refused', () => {
    const key = randomBytes(32);
    const token = createTrackingToken(key, impressionId(1), 1_900_000_000_000);
    for (const spelled of [`${token}=`, `${token}==`, `${token} `, `${token}\n`])
      expect({ spelled, verified: verifyTrackingToken(key, spelled) }).toEqual({ spelled, verified: null });
    expect(verifyTrackingToken(key, token)).not.toBeNull();
    // A signature with "-" or "_" spelled in the standard alphabet ("+", "/") decodes to the same bytes.
    let i = 2;
    let dashed = createTrackingToken(key, impressionId(i), 1_900_000_000_000);
    while (!/[-_]/.test(dashed.split('.')[2])) dashed = createTrackingToken(key, impressionId(++i), 1_900_000_000_000);
    expect(verifyTrackingToken(key, dashed)).not.toBeNull();
    const [imp, exp, sig] = dashed.split('.');
    const standard = `${imp}.${exp}.${sig.replace(/-/g, '+').replace(/_/g, '/')}`;
    expect(Buffer.from(standard.split('.')[2], 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(verifyTrackingToken(key, standard)).toBeNull();
  });
});
