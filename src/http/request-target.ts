/**
 * The one place a request's path is derived. Every check, the request log and the router see the path this
 * module returns: `createApp` hands the router a request whose URL yields exactly this path (see
 * `routableRequest`), so a check can never look at one path while the router serves another.
 */
export type RequestTarget = {
  /** As sent, percent-encoding kept (the router decodes parameters itself); always starts with '/'. */
  path: string;
  /** '' or the query string with its leading '?'. */
  search: string;
  /** Index in `request.url` where the path starts. */
  pathStart: number;
};

/** Origin of the URL the router sees when the request's own URL cannot serve (no or odd Host header). */
const ROUTING_ORIGIN = 'http://vexrail.internal';
/** Elysia's router finds the path at the first '/' at or after this index of `request.url`. */
const ROUTER_PATH_SEARCH_FROM = 11;

function wellEncoded(text: string): boolean {
  if (!text.includes('%')) return true;
  try {
    decodeURIComponent(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Bun's `request.url` is `http://host/path?query`, or the bare origin-form target when the Host header is
 * empty, missing or not a host (`a/bc`, `x y`). Null when the target cannot be parsed: not origin-form or
 * http(s) absolute-form, a fragment, or broken percent-encoding (which the router would fail to decode).
 */
export function parseRequestTarget(url: string): RequestTarget | null {
  let pathStart = 0;
  if (url.charCodeAt(0) !== 47) {
    const schemeEnd = url.indexOf('://');
    const scheme = url.slice(0, schemeEnd);
    if (scheme !== 'http' && scheme !== 'https') return null;
    pathStart = url.indexOf('/', schemeEnd + 3);
    if (pathStart === -1) return null;
    const authority = url.slice(schemeEnd + 3, pathStart);
    if (authority.includes('?') || authority.includes('#')) return null;
  }
  const queryStart = url.indexOf('?', pathStart);
  const path = queryStart === -1 ? url.slice(pathStart) : url.slice(pathStart, queryStart);
  const search = queryStart === -1 ? '' : url.slice(queryStart);
  if (url.includes('#') || !wellEncoded(path) || !wellEncoded(search)) return null;
  return { path, search, pathStart };
}

/** The request itself when the router reads the same path from its URL, else a copy on a fixed origin. */
export function routableRequest(request: Request, target: RequestTarget): Request {
  if (request.url.indexOf('/', ROUTER_PATH_SEARCH_FROM) === target.pathStart) return request;
  // Same method, headers, body stream and abort signal; only the URL changes.
  return new Request(ROUTING_ORIGIN + target.path + target.search, request);
}
