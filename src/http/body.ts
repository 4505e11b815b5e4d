import { badRequest, payloadTooLarge } from './errors';

/**
 * The body could not be read to its end: the client closed the connection before sending all it declared, or its
 * chunked framing was broken. The client's doing, so a 400 (which it will most likely never see), not a 500.
 */
const unreadable = () => badRequest('body_incomplete', 'Request body could not be read to its end (the connection closed early or its framing is invalid)');

/**
 * Request bodies are read only by handlers, after their route's authentication, and never past the route's
 * limit: a declared Content-Length over the limit is refused unread, and a chunked body is read until it
 * passes the limit by one byte, then the rest is cancelled.
 */
export async function readBodyBytes(request: Request, limitBytes: number): Promise<Uint8Array> {
  const tooLarge = () => payloadTooLarge(`Request body is larger than ${limitBytes} bytes`);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limitBytes) throw tooLarge();
  if (!request.body) return new Uint8Array(0);
  if (declared !== null) {
    try {
      return new Uint8Array(await request.arrayBuffer());
    } catch {
      throw unreadable();
    }
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    let read: Awaited<ReturnType<typeof reader.read>>;
    try {
      read = await reader.read();
    } catch {
      throw unreadable();
    }
    const { done, value } = read;
    if (done) break;
    total += value.byteLength;
    if (total > limitBytes) {
      void reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Body as UTF-8 text; 400 for bytes that are not UTF-8. */
export async function readBodyText(request: Request, limitBytes: number): Promise<string> {
  const bytes = await readBodyBytes(request, limitBytes);
  try {
    return decoder.decode(bytes);
  } catch {
    throw badRequest('invalid_encoding', 'Request body is not valid UTF-8');
  }
}

/**
 * Deepest nesting of arrays and objects a JSON body may have. Real requests (tool schemas included) stay far
 * below it; a deeper body would later break JSON.stringify on its way upstream, so it is refused up front.
 */
export const MAX_JSON_DEPTH = 64;

/** True when `text` nests `[`/`{` deeper than `maxDepth` outside strings. Linear, no allocation. */
export function jsonNestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > maxDepth) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

/**
 * One JSON object. An empty body is `{}` when `emptyAsObject` (actions without parameters), else 400; bodies
 * nested deeper than MAX_JSON_DEPTH, invalid JSON and anything but an object are 400.
 */
export function parseJsonObject(text: string, opts: { emptyAsObject: boolean }): Record<string, any> {
  if (text.trim() === '') {
    if (opts.emptyAsObject) return {};
    throw badRequest('invalid_json', 'Request body is empty; send a JSON object');
  }
  if (jsonNestsDeeperThan(text, MAX_JSON_DEPTH))
    throw badRequest('json_too_deep', `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('invalid_json', 'Request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw badRequest('invalid_request_body', 'Request body must be a JSON object');
  return value as Record<string, any>;
}

/** A JSON object body read within `limitBytes` (see parseJsonObject for what is refused). */
export async function readJsonObject(request: Request, limitBytes: number, opts = { emptyAsObject: true }): Promise<Record<string, any>> {
  return parseJsonObject(await readBodyText(request, limitBytes), opts);
}
