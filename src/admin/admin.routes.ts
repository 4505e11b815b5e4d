import { Elysia } from 'elysia';
import { ADMIN_SECURITY, describe, pathParam, listOf, pagedListOf } from '../http/docs';
import { forbidden } from '../http/errors';
import { createdCursor, createdCursorOf, pageOf } from '../http/paging';
import { readBody } from '../http/schema';
import { CreateKeyBody, CreateProjectBody, pageQuery, RotateKeyBody, TopUpBody, UpdateKeyBody, UpdateProjectBody, UsageQuery, VerifyDomainBody } from './admin.inputs';
import type { KeysService } from '../keys/keys.service';
import { describeFor, READ as read, WRITE as write, OPERATOR_WRITE, type ProjectAccess } from '../projects/project-access';
import type { ProjectsService } from '../projects/projects.service';
import type { WalletService } from '../wallet/wallet.service';
import { adminGuard, type AdminAuth } from './admin-token';
import { UsageSchema } from '../usage/usage.model';
import { usageRange, usageReport } from '../usage/usage.service';
import { DomainCheckSchema, JSON_BODY_400, KeySchema, NewKeySchema, ProjectSchema, TopUpResultSchema, WalletSchema } from './admin.schemas';

type Deps = {
  maxBodyBytes: number;
  projects: ProjectsService;
  keys: KeysService;
  wallet: WalletService;
  onFundsChanged: (projectId: string) => unknown;
};

const MAX_PROJECTS_PAGE = 1000;
const ProjectsQuery = pageQuery(MAX_PROJECTS_PAGE, 100);
const WalletQuery = pageQuery(1000, 100);
const pid = pathParam('id', 'Project id');
const kid = pathParam('key_id', 'Key pair id');

/** The admin API's project collection: create and list every project (the dashboard has its own, scoped to the account). */
export function adminProjectCollectionRoutes(deps: Deps & { adminAuth: AdminAuth }) {
  return new Elysia({ name: 'admin-project-collection-routes', prefix: '/admin/v1' })
    .onBeforeHandle(adminGuard(deps.adminAuth))
    .post('/projects', async ({ request, set }) => {
      const project = await deps.projects.create(await readBody(request, CreateProjectBody, deps.maxBodyBytes));
      await deps.wallet.ensureWallet(project.id);
      set.status = 201;
      return deps.projects.view(project);
    }, {
      parse: 'none',
      detail: describe({
        tags: ['Admin: projects'], summary: 'Create a project', security: ADMIN_SECURITY,
        body: CreateProjectBody.schema,
        ok: { status: 201, description: 'The project, with the TXT record that verifies its domain', schema: ProjectSchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_kind', 'invalid_name', 'invalid_domain'], 401, 413],
      }),
    })
    .get('/projects', async ({ query }) => {
      const { limit = 100, cursor } = ProjectsQuery.check(query);
      const { page, has_more, next_cursor } = pageOf(await deps.projects.list(limit + 1, createdCursor(cursor)), limit, createdCursorOf);
      return { object: 'list', data: await Promise.all(page.map(deps.projects.view)), has_more, next_cursor };
    }, {
      detail: describe({
        tags: ['Admin: projects'], summary: 'List projects, newest first', security: ADMIN_SECURITY,
        query: ProjectsQuery.schema,
        ok: { description: 'Projects', schema: pagedListOf(ProjectSchema) }, errors: [[400, 'invalid_value', 'invalid_cursor'], 401],
      }),
    });
}

/**
 * A project's own routes: the project, its domain, key pairs and credit wallet. Mounted twice: under /admin/v1 for
 * the admin token, and under /dashboard/api/v1 for the project's owner (and the operator account); `access` decides
 * who may act, in each route before its body is read. Operator actions (top-ups, manual domain verification,
 * reassigning the owner) need the operator.
 */
export function projectRoutes(deps: Deps, access: ProjectAccess) {
  const tags = { projects: [access.tag('projects')], wallets: [access.tag('wallets')] };
  const d = describeFor(access);
  return new Elysia({ name: `project-routes-${access.name}`, prefix: access.prefix })
    .get('/projects/:id', async ({ request, params }) => deps.projects.view((await access.project(request, params.id, read)).project), {
      detail: d({ tags: tags.projects, summary: 'Get a project', parameters: [pid], ok: { description: 'The project', schema: ProjectSchema }, errors: [404] }, read),
    })
    .patch('/projects/:id', async ({ params, request }) => {
      const caller = await access.project(request, params.id, write);
      const input = await readBody(request, UpdateProjectBody, deps.maxBodyBytes);
      if (input.owner_account_id !== undefined && !caller.operator) throw forbidden('operator_only', 'Only the operator assigns a project\'s owner', 'owner_account_id');
      return deps.projects.view(await deps.projects.update(caller.project.id, input));
    }, {
      parse: 'none',
      detail: d({
        tags: tags.projects, summary: 'Update a project', description: 'A changed domain returns to `unverified` with a new token and must be verified again. Monetization needs a verified domain and an active key pair. Only the operator changes `owner_account_id`.',
        parameters: [pid],
        body: UpdateProjectBody.schema,
        ok: { description: 'The project', schema: ProjectSchema },
        errors: [
          [400, ...JSON_BODY_400, 'invalid_name', 'invalid_domain', 'invalid_link_domains', 'invalid_value', 'invalid_owner'],
          [403, 'domain_not_verified', 'no_active_key', 'operator_only'], 404, [409, 'not_an_advertiser', 'not_a_publisher'], 413,
        ],
      }, write),
    })
    .post('/projects/:id/domain/verify', async ({ params, request }) => {
      const caller = await access.project(request, params.id, write);
      const { method } = await readBody(request, VerifyDomainBody, deps.maxBodyBytes);
      if (method === 'manual' && !caller.operator) throw forbidden('operator_only', 'Only the operator marks a domain verified by hand; add the TXT record and check with method dns', 'method');
      const { project, detail } = await deps.projects.verifyDomain(caller.project.id, method);
      return { ...(await deps.projects.view(project)), detail };
    }, {
      parse: 'none',
      detail: d({
        tags: tags.projects, summary: 'Verify the project domain',
        description: '`dns` looks for the TXT record `vexrail-verification=<token>` on the root domain (host @); `manual` is the operator\'s override and is recorded as such.',
        parameters: [pid],
        body: VerifyDomainBody.schema,
        ok: { description: 'The project with its new domain_status and a detail line', schema: { ...ProjectSchema, properties: { ...ProjectSchema.properties, detail: { type: 'string', description: 'What the check found, e.g. marked verified by the operator' } } } },
        errors: [[400, ...JSON_BODY_400, 'invalid_method'], [403, 'operator_only'], 404, 413],
      }, write),
    })
    .get('/projects/:id/domain/checks', async ({ request, params }) => {
      const { project } = await access.project(request, params.id, read);
      return { object: 'list', data: (await deps.projects.listChecks(project.id)).map((c) => ({ ...c, created_at: new Date(c.created_at).toISOString() })) };
    }, {
      detail: d({ tags: tags.projects, summary: 'Domain verification history (latest 50)', parameters: [pid], ok: { description: 'Checks, newest first', schema: listOf(DomainCheckSchema) }, errors: [404] }, read),
    })
    .post('/projects/:id/keys', async ({ params, request, set }) => {
      const { project } = await access.project(request, params.id, write);
      const pair = await deps.keys.generatePair(project, await readBody(request, CreateKeyBody, deps.maxBodyBytes));
      set.status = 201;
      set.headers['cache-control'] = 'no-store';
      return pair;
    }, {
      parse: 'none',
      detail: d({
        tags: tags.projects, summary: 'Generate a key pair', description: 'The secret key appears only in this response. Needs a verified domain.',
        parameters: [pid], body: CreateKeyBody.schema,
        ok: { status: 201, description: 'The new pair, with its secret', schema: NewKeySchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_name', 'invalid_value'], [403, 'domain_not_verified'], 404, 413],
      }, write),
    })
    .get('/projects/:id/keys', async ({ request, params }) => {
      const { project } = await access.project(request, params.id, read);
      return { object: 'list', data: await deps.keys.list(project.id) };
    }, {
      detail: d({ tags: tags.projects, summary: 'List key pairs (never the secret)', parameters: [pid], ok: { description: 'Key pairs, newest first', schema: listOf(KeySchema) }, errors: [404] }, read),
    })
    .patch('/projects/:id/keys/:key_id', async ({ params, request }) => {
      const { project } = await access.project(request, params.id, write);
      return deps.keys.update(project.id, params.key_id, await readBody(request, UpdateKeyBody, deps.maxBodyBytes));
    }, {
      parse: 'none',
      detail: d({
        tags: tags.projects, summary: 'Edit a key pair: name, limits, expiry (effective on the next request)',
        description: 'Fields left out keep their value; `null` removes a limit.',
        parameters: [pid, kid],
        body: UpdateKeyBody.schema,
        ok: { description: 'The pair', schema: KeySchema }, errors: [[400, ...JSON_BODY_400, 'invalid_name', 'invalid_value'], 404, 413],
      }, write),
    })
    .post('/projects/:id/keys/:key_id/rotate', async ({ params, request, set }) => {
      const { project } = await access.project(request, params.id, write);
      const pair = await deps.keys.rotate(project.id, params.key_id, await readBody(request, RotateKeyBody, deps.maxBodyBytes));
      set.headers['cache-control'] = 'no-store';
      return pair;
    }, {
      parse: 'none',
      detail: d({
        tags: tags.projects, summary: 'Rotate the secret key',
        description: 'A new secret key (shown only in this response; the publishable key stays). The previous secret keeps working until `previous_secret_valid_until`, `grace_period_seconds` from now (default 3600, 0 ends it at once, at most 30 days).',
        parameters: [pid, kid],
        body: RotateKeyBody.schema,
        ok: { description: 'The pair, with its new secret', schema: NewKeySchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_value'], 404, [409, 'inactive_key'], 413],
      }, write),
    })
    .get('/projects/:id/keys/:key_id/usage', async ({ request, params, query }) => {
      const { project } = await access.project(request, params.id, read);
      await deps.keys.get(project.id, params.key_id);
      const { from, to } = UsageQuery.check(query);
      const range = usageRange(from, to, Date.now());
      return usageReport(await deps.wallet.usage(project.id, params.key_id, range.fromMs, range.toMs), range, { projectId: project.id, keyId: params.key_id });
    }, {
      detail: d({
        tags: tags.projects, summary: 'Usage of a key pair: requests, tokens and cost by day (and model)',
        parameters: [pid, kid], query: UsageQuery.schema, ok: { description: 'Usage', schema: UsageSchema }, errors: [[400, 'invalid_value'], 404],
      }, read),
    })
    .get('/projects/:id/usage', async ({ request, params, query }) => {
      const { project } = await access.project(request, params.id, read);
      const { from, to } = UsageQuery.check(query);
      const range = usageRange(from, to, Date.now());
      return usageReport(await deps.wallet.usage(project.id, null, range.fromMs, range.toMs), range, { projectId: project.id, keyId: null });
    }, {
      detail: d({
        tags: tags.projects, summary: 'Usage of the project (every key pair): requests, tokens and cost by day (and model)',
        parameters: [pid], query: UsageQuery.schema, ok: { description: 'Usage', schema: UsageSchema }, errors: [[400, 'invalid_value'], 404],
      }, read),
    })
    .post('/projects/:id/keys/:key_id/deactivate', async ({ request, params }) => {
      const { project } = await access.project(request, params.id, write);
      return deps.keys.deactivate(project.id, params.key_id);
    }, {
      parse: 'none',
      detail: d({ tags: tags.projects, summary: 'Deactivate a key pair (effective on the next request)', parameters: [pid, kid], ok: { description: 'The pair', schema: KeySchema }, errors: [404] }, write),
    })
    .post('/projects/:id/credits', async ({ params, request, set }) => {
      const { project } = await access.project(request, params.id, OPERATOR_WRITE);
      const result = await deps.wallet.topUp(project.id, await readBody(request, TopUpBody, deps.maxBodyBytes));
      await deps.onFundsChanged(project.id);
      set.status = result.replayed ? 200 : 201;
      return { ...result, wallet: await deps.wallet.view(project.id, 10, null) };
    }, {
      parse: 'none',
      detail: d({
        tags: tags.wallets, summary: 'Top up the credit wallet (the operator)', description: 'Amount as a decimal string in USD. A repeated idempotency_key returns the original transaction (200) instead of charging twice.',
        parameters: [pid],
        body: TopUpBody.schema,
        ok: { status: 201, description: 'The top-up transaction and the wallet', schema: TopUpResultSchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_amount', 'invalid_value'], 404, [409, 'idempotency_key_reused'], 413],
      }, OPERATOR_WRITE),
    })
    .get('/projects/:id/wallet', async ({ request, params, query }) => {
      const { project } = await access.project(request, params.id, read);
      const { limit = 100, cursor } = WalletQuery.check(query);
      return deps.wallet.view(project.id, limit, cursor ?? null);
    }, {
      detail: d({
        tags: tags.wallets, summary: 'Credit wallet: balance, held, available and transactions (newest first)',
        parameters: [pid], query: WalletQuery.schema,
        ok: { description: 'The wallet', schema: WalletSchema }, errors: [[400, 'invalid_value', 'invalid_cursor'], 404],
      }, read),
    });
}

/** The admin API's access: the admin bearer token, for every project and every operator action. */
export function adminAccess(deps: { adminAuth: AdminAuth; projects: ProjectsService }): ProjectAccess {
  const guard = adminGuard(deps.adminAuth);
  return {
    name: 'admin',
    prefix: '/admin/v1',
    security: ADMIN_SECURITY,
    tag: (group) => `Admin: ${group}`,
    async project(request, id) {
      await guard({ request });
      return { project: await deps.projects.get(id), operator: true };
    },
    async operator(request) {
      await guard({ request });
    },
    errors: () => [401],
  };
}
