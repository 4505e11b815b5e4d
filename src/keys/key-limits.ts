import { badRequest } from '../http/errors';
import { formatMicros, parseUsdToMicros } from '../money/money';

/** Limits an operator may set on one key pair; null means "no limit". Wire names are the README's contract. */
export type KeyLimits = {
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetMicros: number | null;
  budgetPeriod: BudgetPeriod | null;
  expiresAtMs: number | null;
  allowedModels: string[] | null;
};
export type BudgetPeriod = 'total' | 'daily' | 'monthly';

const PERIODS: BudgetPeriod[] = ['total', 'daily', 'monthly'];
const MAX_PER_MINUTE = 1_000_000_000;
const MAX_MODELS = 100;
const MAX_BUDGET_MICROS = 1_000_000 * 1_000_000;
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an ISO 8601 date-time with a zone, or null when malformed or not a real calendar time:
 * Date.parse quietly rolls "2027-02-30" over to March 2 and accepts "T24:00", so the fields are checked first.
 */
export function parseIsoDateTimeMs(text: string): number | null {
  const m = ISO_8601.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second, offH, offM] = m.slice(1).map((v) => (v === undefined ? 0 : Number(v)));
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59)
    return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

function perMinute(value: unknown, param: string): number | null {
  if (value === null) return null;
  if (!Number.isSafeInteger(value) || (value as number) < 1 || (value as number) > MAX_PER_MINUTE)
    throw badRequest('invalid_value', `${param} must be a positive integer or null`, param);
  return value as number;
}

function budgetOf(value: unknown): { micros: number; period: BudgetPeriod } | null {
  if (value === null) return null;
  const v = value as { amount?: unknown; period?: unknown };
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw badRequest('invalid_value', 'budget must be {"amount": "5.00", "period": "total" | "daily" | "monthly"} or null', 'budget');
  const micros = typeof v.amount === 'string' ? parseUsdToMicros(v.amount) : null;
  if (micros === null || micros <= 0 || micros > MAX_BUDGET_MICROS)
    throw badRequest('invalid_value', 'budget.amount must be a positive decimal string in USD, e.g. "5.00"', 'budget.amount');
  const period = v.period ?? 'total';
  if (!PERIODS.includes(period as BudgetPeriod))
    throw badRequest('invalid_value', 'budget.period must be "total", "daily" or "monthly"', 'budget.period');
  return { micros, period: period as BudgetPeriod };
}

function expiryOf(value: unknown): number | null {
  if (value === null) return null;
  const ms = typeof value === 'string' ? parseIsoDateTimeMs(value) : null;
  if (ms === null) throw badRequest('invalid_value', 'expires_at must be an ISO 8601 date-time with a time zone, e.g. "2027-01-31T00:00:00Z", or null', 'expires_at');
  return ms;
}

function modelsOf(value: unknown): string[] | null {
  if (value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_MODELS
    || !value.every((m) => typeof m === 'string' && m.length > 0 && m.length <= 200))
    throw badRequest('invalid_value', `allowed_models must be a list of 1 to ${MAX_MODELS} model ids, or null for every model`, 'allowed_models');
  return [...new Set(value as string[])];
}

/**
 * Reads the limit fields present in `input` over `base` (absent fields keep their value, null clears).
 * Throws 400 invalid_value naming the field.
 */
export function parseKeyLimits(input: Record<string, unknown>, base: KeyLimits): KeyLimits {
  const out = { ...base };
  if ('rpm_limit' in input) out.rpmLimit = perMinute(input.rpm_limit, 'rpm_limit');
  if ('tpm_limit' in input) out.tpmLimit = perMinute(input.tpm_limit, 'tpm_limit');
  if ('budget' in input) {
    const b = budgetOf(input.budget);
    out.budgetMicros = b?.micros ?? null;
    out.budgetPeriod = b?.period ?? null;
  }
  if ('expires_at' in input) out.expiresAtMs = expiryOf(input.expires_at);
  if ('allowed_models' in input) out.allowedModels = modelsOf(input.allowed_models);
  return out;
}

export const NO_LIMITS: KeyLimits = { rpmLimit: null, tpmLimit: null, budgetMicros: null, budgetPeriod: null, expiresAtMs: null, allowedModels: null };

export function limitsView(l: KeyLimits) {
  return {
    rpm_limit: l.rpmLimit,
    tpm_limit: l.tpmLimit,
    budget: l.budgetMicros === null ? null : { amount: formatMicros(l.budgetMicros), amount_micros: l.budgetMicros, period: l.budgetPeriod ?? 'total' },
    expires_at: l.expiresAtMs === null ? null : new Date(l.expiresAtMs).toISOString(),
    allowed_models: l.allowedModels,
  };
}

/** Start of the budget period holding `nowMs` (UTC): 0 for `total`. */
export function periodStartMs(period: BudgetPeriod, nowMs: number): number {
  if (period === 'total') return 0;
  const d = new Date(nowMs);
  return period === 'daily'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
