import { ApiError } from '../http/errors';

/**
 * Upstream failures as the client sees them. The upstream's raw body and its key never pass through:
 * only the status class and, when they look like plain identifiers, OpenAI's `code` and `param`.
 */
const IDENTIFIER = /^[A-Za-z0-9_.\-]{1,64}$/;

export function upstreamUnreachable(): ApiError {
  return new ApiError(502, 'upstream_error', 'upstream_error', 'The upstream LLM provider could not be reached');
}

export function upstreamTimeout(): ApiError {
  return new ApiError(504, 'timeout_error', 'upstream_timeout', 'The upstream LLM provider did not answer in time');
}

/** The client went away before the answer: logged with this status, never seen by anyone. */
export function clientClosed(): ApiError {
  return new ApiError(499, 'invalid_request_error', 'client_closed_request', 'Client closed the request');
}

export function upstreamBroken(detail: string): ApiError {
  return new ApiError(502, 'upstream_error', 'upstream_error', `The upstream LLM provider failed: ${detail}`);
}

export function fromUpstreamStatus(status: number, body: unknown): ApiError {
  const inner = (body as { error?: { code?: unknown; param?: unknown } } | null)?.error;
  const code = typeof inner?.code === 'string' && IDENTIFIER.test(inner.code) ? inner.code : null;
  const param = typeof inner?.param === 'string' && IDENTIFIER.test(inner.param) ? inner.param : null;
  if (status >= 500) return new ApiError(502, 'upstream_error', 'upstream_error', `The upstream LLM provider failed (status ${status})`);
  // The upstream refusing our own credentials is the operator's problem, not the client's.
  if (status === 401 || status === 403)
    return new ApiError(502, 'upstream_error', 'upstream_auth_failed', 'The gateway could not authenticate with the upstream LLM provider');
  if (status === 429)
    return new ApiError(429, 'rate_limit_error', code ?? 'upstream_rate_limited', 'The upstream LLM provider is rate limiting requests; retry with backoff');
  if (status >= 400)
    return new ApiError(status, 'invalid_request_error', code ?? 'upstream_rejected_request', `The upstream LLM provider rejected the request (status ${status})`, param);
  return upstreamBroken(`unexpected status ${status}`);
}
