/** Money is an integer count of micro-USD (1 USD = 1,000,000). Never a float. */
export const MICROS_PER_USD = 1_000_000;

const USD_PATTERN = /^(\d{1,12})(?:\.(\d{1,6}))?$/;

/** Parses a non-negative decimal USD string ("10", "10.5", "0.000001") into micro-USD; null when malformed. */
export function parseUsdToMicros(text: string): number | null {
  const match = USD_PATTERN.exec(text.trim());
  if (!match) return null;
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(6, '0'));
  const micros = whole * MICROS_PER_USD + fraction;
  return Number.isSafeInteger(micros) ? micros : null;
}

/** Formats micro-USD as a decimal USD string with at least two and at most six decimals ("10.00", "-0.000004"). */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_USD);
  let fraction = String(abs % MICROS_PER_USD).padStart(6, '0').replace(/0+$/, '');
  if (fraction.length < 2) fraction = fraction.padEnd(2, '0');
  return `${sign}${whole}.${fraction}`;
}

/** Token cost, rounded up to the next micro-USD so the platform never under-charges by rounding. */
export function tokenCostMicros(
  promptTokens: number,
  completionTokens: number,
  price: { inputMicrosPerMTok: number; outputMicrosPerMTok: number },
): number {
  const scaled = promptTokens * price.inputMicrosPerMTok + completionTokens * price.outputMicrosPerMTok;
  return Math.ceil(scaled / 1_000_000);
}
