import { DASHBOARD_API } from '../accounts/dashboard-session';

/**
 * The address of the client at the other end of a request's connection, recorded by the outer handler (which has
 * Bun's server at hand) for the routes that need it (sign-in limits). Never taken from headers a client can set.
 */
const addresses = new WeakMap<Request, string>();

/**
 * Where handlers read the client's address: the sign-in routes. Only their requests have it looked up (a system call
 * and a map entry per request, which every other request, the chat completions first, is spared). A prefix, so that
 * a variant of a path the router also serves (a trailing slash) still gets the address.
 */
const READS_ADDRESS = `${DASHBOARD_API}/auth/`;

export function needsClientAddress(path: string): boolean {
  return path.startsWith(READS_ADDRESS);
}

export function recordClientAddress(request: Request, address: string | undefined): void {
  if (address) addresses.set(request, address);
}

/** 'unknown' for requests that came in without a connection (in-process calls). */
export function clientAddressOf(request: Request): string {
  return addresses.get(request) ?? 'unknown';
}
