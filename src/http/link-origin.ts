/**
 * Where tracked links point. Never taken from an arbitrary Host header (`Host: evil.example` must not turn a
 * promotion into a link to evil.example): the public URL when configured; else the allowed origin whose host
 * the request named; else the address the server listens on.
 */
export type LinkOrigins = {
  originFor(request: Request): string;
  /** True when the operator named where clients reach the gateway (public URL or allowed hosts). */
  configured: boolean;
};

/** `Host` as clients may spell it (any case, a trailing dot, the scheme's default port) reduced to one form. */
function normalHost(host: string, scheme: 'http' | 'https'): string {
  const lower = host.toLowerCase();
  const withoutPort = lower.endsWith(scheme === 'https' ? ':443' : ':80') ? lower.slice(0, lower.lastIndexOf(':')) : lower;
  return withoutPort.endsWith('.') ? withoutPort.slice(0, -1) : withoutPort.replace(/\.:/, ':');
}

export function createLinkOrigins(opts: { publicUrl: string | null; allowedOrigins: readonly string[]; listenOrigin: () => string }): LinkOrigins {
  // Keyed by the host as each scheme's clients may send it; an origin's own default port is implied.
  const byHost = new Map<string, string>();
  for (const origin of opts.allowedOrigins) {
    const scheme = origin.startsWith('https://') ? 'https' : 'http';
    byHost.set(normalHost(origin.slice(origin.indexOf('://') + 3), scheme), origin);
  }
  const { publicUrl } = opts;
  return {
    configured: publicUrl !== null || byHost.size > 0,
    originFor(request) {
      if (publicUrl !== null) return publicUrl;
      const host = request.headers.get('host');
      if (!host) return opts.listenOrigin();
      return byHost.get(normalHost(host, 'http')) ?? byHost.get(normalHost(host, 'https')) ?? opts.listenOrigin();
    },
  };
}

/** `http://host:port` for a listen address, IPv6 in brackets. */
export function listenOriginOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
