import { expect, test } from 'bun:test';
import { NO_LIMITS, parseKeyLimits, periodStartMs } from '../../src/keys/key-limits';
import { createKeyMeter } from '../../src/keys/key-meter';

const T0 = Date.parse('2030-03-31T23:59:30Z');

test('the request window opens with the first request and resets a minute later', () => {
  const meter = createKeyMeter({ seedSpendMicros: () => 0 });
  const limits = { ...NO_LIMITS, rpmLimit: 2 };
  expect('error' in meter.admit('k', limits, T0)).toBe(false);
  expect('error' in meter.admit('k', limits, T0 + 1000)).toBe(false);
  const refused = meter.admit('k', limits, T0 + 20_000);
  expect('error' in refused && refused.error.status).toBe(429);
  expect(refused.headers['retry-after']).toBe('40');
  expect(refused.headers['retry-after-ms']).toBe('40000');
  expect(refused.headers['x-ratelimit-reset-requests']).toBe('40s');
  expect('error' in meter.admit('other', limits, T0 + 20_000)).toBe(false);
  const next = meter.admit('k', limits, T0 + 60_000);
  expect('error' in next).toBe(false);
  expect(next.headers['x-ratelimit-remaining-requests']).toBe('1');
});

test('tokens recorded at settle count until the window ends', () => {
  const meter = createKeyMeter({ seedSpendMicros: () => 0 });
  const limits = { ...NO_LIMITS, tpmLimit: 100 };
  meter.admit('k', limits, T0);
  meter.record('k', 60, T0 + 10);
  expect(meter.admit('k', limits, T0 + 20).headers['x-ratelimit-remaining-tokens']).toBe('40');
  meter.record('k', 40, T0 + 30);
  expect('error' in meter.admit('k', limits, T0 + 40)).toBe(true);
  expect('error' in meter.admit('k', limits, T0 + 60_000)).toBe(false);
});

test('a daily budget is seeded from the ledger per UTC day and starts over the next day', () => {
  const seeds: Array<[string, number]> = [];
  const meter = createKeyMeter({ seedSpendMicros: (key, since) => (seeds.push([key, since]), since === periodStartMs('daily', T0) ? 900 : 0) });
  const limits = { ...NO_LIMITS, budgetMicros: 1000, budgetPeriod: 'daily' as const };
  expect('error' in meter.admit('k', limits, T0)).toBe(false);
  meter.settleBudget(meter.holdBudget('k', limits, 50, T0 + 1), T0 + 1, (cap) => (expect(cap).toBe(100), 100));
  const refused = meter.admit('k', limits, T0 + 2);
  expect('error' in refused && refused.error.code).toBe('key_budget_exceeded');
  expect(seeds).toEqual([['k', Date.parse('2030-03-31T00:00:00Z')]]);
  expect('error' in meter.admit('k', limits, T0 + 60_000)).toBe(false);
  expect(seeds[1]).toEqual(['k', Date.parse('2030-04-01T00:00:00Z')]);
});

test('periods are UTC: total from the epoch, monthly from the 1st', () => {
  expect(periodStartMs('total', T0)).toBe(0);
  expect(periodStartMs('monthly', T0)).toBe(Date.parse('2030-03-01T00:00:00Z'));
});

test('limit parsing: absent keeps, null clears, offsets in expires_at are honoured', () => {
  const base = parseKeyLimits({ rpm_limit: 5, expires_at: '2030-01-01T01:00:00+01:00' }, NO_LIMITS);
  expect(base).toMatchObject({ rpmLimit: 5, expiresAtMs: Date.parse('2030-01-01T00:00:00Z') });
  expect(parseKeyLimits({ tpm_limit: 9 }, base)).toMatchObject({ rpmLimit: 5, tpmLimit: 9 });
  expect(parseKeyLimits({ rpm_limit: null }, base).rpmLimit).toBeNull();
  expect(() => parseKeyLimits({ expires_at: '2030-01-01' }, NO_LIMITS)).toThrow('expires_at');
});

test('expires_at must be a real calendar time: 2027-02-30, 2027-04-31, 24:00 and a 13th month are refused', () => {
  for (const bad of ['2027-02-30T00:00:00Z', '2027-02-29T00:00:00Z', '2027-04-31T12:00:00Z', '2027-01-01T24:00:00Z', '2027-13-01T00:00:00Z', '2027-01-01T10:00:00+25:00', '2027-02-30'])
    expect(() => parseKeyLimits({ expires_at: bad }, NO_LIMITS)).toThrow('expires_at');
  expect(parseKeyLimits({ expires_at: '2028-02-29T23:59:59Z' }, NO_LIMITS).expiresAtMs).toBe(Date.UTC(2028, 1, 29, 23, 59, 59));
  expect(parseKeyLimits({ expires_at: '2027-04-30T00:00+02:00' }, NO_LIMITS).expiresAtMs).toBe(Date.UTC(2027, 3, 29, 22, 0));
});
