/** Money arrives as decimal USD strings with integer micros beside them: shown as currency, never through floats for sums. */
const usd = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });

/** Micro-dollars as currency, exact to the micro-dollar (at least two decimals; no rounding hides a charge). */
export function money(micros: number | null | undefined): string {
  if (micros === null || micros === undefined) return '—';
  return usd.format(micros / 1_000_000);
}

/** A time in the browser's own time zone. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : n.toLocaleString());
export const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The UTC day `days` before today, as the API's date parameters want it. */
export function dayOffset(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().slice(0, 10);
}
