/**
 * `vexrail import-products PROJECT_ID FILE`: streams a JSON Lines file to a running gateway's
 * `POST /admin/v1/projects/{id}/products/import` in parts of whole lines (each part carries `first_line`,
 * so the server reports true file line numbers), draws a progress bar on stderr and prints a summary on
 * stdout. It only talks HTTP: no database, no server. It returns the exit code instead of exiting.
 */
import { statSync } from 'node:fs';
import type { Config } from '../config/config';
import { repeatedSkuMessage, skuOfLine } from '../products/import-rules';

export const EXIT_OK = 0;
/** Some lines were refused by the server (the others are imported). */
export const EXIT_SOME_FAILED = 1;
export const EXIT_USAGE = 2;
/** Unreachable server, refused token (401), unknown project (404) or any other refusal of the whole import. */
export const EXIT_SERVER = 3;

export const DEFAULT_LINES_PER_PART = 2_000;
/** A part is also closed before it passes this size, far below the server's 64 MiB body limit. */
const DEFAULT_MAX_PART_BYTES = 8 * 1024 * 1024;
/** The server's import body limit: a longer line can never be imported, so it is reported without sending it. */
const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;
const SHOWN_ERRORS = 20;
const BAR_WIDTH = 20;
const TTY_REDRAW_MS = 100;
const REQUEST_TIMEOUT_MS = 5 * 60_000;

export type ImportProductsConfig = Pick<Config, 'importProject' | 'importFile' | 'importUrl' | 'importToken'>;

export type ImportProductsOptions = {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** true: one progress line redrawn in place; false: one plain line per ~10 %. */
  isTTY?: boolean;
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  linesPerPart?: number;
  maxPartBytes?: number;
  maxLineBytes?: number;
  requestTimeoutMs?: number;
};

type LineError = { line: number; message: string };
type ImportReport = { imported: number; failed: number; errors: LineError[]; created?: number; updated?: number; unchanged?: number };
const UPSERT_COUNTS = ['created', 'updated', 'unchanged'] as const;

/** Ends the command with a message (on stderr) and an exit code. */
class Stop extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

const TOO_LONG = Symbol('line too long');

export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `[#########-----------]  45%  22,500/50,000 lines  1,234 failed  3.1 s` */
export function progressLine(done: number, total: number, failed: number, seconds: number): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.floor(ratio * BAR_WIDTH);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${percent}  ${formatCount(done)}/${formatCount(total)} lines  ${formatCount(failed)} failed  ${seconds.toFixed(1)} s`;
}

/** Counts lines without holding the file: every '\n', plus a last line that has none. */
async function countLines(path: string): Promise<number> {
  let count = 0;
  let last = 10;
  for await (const chunk of Bun.file(path).stream()) {
    if (chunk.length === 0) continue;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
    last = chunk[chunk.length - 1];
  }
  return last === 10 ? count : count + 1;
}

/** Yields the file's lines (without '\n') as it reads it; a line over `maxLineBytes` is dropped while read. */
async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<string | typeof TOO_LONG> {
  const decoder = new TextDecoder();
  let carry = '';
  let dropping = false;
  const finish = (line: string) => (line.length * 3 > maxLineBytes && Buffer.byteLength(line) > maxLineBytes ? TOO_LONG : line);
  for await (const chunk of Bun.file(path).stream()) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const piece = text.slice(start, nl);
      start = nl + 1;
      if (dropping) {
        dropping = false;
        yield TOO_LONG;
      } else {
        const line = carry + piece;
        carry = '';
        yield finish(line);
      }
    }
    if (!dropping) {
      carry += text.slice(start);
      // UTF-8 takes at least one byte per UTF-16 unit: past this length the line is certainly too long.
      if (carry.length > maxLineBytes) {
        dropping = true;
        carry = '';
      }
    }
  }
  const rest = dropping ? '' : carry + decoder.decode();
  if (dropping) yield TOO_LONG;
  else if (rest !== '') yield finish(rest);
}

function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

async function serverMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    const message = body?.error?.message ?? body?.message;
    if (typeof message === 'string' && message) return message;
  } catch {}
  return text.trim().slice(0, 200) || res.statusText || 'no details';
}

export async function runImportProducts(config: ImportProductsConfig, opts: ImportProductsOptions = {}): Promise<number> {
  const out = opts.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = opts.stderr ?? ((text: string) => void process.stderr.write(text));
  const isTTY = opts.isTTY ?? process.stderr.isTTY === true;
  const doFetch = opts.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
  const linesPerPart = Math.max(1, opts.linesPerPart ?? DEFAULT_LINES_PER_PART);
  const maxPartBytes = opts.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;

  const project = config.importProject ?? '';
  const file = config.importFile ?? '';
  const base = (config.importUrl ?? '').replace(/\/+$/, '');
  const token = config.importToken ?? '';
  const shownUrl = displayUrl(base);
  const projectPath = `${base}/admin/v1/projects/${encodeURIComponent(project)}`;

  const started = performance.now();
  const report: ImportReport = { imported: 0, failed: 0, errors: [] };
  /** The gateway reported created/updated/unchanged for every part so far (an older one reports imported only). */
  let upsertCounts = true;
  const upserts = { created: 0, updated: 0, unchanged: 0 };
  let total = 0;
  let done = 0;
  let progressOpen = false; // a TTY progress line waits for its newline
  let lastDraw = -Infinity;
  let lastDecile = 0;

  function drawProgress(final: boolean): void {
    const line = progressLine(done, total, report.failed, (performance.now() - started) / 1000);
    if (isTTY) {
      const now = performance.now();
      if (!final && now - lastDraw < TTY_REDRAW_MS) return;
      lastDraw = now;
      err(`\r${line}\x1b[K${final ? '\n' : ''}`);
      progressOpen = !final;
    } else {
      const decile = total > 0 ? Math.floor((Math.min(done, total) / total) * 10) : 10;
      if (decile > lastDecile) {
        lastDecile = decile;
        err(`${line}\n`);
      }
    }
  }

  function closeProgress(): void {
    if (progressOpen) err('\n');
    progressOpen = false;
  }

  /** One HTTP exchange; network failures and timeouts become Stop(EXIT_SERVER). */
  async function request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const error = e as Error & { code?: string };
      if (error?.name === 'TimeoutError' || error?.name === 'AbortError')
        throw new Stop(EXIT_SERVER, `no answer from the gateway at ${shownUrl} within ${Math.round(timeoutMs / 1000)} s`);
      const message = error?.message || String(e);
      const reason = error?.code && !message.includes(error.code) ? `${error.code}: ${message}` : message;
      throw new Stop(EXIT_SERVER, `cannot reach the gateway at ${shownUrl} (${reason}); is it running? Use --url or VEXRAIL_URL to point at it`);
    }
  }

  async function refusal(res: Response): Promise<Stop> {
    const message = await serverMessage(res);
    if (res.status === 401)
      return new Stop(EXIT_SERVER, `the gateway at ${shownUrl} refused the admin token (HTTP 401: ${message}); check --token or VEXRAIL_ADMIN_TOKEN`);
    if (res.status === 404) return new Stop(EXIT_SERVER, `project ${project} was not found at ${shownUrl} (HTTP 404: ${message})`);
    return new Stop(EXIT_SERVER, `the gateway at ${shownUrl} answered HTTP ${res.status}: ${message}`);
  }

  /**
   * The first line of each sku the gateway applied in an earlier part. The gateway catches a sku repeated within
   * one part; a repeat in a later part is reported here, without sending it, so the rule is the same for the file.
   */
  const skuFirstLines = new Map<string, number>();

  function claimSkus(partSkus: Array<[number, string]>, failedLines: Set<number>): void {
    for (const [line, sku] of partSkus) if (!failedLines.has(line) && !skuFirstLines.has(sku)) skuFirstLines.set(sku, line);
  }

  async function sendPart(lines: string[], firstLine: number, localErrors: LineError[], partSkus: Array<[number, string]>): Promise<void> {
    const res = await request(`${projectPath}/products/import?first_line=${firstLine}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: lines.join('\n'),
    });
    if (!res.ok) throw await refusal(res);
    let part: ImportReport;
    try {
      part = (await res.json()) as ImportReport;
    } catch {
      throw new Stop(EXIT_SERVER, `the gateway at ${shownUrl} answered the import with something other than an import report`);
    }
    if (typeof part?.imported !== 'number' || typeof part?.failed !== 'number')
      throw new Stop(EXIT_SERVER, `the gateway at ${shownUrl} answered the import with something other than an import report`);
    report.imported += part.imported;
    report.failed += part.failed + localErrors.length;
    if (UPSERT_COUNTS.every((k) => typeof part[k] === 'number')) for (const k of UPSERT_COUNTS) upserts[k] += part[k]!;
    else upsertCounts = false;
    const partErrors = Array.isArray(part.errors) ? part.errors : [];
    claimSkus(partSkus, new Set([...partErrors, ...localErrors].map((e) => e.line)));
    if (report.errors.length < SHOWN_ERRORS) {
      const errors = [...partErrors, ...localErrors].sort((a, b) => a.line - b.line);
      report.errors.push(...errors.slice(0, SHOWN_ERRORS - report.errors.length));
    }
    done = firstLine - 1 + lines.length;
    drawProgress(false);
  }

  function printSummary(): void {
    const detail = upsertCounts && report.imported > 0 ? ` (${upserts.created} created, ${upserts.updated} updated, ${upserts.unchanged} unchanged)` : '';
    const lines = [`Imported ${report.imported} products${detail}, ${report.failed} lines failed.`];
    for (const e of report.errors) lines.push(`line ${e.line}: ${e.message}`);
    const unshown = report.failed - report.errors.length;
    if (unshown > 0) lines.push(`... and ${unshown} more failed lines`);
    out(`${lines.join('\n')}\n`);
  }

  try {
    if (!project || !file || !base) throw new Stop(EXIT_USAGE, 'usage: vexrail import-products PROJECT_ID FILE [--url URL] [--token TOKEN]');
    if (!token) throw new Stop(EXIT_USAGE, 'no admin token: pass --token TOKEN or set VEXRAIL_ADMIN_TOKEN');
    let isFile = false;
    try {
      isFile = statSync(file).isFile();
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw new Stop(EXIT_USAGE, `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
    }
    if (!isFile) throw new Stop(EXIT_USAGE, `cannot read ${file}: not a regular file`);

    // Check the token and the project before reading anything: a wrong one is reported at once.
    const probe = await request(projectPath, { headers: { authorization: `Bearer ${token}` } });
    if (!probe.ok) throw await refusal(probe);
    const info = (await probe.json().catch(() => null)) as { kind?: string } | null;
    if (!info || typeof info !== 'object')
      throw new Stop(EXIT_SERVER, `${shownUrl} does not look like a Vexrail gateway (unexpected answer for project ${project})`);
    if (info.kind !== undefined && info.kind !== 'advertiser')
      throw new Stop(EXIT_SERVER, `project ${project} is a ${info.kind} project: products can only be imported into advertiser projects`);

    try {
      total = await countLines(file);
    } catch (e) {
      throw new Stop(EXIT_USAGE, `cannot read ${file}: ${(e as Error).message}`);
    }
    err(`Importing ${formatCount(total)} lines from ${file} into project ${project} ...\n`);
    if (isTTY) drawProgress(false);

    let lines: string[] = [];
    let partBytes = 0;
    let localErrors: LineError[] = [];
    let partSkus: Array<[number, string]> = [];
    let lineNo = 0;
    const flush = async () => {
      if (lines.length === 0) return;
      const first = lineNo - lines.length + 1;
      const sending = lines;
      const local = localErrors;
      const skus = partSkus;
      lines = [];
      partBytes = 0;
      localErrors = [];
      partSkus = [];
      await sendPart(sending, first, local, skus);
    };
    try {
      for await (const line of readLines(file, maxLineBytes)) {
        let text: string;
        let bytes: number;
        if (line === TOO_LONG) {
          // Keep the numbering: an empty line is skipped by the server and the failure is reported here.
          text = '';
          bytes = 1;
          localErrors.push({ line: lineNo + 1, message: `line is longer than ${formatCount(maxLineBytes)} bytes (the import limit)` });
        } else {
          text = line;
          bytes = Buffer.byteLength(line) + 1;
        }
        if (lines.length > 0 && partBytes + bytes > maxPartBytes) await flush();
        const sku = line === TOO_LONG ? null : skuOfLine(text);
        const firstWithSku = sku === null ? undefined : skuFirstLines.get(sku);
        if (firstWithSku !== undefined) {
          localErrors.push({ line: lineNo + 1, message: repeatedSkuMessage(sku!, firstWithSku) });
          text = '';
          bytes = 1;
        } else if (sku !== null) partSkus.push([lineNo + 1, sku]);
        lineNo++;
        lines.push(text);
        partBytes += bytes;
        if (lines.length >= linesPerPart) await flush();
      }
      await flush();
    } catch (e) {
      if (e instanceof Stop) {
        // Everything before this part was imported: say so, and where the import stopped.
        if (done > 0) {
          closeProgress();
          printSummary();
          e.message += ` (the import stopped after line ${formatCount(done)} of ${formatCount(total)}; lines 1-${done} were processed, the rest was not sent)`;
        }
        throw e;
      }
      throw new Stop(EXIT_USAGE, `cannot read ${file}: ${(e as Error).message}`);
    }
    if (done > total) total = done; // the file grew while it was read
    drawProgress(true);
    printSummary();
    return report.failed === 0 ? EXIT_OK : EXIT_SOME_FAILED;
  } catch (e) {
    closeProgress();
    if (e instanceof Stop) {
      err(`vexrail: ${e.message}\n`);
      return e.exitCode;
    }
    err(`vexrail: import failed: ${(e as Error)?.message ?? String(e)}\n`);
    return EXIT_SOME_FAILED;
  }
}
