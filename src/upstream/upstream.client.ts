import type { ProviderConfig } from '../config/config';
import { ApiError } from '../http/errors';
import type { ModelRoute } from '../models/catalog';
import { createProviderHealth, type ProviderHealth } from './provider-health';
import type { ProviderApi, TranslateContext } from './providers/provider-api';
import { providerApis } from './providers/registry';
import { clientClosed, fromUpstreamStatus, upstreamBroken, upstreamTimeout, upstreamUnreachable } from './upstream-errors';

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

/** An open upstream response (always in OpenAI's shapes) plus the controls the relay needs to end it. */
export type UpstreamHandle = {
  response: Response;
  /** The provider that answered. */
  provider: ProviderConfig;
  /** Time until the answering provider's response headers arrived (earlier failed attempts not included). */
  waitMs: number;
  abort(reason: string): void;
  /** Why the request was aborted by us ('request_timeout', 'idle_timeout', 'client_gone'), if it was. */
  abortReason(): string | null;
  dispose(): void;
};

export type OpenOptions = {
  /** The answer size the credit hold covers: max_tokens for providers that require one when the client set none. */
  defaultMaxTokens?: number;
};

const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A Retry-After longer than this is not waited for: the request moves to the next provider instead. */
export const MAX_RETRY_AFTER_MS = 10_000;

async function readErrorBody(response: Response): Promise<unknown> {
  try {
    const text = await response.text();
    return JSON.parse(text.slice(0, MAX_ERROR_BODY_BYTES));
  } catch {
    return null;
  }
}

/** `retry-after-ms` (OpenAI), else `retry-after` in seconds or as an HTTP date; null when absent or unreadable. */
export function retryAfterMsOf(headers: Headers, nowMs = Date.now()): number | null {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Why one attempt failed, as the failover loop needs it. */
class AttemptFailure extends Error {
  constructor(
    readonly error: ApiError,
    /**
     * 'retry': the provider failed (retry, then fail over); 'next': it failed in a way a retry won't mend (fail over
     * at once); 'refused': its API cannot express the request, nothing was sent (another provider may); 'final':
     * the client's problem, or the client left.
     */
    readonly action: 'retry' | 'next' | 'refused' | 'final',
    readonly retryAfterMs: number | null = null,
  ) {
    super(error.message);
  }
}

/** The providers of a route in the order to try: by priority, and within one priority a weighted random order. */
export function attemptOrder(providers: readonly ProviderConfig[], random: () => number = Math.random): ProviderConfig[] {
  if (providers.length < 2) return providers as ProviderConfig[];
  const out: ProviderConfig[] = [];
  let i = 0;
  while (i < providers.length) {
    let j = i;
    while (j < providers.length && providers[j].priority === providers[i].priority) j++;
    const group = providers.slice(i, j);
    while (group.length > 1) {
      const total = group.reduce((sum, p) => sum + p.weight, 0);
      let pick = random() * total;
      let k = 0;
      while (k < group.length - 1 && (pick -= group[k].weight) >= 0) k++;
      out.push(group.splice(k, 1)[0]);
    }
    out.push(group[0]);
    i = j;
  }
  return out;
}

function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(clientClosed());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(clientClosed());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

let idCounter = 0;
function completionId(): string {
  idCounter = (idCounter + 1) % 1_000_000;
  return `chatcmpl-vx${Date.now().toString(36)}${idCounter.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Opens chat-completions requests to the providers of a model: in order, with retries and backoff on a
 * provider's failure (connection error, 5xx, 429, first-byte timeout), failing over to the next provider, and
 * skipping providers whose circuit breaker is open. A request fails over only before its response headers:
 * nothing is retried once the client may have seen a byte. Providers of other APIs are translated to and from
 * OpenAI's shapes here, so callers only ever see OpenAI answers. Demo providers are answered in process.
 */
export function createUpstreamClient(deps: {
  fetch: Fetcher;
  demo: Fetcher;
  providers?: readonly ProviderConfig[];
  health?: ProviderHealth;
  apis?: Partial<Record<ProviderConfig['kind'], ProviderApi>>;
  random?: () => number;
  /** Metrics hook: time to the response headers (errorCode null), or the error an attempt ended with. */
  observe?: (provider: string, ms: number, errorCode: string | null) => void;
  /** Metrics hook: a retry on the same provider, or a move to the next one. */
  onFailover?: (provider: string, kind: 'retry' | 'failover') => void;
}) {
  const health = deps.health ?? createProviderHealth(deps.providers ?? []);
  const apis = deps.apis ?? providerApis;
  const random = deps.random ?? Math.random;

  async function attempt(provider: ProviderConfig, body: Record<string, unknown>, clientSignal: AbortSignal | null, opts: OpenOptions, route: ModelRoute): Promise<UpstreamHandle> {
    const api = provider.kind === 'openai' || provider.kind === 'demo' ? null : apis[provider.kind];
    if (provider.kind !== 'openai' && provider.kind !== 'demo' && !api) throw new AttemptFailure(upstreamBroken(`no adapter for ${provider.kind}`), 'next');
    const ctx: TranslateContext | null = api
      ? { model: route.id, defaultMaxTokens: opts.defaultMaxTokens ?? 4096, id: completionId(), created: Math.floor(Date.now() / 1000) }
      : null;
    let url: string;
    let headers: Record<string, string>;
    let payload: string;
    if (api && ctx) {
      try {
        ({ url, headers, body: payload } = api.buildRequest({ baseUrl: provider.baseUrl, apiKey: provider.apiKey }, body, ctx));
      } catch (err) {
        // This provider's API cannot express the request: another provider of the model may.
        if (err instanceof ApiError) throw new AttemptFailure(err, 'refused');
        throw err;
      }
    } else {
      url = `${provider.baseUrl}/chat/completions`;
      headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      if (provider.apiKey) headers.authorization = `Bearer ${provider.apiKey}`;
      payload = JSON.stringify(body);
    }
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
    const gone = () => new AttemptFailure(clientClosed(), 'final');
    const started = performance.now();
    const send = provider.kind === 'demo' ? deps.demo : deps.fetch;
    let response: Response;
    try {
      response = await send(url, { method: 'POST', headers, body: payload, signal: controller.signal });
    } catch {
      dispose();
      if (reason === 'client_gone') throw gone();
      throw new AttemptFailure(reason === 'request_timeout' ? upstreamTimeout() : upstreamUnreachable(), 'retry');
    } finally {
      clearTimeout(firstByteTimer);
    }
    const waitMs = performance.now() - started;
    if (!response.ok) {
      const retryAfterMs = retryAfterMsOf(response.headers);
      const errorBody = await readErrorBody(response);
      dispose();
      const error = api ? api.errorFrom(response.status, errorBody) : fromUpstreamStatus(response.status, errorBody);
      if (response.status >= 500 || response.status === 429 || response.status === 408) throw new AttemptFailure(error, 'retry', retryAfterMs);
      // The provider refusing the gateway's own credentials: the next provider may accept its own.
      if (response.status === 401 || response.status === 403) throw new AttemptFailure(error, 'next');
      throw new AttemptFailure(error, 'final');
    }
    if (!response.body) {
      dispose();
      throw new AttemptFailure(upstreamBroken('empty response'), 'retry');
    }
    if (api && ctx) {
      if (body.stream === true) {
        response = new Response(response.body.pipeThrough(api.translateStream(ctx)), { status: 200, headers: { 'content-type': 'text/event-stream' } });
      } else {
        // Read here, before the client has anything: a broken answer can still fail over.
        let translated: string;
        try {
          translated = JSON.stringify(api.translateResponse(await response.json(), ctx));
        } catch {
          dispose();
          if (reason === 'client_gone') throw gone();
          throw new AttemptFailure(reason === 'request_timeout' ? upstreamTimeout() : upstreamBroken('malformed response'), 'retry');
        }
        response = new Response(translated, { status: 200, headers: { 'content-type': 'application/json' } });
      }
    }
    return { response, provider, waitMs, abort, abortReason: () => reason, dispose };
  }

  /** Waits before retrying `provider` (null: don't retry it, move on): Retry-After when given, else jittered exponential backoff. */
  function retryDelay(provider: ProviderConfig, retry: number, retryAfterMs: number | null): number | null {
    if (retryAfterMs !== null) return retryAfterMs <= MAX_RETRY_AFTER_MS ? retryAfterMs : null;
    return Math.round(random() * provider.retryBackoffMs * 2 ** retry);
  }

  async function open(route: ModelRoute, body: Record<string, unknown>, clientSignal: AbortSignal | null, opts: OpenOptions = {}): Promise<UpstreamHandle> {
    let lastFailure: ApiError | null = null;
    let refusal: ApiError | null = null;
    let previous: ProviderConfig | null = null;
    for (const provider of attemptOrder(route.providers, random)) {
      if (!health.admit(provider)) continue;
      if (previous) deps.onFailover?.(previous.name, 'failover');
      previous = provider;
      for (let retry = 0; ; retry++) {
        const started = performance.now();
        try {
          const handle = await attempt(provider, body, clientSignal, opts, route);
          health.success(provider, handle.waitMs);
          deps.observe?.(provider.name, handle.waitMs, null);
          return handle;
        } catch (err) {
          if (!(err instanceof AttemptFailure)) {
            health.release(provider);
            throw err;
          }
          const { error, action } = err;
          if (action === 'final') {
            if (error.code === 'client_closed_request') health.release(provider);
            else health.success(provider, null);
            deps.observe?.(provider.name, performance.now() - started, error.code);
            throw error;
          }
          if (action === 'refused') {
            // Nothing was sent: no verdict on the provider.
            health.release(provider);
            refusal ??= error;
            break;
          }
          health.failure(provider, error.code);
          deps.observe?.(provider.name, performance.now() - started, error.code);
          lastFailure = error;
          if (action === 'next' || retry >= provider.retries || health.state(provider) !== 'closed') break;
          const wait = retryDelay(provider, retry, err.retryAfterMs);
          if (wait === null) break;
          await sleep(wait, clientSignal);
          deps.onFailover?.(provider.name, 'retry');
        }
      }
    }
    if (lastFailure) throw lastFailure;
    if (refusal) throw refusal;
    throw new ApiError(502, 'upstream_error', 'upstream_unavailable', `Every provider of the model "${route.id}" is cooling down after repeated failures; retry shortly`);
  }

  return { open, health };
}
export type UpstreamClient = ReturnType<typeof createUpstreamClient>;
