import { BalanceProperties } from '../wallet/wallet.schemas';

/** OpenAPI schemas of the admin API (documentation only; services validate). */
export const ProjectSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'proj_7Hq2...' },
    object: { type: 'string', example: 'project' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['publisher', 'advertiser'] },
    domain: { type: 'string', example: 'example.com' },
    domain_status: { type: 'string', enum: ['unverified', 'pending', 'verified', 'failed'] },
    verification_token: { type: 'string' },
    verification_record: { type: 'object', properties: { type: { type: 'string' }, host: { type: 'string' }, name: { type: 'string' }, value: { type: 'string' } } },
    domain_verified_at: { type: ['string', 'null'], format: 'date-time' },
    domain_verify_method: { type: ['string', 'null'], enum: ['dns', 'manual', null] },
    monetization: { type: 'boolean' },
    link_domains: {
      type: 'array', maxItems: 20, items: { type: 'string', example: 'shop.example.net' },
      description: 'Advertisers: hosts (and their subdomains) product URLs may use besides the verified domain; set by the operator',
    },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    ad_settings: {
      type: 'object', description: 'Publishers: how promotions appear in answers (set with PATCH)',
      properties: {
        disclosure_label: { type: 'string', example: 'Sponsored' },
        frequency_cap_turns: { type: 'integer', minimum: 1, maximum: 1000 },
        blocked_categories: { type: 'array', items: { type: 'string' } },
        bridge_mode: { type: 'string', enum: ['template', 'llm'] },
      },
    },
  },
};

/** The ad settings a PATCH /projects/{id} body may carry (src/projects/projects.service.ts parseAdSettings). */
export const AdSettingsBody = {
  disclosure_label: { type: 'string', minLength: 1, maxLength: 40, example: 'Sponsored', description: 'Plain text (no Markdown or HTML characters) that marks a promotion' },
  frequency_cap_turns: { type: 'integer', minimum: 1, maximum: 1000, example: 3, description: 'At most one promotion every this many turns of a conversation' },
  blocked_categories: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 64, example: 'gambling' }, description: 'Product categories never promoted in this project' },
  bridge_mode: { type: 'string', enum: ['template', 'llm'], description: 'How the sentence leading into a promotion is written' },
};

export const KeySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    object: { type: 'string', example: 'api_key_pair' },
    name: { type: 'string' },
    publishable_key: { type: 'string', example: 'pk_live_...' },
    secret_prefix: { type: 'string', example: 'sk_live_AbCd' },
    status: { type: 'string', enum: ['active', 'inactive'] },
    created_at: { type: 'string', format: 'date-time' },
    last_used_at: { type: ['string', 'null'], format: 'date-time' },
    deactivated_at: { type: ['string', 'null'], format: 'date-time' },
    rpm_limit: { type: ['integer', 'null'] },
    tpm_limit: { type: ['integer', 'null'] },
    budget: {
      type: ['object', 'null'],
      properties: { amount: { type: 'string', example: '5.00' }, amount_micros: { type: 'integer' }, period: { type: 'string', enum: ['total', 'daily', 'monthly'] } },
    },
    expires_at: { type: ['string', 'null'], format: 'date-time' },
    expired: { type: 'boolean' },
    allowed_models: { type: ['array', 'null'], items: { type: 'string' } },
    rotated_at: { type: ['string', 'null'], format: 'date-time' },
    previous_secret_valid_until: { type: ['string', 'null'], format: 'date-time', description: 'Until then the secret replaced by the last rotation still works' },
  },
};

/** The optional limits of a key pair, at creation and in PATCH (null removes one). */
export const KeyLimitsBody = {
  rpm_limit: { type: ['integer', 'null'], minimum: 1, description: 'Requests per minute; past it 429 rate_limit_exceeded' },
  tpm_limit: { type: ['integer', 'null'], minimum: 1, description: 'Tokens per minute (counted when requests settle); past it 429 rate_limit_exceeded' },
  budget: {
    type: ['object', 'null'], required: ['amount'],
    properties: { amount: { type: 'string', example: '5.00', description: 'USD' }, period: { type: 'string', enum: ['total', 'daily', 'monthly'], default: 'total', description: 'UTC days and months' } },
    description: 'Spend limit of this key; past it 403 key_budget_exceeded',
  },
  expires_at: { type: ['string', 'null'], format: 'date-time', example: '2027-01-31T00:00:00Z', description: 'From then on 401 expired_key' },
  allowed_models: { type: ['array', 'null'], items: { type: 'string' }, maxItems: 100, description: 'Model ids this key may use; others 403 model_not_allowed' },
};

export const NewKeySchema = {
  ...KeySchema,
  properties: { ...KeySchema.properties, secret_key: { type: 'string', description: 'Shown only in this response' } },
};

const TransactionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['top_up', 'consumption'] },
    amount: { type: 'string', example: '10.00', description: 'USD; negative for consumption' },
    amount_micros: { type: 'integer' },
    balance_after: { type: 'string' },
    balance_after_micros: { type: 'integer' },
    request_id: { type: ['string', 'null'] },
    idempotency_key: { type: ['string', 'null'] },
    note: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
  },
};

export const WalletSchema = {
  type: 'object',
  properties: {
    object: { type: 'string', example: 'wallet' },
    project_id: { type: 'string' },
    ...BalanceProperties,
    transactions: { type: 'array', items: TransactionSchema, description: 'Newest first' },
    has_more: { type: 'boolean' },
    next_cursor: { type: ['string', 'null'] },
  },
};

export const TopUpResultSchema = {
  type: 'object',
  properties: { transaction: TransactionSchema, replayed: { type: 'boolean', description: 'true when the idempotency_key was seen before' }, wallet: WalletSchema },
};


/** One domain verification attempt (GET /projects/{id}/domain/checks). */
export const DomainCheckSchema = {
  type: 'object',
  required: ['id', 'project_id', 'domain', 'method', 'result', 'detail', 'created_at'],
  properties: {
    id: { type: 'integer' },
    project_id: { type: 'string' },
    domain: { type: 'string', example: 'example.com' },
    method: { type: 'string', enum: ['dns', 'manual'] },
    result: { type: 'string', enum: ['verified', 'failed'] },
    detail: { type: ['string', 'null'], description: 'What the check found, or the operator override' },
    created_at: { type: 'string', format: 'date-time' },
  },
};

/** 400 codes of every route that reads a JSON body (src/http/body.ts readJsonObject). */
export const JSON_BODY_400 = ['invalid_json', 'json_too_deep', 'invalid_encoding', 'invalid_request_body'] as const;
