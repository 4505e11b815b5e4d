import { describe, expect, test } from 'bun:test';
import { formatMicros, parseUsdToMicros, tokenCostMicros } from '../../src/money/money';

describe('money', () => {
  test('parses decimal USD strings into integer micro-USD, refusing anything else', () => {
    expect(parseUsdToMicros('10.00')).toBe(10_000_000);
    expect(parseUsdToMicros('0.000001')).toBe(1);
    expect(parseUsdToMicros('7')).toBe(7_000_000);
    for (const bad of ['', '-1', '1.0000001', '1e3', '0x10', '1,00', ' . ', 'NaN']) expect(parseUsdToMicros(bad)).toBeNull();
  });

  test('formats with two to six decimals', () => {
    expect(formatMicros(10_000_000)).toBe('10.00');
    expect(formatMicros(1)).toBe('0.000001');
    expect(formatMicros(-1_234_500)).toBe('-1.2345');
    expect(formatMicros(0)).toBe('0.00');
  });

  test('token cost rounds up to the next micro-USD and stays an integer', () => {
    const price = { inputMicrosPerMTok: 150_000, outputMicrosPerMTok: 600_000 };
    expect(tokenCostMicros(25, 150, price)).toBe(Math.ceil((25 * 150_000 + 150 * 600_000) / 1e6));
    expect(tokenCostMicros(1, 0, price)).toBe(1);
    expect(tokenCostMicros(0, 0, price)).toBe(0);
    expect(Number.isInteger(tokenCostMicros(123_457, 98_765, price))).toBe(true);
  });
});
