import type { SqlStore } from '../store/sql-store';
import { Elysia } from 'elysia';
import { describe, jsonResponse } from '../http/docs';

const StatusSchema = { type: 'object', properties: { status: { type: 'string' } } };
const ProviderHealthSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['openai', 'anthropic', 'gemini', 'demo'] },
    state: { type: 'string', enum: ['closed', 'open', 'half_open'], description: 'Circuit breaker: closed (serving), open (skipped until retry_at), half_open (one probe request allowed)' },
    consecutive_failures: { type: 'integer' },
    requests: { type: 'integer', description: 'Attempts since start (retries count)' },
    failures: { type: 'integer' },
    retry_at: { type: ['string', 'null'], description: 'When an open breaker lets a probe through' },
    recent_errors: { type: 'array', items: { type: 'object', properties: { at: { type: 'string' }, code: { type: 'string' } } }, description: 'The last 10 failures' },
    latency_ms: { type: 'object', properties: { p50: { type: ['number', 'null'] }, p99: { type: ['number', 'null'] }, samples: { type: 'integer' } }, description: 'Time to response headers over the last 128 answered requests' },
  },
};
const ReadySchema = { type: 'object', properties: { status: { type: 'string' }, providers: { type: 'array', items: ProviderHealthSchema } } };

/** How long /readyz waits for the store to answer before it says the store is unavailable. */
const STORE_PING_MS = 2_000;

export function healthRoutes(deps: { store: SqlStore; isReady: () => boolean; isShuttingDown: () => boolean; providers?: () => unknown[] }) {
  const ping = deps.store.stmt('SELECT 1 AS one');
  return new Elysia({ name: 'health-routes' })
    .get('/healthz', () => ({ status: 'ok' }), {
      detail: describe({ tags: ['Operations'], summary: 'Liveness: the process answers', ok: { description: 'ok', schema: { type: 'object', properties: { status: { type: 'string' } } } }, errors: [] }),
    })
    .get('/readyz', async ({ set }) => {
      if (deps.isShuttingDown()) {
        set.status = 503;
        return { status: 'shutting_down' };
      }
      if (!deps.isReady()) {
        set.status = 503;
        return { status: 'starting' };
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          Promise.resolve(ping.get()),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), STORE_PING_MS))),
        ]);
      } catch {
        set.status = 503;
        return { status: 'store_unavailable' };
      } finally {
        clearTimeout(timer);
      }
      // Provider health is detail, not readiness: a provider cooling down is failed over, and other models still serve.
      return { status: 'ready', providers: deps.providers?.() ?? [] };
    }, {
      detail: withResponse(
        describe({ tags: ['Operations'], summary: 'Readiness: the store answers within 2 s, the promotion index is loaded, and the server is not shutting down (load balancers: send traffic only on 200)', ok: { description: 'ready, with the health of each upstream provider', schema: ReadySchema }, errors: [] }),
        503, jsonResponse('Not ready: `{"status": "shutting_down"}`, `{"status": "starting"}` or `{"status": "store_unavailable"}`', StatusSchema),
      ),
    });
}

/** A non-error, non-200 answer (readiness is plain JSON, not the error envelope). */
function withResponse(detail: any, status: number, response: unknown) {
  return { ...detail, responses: { ...detail.responses, [String(status)]: response } };
}
