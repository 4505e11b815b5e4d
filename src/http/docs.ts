/**
 * OpenAPI descriptions of routes. Request bodies and queries are the TypeBox schemas the routes validate with
 * (src/http/schema.ts), passed here as they are; response schemas document what the services build.
 */
import { Kind, type TObject } from '@sinclair/typebox';
import type { ErrorType } from './errors';
import { queryParameters, schemaErrorCodes } from './schema';

/** The one error envelope, registered once as a component (see openapi.ts) and referenced by every error. */
export const ErrorEnvelopeSchema = {
  type: 'object',
  description: "OpenAI's error envelope plus Vexrail's top-level statusCode and message",
  required: ['error', 'statusCode', 'message'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string', description: 'invalid_request_error, authentication_error, permission_error, not_found_error, ...' },
        param: { type: ['string', 'null'], description: 'The request field at fault, when there is one' },
        code: { type: ['string', 'null'], description: 'Stable snake_case code (README, Errors); each response names its own' },
      },
    },
    statusCode: { type: 'integer', description: 'The HTTP status, repeated' },
    message: { type: 'string', description: 'error.message, repeated' },
  },
} as const;

export const ERROR_ENVELOPE_REF = { $ref: '#/components/schemas/ErrorEnvelope' } as const;

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request (bad JSON, missing or mistyped field, limit exceeded)',
  401: 'Authentication failed',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  422: 'A value out of range or an unknown model',
  429: 'Rate limited',
  500: 'Unexpected error (the message carries a request id)',
  502: 'The upstream LLM provider failed',
  504: 'The upstream LLM provider timed out',
};

const ERROR_TYPE: Record<number, ErrorType> = {
  400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error',
  409: 'invalid_request_error', 413: 'invalid_request_error', 422: 'invalid_request_error', 429: 'rate_limit_error',
  500: 'api_error', 502: 'upstream_error', 504: 'timeout_error',
};

/** Example messages for the codes most routes share; a code not listed gets its status text. */
const ERROR_MESSAGE: Record<string, string> = {
  invalid_json: 'The request body is not valid JSON',
  invalid_request_body: 'The request body must be a JSON object',
  invalid_value: 'A value is out of range',
  invalid_cursor: 'The cursor is not one this server issued',
  missing_api_key: 'Missing x-publishable-key or x-secret-key header',
  invalid_api_key: 'Invalid API key',
  key_pair_mismatch: 'The secret key does not belong to the publishable key',
  inactive_key: 'This key pair has been deactivated',
  invalid_admin_token: 'Missing or invalid admin bearer token',
  domain_not_verified: "The project's domain is not verified",
  insufficient_credits: 'The credit balance cannot cover this request',
  not_found: 'Unknown path',
  project_not_found: 'No such project',
  conversation_not_found: 'No such conversation',
  payload_too_large: 'The request body is larger than this route accepts',
  model_not_found: 'The model does not exist or is not served by this gateway',
  upstream_rate_limited: 'The upstream LLM provider is rate limiting requests; retry with backoff',
  internal_error: 'Internal server error (request 0f8fad5b-d9cb-469f-a165-70867728950e)',
  upstream_error: 'The upstream LLM provider could not be reached',
  upstream_auth_failed: 'The gateway could not authenticate with the upstream LLM provider',
  upstream_timeout: 'The upstream LLM provider did not answer in time',
};

/** What a status means when a route names no codes; admin routes answer 401 and 404 differently. */
const DEFAULT_CODES: Record<number, readonly string[]> = {
  400: ['invalid_value'],
  401: ['missing_api_key', 'invalid_api_key', 'key_pair_mismatch', 'inactive_key'],
  403: ['domain_not_verified'],
  404: ['not_found'],
  409: [],
  413: ['payload_too_large'],
  422: ['invalid_value'],
  429: ['upstream_rate_limited'],
  500: ['internal_error'],
  502: ['upstream_error', 'upstream_auth_failed'],
  504: ['upstream_timeout'],
};
const ADMIN_DEFAULT_CODES: Record<number, readonly string[]> = { 401: ['invalid_admin_token'] };
const DASHBOARD_DEFAULT_CODES: Record<number, readonly string[]> = { 401: ['not_signed_in'], 403: ['csrf_token_mismatch'] };
/** A body is read, so it can be malformed. */
const BODY_400_CODES = ['invalid_json', 'invalid_request_body'];
/** 404 by path parameter: each names what was not found (`id` is a project on the admin API only). */
const NOT_FOUND_BY_PARAM: Record<string, string> = {
  key_id: 'key_not_found', campaign_id: 'campaign_not_found', click_id: 'click_not_found', product_id: 'product_not_found', token: 'link_not_found',
};

type Parameter = { name: string; in: string };

/** `admin`: the admin API; `dashboard`: the dashboard's API (both name projects by the path parameter `id`). */
type Scope = { admin: boolean; dashboard?: boolean; hasBody: boolean; pathParams: string[] };

function defaultCodes(status: number, ctx: Scope): readonly string[] {
  if (status === 400 && ctx.hasBody) return BODY_400_CODES;
  if (status === 404) {
    const codes = ctx.pathParams.map((name) => (name === 'id' && (ctx.admin || ctx.dashboard) ? 'project_not_found' : NOT_FOUND_BY_PARAM[name])).filter((c) => c !== undefined);
    return codes.length > 0 ? codes : ['not_found'];
  }
  const scoped = ctx.admin ? ADMIN_DEFAULT_CODES : ctx.dashboard ? DASHBOARD_DEFAULT_CODES : {};
  return scoped[status] ?? DEFAULT_CODES[status] ?? [];
}

/** A status alone (its default codes) or a status with the codes this route really returns. */
export type ErrorSpec = number | readonly [number, ...string[]];

type Schema = Record<string, unknown>;

export function jsonResponse(description: string, schema: Schema) {
  return { description, content: { 'application/json': { schema } } };
}

function errorExample(status: number, code: string) {
  const message = ERROR_MESSAGE[code] ?? ERROR_TEXT[status] ?? 'Error';
  const value = { error: { message, type: ERROR_TYPE[status] ?? 'api_error', param: null, code }, statusCode: status, message };
  return { summary: code, value };
}

export function errorResponse(status: number, codes: readonly string[]) {
  const text = ERROR_TEXT[status] ?? 'Error';
  const content: Record<string, unknown> = { schema: ERROR_ENVELOPE_REF };
  if (codes.length > 0) content.examples = Object.fromEntries(codes.map((code) => [code, errorExample(status, code)]));
  return { description: codes.length > 0 ? `${text}: ${codes.join(', ')}` : text, content: { 'application/json': content } };
}

export function errorResponses(errors: readonly ErrorSpec[], ctx: Scope = { admin: false, hasBody: false, pathParams: [] }) {
  return Object.fromEntries(
    errors.map((spec) => {
      const [status, ...explicit] = typeof spec === 'number' ? [spec] : spec;
      const codes = explicit.length > 0 ? explicit : defaultCodes(status, ctx);
      return [String(status), errorResponse(status, codes)];
    }),
  );
}

/** Vendor key carrying describe()'s parameters through the plugin to restoreParameters(). */
export const DOCUMENTED_PARAMETERS = 'x-vexrail-parameters';

type Operation = { parameters?: Parameter[]; [DOCUMENTED_PARAMETERS]?: Parameter[] };

/**
 * Puts the documented parameters (query, header, described path parameters) back on each operation,
 * keeping any the plugin generated that the route did not document. Idempotent: the spec is cached.
 */
export function restoreParameters(spec: { paths?: Record<string, Record<string, Operation>> }) {
  for (const item of Object.values(spec.paths ?? {})) {
    for (const op of Object.values(item)) {
      const documented = op?.[DOCUMENTED_PARAMETERS];
      if (!documented) continue;
      const key = (p: Parameter) => `${p.in}:${p.name}`;
      const seen = new Set(documented.map(key));
      const merged = [...documented, ...(op.parameters ?? []).filter((p) => !seen.has(key(p)))];
      if (merged.length > 0) op.parameters = merged;
      delete op[DOCUMENTED_PARAMETERS];
    }
  }
  return spec;
}

export const PUBLIC_SECURITY = [{ publishableKey: [], secretKey: [] }];
export const ADMIN_SECURITY = [{ adminBearer: [] }];
export const DASHBOARD_SECURITY = [{ dashboardSession: [] }];

/**
 * Adds what the route's input schemas can answer to its error list: a status listed alone keeps its default
 * codes and gains the schema's; a status not listed at all appears.
 */
function withSchemaCodes(errors: readonly ErrorSpec[], schemas: Array<Schema | undefined>, defaults: (status: number) => readonly string[]): ErrorSpec[] {
  const fromSchemas = new Map<number, Set<string>>();
  for (const schema of schemas) {
    if (!schema || !(Kind in schema)) continue;
    for (const [status, codes] of schemaErrorCodes(schema as any)) for (const code of codes) (fromSchemas.get(status) ?? fromSchemas.set(status, new Set()).get(status)!).add(code);
  }
  if (fromSchemas.size === 0) return [...errors];
  const out: ErrorSpec[] = errors.map((spec) => {
    const [status, ...explicit] = typeof spec === 'number' ? [spec] : spec;
    const extra = fromSchemas.get(status);
    if (!extra) return spec;
    fromSchemas.delete(status);
    const listed = explicit.length > 0 ? explicit : defaults(status);
    return [status, ...listed, ...[...extra].filter((c) => !listed.includes(c))] as ErrorSpec;
  });
  for (const [status, codes] of fromSchemas) out.push([status, ...codes] as ErrorSpec);
  return out.sort((a, b) => (typeof a === 'number' ? a : a[0]) - (typeof b === 'number' ? b : b[0]));
}

export function describe(opts: {
  tags: string[];
  summary: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  body?: Schema;
  ok: { status?: number; description: string; schema: Schema; extraContent?: Record<string, { schema: Schema }> };
  /** Statuses, each alone (default codes for the status) or as `[status, ...codes]` this route returns. */
  errors: readonly ErrorSpec[];
  parameters?: Schema[];
  /** The query schema the route validates with (src/http/schema.ts): documented as query parameters. */
  query?: TObject;
}) {
  if (opts.query) opts = { ...opts, parameters: [...(opts.parameters ?? []), ...queryParameters(opts.query)] };
  const okContent: Record<string, { schema: Schema }> = { 'application/json': { schema: opts.ok.schema }, ...(opts.ok.extraContent ?? {}) };
  const admin = opts.security === ADMIN_SECURITY || (opts.security ?? []).some((s) => 'adminBearer' in s);
  const dashboard = (opts.security ?? []).some((s) => 'dashboardSession' in s);
  const pathParams = (opts.parameters ?? []).filter((p) => p.in === 'path').map((p) => String(p.name));
  const scope: Scope = { admin, dashboard, hasBody: opts.body !== undefined, pathParams };
  const errors = withSchemaCodes(opts.errors, [opts.body, opts.query], (status) => defaultCodes(status, scope));
  return {
    tags: opts.tags,
    summary: opts.summary,
    description: opts.description,
    security: opts.security ?? [],
    parameters: opts.parameters,
    // The OpenAPI plugin replaces `parameters` with the route's path parameters; openapi.ts merges these back.
    [DOCUMENTED_PARAMETERS]: opts.parameters,
    requestBody: opts.body ? { required: true, content: { 'application/json': { schema: opts.body } } } : undefined,
    responses: {
      [String(opts.ok.status ?? 200)]: { description: opts.ok.description, content: okContent },
      ...errorResponses(errors, scope),
    },
  } as any;
}

/** `{object: "list", data: [...]}` */
export const listOf = (item: Schema) => ({
  type: 'object',
  properties: { object: { type: 'string', example: 'list' }, data: { type: 'array', items: item } },
});

/** A list that continues: `has_more` and the `next_cursor` to pass back as `?cursor=`. */
export const pagedListOf = (item: Schema) => ({
  type: 'object',
  properties: { ...listOf(item).properties, has_more: { type: 'boolean' }, next_cursor: { type: ['string', 'null'] } },
});

export const pathParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });
export const headerParam = (name: string, description: string) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } });
