/**
 * The one error class services throw. Exactly one place (renderError) turns it into the wire envelope:
 * OpenAI's {error:{message,type,param,code}} plus Vexrail's top-level statusCode and message.
 */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'upstream_error'
  | 'timeout_error'
  | 'service_unavailable';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type ErrorEnvelope = {
  error: { message: string; type: string; param: string | null; code: string | null };
  statusCode: number;
  message: string;
};

export function errorEnvelope(err: ApiError): ErrorEnvelope {
  return {
    error: { message: err.message, type: err.type, param: err.param, code: err.code },
    statusCode: err.status,
    message: err.message,
  };
}

export function internalError(requestId: string): ApiError {
  return new ApiError(500, 'api_error', 'internal_error', `Internal server error (request ${requestId})`);
}

export function renderError(err: ApiError, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(errorEnvelope(err)), {
    status: err.status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/** Shorthands keep call sites to one line and the codes in one list. */
export const badRequest = (code: string, message: string, param: string | null = null) =>
  new ApiError(400, 'invalid_request_error', code, message, param);
export const unprocessable = (code: string, message: string, param: string | null = null) =>
  new ApiError(422, 'invalid_request_error', code, message, param);
export const unauthorized = (code: string, message: string) => new ApiError(401, 'authentication_error', code, message);
export const forbidden = (code: string, message: string, param: string | null = null) => new ApiError(403, 'permission_error', code, message, param);
export const notFound = (code: string, message: string) => new ApiError(404, 'not_found_error', code, message);
export const conflict = (code: string, message: string) => new ApiError(409, 'invalid_request_error', code, message);
export const payloadTooLarge = (message: string) =>
  new ApiError(413, 'invalid_request_error', 'payload_too_large', message);
