import { badRequest, payloadTooLarge } from './errors';

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
  if (declared !== null) return new Uint8Array(await request.arrayBuffer());
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
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

/** A JSON object body; an empty body is `{}` (actions without parameters), anything else not an object is 400. */
export async function readJsonObject(request: Request, limitBytes: number): Promise<Record<string, any>> {
  const text = await readBodyText(request, limitBytes);
  if (text.trim() === '') return {};
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
