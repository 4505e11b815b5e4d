/**
 * Key budgets reserved by requests in flight, at the meter: what a request may cost is held until it settles,
 * so the spend of a period plus the holds never exceed the budget, whatever the order of reserves and settles
 * and across period boundaries.
 */
import { describe, expect, test } from 'bun:test';
import { NO_LIMITS, periodStartMs, type BudgetPeriod, type KeyLimits } from '../../src/keys/key-limits';
import { createKeyMeter, type BudgetHold } from '../../src/keys/key-meter';
import { mulberry32 } from '../../scripts/dev-lib';

const T0 = Date.parse('2030-03-31T23:58:00Z');

/** A ledger the meter seeds from, as the wallet's: charges with the time they settled. */
function fakeLedger() {
  const rows: Array<{ keyId: string; atMs: number; micros: number }> = [];
  return {
    rows,
    seed: (keyId: string, sinceMs: number) => rows.filter((r) => r.keyId === keyId && r.atMs >= sinceMs).reduce((a, r) => a + r.micros, 0),
  };
}

describe('budget holds', () => {
  test('a hold takes from the budget left until it settles; the settle releases it and records the charge', () => {
    const ledger = fakeLedger();
    const meter = createKeyMeter({ seedSpendMicros: ledger.seed });
    const limits: KeyLimits = { ...NO_LIMITS, budgetMicros: 1000, budgetPeriod: 'total' };
    expect(meter.budgetLeft('k', limits, T0)).toBe(1000);
    const a = meter.holdBudget('k', limits, 700, T0);
    expect(meter.budgetLeft('k', limits, T0)).toBe(300);
    const b = meter.holdBudget('k', limits, 300, T0);
    expect(meter.budgetLeft('k', limits, T0)).toBe(0);
    expect(meter.heldMicros('k')).toBe(1000);
    // Nothing left: the next request is refused before it reaches the wallet.
    const refused = meter.admit('k', limits, T0);
    expect('error' in refused && refused.error.code).toBe('key_budget_exceeded');
    // a costs 200 of its 700: the cap it is offered is the budget less b's hold.
    const charged = meter.settleBudget(a, T0 + 1, (cap) => {
      expect(cap).toBe(700);
      ledger.rows.push({ keyId: 'k', atMs: T0 + 1, micros: 200 });
      return 200;
    });
    expect(charged).toBe(200);
    expect(meter.budgetLeft('k', limits, T0 + 2)).toBe(500);
    // Settling twice does nothing.
    expect(meter.settleBudget(a, T0 + 3, () => 999)).toBeNull();
    expect(meter.budgetLeft('k', limits, T0 + 3)).toBe(500);
    // b fails upstream: released with no charge.
    meter.settleBudget(b, T0 + 4, () => 0);
    expect(meter.heldMicros('k')).toBe(0);
    expect(meter.budgetLeft('k', limits, T0 + 4)).toBe(800);
  });

  test('an answer billed above its hold is charged at most what the budget still allows', () => {
    const ledger = fakeLedger();
    const meter = createKeyMeter({ seedSpendMicros: ledger.seed });
    const limits: KeyLimits = { ...NO_LIMITS, budgetMicros: 100, budgetPeriod: 'total' };
    const a = meter.holdBudget('k', limits, 40, T0);
    const b = meter.holdBudget('k', limits, 50, T0);
    // a's real cost is 500: it may take its own 40 and the 10 nobody holds, never b's 50.
    expect(meter.settleBudget(a, T0, (cap) => Math.min(500, cap!))).toBe(50);
    expect(meter.settleBudget(b, T0, (cap) => Math.min(50, cap!))).toBe(50);
    expect(meter.budgetLeft('k', limits, T0)).toBe(0);
  });

  test('a hold made before midnight counts against the new day and its charge lands there', () => {
    const ledger = fakeLedger();
    const meter = createKeyMeter({ seedSpendMicros: ledger.seed });
    const limits: KeyLimits = { ...NO_LIMITS, budgetMicros: 1000, budgetPeriod: 'daily' };
    ledger.rows.push({ keyId: 'k', atMs: T0 - 1000, micros: 600 });
    const h = meter.holdBudget('k', limits, 300, T0);
    expect(meter.budgetLeft('k', limits, T0)).toBe(100);
    const nextDay = T0 + 5 * 60_000;
    // The new day starts from the ledger (nothing yet) less the hold still in flight.
    expect(meter.budgetLeft('k', limits, nextDay)).toBe(700);
    meter.settleBudget(h, nextDay, (cap) => (expect(cap).toBe(1000), ledger.rows.push({ keyId: 'k', atMs: nextDay, micros: 250 }), 250));
    expect(meter.budgetLeft('k', limits, nextDay + 1)).toBe(750);
  });

  test('a key without a budget holds too, so a budget set while its requests run counts them', () => {
    const meter = createKeyMeter({ seedSpendMicros: () => 0 });
    const h = meter.holdBudget('k', NO_LIMITS, 400, T0);
    expect(meter.budgetLeft('k', NO_LIMITS, T0)).toBeNull();
    expect(meter.budgetLeft('k', { ...NO_LIMITS, budgetMicros: 1000, budgetPeriod: 'total' }, T0)).toBe(600);
    expect(meter.settleBudget(h, T0, (cap) => (expect(cap).toBeNull(), 400))).toBe(400);
  });

  test('forgetting idle keys past the bound never forgets a hold in flight', () => {
    const meter = createKeyMeter({ seedSpendMicros: () => 0 });
    const limits: KeyLimits = { ...NO_LIMITS, budgetMicros: 1000, budgetPeriod: 'total' };
    const h = meter.holdBudget('busy', limits, 900, T0);
    for (let i = 0; i < 100_001; i++) meter.admit(`idle_${i}`, NO_LIMITS, T0);
    expect(meter.heldMicros('busy')).toBe(900);
    expect(meter.budgetLeft('busy', limits, T0)).toBe(100);
    meter.settleBudget(h, T0, () => 0);
    expect(meter.budgetLeft('busy', limits, T0)).toBe(1000);
  });
});

describe('randomized: spend in a period plus holds never exceed the budget', () => {
  /** Runs in which the budget cap actually cut a charge: most of them, or the invariant was never under pressure. */
  const cappedRuns = new Set<string>();
  const starts: Record<BudgetPeriod, number> = {
    total: T0,
    daily: Date.parse('2030-03-31T23:00:00Z'),
    monthly: Date.parse('2030-03-31T22:00:00Z'),
  };
  for (const period of ['total', 'daily', 'monthly'] as const)
    for (const seed of [1, 2, 3, 4, 5])
      test(`${period}, seed ${seed}`, () => {
        const random = mulberry32(seed * 7919 + period.length);
        const int = (n: number) => Math.floor(random() * n);
        const ledger = fakeLedger();
        const meter = createKeyMeter({ seedSpendMicros: ledger.seed });
        const budget = 1000 + int(5000);
        const limits: KeyLimits = { ...NO_LIMITS, budgetMicros: budget, budgetPeriod: period };
        const open: BudgetHold[] = [];
        let now = starts[period];
        let served = 0;
        let maxOpen = 0;
        let overbilled = 0;
        for (let step = 0; step < 2000; step++) {
          now += int(4) === 0 ? int(3_600_000) : int(2000);
          if (open.length === 0 || int(2) === 0) {
            // A request arrives: it wants a fiftieth of the budget (now and then 1.5x) and takes what is left, or is refused.
            if ('error' in meter.admit('k', limits, now)) continue;
            const left = meter.budgetLeft('k', limits, now)!;
            const size = Math.min(1 + int(Math.ceil(budget * (int(20) === 0 ? 1.5 : 0.02))), left);
            if (size === 0) continue;
            open.push(meter.holdBudget('k', limits, size, now));
            maxOpen = Math.max(maxOpen, open.length);
            served++;
          } else {
            // One in flight settles: failed (0), within its hold, or billed above it by a misbehaving upstream.
            const [hold] = open.splice(int(open.length), 1);
            const roll = int(8);
            const cost = roll === 0 ? 0 : roll === 1 ? hold.amountMicros + int(budget / 5) : int(hold.amountMicros + 1);
            meter.settleBudget(hold, now, (cap) => {
              const charge = Math.min(cost, cap!);
              if (cost > hold.amountMicros) overbilled++;
              if (charge < cost) cappedRuns.add(`${period} ${seed}`);
              if (charge > 0) ledger.rows.push({ keyId: 'k', atMs: now, micros: charge });
              return charge;
            });
          }
          const spentNow = ledger.seed('k', periodStartMs(period, now));
          const held = open.reduce((a, h) => a + h.amountMicros, 0);
          expect(meter.heldMicros('k')).toBe(held);
          if (spentNow + held > budget) throw new Error(`step ${step}: spent ${spentNow} + held ${held} > budget ${budget}`);
          // The meter's own view agrees with the ledger: nothing counted twice or lost.
          expect(meter.budgetLeft('k', limits, now)).toBe(Math.max(0, budget - spentNow - held));
        }
        const byPeriod = new Map<number, number>();
        for (const r of ledger.rows) byPeriod.set(periodStartMs(period, r.atMs), (byPeriod.get(periodStartMs(period, r.atMs)) ?? 0) + r.micros);
        for (const [start, spent] of byPeriod) if (spent > budget) throw new Error(`period from ${new Date(start).toISOString()}: spent ${spent} > budget ${budget}`);
        // The run exercised what it claims to: several requests in flight at once, and answers billed above their hold.
        expect(served).toBeGreaterThan(10);
        expect(maxOpen).toBeGreaterThan(2);
        expect(overbilled).toBeGreaterThan(0);
      });
  test('the cap cut charges in most runs', () => expect(cappedRuns.size).toBeGreaterThanOrEqual(10));
});
