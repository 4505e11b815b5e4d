import { ApiError, forbidden } from '../http/errors';
import type { Awaitable } from '../store/sql-store';
import { periodStartMs, type KeyLimits } from './key-limits';

/**
 * Per-key request and token windows, budget spend and budget holds, all in memory: a limit check never
 * touches the disk. Windows are fixed one-minute windows opened by a key's first request. Spend is seeded
 * once per key and budget period from the ledger (`seedSpendMicros`), then kept up to date as holds settle.
 *
 * Budget holds mirror the wallet's: an admitted request holds what it may cost, so the budget left is
 * budget - spent - held, and N concurrent requests can never be promised more than the budget. A hold
 * counts against whatever period is current (its charge lands in the period in which it settles).
 *
 * The ledger read that seeds the spend may be asynchronous (a shared store): `prepare` starts it and resolves
 * once it is in, and admission awaits it before the synchronous checks. A read is exact when no charge of the key
 * settles while it is in flight (the ledger reader commits this instance's decided charges first); when one
 * does, the read may or may not contain it, so the ledger is read again, up to SEED_READS times, after which
 * those charges are added to what it returned (counted twice at worst, never missed). Should a synchronous check
 * still find the period's spend unknown (the period turned since `prepare`), it counts the previous period's
 * spend, or the whole budget when there is none: it may refuse too early, never promise too much.
 */
const WINDOW_MS = 60_000;
/** Asynchronous ledger reads of one period's spend before charges settled meanwhile are simply added. */
const SEED_READS = 3;
/** Bound on tracked keys: past it the meter starts over (windows reset, spend is re-read from the ledger). */
const MAX_TRACKED = 100_000;

type KeyState = {
  windowStartMs: number;
  requests: number;
  tokens: number;
  spendPeriodStartMs: number;
  spentMicros: number | null;
  /** Reserved by this key's requests in flight, released when each settles. */
  heldMicros: number;
  /** An asynchronous ledger read under way for the period starting at `startMs`, and what settled meanwhile. */
  seeding: { startMs: number; done: Promise<void>; chargedMeanwhile: number } | null;
};

/** One request's reservation against its key's budget; settled exactly once. */
export type BudgetHold = { keyId: string; amountMicros: number; limits: KeyLimits; settled: boolean };

export type Admission = { headers: Record<string, string> };
export type Refusal = { error: ApiError; headers: Record<string, string> };

export function createKeyMeter(deps: { seedSpendMicros: (keyId: string, sinceMs: number) => Awaitable<number> }) {
  const states = new Map<string, KeyState>();

  /** Past the bound, keys without a request in flight start over; a held amount is never forgotten. */
  function evictIdle(): void {
    for (const [keyId, s] of states) if (s.heldMicros === 0) states.delete(keyId);
  }

  function stateOf(keyId: string, nowMs: number): KeyState {
    let s = states.get(keyId);
    if (!s) {
      if (states.size >= MAX_TRACKED) evictIdle();
      s = { windowStartMs: nowMs, requests: 0, tokens: 0, spendPeriodStartMs: -1, spentMicros: null, heldMicros: 0, seeding: null };
      states.set(keyId, s);
    }
    if (nowMs - s.windowStartMs >= WINDOW_MS) {
      s.windowStartMs = nowMs;
      s.requests = 0;
      s.tokens = 0;
    }
    return s;
  }

  /**
   * Makes the spend of the period starting at `start` known: at once when the ledger answers synchronously,
   * else returns the read under way (one per key and period).
   */
  function seed(keyId: string, s: KeyState, start: number): Promise<void> | null {
    if (s.spentMicros !== null && s.spendPeriodStartMs === start) return null;
    if (s.seeding?.startMs === start) return s.seeding.done;
    const first = deps.seedSpendMicros(keyId, start);
    if (!(first instanceof Promise)) {
      s.seeding = null;
      s.spentMicros = first;
      s.spendPeriodStartMs = start;
      return null;
    }
    const seeding: NonNullable<KeyState['seeding']> = { startMs: start, chargedMeanwhile: 0, done: Promise.resolve() };
    seeding.done = (async () => {
      let read: Awaitable<number> = first;
      for (let reads = 1; ; reads++) {
        let micros: number;
        try {
          micros = await read;
        } catch (err) {
          if (s.seeding === seeding) s.seeding = null;
          throw err;
        }
        if (s.seeding !== seeding) return; // superseded (another period, or a synchronous read)
        if (seeding.chargedMeanwhile === 0 || reads >= SEED_READS) {
          s.seeding = null;
          s.spentMicros = micros + seeding.chargedMeanwhile;
          s.spendPeriodStartMs = start;
          return;
        }
        seeding.chargedMeanwhile = 0;
        read = deps.seedSpendMicros(keyId, start);
      }
    })();
    s.seeding = seeding;
    return seeding.done;
  }

  function spentIn(keyId: string, s: KeyState, limits: KeyLimits, nowMs: number): number {
    const start = periodStartMs(limits.budgetPeriod ?? 'total', nowMs);
    const pending = seed(keyId, s, start);
    if (pending === null) return s.spentMicros!;
    pending.catch(() => {}); // awaited (and reported) by prepare; here only started
    // Unknown for now: the previous period's spend, else all of the budget (refuse rather than overspend).
    return s.spentMicros ?? limits.budgetMicros ?? 0;
  }

  /** Resolves once the key's spend in the current budget period is known; null when it already is (or no budget). */
  function prepare(keyId: string, limits: KeyLimits, nowMs: number): Promise<void> | null {
    if (limits.budgetMicros === null) return null;
    return seed(keyId, stateOf(keyId, nowMs), periodStartMs(limits.budgetPeriod ?? 'total', nowMs));
  }

  function rateHeaders(s: KeyState, limits: KeyLimits, nowMs: number): Record<string, string> {
    const resetS = Math.max(1, Math.ceil((s.windowStartMs + WINDOW_MS - nowMs) / 1000));
    const h: Record<string, string> = {};
    if (limits.rpmLimit !== null) {
      h['x-ratelimit-limit-requests'] = String(limits.rpmLimit);
      h['x-ratelimit-remaining-requests'] = String(Math.max(0, limits.rpmLimit - s.requests));
      h['x-ratelimit-reset-requests'] = `${resetS}s`;
    }
    if (limits.tpmLimit !== null) {
      h['x-ratelimit-limit-tokens'] = String(limits.tpmLimit);
      h['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tpmLimit - s.tokens));
      h['x-ratelimit-reset-tokens'] = `${resetS}s`;
    }
    return h;
  }

  /**
   * Admits one request of `keyId` or refuses it: 429 rate_limit_exceeded when the minute's requests are used up
   * or its tokens already reached tpm_limit (tokens are counted when a request settles), 403 key_budget_exceeded
   * when the period's spend and the holds of requests in flight leave nothing of the budget. An admitted request
   * counts against rpm_limit at once; what it may cost is held later, by `holdBudget`, once its price is known.
   */
  function admit(keyId: string, limits: KeyLimits, nowMs: number): Admission | Refusal {
    const s = stateOf(keyId, nowMs);
    if (leftIn(keyId, s, limits, nowMs) === 0) return { error: budgetExceeded(limits), headers: {} };
    const overRequests = limits.rpmLimit !== null && s.requests >= limits.rpmLimit;
    const overTokens = limits.tpmLimit !== null && s.tokens >= limits.tpmLimit;
    if (overRequests || overTokens) {
      const headers = rateHeaders(s, limits, nowMs);
      const waitMs = Math.max(1, s.windowStartMs + WINDOW_MS - nowMs);
      headers['retry-after'] = String(Math.ceil(waitMs / 1000));
      // The OpenAI SDKs prefer this one when present: they then wait exactly until the window reopens.
      headers['retry-after-ms'] = String(waitMs);
      const what = overRequests ? `${limits.rpmLimit} requests` : `${limits.tpmLimit} tokens`;
      return { error: new ApiError(429, 'rate_limit_error', 'rate_limit_exceeded', `Rate limit of this key reached: ${what} per minute`), headers };
    }
    s.requests++;
    return { headers: rateHeaders(s, limits, nowMs) };
  }

  /** Budget left for new holds: budget - spent - held, at least 0; null when the key has no budget. */
  function leftIn(keyId: string, s: KeyState, limits: KeyLimits, nowMs: number): number | null {
    if (limits.budgetMicros === null) return null;
    return Math.max(0, limits.budgetMicros - spentIn(keyId, s, limits, nowMs) - s.heldMicros);
  }

  /** Counts a settled request's tokens against tpm_limit (its charge is counted by `settleBudget`). */
  function record(keyId: string, tokens: number, nowMs: number): void {
    stateOf(keyId, nowMs).tokens += tokens;
  }

  /**
   * Reserves `amountMicros` of the key's budget for one request. The caller sizes it from `budgetLeft` in the
   * same synchronous step (no await in between), so two requests can never be promised the same micro-dollar.
   * Keys without a budget hold too: a budget set while they run then counts them.
   */
  function holdBudget(keyId: string, limits: KeyLimits, amountMicros: number, nowMs: number): BudgetHold {
    if (!Number.isSafeInteger(amountMicros) || amountMicros < 0) throw new Error(`invalid budget hold ${amountMicros}`);
    stateOf(keyId, nowMs).heldMicros += amountMicros;
    return { keyId, amountMicros, limits, settled: false };
  }

  /**
   * Settles a hold exactly once: releases it, then lets `charge` take the real cost with `capMicros`, the most
   * the key may still spend (budget - spent - other holds; null without a budget), and records what it charged.
   * Returns the charge, or null when the hold was already settled.
   */
  function settleBudget(hold: BudgetHold, nowMs: number, charge: (capMicros: number | null) => number): number | null {
    if (hold.settled) return null;
    hold.settled = true;
    const s = states.get(hold.keyId) ?? stateOf(hold.keyId, nowMs);
    s.heldMicros = Math.max(0, s.heldMicros - hold.amountMicros);
    // Seeded before the charge is written, so the ledger read cannot already contain it.
    const cap = leftIn(hold.keyId, s, hold.limits, nowMs);
    const charged = charge(cap);
    const start = periodStartMs(hold.limits.budgetPeriod ?? 'total', nowMs);
    if (s.seeding?.startMs === start) s.seeding.chargedMeanwhile += charged;
    if (s.spentMicros !== null && s.spendPeriodStartMs === start) s.spentMicros += charged;
    else if (s.seeding?.startMs !== start) s.spentMicros = null; // another period, or never seeded: the next check re-reads the ledger
    return charged;
  }

  return {
    prepare,
    admit,
    record,
    holdBudget,
    settleBudget,
    /** Budget left for a new hold, seeding the period's spend from the ledger if needed; null without a budget. */
    budgetLeft: (keyId: string, limits: KeyLimits, nowMs: number) => leftIn(keyId, stateOf(keyId, nowMs), limits, nowMs),
    /** What the key's requests in flight hold (0 when none): for tests and operators. */
    heldMicros: (keyId: string) => states.get(keyId)?.heldMicros ?? 0,
  };
}
export type KeyMeter = ReturnType<typeof createKeyMeter>;

/** 403 key_budget_exceeded: nothing left of the period's budget, or too little for the smallest request. */
export function budgetExceeded(limits: KeyLimits): ApiError {
  return forbidden('key_budget_exceeded', `This key's ${limits.budgetPeriod ?? 'total'} budget is used up or held by its requests in flight`);
}
