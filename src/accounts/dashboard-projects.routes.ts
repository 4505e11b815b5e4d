import { Type as T } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { ProjectSchema } from '../admin/admin.schemas';
import { DASHBOARD_SECURITY, describe, pagedListOf } from '../http/docs';
import { createdCursor, createdCursorOf, pageOf } from '../http/paging';
import { queryValidator } from '../http/schema';
import { toProjectView, type ProjectsService } from '../projects/projects.service';
import type { AccountsService } from './accounts.service';
import { DASHBOARD_API, dashboardSession } from './dashboard-session';

const MAX_PAGE = 100;
const ProjectsQuery = queryValidator(T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50, description: `Page size, 1-${MAX_PAGE} (default 50)`, 'x-error-message': `must be an integer from 1 to ${MAX_PAGE}` })),
  cursor: T.Optional(T.String({ maxLength: 200, description: 'next_cursor of the previous page', 'x-error-code': 'invalid_cursor' })),
}));

/** The signed-in account's projects: its own only (the query is scoped by owner in the repository); the operator's: all. */
export function dashboardProjectsRoutes(deps: { accounts: AccountsService; projects: ProjectsService }) {
  const session = dashboardSession(deps.accounts);
  return new Elysia({ name: 'dashboard-projects-routes' }).get(`${DASHBOARD_API}/projects`, async ({ request, query }) => {
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
      tags: ['Dashboard accounts'],
      summary: 'Projects of the signed-in account, newest first (the operator sees every project)',
      security: DASHBOARD_SECURITY,
      query: ProjectsQuery.schema,
      ok: { description: 'A page of projects', schema: pagedListOf(ProjectSchema) },
      errors: [400, [401, 'not_signed_in']],
    }),
  });
}
