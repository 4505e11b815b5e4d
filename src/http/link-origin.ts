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

export function createLinkOrigins(opts: { publicUrl: string | null; allowedOrigins: readonly string[]; listenOrigin: () => string }): LinkOrigins {
  const byHost = new Map(opts.allowedOrigins.map((origin) => [origin.slice(origin.indexOf('://') + 3), origin]));
  const { publicUrl } = opts;
  return {
    configured: publicUrl !== null || byHost.size > 0,
    originFor(request) {
      if (publicUrl !== null) return publicUrl;
      const host = request.headers.get('host')?.toLowerCase();
      return (host && byHost.get(host)) ?? opts.listenOrigin();
    },
  };
}

/** `http://host:port` for a listen address, IPv6 in brackets. */
export function listenOriginOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
