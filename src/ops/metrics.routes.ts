import { Elysia } from 'elysia';
import type { AdminAuth } from '../admin/admin-token';
import { ADMIN_SECURITY, describe } from '../http/docs';
import { unauthorized } from '../http/errors';
import { hashSecret, sameHash } from '../keys/key-format';

/** Loopback and private (RFC 1918, IPv6 unique-local) listen addresses: only hosts on that network can connect. */
export function isPrivateListenAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  if (/^f[cd][0-9a-f]{0,2}:/.test(h)) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/.exec(h.replace(/^::ffff:/, ''));
  if (!v4) return false;
  const [a, b] = [Number(v4[1]), Number(v4[2])];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** A reverse proxy in front of the gateway adds one of these: the request then may come from anywhere. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

/**
 * Who may read /metrics: the admin token, the read-only metrics token (VEXRAIL_METRICS_TOKEN), or, when no
 * metrics token is set, anyone if the server listens on a loopback or private address and the request did not
 * come through a proxy. Setting a metrics token turns anonymous reads off (a proxy that adds no forwarding
 * header would otherwise publish them).
 */
export function metricsAccess(deps: { adminAuth: AdminAuth; metricsToken: string | null; listenHost: string }) {
  const metricsHash = deps.metricsToken ? hashSecret(deps.metricsToken) : null;
  const openOnNetwork = metricsHash === null && isPrivateListenAddress(deps.listenHost);
  return (request: Request): boolean => {
    const authorization = request.headers.get('authorization');
    if (authorization) {
      if (deps.adminAuth.check(authorization)) return true;
      const match = /^Bearer\s+(\S{1,512})$/i.exec(authorization);
      // A wrong token is refused even where anonymous reads are allowed: a client sending one has a bug to see.
      return metricsHash !== null && match !== null && sameHash(hashSecret(match[1]), metricsHash);
    }
    return openOnNetwork && !FORWARDING_HEADERS.some((name) => request.headers.has(name));
  };
}

export function metricsRoutes(deps: { allowed: (request: Request) => boolean; render: () => string }) {
  return new Elysia({ name: 'metrics-routes' }).get('/metrics', ({ request }) => {
    if (!deps.allowed(request)) throw unauthorized('invalid_admin_token', 'Missing or invalid admin or metrics bearer token');
    return new Response(deps.render(), { headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' } });
  }, {
    detail: describe({
      tags: ['Operations'],
      summary: 'Prometheus metrics',
      description: 'Prometheus text format (0.0.4). Readable with the admin token or the read-only metrics token ' +
        '(`VEXRAIL_METRICS_TOKEN`) as a Bearer token. When no metrics token is set, also without a token if the server ' +
        'listens on a loopback or private address and the request carries no proxy header (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`). ' +
        'Labels are route templates, providers, models and reasons, never key, project or conversation ids.',
      security: ADMIN_SECURITY,
      ok: { description: 'Metrics in Prometheus text format', schema: { type: 'string' }, extraContent: { 'text/plain': { schema: { type: 'string' } } } },
      errors: [401],
    }),
  });
}
