import { badRequest } from '../http/errors';
import { formatMicros } from '../money/money';
import type { UsageRow } from '../wallet/wallet.repo';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 366;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Midnight UTC of a real calendar date written YYYY-MM-DD, else null. */
function dayStart(day: string): number | null {
  if (!DATE.test(day)) return null;
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === day ? ms : null;
}

/** `from` and `to` are UTC days, both included; by default the 30 days ending today (usage reports and analytics). */
export function usageRange(from: unknown, to: unknown, nowMs: number) {
  const toDay = typeof to === 'string' ? to : new Date(nowMs).toISOString().slice(0, 10);
  const toStart = dayStart(toDay);
  if (toStart === null) throw badRequest('invalid_value', 'to must be a date like 2026-01-31', 'to');
  const fromDay = typeof from === 'string' ? from : new Date(toStart - 29 * DAY_MS).toISOString().slice(0, 10);
  const fromMs = dayStart(fromDay);
  if (fromMs === null) throw badRequest('invalid_value', 'from must be a date like 2026-01-31', 'from');
  const toMs = toStart + DAY_MS;
  if (toMs <= fromMs) throw badRequest('invalid_value', 'from must not be after to', 'from');
  if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) throw badRequest('invalid_value', `the range is limited to ${MAX_RANGE_DAYS} days`, 'from');
  return { fromMs, toMs, from: fromDay, to: toDay };
}

type Totals = { requests: number; prompt_tokens: number; completion_tokens: number; cost_micros: number };

function totalsView(t: Totals) {
  return {
    requests: t.requests,
    prompt_tokens: t.prompt_tokens,
    completion_tokens: t.completion_tokens,
    total_tokens: t.prompt_tokens + t.completion_tokens,
    cost: formatMicros(t.cost_micros),
    cost_micros: t.cost_micros,
  };
}

const zero = (): Totals => ({ requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_micros: 0 });
function add(into: Totals, r: Totals) {
  into.requests += r.requests;
  into.prompt_tokens += r.prompt_tokens;
  into.completion_tokens += r.completion_tokens;
  into.cost_micros += r.cost_micros;
}

/** Ledger usage rows (day x model) as the report: totals, per day (with its models) and per model. */
export function usageReport(rows: UsageRow[], range: { from: string; to: string }, scope: { projectId: string; keyId: string | null }) {
  const total = zero();
  const days = new Map<string, { totals: Totals; models: Array<{ model: string } & ReturnType<typeof totalsView>> }>();
  const models = new Map<string, Totals>();
  for (const r of rows) {
    add(total, r);
    let day = days.get(r.day);
    if (!day) days.set(r.day, (day = { totals: zero(), models: [] }));
    add(day.totals, r);
    day.models.push({ model: r.model, ...totalsView(r) });
    let m = models.get(r.model);
    if (!m) models.set(r.model, (m = zero()));
    add(m, r);
  }
  return {
    object: 'usage' as const,
    project_id: scope.projectId,
    key_id: scope.keyId,
    from: range.from,
    to: range.to,
    ...totalsView(total),
    days: [...days].map(([date, d]) => ({ date, ...totalsView(d.totals), models: d.models })),
    models: [...models].map(([model, t]) => ({ model, ...totalsView(t) })),
  };
}
