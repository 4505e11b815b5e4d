import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Every `status code` pair the source under src/ can send a client, read from the ApiError shorthands and
 * constructors. The same reading as test/docs/readme-errors.test.ts, so the README table and the OpenAPI
 * examples are held to the same list.
 */
const ROOT = join(import.meta.dir, '..', '..');
const SHORTHANDS: Record<string, number> = { badRequest: 400, unauthorized: 401, forbidden: 403, notFound: 404, conflict: 409, unprocessable: 422 };
/** Call sites whose code is not a literal, with every code each can produce. */
const DYNAMIC_SITES: Record<string, (text: string) => string[]> = {
  'src/products/product-url.ts': (text) => [...text.matchAll(/\brefused\(\s*'([a-z0-9_]+)'/g)].map((m) => `400 ${m[1]}`),
};

/**
 * The codes every route input schema can answer: the validators exported by src/**\/*.inputs.ts and the chat
 * body's (built for the default limits).
 */
function schemaPairs(): string[] {
  const { schemaErrorCodes } = require(join(ROOT, 'src/http/schema.ts'));
  const { chatInput } = require(join(ROOT, 'src/chat/chat.model.ts'));
  const { DEFAULT_LIMITS } = require(join(ROOT, 'src/config/defaults.ts'));
  const schemas = [chatInput(DEFAULT_LIMITS).schema];
  for (const file of sourceFiles(join(ROOT, 'src')).filter((f) => f.endsWith('.inputs.ts')))
    for (const value of Object.values<any>(require(file))) if (value?.schema && typeof value.check === 'function') schemas.push(value.schema);
  const out: string[] = [];
  for (const schema of schemas) for (const [status, codes] of schemaErrorCodes(schema)) for (const code of codes) out.push(`${status} ${code}`);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/**
 * Every pair, plus the files whose error calls take a non-literal code (each must be listed in DYNAMIC_SITES).
 * `4xx upstream_rejected_request` stands for an upstream 4xx passed through under its own status.
 */
export function scanErrorCodes(): { pairs: Set<string>; dynamicFiles: string[]; dynamicSites: string[] } {
  const pairs = new Set<string>();
  const dynamicFiles: string[] = [];
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const rel = file.slice(ROOT.length + 1);
    for (const m of text.matchAll(/\b(badRequest|unauthorized|forbidden|notFound|conflict|unprocessable)\(\s*'([a-z0-9_]+)'/g)) pairs.add(`${SHORTHANDS[m[1]]} ${m[2]}`);
    for (const m of text.matchAll(/new ApiError\(\s*(\d{3}),\s*'[a-z_]+',\s*(?:[A-Za-z.]+ \?\? )?'([a-z0-9_]+)'/g)) pairs.add(`${m[1]} ${m[2]}`);
    if (/\bpayloadTooLarge\(/.test(text) && !rel.endsWith('http/errors.ts')) pairs.add('413 payload_too_large');
    if (/\binternalError\(/.test(text) && !rel.endsWith('http/errors.ts')) pairs.add('500 internal_error');
    if (/\b(badRequest|unauthorized|forbidden|notFound|conflict|unprocessable)\(\s*[^'\s)]/.test(text)) {
      dynamicFiles.push(rel);
      for (const pair of DYNAMIC_SITES[rel]?.(text) ?? []) pairs.add(pair);
    }
  }
  // Route input schemas (src/http/schema.ts) answer their fields' codes: read from the schemas themselves.
  for (const pair of schemaPairs()) pairs.add(pair);
  // Never seen by a client: the log's status for a client that left before its answer.
  pairs.delete('499 client_closed_request');
  // An upstream 4xx keeps its status and the upstream's own code when it has one (src/upstream/upstream-errors.ts).
  pairs.add('4xx upstream_rejected_request');
  return { pairs, dynamicFiles: dynamicFiles.sort(), dynamicSites: Object.keys(DYNAMIC_SITES).sort() };
}

export function errorCodesInSource(): Set<string> {
  return scanErrorCodes().pairs;
}
