/**
 * One line per request: request id, project, model, status, latency, tokens. Never secrets or message
 * content. Each line is formatted when it is written and buffered; the background flusher writes the buffer out.
 * Formats: 'json' (one JSON object a line), 'logfmt' (key=value pairs, for log shippers that read them),
 * 'pretty' (aligned columns for a person at a terminal).
 */
export type LogLine = {
  request_id: string;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  project_id?: string;
  model?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  cost_micros?: number;
  streamed?: boolean;
  error_code?: string | null;
};

export type LogFormat = 'json' | 'logfmt' | 'pretty';

const MAX_BUFFERED_LINES = 50_000;

function logfmtValue(value: unknown): string {
  const text = value === null ? 'null' : String(value);
  return text === '' || /[\s="\\]/.test(text) || /[\u0000-\u001f]/.test(text) ? JSON.stringify(text) : text;
}

export function formatLogfmt(tsMs: number, line: LogLine): string {
  const parts = [`ts=${isoTimestamp(tsMs)}`];
  for (const [key, value] of Object.entries(line)) if (value !== undefined) parts.push(`${key}=${logfmtValue(value)}`);
  return parts.join(' ');
}

/** `09:41:07.123 POST /v1/chat/completions 200 812.4ms model=gpt-4o-mini tokens=12+40 cost=$0.000031 req=...` */
export function formatPretty(tsMs: number, line: LogLine): string {
  const time = isoTimestamp(tsMs).slice(11, 23);
  const parts = [time, line.method.padEnd(6), line.path, String(line.status), `${line.latency_ms.toFixed(1)}ms`];
  if (line.model) parts.push(`model=${line.model}`);
  if (line.prompt_tokens !== undefined || line.completion_tokens !== undefined) parts.push(`tokens=${line.prompt_tokens ?? 0}+${line.completion_tokens ?? 0}`);
  if (line.cost_micros !== undefined) parts.push(`cost=$${(line.cost_micros / 1_000_000).toFixed(6)}`);
  if (line.streamed) parts.push('stream');
  if (line.error_code) parts.push(`error=${line.error_code}`);
  if (line.project_id) parts.push(`project=${line.project_id}`);
  parts.push(`req=${line.request_id}`);
  // Control characters from a client-chosen path must not reach the terminal as escapes.
  return parts.join(' ').replace(/[\u0000-\u001f\u007f]/g, '?');
}

/** The ISO 8601 prefix of the second last formatted ('2026-12-05T22:41:07.'): lines come many per second. */
let isoSecond = Number.NaN;
let isoPrefix = '';

/** `new Date(tsMs).toISOString()` for a time in ms (years 0-9999), without a Date per call. */
export function isoTimestamp(tsMs: number): string {
  const ms = Math.floor(tsMs);
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  const fraction = ms - second * 1000;
  return `${isoPrefix}${fraction < 10 ? '00' : fraction < 100 ? '0' : ''}${fraction}Z`;
}

/** `JSON.stringify({ ts, ...line })`, the same text, without copying the line into a new object. */
export function formatJson(tsMs: number, line: LogLine): string {
  const body = JSON.stringify(line);
  return `{"ts":"${isoTimestamp(tsMs)}"${body.length > 2 ? ',' : ''}${body.slice(1)}`;
}

const FORMATTERS: Record<LogFormat, (tsMs: number, line: LogLine) => string> = {
  json: formatJson,
  logfmt: formatLogfmt,
  pretty: formatPretty,
};

export function createRequestLog(sink: (text: string) => void, enabled: boolean, format: LogFormat = 'json') {
  const toText = FORMATTERS[format];
  // Each line is formatted when it is written (a few µs, spread over the requests), so that a flush is one join
  // and one write: formatting a whole interval's lines at once held the event loop for milliseconds under load.
  let texts: string[] = [];
  return {
    write(line: LogLine): void {
      if (!enabled) return;
      if (texts.length >= MAX_BUFFERED_LINES) texts.shift();
      texts.push(toText(Date.now(), line));
    },
    flush(): void {
      if (texts.length === 0) return;
      const text = texts.join('\n') + '\n';
      texts = [];
      sink(text);
    },
  };
}
export type RequestLog = ReturnType<typeof createRequestLog>;
