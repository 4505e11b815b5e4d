import { connect } from 'node:net';

export type RawResponse = { status: number; headers: string; body: string; raw: string };

/**
 * Sends bytes exactly as given over a fresh TCP connection and reads until the server closes it. For
 * requests no HTTP client would send: odd Host headers, absolute-form targets, unnormalized paths.
 */
export function rawHttp(port: number, request: string | Buffer, timeoutMs = 3000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${JSON.stringify(String(request).slice(0, 120))}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer | string) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1')));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const split = raw.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
      resolve({ status, headers: raw.slice(0, split), body: split === -1 ? '' : raw.slice(split + 4), raw });
    });
  });
}

/** One request with `Connection: close`; `hostLine` is the whole Host header line, or '' for none. */
export function rawRequest(opts: { method: string; target: string; hostLine: string; headers?: string[]; body?: string; version?: '1.0' | '1.1' }): string {
  const lines = [`${opts.method} ${opts.target} HTTP/${opts.version ?? '1.1'}`];
  if (opts.hostLine) lines.push(opts.hostLine);
  lines.push(...(opts.headers ?? []), 'Connection: close');
  if (opts.body !== undefined) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(opts.body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${opts.body ?? ''}`;
}
