import { Type as T } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import { ProjectSchema } from '../admin/admin.schemas';
import { DASHBOARD_SECURITY, describe, listOf, pagedListOf, pathParam } from '../http/docs';
import { readBody } from '../http/schema';
import { CreateKeyBody, pageQuery } from '../admin/admin.inputs';
import { NewKeySchema, KeySchema, WalletSchema } from '../admin/admin.schemas';
import type { KeysService } from '../keys/keys.service';
import type { WalletService } from '../wallet/wallet.service';
import { createdCursor, createdCursorOf, pageOf } from '../http/paging';
import { queryValidator } from '../http/schema';
import { toProjectView, type ProjectsService } from '../projects/projects.service';
import type { AccountsService } from './accounts.service';
import { DASHBOARD_API, dashboardSession, type DashboardCaller } from './dashboard-session';

const MAX_PAGE = 100;
const ProjectsQuery = queryValidator(T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_PAGE, default: 50, description: `Page size, 1-${MAX_PAGE} (default 50)`, 'x-error-message': `must be an integer from 1 to ${MAX_PAGE}` })),
  cursor: T.Optional(T.String({ maxLength: 200, description: 'next_cursor of the previous page', 'x-error-code': 'invalid_cursor' })),
}));

/** The signed-in account's projects: its own only (the query is scoped by owner in the repository); the operator's: all. */
const WalletQuery = pageQuery(1000, 100);
const MAX_BODY_BYTES = 16 * 1024;
const pid = pathParam('id', 'Project id');
const kid = pathParam('key_id', 'Key pair id');

export function dashboardProjectsRoutes(deps: { accounts: AccountsService; projects: ProjectsService; keys: KeysService; wallet: WalletService }) {
  const session = dashboardSession(deps.accounts);
  const tags = ['Dashboard accounts'];
  /** The project when the caller may see it (its owner, or the operator); 404 otherwise, as for no project at all. */
  const projectOf = (caller: DashboardCaller, id: string) =>
    caller.account.operator ? deps.projects.get(id) : deps.projects.getOwned(id, caller.account.id);
  const notOwned = [404, 'project_not_found'] as const;

  return new Elysia({ name: 'dashboard-projects-routes' })
    .get(`${DASHBOARD_API}/projects/:id`, async ({ request, params }) => {
      const caller = await session(request, { csrf: false });
      return deps.projects.view(await projectOf(caller, params.id));
    }, {
      detail: describe({ tags, summary: 'One of the account\'s projects', security: DASHBOARD_SECURITY, parameters: [pid], ok: { description: 'The project', schema: ProjectSchema }, errors: [[401, 'not_signed_in'], notOwned] }),
    })
    .get(`${DASHBOARD_API}/projects/:id/keys`, async ({ request, params }) => {
      const caller = await session(request, { csrf: false });
      const project = await projectOf(caller, params.id);
      return { object: 'list', data: await deps.keys.list(project.id) };
    }, {
      detail: describe({ tags, summary: 'The project\'s key pairs (prefixes and last use; never a secret)', security: DASHBOARD_SECURITY, parameters: [pid], ok: { description: 'Key pairs', schema: listOf(KeySchema) }, errors: [[401, 'not_signed_in'], notOwned] }),
    })
    .post(`${DASHBOARD_API}/projects/:id/keys`, async ({ request, params, set }) => {
      const caller = await session(request, { csrf: true });
      const project = await projectOf(caller, params.id);
      const pair = await deps.keys.generatePair(project, await readBody(request, CreateKeyBody, MAX_BODY_BYTES));
      set.status = 201;
      set.headers['cache-control'] = 'no-store';
      return pair;
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Create a key pair: the secret is in this answer only', security: DASHBOARD_SECURITY, parameters: [pid], body: CreateKeyBody.schema, ok: { status: 201, description: 'The key pair, with its secret shown once', schema: NewKeySchema }, errors: [400, [401, 'not_signed_in'], [403, 'csrf_token_mismatch'], notOwned, 413] }),
    })
    .post(`${DASHBOARD_API}/projects/:id/keys/:key_id/deactivate`, async ({ request, params }) => {
      const caller = await session(request, { csrf: true });
      const project = await projectOf(caller, params.id);
      return deps.keys.deactivate(project.id, params.key_id);
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Deactivate a key pair (takes effect on the next request)', security: DASHBOARD_SECURITY, parameters: [pid, kid], ok: { description: 'The key pair, now inactive', schema: KeySchema }, errors: [[401, 'not_signed_in'], [403, 'csrf_token_mismatch'], [404, 'project_not_found', 'key_not_found']] }),
    })
    .get(`${DASHBOARD_API}/projects/:id/wallet`, async ({ request, params, query }) => {
      const caller = await session(request, { csrf: false });
      const project = await projectOf(caller, params.id);
      const { limit = 100, cursor } = WalletQuery.check(query);
      return deps.wallet.view(project.id, limit, cursor ?? null);
    }, {
      detail: describe({ tags, summary: 'The project\'s credit wallet: balance, held, and its transactions, newest first', security: DASHBOARD_SECURITY, parameters: [pid], query: WalletQuery.schema, ok: { description: 'The wallet', schema: WalletSchema }, errors: [400, [401, 'not_signed_in'], notOwned] }),
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
      tags: ['Dashboard accounts'],
      summary: 'Projects of the signed-in account, newest first (the operator sees every project)',
      security: DASHBOARD_SECURITY,
      query: ProjectsQuery.schema,
      ok: { description: 'A page of projects', schema: pagedListOf(ProjectSchema) },
      errors: [400, [401, 'not_signed_in']],
    }),
  });
}
