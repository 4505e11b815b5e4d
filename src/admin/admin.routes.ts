import { Elysia } from 'elysia';
import { ADMIN_SECURITY, describe, pathParam, listOf, pagedListOf } from '../http/docs';
import { createdCursor, createdCursorOf, pageOf } from '../http/paging';
import { readBody } from '../http/schema';
import { CreateKeyBody, CreateProjectBody, pageQuery, RotateKeyBody, TopUpBody, UpdateKeyBody, UpdateProjectBody, UsageQuery, VerifyDomainBody } from './admin.inputs';
import type { KeysService } from '../keys/keys.service';
import type { ProjectsService } from '../projects/projects.service';
import type { WalletService } from '../wallet/wallet.service';
import { adminGuard, type AdminAuth } from './admin-token';
import { UsageSchema } from '../usage/usage.model';
import { usageRange, usageReport } from '../usage/usage.service';
import { DomainCheckSchema, JSON_BODY_400, KeySchema, NewKeySchema, ProjectSchema, TopUpResultSchema, WalletSchema } from './admin.schemas';

type Deps = {
  adminAuth: AdminAuth;
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


/** Operator API for projects, domains, keys and credit wallets; the admin guard runs before any body is read. */
export function adminRoutes(deps: Deps) {
  return new Elysia({ name: 'admin-routes', prefix: '/admin/v1' })
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
    })
    .get('/projects/:id', async ({ params }) => deps.projects.view(await deps.projects.get(params.id)), {
      detail: describe({ tags: ['Admin: projects'], summary: 'Get a project', security: ADMIN_SECURITY, parameters: [pid], ok: { description: 'The project', schema: ProjectSchema }, errors: [401, 404] }),
    })
    .patch('/projects/:id', async ({ params, request }) => deps.projects.view(await deps.projects.update(params.id, await readBody(request, UpdateProjectBody, deps.maxBodyBytes))), {
      parse: 'none',
      detail: describe({
        tags: ['Admin: projects'], summary: 'Update a project', description: 'A changed domain returns to `unverified` with a new token and must be verified again. Monetization needs a verified domain and an active key pair.',
        security: ADMIN_SECURITY, parameters: [pid],
        body: UpdateProjectBody.schema,
        ok: { description: 'The project', schema: ProjectSchema },
        errors: [
          [400, ...JSON_BODY_400, 'invalid_name', 'invalid_domain', 'invalid_link_domains', 'invalid_value'], 401,
          [403, 'domain_not_verified', 'no_active_key'], 404, [409, 'not_an_advertiser', 'not_a_publisher'], 413,
        ],
      }),
    })
    .post('/projects/:id/domain/verify', async ({ params, request }) => {
      const { project, detail } = await deps.projects.verifyDomain(params.id, (await readBody(request, VerifyDomainBody, deps.maxBodyBytes)).method);
      return { ...(await deps.projects.view(project)), detail };
    }, {
      parse: 'none',
      detail: describe({
        tags: ['Admin: projects'], summary: 'Verify the project domain',
        description: '`dns` looks for the TXT record `vexrail-verification=<token>` on the root domain (host @); `manual` is the operator\'s override and is recorded as such.',
        security: ADMIN_SECURITY, parameters: [pid],
        body: VerifyDomainBody.schema,
        ok: { description: 'The project with its new domain_status and a detail line', schema: { ...ProjectSchema, properties: { ...ProjectSchema.properties, detail: { type: 'string', description: 'What the check found, e.g. marked verified by the operator' } } } }, errors: [[400, ...JSON_BODY_400, 'invalid_method'], 401, 404, 413],
      }),
    })
    .get('/projects/:id/domain/checks', async ({ params }) => ({ object: 'list', data: (await deps.projects.listChecks(params.id)).map((c) => ({ ...c, created_at: new Date(c.created_at).toISOString() })) }), {
      detail: describe({ tags: ['Admin: projects'], summary: 'Domain verification history (latest 50)', security: ADMIN_SECURITY, parameters: [pid], ok: { description: 'Checks, newest first', schema: listOf(DomainCheckSchema) }, errors: [401, 404] }),
    })
    .post('/projects/:id/keys', async ({ params, request, set }) => {
      const project = await deps.projects.get(params.id);
      const pair = await deps.keys.generatePair(project, await readBody(request, CreateKeyBody, deps.maxBodyBytes));
      set.status = 201;
      set.headers['cache-control'] = 'no-store';
      return pair;
    }, {
      parse: 'none',
      detail: describe({
        tags: ['Admin: projects'], summary: 'Generate a key pair', description: 'The secret key appears only in this response. Needs a verified domain.',
        security: ADMIN_SECURITY, parameters: [pid], body: CreateKeyBody.schema,
        ok: { status: 201, description: 'The new pair, with its secret', schema: NewKeySchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_name', 'invalid_value'], 401, [403, 'domain_not_verified'], 404, 413],
      }),
    })
    .get('/projects/:id/keys', async ({ params }) => (await deps.projects.get(params.id), { object: 'list', data: await deps.keys.list(params.id) }), {
      detail: describe({ tags: ['Admin: projects'], summary: 'List key pairs (never the secret)', security: ADMIN_SECURITY, parameters: [pid], ok: { description: 'Key pairs, newest first', schema: listOf(KeySchema) }, errors: [401, 404] }),
    })
    .patch('/projects/:id/keys/:key_id', async ({ params, request }) => {
      await deps.projects.get(params.id);
      return deps.keys.update(params.id, params.key_id, await readBody(request, UpdateKeyBody, deps.maxBodyBytes));
    }, {
      parse: 'none',
      detail: describe({
        tags: ['Admin: projects'], summary: 'Edit a key pair: name, limits, expiry (effective on the next request)',
        description: 'Fields left out keep their value; `null` removes a limit.',
        security: ADMIN_SECURITY, parameters: [pid, kid],
        body: UpdateKeyBody.schema,
        ok: { description: 'The pair', schema: KeySchema }, errors: [[400, ...JSON_BODY_400, 'invalid_name', 'invalid_value'], 401, 404, 413],
      }),
    })
    .post('/projects/:id/keys/:key_id/rotate', async ({ params, request, set }) => {
      await deps.projects.get(params.id);
      const pair = await deps.keys.rotate(params.id, params.key_id, await readBody(request, RotateKeyBody, deps.maxBodyBytes));
      set.headers['cache-control'] = 'no-store';
      return pair;
    }, {
      parse: 'none',
      detail: describe({
        tags: ['Admin: projects'], summary: 'Rotate the secret key',
        description: 'A new secret key (shown only in this response; the publishable key stays). The previous secret keeps working until `previous_secret_valid_until`, `grace_period_seconds` from now (default 3600, 0 ends it at once, at most 30 days).',
        security: ADMIN_SECURITY, parameters: [pid, kid],
        body: RotateKeyBody.schema,
        ok: { description: 'The pair, with its new secret', schema: NewKeySchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_value'], 401, 404, [409, 'inactive_key'], 413],
      }),
    })
    .get('/projects/:id/keys/:key_id/usage', async ({ params, query }) => {
      await deps.projects.get(params.id);
      await deps.keys.get(params.id, params.key_id);
      const { from, to } = UsageQuery.check(query);
      const range = usageRange(from, to, Date.now());
      return usageReport(await deps.wallet.usage(params.id, params.key_id, range.fromMs, range.toMs), range, { projectId: params.id, keyId: params.key_id });
    }, {
      detail: describe({
        tags: ['Admin: projects'], summary: 'Usage of a key pair: requests, tokens and cost by day (and model)', security: ADMIN_SECURITY,
        parameters: [pid, kid], query: UsageQuery.schema, ok: { description: 'Usage', schema: UsageSchema }, errors: [[400, 'invalid_value'], 401, 404],
      }),
    })
    .post('/projects/:id/keys/:key_id/deactivate', async ({ params }) => (await deps.projects.get(params.id), deps.keys.deactivate(params.id, params.key_id)), {
      parse: 'none',
      detail: describe({ tags: ['Admin: projects'], summary: 'Deactivate a key pair (effective on the next request)', security: ADMIN_SECURITY, parameters: [pid, pathParam('key_id', 'Key pair id')], ok: { description: 'The pair', schema: KeySchema }, errors: [401, 404] }),
    })
    .post('/projects/:id/credits', async ({ params, request, set }) => {
      await deps.projects.get(params.id);
      const result = await deps.wallet.topUp(params.id, await readBody(request, TopUpBody, deps.maxBodyBytes));
      await deps.onFundsChanged(params.id);
      set.status = result.replayed ? 200 : 201;
      return { ...result, wallet: await deps.wallet.view(params.id, 10, null) };
    }, {
      parse: 'none',
      detail: describe({
        tags: ['Admin: wallets'], summary: 'Top up the credit wallet', description: 'Amount as a decimal string in USD. A repeated idempotency_key returns the original transaction (200) instead of charging twice.',
        security: ADMIN_SECURITY, parameters: [pid],
        body: TopUpBody.schema,
        ok: { status: 201, description: 'The top-up transaction and the wallet', schema: TopUpResultSchema },
        errors: [[400, ...JSON_BODY_400, 'invalid_amount', 'invalid_value'], 401, 404, [409, 'idempotency_key_reused'], 413],
      }),
    })
    .get('/projects/:id/wallet', async ({ params, query }) => {
      await deps.projects.get(params.id);
      const { limit = 100, cursor } = WalletQuery.check(query);
      return deps.wallet.view(params.id, limit, cursor ?? null);
    }, {
      detail: describe({
        tags: ['Admin: wallets'], summary: 'Credit wallet: balance, held, available and transactions (newest first)', security: ADMIN_SECURITY,
        parameters: [pid], query: WalletQuery.schema,
        ok: { description: 'The wallet', schema: WalletSchema }, errors: [[400, 'invalid_value', 'invalid_cursor'], 401, 404],
      }),
    });
}
