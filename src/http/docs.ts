/**
 * OpenAPI descriptions for routes whose bodies the services validate themselves (so every error keeps
 * our envelope and codes). The schemas here document; they are not a second validator.
 */
export const ErrorEnvelopeSchema = {
  type: 'object',
  required: ['error', 'statusCode', 'message'],
  properties: {
    error: {
      type: 'object',
      required: ['message', 'type', 'param', 'code'],
      properties: {
        message: { type: 'string' },
        type: { type: 'string', example: 'authentication_error' },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'null'], example: 'invalid_api_key' },
      },
    },
    statusCode: { type: 'integer', example: 401 },
    message: { type: 'string', example: 'Invalid API key' },
  },
} as const;

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request (bad JSON, missing or mistyped field, limit exceeded)',
  401: 'Authentication failed: missing_api_key, invalid_api_key, key_pair_mismatch, inactive_key',
  403: 'domain_not_verified or insufficient_credits',
  404: 'Not found',
  409: 'Conflict',
  413: 'Request body too large',
  422: 'model_not_found or a parameter value out of range (invalid_value)',
  429: 'The upstream provider is rate limiting',
  500: 'Unexpected error (the body carries a request id)',
  502: 'The upstream LLM provider failed (upstream_error)',
  504: 'The upstream LLM provider timed out (upstream_timeout)',
};

type Schema = Record<string, unknown>;

export function jsonResponse(description: string, schema: Schema) {
  return { description, content: { 'application/json': { schema } } };
}

export function errorResponses(statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [String(s), jsonResponse(ERROR_TEXT[s] ?? 'Error', ErrorEnvelopeSchema)]));
}

export const PUBLIC_SECURITY = [{ publishableKey: [], secretKey: [] }];
export const ADMIN_SECURITY = [{ adminBearer: [] }];

export function describe(opts: {
  tags: string[];
  summary: string;
  description?: string;
  security?: Array<Record<string, string[]>>;
  body?: Schema;
  ok: { status?: number; description: string; schema: Schema; extraContent?: Record<string, { schema: Schema }> };
  errors: number[];
  parameters?: Schema[];
}) {
  const okContent: Record<string, { schema: Schema }> = { 'application/json': { schema: opts.ok.schema }, ...(opts.ok.extraContent ?? {}) };
  return {
    tags: opts.tags,
    summary: opts.summary,
    description: opts.description,
    security: opts.security ?? [],
    parameters: opts.parameters,
    requestBody: opts.body ? { required: true, content: { 'application/json': { schema: opts.body } } } : undefined,
    responses: {
      [String(opts.ok.status ?? 200)]: { description: opts.ok.description, content: okContent },
      ...errorResponses(opts.errors),
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
export const queryParam = (name: string, description: string, schema: Schema) => ({ name, in: 'query', required: false, description, schema });
export const headerParam = (name: string, description: string) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } });
