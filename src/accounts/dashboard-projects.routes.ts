import { Type as T } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { ProjectSchema } from '../admin/admin.schemas';
import { DashboardCreateProjectBody } from '../admin/admin.inputs';
import { DASHBOARD_SECURITY, describe, pagedListOf } from '../http/docs';
import { forbidden } from '../http/errors';
import { createdCursor, createdCursorOf, pageOf } from '../http/paging';
import { queryValidator, readBody } from '../http/schema';
import { toProjectView, type ProjectsService } from '../projects/projects.service';
import type { WalletService } from '../wallet/wallet.service';
import type { AccountsService } from './accounts.service';
import { DASHBOARD_API, dashboardSession } from './dashboard-session';

const MAX_PAGE = 100;
const MAX_BODY_BYTES = 16 * 1024;
const ProjectsQuery = queryValidator(T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50, description: `Page size, 1-${MAX_PAGE} (default 50)`, 'x-error-message': `must be an integer from 1 to ${MAX_PAGE}` })),
  cursor: T.Optional(T.String({ maxLength: 200, description: 'next_cursor of the previous page', 'x-error-code': 'invalid_cursor' })),
}));

/**
 * The signed-in account's project collection: its own projects only (the query is scoped by owner in the
 * repository; the operator's: all), and new projects it owns. A project's own routes are the shared ones of
 * src/admin/admin.routes.ts and market.routes.ts, mounted with the dashboard's access.
 */
export function dashboardProjectsRoutes(deps: { accounts: AccountsService; projects: ProjectsService; wallet: WalletService }) {
  const session = dashboardSession(deps.accounts);
  const tags = ['Dashboard: projects'];
  return new Elysia({ name: 'dashboard-projects-routes' })
    .post(`${DASHBOARD_API}/projects`, async ({ request, set }) => {
      const { account } = await session(request, { csrf: true });
      const input = await readBody(request, DashboardCreateProjectBody, MAX_BODY_BYTES);
      const kind = input.kind ?? (account.publisher ? 'publisher' : account.advertiser ? 'advertiser' : null);
      if (kind === null || !account[kind])
        throw forbidden('role_missing', `This account does not hold the ${kind ?? 'publisher or advertiser'} role: ask the operator`, 'kind');
      const project = await deps.projects.create({ ...input, kind, owner_account_id: account.id });
      await deps.wallet.ensureWallet(project.id);
      set.status = 201;
      return deps.projects.view(project);
    }, {
      parse: 'none',
      detail: describe({
        tags, summary: 'Create a project the account owns', security: DASHBOARD_SECURITY,
        description: 'Its kind is one of the account\'s roles. The answer carries the TXT record that verifies the domain.',
        body: DashboardCreateProjectBody.schema,
        ok: { status: 201, description: 'The project', schema: ProjectSchema },
        errors: [[400, 'invalid_json', 'invalid_request_body', 'invalid_name', 'invalid_domain', 'invalid_kind'], [401, 'not_signed_in'], [403, 'csrf_token_mismatch', 'role_missing'], 413],
      }),
    })
    .get(`${DASHBOARD_API}/projects`, async ({ request, query }) => {
      const caller = await session(request, { csrf: false });
      const { limit = 50, cursor } = ProjectsQuery.check(query);
      const after = createdCursor(cursor);
      const rows = caller.account.operator
        ? await deps.projects.list(limit + 1, after)
        : await deps.projects.listOwnedBy(caller.account.id, limit + 1, after);
      const { page, has_more, next_cursor } = pageOf(rows, limit, createdCursorOf);
      return { object: 'list', data: page.map(toProjectView), has_more, next_cursor };
    }, {
      detail: describe({
        tags, summary: 'Projects of the signed-in account, newest first (the operator sees every project)', security: DASHBOARD_SECURITY,
        query: ProjectsQuery.schema,
        ok: { description: 'A page of projects', schema: pagedListOf(ProjectSchema) },
        errors: [400, [401, 'not_signed_in']],
      }),
    });
}
