import { describe, expect, test } from 'bun:test';
import { createTextMemo } from '../../src/platform/text-memo';

/** A memo and a counter of how often each text was computed. */
function counted(opts: { maxChars: number; maxTextChars: number; minChars?: number }) {
  const computed = new Map<string, number>();
  const memo = createTextMemo<number>(opts);
  const get = (text: string) =>
    memo.get(text, (t) => {
      computed.set(t, (computed.get(t) ?? 0) + 1);
      return t.length;
    });
  return { memo, get, computed };
}

describe('text memo', () => {
  test('computes a text once while it is held, and gives the computed value', () => {
    const { get, computed } = counted({ maxChars: 1000, maxTextChars: 100 });
    expect(get('hello world')).toBe(11);
    expect(get('hello world')).toBe(11);
    expect(get('another text')).toBe(12);
    expect(computed.get('hello world')).toBe(1);
  });

  test('texts shorter than minChars or longer than maxTextChars are computed every time and not held', () => {
    const { memo, get, computed } = counted({ maxChars: 1000, maxTextChars: 10, minChars: 3 });
    for (let i = 0; i < 3; i++) {
      get('ab');
      get('x'.repeat(11));
    }
    expect(computed.get('ab')).toBe(3);
    expect(computed.get('x'.repeat(11))).toBe(3);
    expect(memo.size()).toEqual({ entries: 0, chars: 0 });
  });

  test('never holds more than maxChars characters, however many texts go through it', () => {
    const { memo, get } = counted({ maxChars: 500, maxTextChars: 50 });
    for (let i = 0; i < 10_000; i++) {
      get(`text number ${i} ${'y'.repeat(i % 30)}`);
      expect(memo.size().chars).toBeLessThanOrEqual(500);
    }
    expect(memo.size().entries).toBeGreaterThan(10);
  });

  test('a text used again within a generation survives the turnover; one left unused for two generations is dropped', () => {
    // Generations of 100 characters: ten texts of 10 characters fill one.
    const { get, computed } = counted({ maxChars: 200, maxTextChars: 50 });
    const kept = 'kept-text!'; // 10 characters
    const dropped = 'gone-text!';
    get(kept);
    get(dropped);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 9; i++) get(`r${String(round).padStart(2, '0')}-t${i}-xxx`); // 10 characters each, all new
      get(kept); // used once a round: never recomputed
    }
    expect(computed.get(kept)).toBe(1);
    get(dropped);
    expect(computed.get(dropped)).toBe(2);
  });

  test('the conversation pattern that defeated a map cleared when full: 128 histories resent round robin', () => {
    // 128 conversations of up to 8 turns, each request resending its history: with room for all of them, every
    // earlier turn is found, and only the new turn is computed (once).
    const { get, computed } = counted({ maxChars: 200_000, maxTextChars: 4096 });
    const histories: string[][] = Array.from({ length: 128 }, () => []);
    let next = 0;
    for (let request = 0; request < 128 * 8 * 3; request++) {
      const slot = request % 128;
      if (histories[slot].length === 8) histories[slot] = [];
      const turn = `conversation ${next++}: a question that is long enough to be worth remembering`;
      for (const t of histories[slot]) get(t);
      get(turn);
      histories[slot].push(turn);
    }
    expect([...computed.values()].every((n) => n === 1)).toBe(true);
  });

  test('clear drops everything', () => {
    const { memo, get, computed } = counted({ maxChars: 1000, maxTextChars: 100 });
    get('some text here');
    memo.clear();
    expect(memo.size()).toEqual({ entries: 0, chars: 0 });
    get('some text here');
    expect(computed.get('some text here')).toBe(2);
  });
});
