import { BalanceProperties } from '../wallet/wallet.schemas';

/** OpenAPI schemas of what the admin API answers (its inputs are in admin.inputs.ts). */
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
    owner_account_id: { type: ['string', 'null'], description: 'The dashboard account that owns the project (null: none assigned)' },
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

/** 400 codes of every route that reads a JSON body (src/http/body.ts readJsonObject, src/http/schema.ts readBody). */
export const JSON_BODY_400 = ['invalid_json', 'json_too_deep', 'invalid_encoding', 'body_incomplete', 'invalid_request_body', 'unknown_field'] as const;
