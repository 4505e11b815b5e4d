/**
 * Inputs of the marketplace admin API (products, campaigns, earnings, analytics, clicks): each schema
 * validates its route's body or query, types the handler and is that route's OpenAPI document. Services keep
 * what a schema cannot state: URL rules, money parsing and ranges, product ownership, state transitions.
 */
import { Type as T, type TSchema } from '@sinclair/typebox';
import { CAMPAIGN_LIMITS } from '../campaigns/campaigns.service';
import { CLICK_STATUSES, MAX_CLICKS_PAGE } from '../clicks/clicks.service';
import { NOT_BLANK, Nullable, queryValidator, StringEnum, USD_TEXT, validator } from '../http/schema';
import { MAX_PRODUCTS_PAGE, PRODUCT_LIMITS } from '../products/products.inputs';
export { CreateProductBody, UpdateProductBody } from '../products/products.inputs';
import { DAY_RANGE } from '../usage/usage.inputs';
import { pageQuery } from './admin.inputs';

const opt = <S extends TSchema>(schema: S) => T.Optional(schema);

const Targeting = T.Union([
  T.Object({ all_products: T.Literal(true) }, { additionalProperties: false }),
  T.Object({ categories: T.Array(T.String({ minLength: 1, maxLength: PRODUCT_LIMITS.categoryChars, pattern: NOT_BLANK }), { minItems: 1, maxItems: CAMPAIGN_LIMITS.categories }) }, { additionalProperties: false }),
  T.Null(),
], {
  description: 'null: the campaign serves its product_ids. `{"all_products": true}`: every live product of the advertiser. `{"categories": [...]}`: live products of these categories. Rule-based campaigns take products added or re-categorized later, at once. Not together with product_ids.',
  'x-error-message': `must be {"all_products": true}, {"categories": [up to ${CAMPAIGN_LIMITS.categories} category names]} or null`,
});

const campaignFields = {
  name: T.String({ minLength: 1, maxLength: CAMPAIGN_LIMITS.nameChars, pattern: NOT_BLANK, example: 'Kanbanix spring' }),
  context: T.String({ maxLength: CAMPAIGN_LIMITS.contextChars, example: 'teams planning projects', description: 'Free text that helps matching' }),
  base_cpc: T.String({ pattern: USD_TEXT, example: '0.40', description: 'Maximum bid per click, USD', 'x-error-message': 'must be a decimal string in USD, e.g. "0.40"' }),
  budget: T.String({ pattern: USD_TEXT, example: '50.00', description: 'USD, at least the base CPC', 'x-error-message': 'must be a decimal string in USD, e.g. "50.00"' }),
  budget_type: StringEnum(['daily', 'total'] as const, { default: 'total' }),
  start_at: Nullable(T.String({ format: 'date-time', example: '2027-01-01T00:00:00Z', 'x-error-message': 'must be an ISO 8601 date-time with a time zone' })),
  end_at: Nullable(T.String({ format: 'date-time', example: '2027-03-31T00:00:00Z', 'x-error-message': 'must be an ISO 8601 date-time with a time zone' })),
  product_ids: T.Array(T.String({ minLength: 1, maxLength: 100 }), { maxItems: CAMPAIGN_LIMITS.products, description: 'Serve these products (not with a targeting rule); in PATCH it replaces the set' }),
  targeting: Targeting,
};

export const CreateCampaignBody = validator(T.Object({
  name: campaignFields.name, base_cpc: campaignFields.base_cpc, budget: campaignFields.budget,
  context: opt(campaignFields.context), budget_type: opt(campaignFields.budget_type), start_at: opt(campaignFields.start_at),
  end_at: opt(campaignFields.end_at), product_ids: opt(campaignFields.product_ids), targeting: opt(campaignFields.targeting),
}, { additionalProperties: false }));

export const UpdateCampaignBody = validator(T.Object({
  name: opt(campaignFields.name), base_cpc: opt(campaignFields.base_cpc), budget: opt(campaignFields.budget),
  context: opt(campaignFields.context), budget_type: opt(campaignFields.budget_type), start_at: opt(campaignFields.start_at),
  end_at: opt(campaignFields.end_at), product_ids: opt(campaignFields.product_ids), targeting: opt(campaignFields.targeting),
}, { additionalProperties: false }));

export const InvalidateClickBody = validator(T.Object({
  reason: T.Optional(T.String({ minLength: 1, maxLength: 200, default: 'invalidated', description: 'Shown in the clicks list and on the refund' })),
}, { additionalProperties: false }));

export const ProductsQuery = pageQuery(MAX_PRODUCTS_PAGE, 100);
export const EarningsQuery = pageQuery(1000, 100);

export const ImportQuery = queryValidator(T.Object({
  first_line: T.Optional(T.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, default: 1, description: 'Line number of the first line of this part (default 1)' })),
}));

const limitOnly = (max: number, fallback: number, what: string) => queryValidator(T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: max, default: fallback, description: `At most this many ${what}, 1-${max} (default ${fallback})`, 'x-error-message': `must be an integer from 1 to ${max}` })),
}));
export const CampaignsQuery = limitOnly(1000, 100, 'campaigns');
export const HistoryQuery = limitOnly(1000, 500, 'events');

export const AnalyticsQuery = queryValidator(T.Object({
  ...DAY_RANGE,
  campaign_id: T.Optional(T.String({ minLength: 1, maxLength: 100, description: 'Only this campaign (totals, daily and campaigns rows)' })),
  publisher_project_id: T.Optional(T.String({ minLength: 1, maxLength: 100, description: 'Advertiser projects: only promotions shown in this publisher project' })),
}));

export const ClicksQuery = queryValidator(T.Object({
  campaign_id: T.Optional(T.String({ minLength: 1, maxLength: 100, description: 'Only clicks on this campaign' })),
  status: T.Optional(StringEnum(CLICK_STATUSES as unknown as readonly ['charged', 'invalid', 'unbilled', 'refunded'], { description: 'Only clicks with this status' })),
  reason: T.Optional(T.String({ minLength: 1, maxLength: 200, description: 'Only clicks with this reason, e.g. non_human_agent' })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_CLICKS_PAGE, default: 100, description: `1-${MAX_CLICKS_PAGE}, default 100`, 'x-error-message': `must be an integer from 1 to ${MAX_CLICKS_PAGE}` })),
  cursor: T.Optional(T.String({ maxLength: 200, description: 'next_cursor of the previous page', 'x-error-code': 'invalid_cursor' })),
}));
