import type { SqlStore } from '../store/sql-store';
import { Elysia } from 'elysia';
import { describe, jsonResponse } from '../http/docs';

const StatusSchema = { type: 'object', properties: { status: { type: 'string' } } };

/** How long /readyz waits for the store to answer before it says the store is unavailable. */
const STORE_PING_MS = 2_000;

export function healthRoutes(deps: { store: SqlStore; isReady: () => boolean; isShuttingDown: () => boolean }) {
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
      return { status: 'ready' };
    }, {
      detail: withResponse(
        describe({ tags: ['Operations'], summary: 'Readiness: the store answers within 2 s, the promotion index is loaded, and the server is not shutting down (load balancers: send traffic only on 200)', ok: { description: 'ready', schema: StatusSchema }, errors: [] }),
        503, jsonResponse('Not ready: `{"status": "shutting_down"}`, `{"status": "starting"}` or `{"status": "store_unavailable"}`', StatusSchema),
      ),
    });
}

/** A non-error, non-200 answer (readiness is plain JSON, not the error envelope). */
function withResponse(detail: any, status: number, response: unknown) {
  return { ...detail, responses: { ...detail.responses, [String(status)]: response } };
}
