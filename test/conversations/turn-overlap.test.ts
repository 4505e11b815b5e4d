import { describe, expect, test } from 'bun:test';
import { contentHash, leadingInstructionCount, MAX_PREFIX_HASH_CHARS, overlapLength, type SentTurn, type StoredTurn } from '../../src/conversations/turn-overlap';

const stored = (role: string, content: string): StoredTurn => ({ role, hash: contentHash(content), chars: content.length });
const sent = (role: string, content: string): SentTurn => ({ role, content, hash: contentHash(content) });
const u = (c: string) => ['user', c] as const;
const as = (c: string) => ['assistant', c] as const;
const tailOf = (...turns: ReadonlyArray<readonly [string, string]>) => turns.map(([r, c]) => stored(r, c));
const request = (...turns: ReadonlyArray<readonly [string, string]>) => turns.map(([r, c]) => sent(r, c));

describe('contentHash', () => {
  test('is a safe integer, equal for equal text, different for different text', () => {
    const h = contentHash('hello');
    expect(Number.isSafeInteger(h)).toBe(true);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(contentHash('hello')).toBe(h);
    expect(contentHash('hello ')).not.toBe(h);
    expect(contentHash('')).not.toBe(contentHash('\u0000'));
  });
});

describe('overlapLength', () => {
  const tail = tailOf(u('q1'), as('a1'), u('q2'), as('a2'));

  test('a full-history request overlaps the whole tail', () => {
    expect(overlapLength(tail, request(u('q1'), as('a1'), u('q2'), as('a2'), u('q3')))).toBe(4);
  });

  test('a latest-only request overlaps nothing, even when it repeats the last question', () => {
    expect(overlapLength(tail, request(u('q3')))).toBe(0);
    expect(overlapLength(tail, request(u('q2')))).toBe(0);
  });

  test('a sliding window overlaps the turns it kept', () => {
    expect(overlapLength(tail, request(as('a1'), u('q2'), as('a2'), u('q3')))).toBe(3);
    expect(overlapLength(tail, request(as('a2'), u('q3')))).toBe(1);
  });

  test('the longest overlap wins when turns repeat', () => {
    const repeats = tailOf(u('q'), as('a'), u('q'), as('a'));
    expect(overlapLength(repeats, request(u('q'), as('a'), u('q'), as('a'), u('q')))).toBe(4);
    expect(overlapLength(repeats, request(u('q'), as('a'), u('q')))).toBe(2);
  });

  test('roles must match as well as content', () => {
    expect(overlapLength(tailOf(u('same')), request(as('same')))).toBe(0);
  });

  test('an answer resent with the addition the gateway appended matches; other extensions do not', () => {
    const t = tailOf(u('q1'), as('organic'));
    expect(overlapLength(t, request(u('q1'), as('organic\n\n*Sponsored:* [X](https://h/r/imp_1.s)'), u('q2')))).toBe(2);
    expect(overlapLength(t, request(u('q1'), as('organic and more'), u('q2')))).toBe(0);
    expect(overlapLength(t, request(u('q1'), as('organ'), u('q2')))).toBe(0);
    // Only answers: a user message that extends a stored one is a different message.
    expect(overlapLength(tailOf(u('q1')), request(u('q1\n\nmore')))).toBe(0);
  });

  test('comparing extended answers stops once its character budget is spent', () => {
    const long = 'x'.repeat(Math.ceil(MAX_PREFIX_HASH_CHARS * 0.6));
    const t = tailOf(as(long), u('q'), as(long + 'y'));
    const withAds = request(as(`${long}\n\nad`), u('q'), as(`${long}y\n\nad`), u('next'));
    // The first extended answer fits the budget, the second does not: the overlap found is none.
    expect(overlapLength(t, withAds)).toBe(0);
    expect(overlapLength(t.slice(0, 2), withAds.slice(0, 2))).toBe(2);
  });
});

test('leadingInstructionCount counts system and developer prompts at the start only', () => {
  expect(leadingInstructionCount([{ role: 'system' }, { role: 'developer' }, { role: 'user' }, { role: 'system' }])).toBe(2);
  expect(leadingInstructionCount([{ role: 'user' }, { role: 'system' }])).toBe(0);
});
