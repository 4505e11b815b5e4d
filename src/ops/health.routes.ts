import type { Database } from 'bun:sqlite';
import { Elysia } from 'elysia';
import { describe, jsonResponse } from '../http/docs';

const StatusSchema = { type: 'object', properties: { status: { type: 'string' } } };

export function healthRoutes(deps: { db: Database; isShuttingDown: () => boolean }) {
  return new Elysia({ name: 'health-routes' })
    .get('/healthz', () => ({ status: 'ok' }), {
      detail: describe({ tags: ['Operations'], summary: 'Liveness: the process answers', ok: { description: 'ok', schema: { type: 'object', properties: { status: { type: 'string' } } } }, errors: [] }),
    })
    .get('/readyz', ({ set }) => {
      if (deps.isShuttingDown()) {
        set.status = 503;
        return { status: 'shutting_down' };
      }
      deps.db.query('SELECT 1').get();
      return { status: 'ready' };
    }, {
      detail: withResponse(
        describe({ tags: ['Operations'], summary: 'Readiness: the database answers and the server is not shutting down', ok: { description: 'ready', schema: StatusSchema }, errors: [] }),
        503, jsonResponse('Shutting down: `{"status": "shutting_down"}`', StatusSchema),
      ),
    });
}

/** A non-error, non-200 answer (readiness is plain JSON, not the error envelope). */
function withResponse(detail: any, status: number, response: unknown) {
  return { ...detail, responses: { ...detail.responses, [String(status)]: response } };
}
