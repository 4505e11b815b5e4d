/**
 * The address of the client at the other end of a request's connection, recorded by the outer handler (which has
 * Bun's server at hand) for the routes that need it (sign-in limits). Never taken from headers a client can set.
 */
const addresses = new WeakMap<Request, string>();

export function recordClientAddress(request: Request, address: string | undefined): void {
  if (address) addresses.set(request, address);
}

/** 'unknown' for requests that came in without a connection (in-process calls). */
export function clientAddressOf(request: Request): string {
  return addresses.get(request) ?? 'unknown';
}
