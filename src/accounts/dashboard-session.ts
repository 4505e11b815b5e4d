import { timingSafeEqual } from 'node:crypto';
import { DASHBOARD_SECURITY } from '../http/docs';
import { forbidden, unauthorized } from '../http/errors';
import type { ProjectAccess } from '../projects/project-access';
import type { ProjectsService } from '../projects/projects.service';
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

/**
 * The dashboard's access to project routes (src/admin/admin.routes.ts, market.routes.ts): the signed-in account's
 * own projects, read from the store scoped by owner (another account's project is a 404, as for no project); the
 * operator account's: every project. Writes need the session's CSRF token; operator actions the operator.
 */
export function dashboardAccess(deps: { accounts: AccountsService; projects: ProjectsService }): ProjectAccess {
  const session = dashboardSession(deps.accounts);
  return {
    name: 'dashboard',
    prefix: DASHBOARD_API,
    security: DASHBOARD_SECURITY,
    tag: (group) => `Dashboard: ${group}`,
    async project(request, id, opts) {
      const caller = await session(request, { csrf: opts.write, operator: opts.operator });
      const operator = caller.account.operator;
      return { project: await (operator ? deps.projects.get(id) : deps.projects.getOwned(id, caller.account.id)), operator };
    },
    async operator(request, opts) {
      await session(request, { csrf: opts.write, operator: true });
    },
    errors: ({ write, operator }) => {
      const forbidden = [...(write ? ['csrf_token_mismatch'] : []), ...(operator ? ['operator_only'] : [])];
      return [[401, 'not_signed_in'], ...(forbidden.length > 0 ? [[403, ...forbidden] as const] : [])];
    },
  };
}
