/**
 * Inputs of the admin API for projects, keys and wallets: each schema validates its route's body or query,
 * types the handler and is that route's OpenAPI document (src/http/schema.ts). Services keep the rules a
 * schema cannot state (domain syntax, money parsing, uniqueness, state transitions).
 */
import { Type as T } from '@sinclair/typebox';
import { fieldError, NOT_BLANK, Nullable, queryValidator, StringEnum, USD_TEXT, validator } from '../http/schema';

const MAX_NAME_CHARS = 200;

const Name = (example: string) =>
  T.String({ minLength: 1, maxLength: MAX_NAME_CHARS, pattern: NOT_BLANK, example, ...fieldError('invalid_name'), 'x-error-message': `must be 1-${MAX_NAME_CHARS} characters, not only spaces` });
const Domain = T.String({ minLength: 1, maxLength: 253, example: 'example.com', description: 'A host name; its root domain is verified', ...fieldError('invalid_domain'), 'x-error-message': 'must be a host name such as example.com' });

/** The dashboard account that owns a project: it must exist and hold the role of the project's kind; null unassigns. */
const OwnerAccountId = T.Optional(Nullable(T.String({ minLength: 1, maxLength: 64, example: 'acct_0VcgAbC...' }), {
  description: 'The dashboard account that owns the project (it must hold the publisher or advertiser role the project\'s kind needs); null: none',
  ...fieldError('invalid_owner'),
}));

export const CreateProjectBody = validator(T.Object({
  name: Name('Acme Assistant'),
  domain: Domain,
  kind: T.Optional(StringEnum(['publisher', 'advertiser'] as const, { default: 'publisher', ...fieldError('invalid_kind') })),
  owner_account_id: OwnerAccountId,
}, { additionalProperties: false }));

/** The ad settings a publisher's PATCH may carry. */
const AdSettingsFields = {
  disclosure_label: T.Optional(T.String({
    minLength: 1, maxLength: 40, pattern: '^[^\\[\\]()*_`<>\\n]*\\S[^\\[\\]()*_`<>\\n]*$', example: 'Sponsored',
    description: 'Plain text (no Markdown or HTML characters) that marks a promotion',
    'x-error-message': 'must be 1-40 characters of plain text (no []()*_`<> or line breaks)',
  })),
  frequency_cap_turns: T.Optional(T.Integer({ minimum: 1, maximum: 1000, example: 3, description: 'At most one promotion every this many turns of a conversation' })),
  blocked_categories: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 64, example: 'gambling' }), { maxItems: 100, description: 'Product categories never promoted in this project' })),
  bridge_mode: T.Optional(StringEnum(['template', 'llm'] as const, { description: 'How the sentence leading into a promotion is written' })),
};

export const UpdateProjectBody = validator(T.Object({
  name: T.Optional(Name('Acme Assistant')),
  owner_account_id: OwnerAccountId,
  domain: T.Optional(Domain),
  monetization: T.Optional(T.Boolean({ description: 'Publishers: add promotions to answers (needs a verified domain and an active key pair)' })),
  link_domains: T.Optional(T.Array(T.String({ minLength: 1, maxLength: 255, example: 'shop.example.net' }), {
    maxItems: 20, ...fieldError('invalid_link_domains'),
    description: 'Advertisers only: hosts (subdomains included) product URLs may use besides the verified domain; replaces the list, [] clears it',
  })),
  ...AdSettingsFields,
}, { additionalProperties: false }));

export const VerifyDomainBody = validator(T.Object({
  method: StringEnum(['dns', 'manual'] as const, { description: '`dns` checks the TXT record; `manual` is the operator\'s override', ...fieldError('invalid_method') }),
}, { additionalProperties: false }));

const PerMinute = (what: string) =>
  T.Optional(Nullable(T.Integer({ minimum: 1, maximum: 1_000_000_000 }), { description: `${what} per minute; past it 429 rate_limit_exceeded; null removes the limit`, 'x-error-message': 'must be a positive integer or null' }));

/** The optional limits of a key pair, at creation and in PATCH (absent keeps, null removes). */
const KeyLimitsFields = {
  rpm_limit: PerMinute('Requests'),
  tpm_limit: PerMinute('Tokens (counted when requests settle)'),
  budget: T.Optional(Nullable(T.Object({
    amount: T.String({ pattern: USD_TEXT, example: '5.00', description: 'USD', 'x-error-message': 'must be a positive decimal string in USD, e.g. "5.00"' }),
    period: T.Optional(StringEnum(['total', 'daily', 'monthly'] as const, { default: 'total', description: 'UTC days and months' })),
  }, { additionalProperties: false }), { description: 'Spend limit of this key; past it 403 key_budget_exceeded; null removes it' })),
  expires_at: T.Optional(Nullable(T.String({ format: 'date-time', example: '2027-01-31T00:00:00Z', 'x-error-message': 'must be an ISO 8601 date-time with a time zone, e.g. "2027-01-31T00:00:00Z", or null' }), { description: 'From then on 401 expired_key' })),
  allowed_models: T.Optional(Nullable(T.Array(T.String({ minLength: 1, maxLength: 200 }), { minItems: 1, maxItems: 100 }), { description: 'Model ids this key may use; others 403 model_not_allowed; null allows every model' })),
};

export const CreateKeyBody = validator(T.Object({ name: Name('Production'), ...KeyLimitsFields }, { additionalProperties: false }));
export const UpdateKeyBody = validator(T.Object({ name: T.Optional(Name('Production')), ...KeyLimitsFields }, { additionalProperties: false }));

export const RotateKeyBody = validator(T.Object({
  grace_period_seconds: T.Optional(T.Integer({ minimum: 0, maximum: 2_592_000, example: 3600, description: 'How long the replaced secret keeps working (default 3600; 0 ends it at once; at most 30 days)' })),
}, { additionalProperties: false }));

export const TopUpBody = validator(T.Object({
  amount: T.String({ pattern: USD_TEXT, example: '10.00', description: 'USD, up to 6 decimals', ...fieldError('invalid_amount'), 'x-error-message': 'must be a positive decimal string in USD, e.g. "10.00" (at most 6 decimals)' }),
  idempotency_key: T.Optional(T.String({ minLength: 1, maxLength: 200, description: 'A repeated key returns the original transaction instead of charging twice' })),
}, { additionalProperties: false }));

/** `limit` and `cursor` of a paged list. */
export const pageQuery = (max: number, fallback: number) => queryValidator(T.Object({
  limit: T.Optional(T.Integer({ minimum: 1, maximum: max, default: fallback, description: `Items per page, 1-${max} (default ${fallback})`, 'x-error-message': `must be an integer from 1 to ${max}` })),
  cursor: T.Optional(T.String({ maxLength: 200, description: 'next_cursor of the previous page', ...fieldError('invalid_cursor') })),
}));

export { UsageQuery } from '../usage/usage.inputs';

/** A project the signed-in dashboard account creates for itself (it becomes the owner). */
export const DashboardCreateProjectBody = validator(T.Object({
  name: Name('Acme Assistant'),
  domain: Domain,
  kind: T.Optional(StringEnum(['publisher', 'advertiser'] as const, { description: 'Default: the account\'s role (publisher when it holds both)', ...fieldError('invalid_kind') })),
}, { additionalProperties: false }));
