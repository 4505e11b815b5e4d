/** OpenAPI schemas of what the marketplace admin API answers (its inputs are in market.inputs.ts). */
export const ProductSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, object: { type: 'string', example: 'product' }, project_id: { type: 'string' },
    name: { type: 'string' }, description: { type: 'string' }, url: { type: 'string', format: 'uri' },
    keywords: { type: 'array', items: { type: 'string' } }, category: { type: ['string', 'null'] },
    sku: { type: ['string', 'null'], description: 'Advertiser-supplied, unique per advertiser among live products' },
    created_at: { type: 'string', format: 'date-time' }, updated_at: { type: ['string', 'null'], format: 'date-time' },
  },
};

export const DeletedProductSchema = {
  type: 'object',
  properties: { id: { type: 'string' }, object: { type: 'string', example: 'product' }, deleted: { type: 'boolean', example: true } },
};

export const ImportBodySchema = {
  type: 'string',
  description: 'JSON Lines: one product object per line, with the fields of the create body (`name`, `description`, `url`, `keywords`, `category`, `sku`). Empty lines are skipped.',
  example: '{"sku":"TR-1","name":"Trailfox Grip Runner","description":"Trail running shoes.","url":"https://shop.example.com/grip","category":"running_shoes"}\n',
};

export const ImportReportSchema = {
  type: 'object',
  properties: {
    created: { type: 'integer', description: 'New products' },
    updated: { type: 'integer', description: 'Lines whose sku named a live product that they changed' },
    unchanged: { type: 'integer', description: 'Lines whose sku named a live product that they did not change' },
    imported: { type: 'integer', description: 'created + updated + unchanged' }, failed: { type: 'integer' },
    errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, message: { type: 'string' } } }, description: 'First 1000 failures' },
    product_ids: { type: 'array', items: { type: 'string' }, description: 'The product of each good line, in line order' },
  },
};

// No top-level `type`: beside oneOf it would add an empty-object branch to generated clients.
const TargetingSchema = {
  description: 'null: the campaign serves its product_ids. `{"all_products": true}`: every live product of the advertiser. `{"categories": [...]}`: live products of these categories. Rule-based campaigns take products added or re-categorized later, at once.',
  oneOf: [
    { type: 'object', required: ['all_products'], properties: { all_products: { type: 'boolean', enum: [true] } }, additionalProperties: false },
    { type: 'object', required: ['categories'], properties: { categories: { type: 'array', items: { type: 'string', maxLength: 64 }, minItems: 1, maxItems: 50 } }, additionalProperties: false },
    { type: 'null' },
  ],
};

export const CampaignSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, object: { type: 'string', example: 'campaign' }, project_id: { type: 'string' }, name: { type: 'string' },
    context: { type: 'string' }, base_cpc: { type: 'string', example: '0.40' }, base_cpc_micros: { type: 'integer' },
    budget: { type: 'string', example: '50.00' }, budget_micros: { type: 'integer' },
    budget_type: { type: 'string', enum: ['daily', 'total'] }, start_at: { type: ['string', 'null'] }, end_at: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['active', 'paused_user', 'paused_system', 'archived'] },
    pause_reason: { type: ['string', 'null'], enum: ['budget_exhausted', 'funds_short', 'end_date_passed', 'domain_unverified', null] },
    spent_total: { type: 'string' }, spent_total_micros: { type: 'integer' },
    spent_today: { type: 'string', description: 'daily-budget campaigns' }, spent_today_micros: { type: 'integer' }, targeting: TargetingSchema,
    product_ids: { type: 'array', items: { type: 'string' }, description: 'The products the campaign serves now (resolved from targeting when it is set)' },
    created_at: { type: 'string' }, updated_at: { type: 'string' },
  },
};

export const EarningsSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', example: 'earnings' }, available: { type: 'string' }, available_micros: { type: 'integer' },
    pending: { type: 'string' }, pending_micros: { type: 'integer' }, total: { type: 'string' }, total_micros: { type: 'integer' },
    transactions: {
      type: 'array',
      items: { type: 'object', properties: { id: { type: 'string' }, type: { type: 'string', enum: ['earning', 'withdrawal', 'refund', 'adjustment'] }, status: { type: 'string' }, amount: { type: 'string' }, amount_micros: { type: 'integer' }, click_id: { type: ['string', 'null'] }, available_at: { type: 'string' }, created_at: { type: 'string' } } },
    },
    has_more: { type: 'boolean' }, next_cursor: { type: ['string', 'null'] },
  },
};

const Metrics = {
  impressions: { type: 'integer' }, clicks: { type: 'integer' }, valid_clicks: { type: 'integer' }, invalid_clicks: { type: 'integer' },
  unbilled_clicks: { type: 'integer' }, ctr: { type: 'number' }, avg_cpc: { type: 'string' }, avg_cpc_micros: { type: 'integer' },
  cost: { type: 'string', description: 'advertiser projects' }, cost_micros: { type: 'integer' },
  earnings: { type: 'string', description: 'publisher projects' }, earnings_micros: { type: 'integer' },
  advertiser_spend: { type: 'string', description: 'publisher projects: what advertisers paid for their clicks' }, advertiser_spend_micros: { type: 'integer' },
};

export const AnalyticsSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', example: 'analytics' }, kind: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' },
    totals: { type: 'object', properties: Metrics },
    daily: { type: 'array', items: { type: 'object', properties: { date: { type: 'string' }, ...Metrics } } },
    campaigns: { type: 'array', items: { type: 'object', properties: { campaign_id: { type: 'string' }, name: { type: 'string' }, ...Metrics } } },
    publishers: { type: 'array', description: 'advertiser projects: where the promotions ran, per publisher project (its domain)', items: { type: 'object', properties: { publisher_project_id: { type: 'string' }, domain: { type: ['string', 'null'] }, ...Metrics } } },
    no_fill: { type: 'object', additionalProperties: { type: 'integer' }, description: 'publisher projects: no-fill count by reason' },
    judge: {
      type: 'object',
      description: 'publisher projects with the LLM judge on: judged requests, outcomes and the platform\'s cost (never charged to the publisher)',
      properties: {
        calls: { type: 'integer' }, outcomes: { type: 'object', additionalProperties: { type: 'integer' } },
        prompt_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' },
        platform_cost: { type: 'string', description: 'USD' }, platform_cost_micros: { type: 'integer' },
      },
    },
  },
};

export const ClickSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, object: { type: 'string', example: 'click' }, impression_id: { type: 'string' }, campaign_id: { type: 'string' },
    publisher_project_id: { type: 'string' }, advertiser_project_id: { type: 'string' },
    status: { type: 'string', enum: ['charged', 'invalid', 'unbilled', 'refunded'] },
    reason: { type: ['string', 'null'], description: 'Why a click was not charged or was refunded', example: 'non_human_agent' },
    charged: { type: 'string', example: '0.40' }, charged_micros: { type: 'integer', example: 400000 },
    publisher_amount: { type: 'string', example: '0.28' }, publisher_micros: { type: 'integer', example: 280000 },
    platform_amount: { type: 'string', example: '0.12' }, platform_micros: { type: 'integer', example: 120000 },
    user_agent: { type: ['string', 'null'] }, created_at: { type: 'string', format: 'date-time' },
  },
};

/** One event of GET /projects/{id}/campaigns/{campaign_id}/history. */
export const CampaignEventSchema = {
  type: 'object',
  required: ['id', 'event', 'actor', 'detail', 'created_at'],
  properties: {
    id: { type: 'integer' },
    event: { type: 'string', example: 'activated', description: 'created, updated, activated, paused, resumed, archived, pause_reason_changed, ...' },
    actor: { type: 'string', enum: ['operator', 'system'] },
    detail: { type: ['object', 'null'], additionalProperties: true, description: 'What changed (fields and their new values, the previous status, a pause reason)' },
    created_at: { type: 'string', format: 'date-time' },
  },
};
