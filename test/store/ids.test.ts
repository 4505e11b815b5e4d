import { expect, test } from 'bun:test';
import { newId, randomBase62, timeOrderedBase62 } from '../../src/store/ids';

test('ids are 20 base62 characters that sort by creation time, with 12 random ones after the time', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedBase62(1_700_000_000_000 + i * 7));
  for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{20}$/);
  expect([...ids].sort()).toEqual(ids);
  // Same millisecond: the time part is equal and the random part differs.
  const [a, b] = [timeOrderedBase62(5), timeOrderedBase62(5)];
  expect(a.slice(0, 8)).toBe(b.slice(0, 8));
  expect(a).not.toBe(b);
  expect(timeOrderedBase62(0).slice(0, 8)).toBe('00000000');
  expect(newId('proj')).toMatch(/^proj_[0-9A-Za-z]{20}$/);
});

test('random base62 strings have the asked length, never repeat and use every character about equally', () => {
  // 200,000 characters: the pool of random bytes is refilled about 50 times along the way.
  const strings = Array.from({ length: 10_000 }, () => randomBase62(20));
  for (const s of strings) expect(s).toMatch(/^[0-9A-Za-z]{20}$/);
  expect(new Set(strings).size).toBe(strings.length);
  for (const n of [0, 1, 7, 43]) expect(randomBase62(n)).toHaveLength(n);
  const counts = new Map<string, number>();
  for (const s of strings) for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  expect(counts.size).toBe(62);
  // Chi-square with 61 degrees of freedom: above 120 happens by chance about once in 100,000 runs.
  const expected = 200_000 / 62;
  let chi2 = 0;
  for (const n of counts.values()) chi2 += (n - expected) ** 2 / expected;
  expect(chi2).toBeLessThan(120);
});

test('the time part follows the time asked for, also when it goes back', () => {
  const later = timeOrderedBase62(62 ** 3);
  expect(later.slice(0, 8)).toBe('00001000');
  expect(timeOrderedBase62(61).slice(0, 8)).toBe('0000000z');
  expect(timeOrderedBase62(62 ** 3).slice(0, 8)).toBe('00001000');
});
