import { Elysia } from 'elysia';
import { adminRoutes } from './admin/admin.routes';
import { marketRoutes } from './admin/market.routes';
import { promotionsRoutes } from './ads/promotions.routes';
import { clicksRoutes } from './clicks/clicks.routes';
import { chatRoutes } from './chat/chat.routes';
import { conversationsRoutes } from './conversations/conversations.routes';
import { ApiError, badRequest, internalError, notFound, payloadTooLarge, renderError, unauthorized } from './http/errors';
import { openapiPlugin } from './http/openapi';
import { assignRequestId, requestIdOf } from './http/request-ids';
import { modelsRoutes } from './models/models.routes';
import { healthRoutes } from './ops/health.routes';
import type { Runtime } from './runtime';

function toApiError(code: string | number, error: unknown, requestId: string): ApiError {
  if (error instanceof ApiError) return error;
  if (code === 'NOT_FOUND') return notFound('not_found', 'Unknown path');
  if (code === 'PARSE') return badRequest('invalid_json', 'Request body is not valid JSON');
  if (code === 'VALIDATION') return badRequest('invalid_request_body', 'Request is not valid');
  // The cause stays in the server log; the client gets a request id to quote.
  console.error(JSON.stringify({ level: 'error', request_id: requestId, msg: 'unhandled error', error: String((error as Error)?.stack ?? error) }));
  return internalError(requestId);
}

/** A tracked link's signature is a capability (its first click is charged): logs keep only the impression id. */
function loggablePath(path: string): string {
  return path.startsWith('/r/') ? `/r/${path.slice(3).split('.', 1)[0]}` : path;
}

/** Mounts plugins and routes. No listen and no environment reads: tests call `fetch` directly. */
export function createApp(rt: Runtime, opts: { isShuttingDown?: () => boolean } = {}) {
  const app = new Elysia()
    .onError(({ code, error, request }) => renderError(toApiError(code, error, requestIdOf(request))))
    .use(openapiPlugin())
    .use(healthRoutes({ db: rt.db, isShuttingDown: opts.isShuttingDown ?? (() => false) }))
    .use(chatRoutes({ config: rt.config, keys: rt.keys, chat: rt.chat }))
    .use(modelsRoutes({ keys: rt.keys, catalog: rt.catalog }))
    .use(conversationsRoutes({ keys: rt.keys, conversations: rt.conversations }))
    .use(promotionsRoutes({ keys: rt.keys, ads: rt.market.ads, limits: rt.config.limits }))
    .use(clicksRoutes({ clicks: rt.market.clicks }))
    .use(adminRoutes({ projects: rt.projects, keys: rt.keys, wallet: rt.wallet, onFundsChanged: rt.market.refreshCampaigns }))
    .use(marketRoutes({ projects: rt.projects, market: rt.market, maxImportBytes: rt.config.limits.maxImportBytes }));

  const { maxBodyBytes, maxImportBytes } = rt.config.limits;

  /** Outer handler: request id, body-size and admin-token checks before routing, one log line after. */
  async function fetch(request: Request): Promise<Response> {
    const started = performance.now();
    const requestId = assignRequestId(request, started);
    const path = request.url.slice(request.url.indexOf('/', 8)).split('?', 1)[0];
    let response: Response;
    const declared = Number(request.headers.get('content-length') ?? 0);
    const limit = path.endsWith('/products/import') ? maxImportBytes : maxBodyBytes;
    if (declared > limit) response = renderError(payloadTooLarge(`Request body is larger than ${limit} bytes`));
    else if (path.startsWith('/admin/') && !rt.adminAuth.check(request.headers.get('authorization')))
      response = renderError(unauthorized('invalid_admin_token', 'Missing or invalid admin bearer token'));
    else response = await app.handle(request);
    response.headers.set('x-request-id', requestId);
    // Successful completions are logged when they settle, with their tokens and cost.
    if (!(path === '/v1/chat/completions' && response.status === 200))
      rt.log.write({ request_id: requestId, method: request.method, path: loggablePath(path), status: response.status, latency_ms: Math.round((performance.now() - started) * 1000) / 1000 });
    return response;
  }

  return { app, fetch };
}
export type App = ReturnType<typeof createApp>;
