import type { ProviderConfig } from '../config/config';
import { ApiError } from '../http/errors';
import { clientClosed, fromUpstreamStatus, upstreamBroken, upstreamTimeout, upstreamUnreachable } from './upstream-errors';

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

/** An open upstream response plus the controls the relay needs to end it. */
export type UpstreamHandle = {
  response: Response;
  /** Time until the upstream's response headers arrived. */
  waitMs: number;
  abort(reason: string): void;
  /** Why the request was aborted by us ('request_timeout', 'idle_timeout', 'client_gone'), if it was. */
  abortReason(): string | null;
  dispose(): void;
};

const MAX_ERROR_BODY_BYTES = 64 * 1024;

async function readErrorBody(response: Response): Promise<unknown> {
  try {
    const text = await response.text();
    return JSON.parse(text.slice(0, MAX_ERROR_BODY_BYTES));
  } catch {
    return null;
  }
}

/**
 * Opens a chat-completions request to one provider. Errors before the response headers become ApiErrors
 * (502 unreachable or 5xx, 504 timeout, upstream 4xx kept). Demo providers are answered in process.
 */
export function createUpstreamClient(deps: {
  fetch: Fetcher;
  demo: Fetcher;
  /** Metrics hook: time to the response headers (errorCode null), or the error an attempt ended with. */
  observe?: (provider: string, ms: number, errorCode: string | null) => void;
}) {
  async function open(provider: ProviderConfig, body: object, clientSignal: AbortSignal | null): Promise<UpstreamHandle> {
    const controller = new AbortController();
    let reason: string | null = null;
    const abort = (why: string) => {
      if (reason === null) reason = why;
      controller.abort();
    };
    const onClientAbort = () => abort('client_gone');
    clientSignal?.addEventListener('abort', onClientAbort, { once: true });
    if (clientSignal?.aborted) abort('client_gone');
    const requestTimer = setTimeout(() => abort('request_timeout'), provider.requestTimeoutMs);
    const firstByteTimer = setTimeout(() => abort('request_timeout'), provider.firstByteTimeoutMs);
    const dispose = () => {
      clearTimeout(requestTimer);
      clearTimeout(firstByteTimer);
      clientSignal?.removeEventListener('abort', onClientAbort);
    };
    const started = performance.now();
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (provider.apiKey) headers.authorization = `Bearer ${provider.apiKey}`;
    const send = provider.kind === 'demo' ? deps.demo : deps.fetch;
    let response: Response;
    try {
      response = await send(`${provider.baseUrl}/chat/completions`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (err) {
      dispose();
      if (reason === 'request_timeout') throw upstreamTimeout();
      if (reason === 'client_gone') throw clientClosed();
      throw upstreamUnreachable();
    } finally {
      clearTimeout(firstByteTimer);
    }
    const waitMs = performance.now() - started;
    if (!response.ok) {
      const errorBody = await readErrorBody(response);
      dispose();
      throw fromUpstreamStatus(response.status, errorBody);
    }
    if (!response.body) {
      dispose();
      throw upstreamBroken('empty response');
    }
    return { response, waitMs, abort, abortReason: () => reason, dispose };
  }
  const observe = deps.observe;
  if (!observe) return { open };
  return {
    async open(provider: ProviderConfig, body: object, clientSignal: AbortSignal | null): Promise<UpstreamHandle> {
      const started = performance.now();
      try {
        const handle = await open(provider, body, clientSignal);
        observe(provider.name, handle.waitMs, null);
        return handle;
      } catch (err) {
        observe(provider.name, performance.now() - started, err instanceof ApiError ? err.code : 'upstream_error');
        throw err;
      }
    },
  };
}
export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
