import { describe, expect, test } from 'bun:test';
import { CONFIGS, moneyLine, parseProcStatOwnAndReaped, scaleTable, splitConnections, type MoneyCheck, type ScaleRun } from '../../scripts/bench-scale';

describe('bench-scale pure parts', () => {
  test('connections are split evenly, the remainder to the first processes', () => {
    expect(splitConnections(32, 1)).toEqual([32]);
    expect(splitConnections(32, 2)).toEqual([16, 16]);
    expect(splitConnections(32, 3)).toEqual([11, 11, 10]);
    expect(splitConnections(4, 3).reduce((a, b) => a + b, 0)).toBe(4);
  });

  test('/proc/<pid>/stat: parent, own and reaped children ticks, with a name holding spaces and parentheses', () => {
    const stat = '4242 (postgres: x (y) z) S 4000 4242 4242 0 -1 4194560 100 0 0 0 17 5 30 8 20 0 1 0 123 1000 200';
    expect(parseProcStatOwnAndReaped(stat)).toEqual({ ppid: 4000, own: 22, reaped: 38 });
    expect(() => parseProcStatOwnAndReaped('garbage')).toThrow();
  });

  const money = (ok: boolean): MoneyCheck => ({
    ok, problems: ok ? [] : ['a negative balance'], topUpsMicros: 100_000_000, consumptionMicros: -1_400, otherMicros: 0, balanceMicros: 99_998_600,
    heldMicros: 0, openHolds: 0, minBalanceAfterMicros: 99_998_600, consumptions: 100, answered200: 100, answeredOther: 0,
  });
  const run = (config: string, r: number, rps: number, moneyOk = true): ScaleRun => ({
    config, run: r, requests: rps * 10, requestsPerS: rps, p50Ms: 5, p99Ms: 20 + r, errors: 0, instances: [],
    gatewayUsPerReq: 300, postgresUsPerReq: config === 'sqlite' ? NaN : 900, mockUsPerReq: 40, wrkUsPerReq: 20, wrkCorePct: 10,
    machineBusyPct: 90, otherCorePct: 3, wallS: 10, idleGatewayCorePct: 0.5, idlePostgresCorePct: config === 'sqlite' ? NaN : 0.2, money: money(moneyOk),
  });

  test('the table shows the median and range, the ratio to PostgreSQL x1 of the same run, and failed money checks', () => {
    const runs = [run('sqlite', 0, 5000), run('pg1', 0, 1000), run('pg2', 0, 900, false), run('sqlite', 1, 6000), run('pg1', 1, 1200), run('pg2', 1, 1200)];
    const lines = scaleTable(CONFIGS, runs);
    expect(lines).toHaveLength(2 + 3); // no pg3 runs: no row
    const [sqlite, pg1, pg2] = lines.slice(2);
    expect(sqlite).toStartWith('| SQLite, 1 instance | 5,500 (5,000-6,000) | 500 % | 5.00 | 20.50 (20.00-21.00) | 300 | - | 300 |');
    expect(pg1).toContain('| 1,100 (1,000-1,200) | 100 % |');
    expect(pg1).toContain('| 900 | 1,200 |');
    expect(pg1).toEndWith('| ok (2/2 runs) |');
    expect(pg2).toContain('| 95 % (90 %-100 %) |');
    expect(pg2).toEndWith('| **FAILED** (1/2 runs) |');
  });

  test('the money line states the balance equation and the failure', () => {
    expect(moneyLine(money(true))).toStartWith('ok: top-ups 100.000000 USD = balance 99.998600 + 100 consumptions 0.001400; held 0.000000');
    expect(moneyLine(money(false))).toStartWith('FAILED (a negative balance): ');
  });
});
