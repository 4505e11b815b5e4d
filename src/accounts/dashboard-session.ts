import { timingSafeEqual } from 'node:crypto';
import { forbidden, unauthorized } from '../http/errors';
import type { Account, AccountsService } from './accounts.service';

export const SESSION_COOKIE = 'vexrail_session';
export const DASHBOARD_API = '/dashboard/api/v1';

export const AccountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, email: { type: 'string' }, name: { type: 'string' },
    operator: { type: 'boolean' }, publisher: { type: 'boolean' }, advertiser: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
  },
};

/** The session token in the request's Cookie header, or null. */
export function sessionTokenOf(request: Request): string | null {
  const header = request.headers.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export type DashboardCaller = { account: Account; tokenHash: string; csrfToken: string };

/**
 * The guard of every dashboard route: the caller's session from its cookie (401 without one); with `csrf`, the
 * request must also carry the session's CSRF token (403); with `operator`, the account must be the operator's.
 * Routes call it before reading any body.
 */
export function dashboardSession(accounts: AccountsService) {
  return async function session(request: Request, opts: { csrf: boolean; operator?: boolean }): Promise<DashboardCaller> {
    const found = await accounts.authenticate(sessionTokenOf(request));
    if (!found) throw unauthorized('not_signed_in', 'Sign in to the dashboard first (no session, or it has ended)');
    if (opts.csrf) {
      const given = request.headers.get('x-csrf-token');
      if (!given || !sameText(given, found.csrfToken)) throw forbidden('csrf_token_mismatch', 'The x-csrf-token header is missing or is not this session\'s token');
    }
    if (opts.operator && !found.account.operator) throw forbidden('operator_only', 'Only an operator account may do this');
    return found;
  };
}
