import { expect, test } from 'bun:test';
import { newId, timeOrderedBase62 } from '../../src/store/ids';

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
