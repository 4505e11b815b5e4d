import { ApiError, forbidden } from '../http/errors';
import { periodStartMs, type KeyLimits } from './key-limits';

/**
 * Per-key request and token windows and budget spend, all in memory: a limit check never touches the disk.
 * Windows are fixed one-minute windows opened by a key's first request. Spend is seeded once per key and
 * budget period from the ledger (`seedSpendMicros`), then kept up to date by `record` as charges settle.
 */
const WINDOW_MS = 60_000;
/** Bound on tracked keys: past it the meter starts over (windows reset, spend is re-read from the ledger). */
const MAX_TRACKED = 100_000;

type KeyState = {
  windowStartMs: number;
  requests: number;
  tokens: number;
  spendPeriodStartMs: number;
  spentMicros: number | null;
};

export type Admission = { headers: Record<string, string> };
export type Refusal = { error: ApiError; headers: Record<string, string> };

export function createKeyMeter(deps: { seedSpendMicros: (keyId: string, sinceMs: number) => number }) {
  const states = new Map<string, KeyState>();

  function stateOf(keyId: string, nowMs: number): KeyState {
    let s = states.get(keyId);
    if (!s) {
      if (states.size >= MAX_TRACKED) states.clear();
      s = { windowStartMs: nowMs, requests: 0, tokens: 0, spendPeriodStartMs: -1, spentMicros: null };
      states.set(keyId, s);
    }
    if (nowMs - s.windowStartMs >= WINDOW_MS) {
      s.windowStartMs = nowMs;
      s.requests = 0;
      s.tokens = 0;
    }
    return s;
  }

  function spentIn(keyId: string, s: KeyState, limits: KeyLimits, nowMs: number): number {
    const start = periodStartMs(limits.budgetPeriod ?? 'total', nowMs);
    if (s.spentMicros === null || s.spendPeriodStartMs !== start) {
      s.spentMicros = deps.seedSpendMicros(keyId, start);
      s.spendPeriodStartMs = start;
    }
    return s.spentMicros;
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
   * when the period's spend reached the budget. An admitted request counts against rpm_limit at once.
   */
  function admit(keyId: string, limits: KeyLimits, nowMs: number): Admission | Refusal {
    const s = stateOf(keyId, nowMs);
    if (limits.budgetMicros !== null && spentIn(keyId, s, limits, nowMs) >= limits.budgetMicros)
      return { error: forbidden('key_budget_exceeded', `This key's ${limits.budgetPeriod ?? 'total'} budget is used up`), headers: {} };
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

  /** Counts a settled request's tokens and charge. Spend not yet seeded is left to the next seeding. */
  function record(keyId: string, tokens: number, chargedMicros: number, nowMs: number): void {
    const s = stateOf(keyId, nowMs);
    s.tokens += tokens;
    if (s.spentMicros !== null && nowMs >= s.spendPeriodStartMs) s.spentMicros += chargedMicros;
  }

  return { admit, record, forget: (keyId: string) => void states.delete(keyId) };
}
export type KeyMeter = ReturnType<typeof createKeyMeter>;
