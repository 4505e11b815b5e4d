/** The dashboard's only way to the server: its documented JSON API under /dashboard/api/v1. */
export const API = '/dashboard/api/v1';

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly param: string | null = null) {
    super(message);
  }
}

let csrfToken = '';
export const setCsrf = (token: string) => { csrfToken = token; };

/** Calls the API; a JSON body for writes; throws ApiFailure with the server's own message. */
export async function api<T = any>(method: string, path: string, body?: unknown, opts: { raw?: string; contentType?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let payload: string | undefined;
  if (opts.raw !== undefined) {
    payload = opts.raw;
    headers['content-type'] = opts.contentType ?? 'text/plain';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(`${API}${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  } catch {
    throw new ApiFailure(0, 'network_error', 'The server could not be reached. Check that Vexrail is running.');
  }
  const text = await res.text();
  const json = text ? safeJson(text) : null;
  if (!res.ok) {
    const e = json?.error;
    if (res.status === 401 && e?.code === 'not_signed_in') window.dispatchEvent(new CustomEvent('vexrail:signed-out'));
    throw new ApiFailure(res.status, e?.code ?? 'http_error', e?.message ?? `Request failed (${res.status})`, e?.param ?? null);
  }
  return json as T;
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Every page of a cursor-paged list, up to `max` items. */
export async function allPages<T>(path: string, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: any = await api('GET', `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.data);
    cursor = page.has_more ? page.next_cursor : null;
  } while (cursor && out.length < max);
  return out;
}
