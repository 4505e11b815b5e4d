import { Elysia } from 'elysia';
import type { Marketplace } from '../ads/marketplace';
import { describe, pathParam, listOf, pagedListOf } from '../http/docs';
import { readBodyText } from '../http/body';
import { conflict, notFound } from '../http/errors';
import { readBody } from '../http/schema';
import type { ProjectRow } from '../projects/projects.repo';
import type { Tx } from '../store/sql-store';
import type { ProjectsService } from '../projects/projects.service';
import { toClickView } from '../clicks/clicks.service';
import { AnalyticsQuery, CampaignsQuery, ClicksQuery, CreateCampaignBody, CreateProductBody, EarningsQuery, HistoryQuery, ImportQuery, InvalidateClickBody, ProductsQuery, UpdateCampaignBody, UpdateProductBody } from './market.inputs';
import { describeFor, READ as read, WRITE as write, OPERATOR_READ, OPERATOR_WRITE as operatorWrite, type AccessNeed, type ProjectAccess } from '../projects/project-access';
import { JSON_BODY_400 } from './admin.schemas';
import { AnalyticsSchema, CampaignEventSchema, CampaignSchema, ClickSchema, DeletedProductSchema, EarningsSchema, ImportBodySchema, ImportReportSchema, ProductSchema } from './market.schemas';

type Deps = { projects: ProjectsService; market: Marketplace; maxBodyBytes: number; maxImportBytes: number };
const pid = pathParam('id', 'Project id');
const cid = pathParam('campaign_id', 'Campaign id');
const prid = pathParam('product_id', 'Product id');
/** 400 codes of a product body: its fields, then the URL checks of src/products/product-url.ts. */
const PRODUCT_400 = [...JSON_BODY_400, 'invalid_value', 'invalid_type', 'invalid_url', 'url_has_userinfo', 'url_internal_address', 'advertiser_domain_not_verified', 'url_not_on_advertiser_domain'] as const;
const CAMPAIGN_409: Record<'activate' | 'pause' | 'archive', readonly [409, ...string[]]> = {
  activate: [409, 'campaign_archived', 'activation_refused'], pause: [409, 'campaign_archived'], archive: [409, 'campaign_archived'],
};
const PAGE_400 = [400, 'invalid_value', 'invalid_cursor'] as const;

function kindOf(project: ProjectRow, kind: 'publisher' | 'advertiser'): ProjectRow {
  if (project.kind === kind) return project;
  throw kind === 'advertiser'
    ? conflict('not_an_advertiser', 'This endpoint is for advertiser projects')
    : conflict('not_a_publisher', 'This endpoint is for publisher projects');
}

/** describe() documents JSON bodies; the import body is JSON Lines. */
function withNdjsonBody(detail: ReturnType<typeof describe>, schema: Record<string, unknown>) {
  return { ...detail, requestBody: { required: true, content: { 'application/x-ndjson': { schema } } } };
}

/**
 * Operator API for advertisers' products and campaigns, publishers' earnings, analytics and click refunds.
 * The admin guard runs before any body is read.
 */
export function marketRoutes(deps: Deps, access: ProjectAccess) {
  const { market } = deps;
  const tags = { products: [access.tag('products')], campaigns: [access.tag('campaigns')], money: [access.tag('earnings and analytics')] };
  /** The project, once the caller may act on it (checked before the body is read). */
  const project = async (request: Request, id: string, need: AccessNeed): Promise<ProjectRow> => (await access.project(request, id, need)).project;
  const d = describeFor(access);
  /** A product write and the campaign/index update it implies, in one transaction. */
  const catalog = <T>(p: ProjectRow, change: (tx: Tx) => Promise<T>, idsOf: (result: T) => string[]) => market.campaigns.applyCatalogChange(p.id, change, idsOf);
  const campaignAction = (action: 'activate' | 'pause' | 'archive', summary: string) =>
    [
      `/projects/:id/campaigns/:campaign_id/${action}`,
      async ({ request, params }: { request: Request; params: { id: string; campaign_id: string } }) => market.campaigns[action](await project(request, params.id, write), params.campaign_id),
      { parse: 'none' as const, detail: d({ tags: tags.campaigns, summary, parameters: [pid, cid], ok: { description: 'The campaign', schema: CampaignSchema }, errors: [404, CAMPAIGN_409[action]] }, write) },
    ] as const;

  return new Elysia({ name: `market-routes-${access.name}`, prefix: access.prefix })
    .post('/projects/:id/products', async ({ params, request, set }) => {
      const p = await project(request, params.id, write);
      const input = await readBody(request, CreateProductBody, deps.maxBodyBytes);
      // Campaigns that target all products or the product's category take it at once.
      const product = await catalog(p, (tx) => market.products.create(p, input, tx), (v) => [v.id]);
      set.status = 201;
      return product;
    }, { parse: 'none', detail: d({ tags: tags.products, summary: 'Add a product', description: 'A `sku` already used by another live product of the advertiser is a 409 `sku_taken`. Campaigns that target all products, or the product\'s category, serve it at once.', parameters: [pid], body: CreateProductBody.schema, ok: { status: 201, description: 'The product', schema: ProductSchema }, errors: [[400, ...PRODUCT_400], 404, [409, 'not_an_advertiser', 'sku_taken'], 413] }, write) })
    .patch('/projects/:id/products/:product_id', async ({ params, request }) => {
      const p = await project(request, params.id, write);
      const input = await readBody(request, UpdateProductBody, deps.maxBodyBytes);
      return catalog(p, (tx) => market.products.update(p, params.product_id, input, tx), (v) => [v.id]);
    }, {
      parse: 'none',
      detail: d({
        tags: tags.products, summary: 'Edit a product',
        description: 'Any field of the create body; only the fields sent change. `category` and `sku` may be null to clear them. Campaigns serving the product use the new text at once; a new category moves it into or out of category-targeted campaigns.',
        parameters: [pid, prid], body: UpdateProductBody.schema, ok: { description: 'The product', schema: ProductSchema },
        errors: [[400, ...PRODUCT_400], 404, [409, 'not_an_advertiser', 'sku_taken'], 413],
      }, write),
    })
    .delete('/projects/:id/products/:product_id', async ({ request, params }) => {
      const p = await project(request, params.id, write);
      return catalog(p, (tx) => market.products.remove(p, params.product_id, tx), (v) => [v.id]);
    }, {
      detail: d({
        tags: tags.products, summary: 'Delete a product',
        description: 'Soft delete: the product leaves every campaign and stops serving at once, and is no longer listed; impressions, clicks and analytics keep it, and links already shown still redirect, but their clicks are recorded invalid (product_deleted) and charge nothing. Its sku becomes free.',
        parameters: [pid, prid], ok: { description: 'Deleted', schema: DeletedProductSchema }, errors: [404, [409, 'not_an_advertiser']],
      }, write),
    })
    .get('/projects/:id/products', async ({ request, params, query }) => {
      await project(request, params.id, read);
      const { limit = 100, cursor } = ProductsQuery.check(query);
      return market.products.list(params.id, limit, cursor ?? null);
    }, { detail: d({ tags: tags.products, summary: 'List products, oldest first', description: 'Live products (deleted ones are not listed), in the order they were added.', parameters: [pid], query: ProductsQuery.schema, ok: { description: 'Products', schema: pagedListOf(ProductSchema) }, errors: [PAGE_400, 404] }, read) })
    .post('/projects/:id/products/import', async ({ params, request, query }) => {
      const p = await project(request, params.id, write);
      const { first_line = 1 } = ImportQuery.check(query);
      const text = await readBodyText(request, deps.maxImportBytes);
      return catalog(p, (tx) => market.products.importLines(p, text, first_line, tx), (r) => r.product_ids);
    }, {
      parse: 'none',
      detail: withNdjsonBody(d({
        tags: tags.products, summary: 'Import products from JSON Lines (upsert by sku)',
        description: 'One product object per line (content type application/x-ndjson), the fields of the create body. A line whose `sku` names a live product of the advertiser updates it (or leaves it unchanged); any other line creates a product, so a re-import updates instead of duplicating. Bad lines are reported with their line number. `first_line` offsets the reported numbers when a large file is sent in parts (the CLI does this).',
        parameters: [pid], query: ImportQuery.schema,
        ok: { description: 'Import report', schema: ImportReportSchema }, errors: [[400, 'invalid_encoding'], 404, [409, 'not_an_advertiser'], 413],
      }, write), ImportBodySchema),
    })
    .post('/projects/:id/campaigns', async ({ params, request, set }) => {
      const p = await project(request, params.id, write);
      const campaign = await market.campaigns.create(p, await readBody(request, CreateCampaignBody, deps.maxBodyBytes));
      set.status = 201;
      return campaign;
    }, { parse: 'none', detail: d({ tags: tags.campaigns, summary: 'Create a campaign (starts paused_user)', parameters: [pid], body: CreateCampaignBody.schema, ok: { status: 201, description: 'The campaign', schema: CampaignSchema }, errors: [[400, ...JSON_BODY_400, 'invalid_value'], 404, [409, 'not_an_advertiser'], 413] }, write) })
    .get('/projects/:id/campaigns', async ({ request, params, query }) => (await project(request, params.id, read), market.campaigns.list(params.id, CampaignsQuery.check(query).limit ?? 100)), {
      detail: d({ tags: tags.campaigns, summary: 'List campaigns, newest first', parameters: [pid], query: CampaignsQuery.schema, ok: { description: 'Campaigns', schema: listOf(CampaignSchema) }, errors: [[400, 'invalid_value'], 404] }, read),
    })
    .get('/projects/:id/campaigns/:campaign_id', async ({ request, params }) => (await project(request, params.id, read), market.campaigns.get(params.id, params.campaign_id)), {
      detail: d({ tags: tags.campaigns, summary: 'Get a campaign', parameters: [pid, cid], ok: { description: 'The campaign', schema: CampaignSchema }, errors: [404] }, read),
    })
    .patch('/projects/:id/campaigns/:campaign_id', async ({ params, request }) => {
      const p = await project(request, params.id, write);
      return market.campaigns.update(p, params.campaign_id, await readBody(request, UpdateCampaignBody, deps.maxBodyBytes));
    }, {
      parse: 'none',
      detail: d({ tags: tags.campaigns, summary: 'Edit a campaign', description: 'Any field of the create body; product_ids replaces the set.', parameters: [pid, cid], body: UpdateCampaignBody.schema, ok: { description: 'The campaign', schema: CampaignSchema }, errors: [[400, ...JSON_BODY_400, 'invalid_value'], 404, [409, 'campaign_archived', 'no_products'], 413] }, write),
    })
    .post(...campaignAction('activate', 'Activate (refused with every unmet reason: domain_unverified, no_products, no_funds, end_date_passed)'))
    .post(...campaignAction('pause', 'Pause (paused_user)'))
    .post(...campaignAction('archive', 'Archive (final)'))
    .get('/projects/:id/campaigns/:campaign_id/history', async ({ request, params, query }) => (await project(request, params.id, read), market.campaigns.history(params.id, params.campaign_id, HistoryQuery.check(query).limit ?? 500)), {
      detail: d({ tags: tags.campaigns, summary: 'Campaign history, newest first', parameters: [pid, cid], query: HistoryQuery.schema, ok: { description: 'Events', schema: listOf(CampaignEventSchema) }, errors: [[400, 'invalid_value'], 404] }, read),
    })
    .get('/projects/:id/earnings', async ({ request, params, query }) => {
      kindOf(await project(request, params.id, read), 'publisher');
      const { limit = 100, cursor } = EarningsQuery.check(query);
      return market.earnings.view(params.id, limit, cursor ?? null);
    }, { detail: d({ tags: tags.money, summary: 'Publisher earnings: available, pending, total and transactions', parameters: [pid], query: EarningsQuery.schema, ok: { description: 'Earnings', schema: EarningsSchema }, errors: [PAGE_400, 404, [409, 'not_a_publisher']] }, read) })
    .get('/projects/:id/analytics', async ({ request, params, query }) => market.analytics.report(await project(request, params.id, read), AnalyticsQuery.check(query)), {
      detail: d({
        tags: tags.money, summary: 'Impressions, clicks, cost or earnings, average CPC, CTR, no-fill reasons; per day and per campaign',
        description: 'Advertiser projects report cost, publisher projects earnings (and no-fill reasons). The range is whole UTC days, `from` to `to` inclusive, at most 366 days.',
        parameters: [pid], query: AnalyticsQuery.schema,
        ok: { description: 'Report', schema: AnalyticsSchema }, errors: [[400, 'invalid_value'], 404],
      }, read),
    })
    .get('/projects/:id/clicks', async ({ request, params, query }) => {
      const p = await project(request, params.id, read);
      const { campaign_id, status, reason, limit = 100, cursor } = ClicksQuery.check(query);
      return market.clicks.list(p.kind === 'advertiser' ? 'advertiser' : 'publisher', p.id, { campaign_id, status, reason, limit, cursor: cursor ?? null });
    }, {
      detail: d({
        tags: tags.money, summary: 'List clicks, newest first',
        description: 'An advertiser project lists the clicks on its promotions, a publisher project the clicks its answers earned. Each click shows its status and, for invalid, unbilled and refunded clicks, the reason (`duplicate`, `non_human_agent`, `expired`, `budget_exhausted`, `funds_short`, `product_deleted`, or the operator\'s refund reason).',
        parameters: [pid], query: ClicksQuery.schema,
        ok: { description: 'Clicks', schema: pagedListOf(ClickSchema) }, errors: [PAGE_400, 404],
      }, read),
    })
    .get('/clicks/:click_id', async ({ request, params }) => {
      await access.operator(request, OPERATOR_READ);
      const click = await market.clicks.get(params.click_id);
      if (!click) throw notFound('click_not_found', `No click with id ${params.click_id}`);
      return toClickView(click);
    }, { detail: d({ tags: tags.money, summary: 'One click with its status and money split', parameters: [pathParam('click_id', 'Click id')], ok: { description: 'The click', schema: ClickSchema }, errors: [404] }, OPERATOR_READ) })
    .post('/clicks/:click_id/invalidate', async ({ params, request }) => (await access.operator(request, operatorWrite), toClickView(await market.clicks.refund(params.click_id, (await readBody(request, InvalidateClickBody, deps.maxBodyBytes)).reason ?? 'invalidated'))), {
      parse: 'none',
      detail: d({ tags: tags.money, summary: 'Invalidate a charged click: the advertiser is refunded, the pending publisher earning reversed', parameters: [pathParam('click_id', 'Click id')], body: InvalidateClickBody.schema, ok: { description: 'The click, now refunded', schema: ClickSchema }, errors: [[400, ...JSON_BODY_400], 404, [409, 'click_not_charged', 'earning_available'], 413] }, operatorWrite),
    });
}
