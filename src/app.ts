import { Elysia } from 'elysia';
import { adminAccess, adminProjectCollectionRoutes, projectRoutes } from './admin/admin.routes';
import { marketRoutes } from './admin/market.routes';
import { promotionsRoutes } from './ads/promotions.routes';
import { clicksRoutes } from './clicks/clicks.routes';
import { chatRoutes } from './chat/chat.routes';
import { conversationsRoutes } from './conversations/conversations.routes';
import { ApiError, badRequest, internalError, notFound, renderError } from './http/errors';
import { createLinkOrigins, listenOriginOf } from './http/link-origin';
import { parseRequestTarget, routableRequest } from './http/request-target';
import { openapiPlugin } from './http/openapi';
import { assignRequestId, requestIdOf } from './http/request-ids';
import { modelsRoutes } from './models/models.routes';
import { healthRoutes } from './ops/health.routes';
import { dashboardAuthRoutes } from './accounts/dashboard-auth.routes';
import { dashboardProjectsRoutes } from './accounts/dashboard-projects.routes';
import { dashboardAccess } from './accounts/dashboard-session';
import { dashboardOperatorRoutes } from './accounts/dashboard-operator.routes';
import { dashboardConversationsRoutes } from './conversations/dashboard-conversations.routes';
import { needsClientAddress, recordClientAddress } from './http/client-address';
import { metricsAccess, metricsRoutes } from './ops/metrics.routes';
import type { Runtime } from './runtime';
import { usageRoutes } from './usage/usage.routes';

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

/**
 * Mounts plugins and routes. No listen and no environment reads: tests call `fetch` directly. Each route
 * group authenticates its own requests before reading a body (admin: the admin guard; public API: the key
 * pair); body limits are enforced while reading (src/http/body.ts).
 */
export function createApp(rt: Runtime, opts: { isShuttingDown?: () => boolean; listenOrigin?: () => string } = {}) {
  const { limits } = rt.config;
  const links = createLinkOrigins({
    publicUrl: rt.config.publicUrl,
    allowedOrigins: rt.config.allowedLinkOrigins,
    listenOrigin: opts.listenOrigin ?? (() => listenOriginOf(rt.config.host, rt.config.port)),
  });
  /** The template of the route the router matched for each request: the metrics label, from the router itself. */
  const matchedRoute = new WeakMap<Request, string>();
  const projectDeps = {
    adminAuth: rt.adminAuth, maxBodyBytes: limits.maxBodyBytes,
    projects: rt.projects, keys: rt.keys, wallet: rt.wallet, onFundsChanged: rt.market.moneyMoved,
  };
  const app = new Elysia()
    .onError(({ code, error, request }) => renderError(toApiError(code, error, requestIdOf(request))))
    .onTransform({ as: 'global' }, ({ request, route }) => {
      matchedRoute.set(request, route);
    })
    .use(openapiPlugin())
    .use(healthRoutes({ store: rt.store, isReady: rt.isReady, providers: rt.providerHealth, isShuttingDown: opts.isShuttingDown ?? (() => false) }))
    .use(metricsRoutes({
      allowed: metricsAccess({ adminAuth: rt.adminAuth, metricsToken: rt.config.metricsToken, listenHost: rt.config.host }),
      render: rt.metrics.render,
    }))
    .use(chatRoutes({ config: rt.config, keys: rt.keys, chat: rt.chat, links }))
    .use(modelsRoutes({ keys: rt.keys, catalog: rt.catalog }))
    .use(conversationsRoutes({ keys: rt.keys, conversations: rt.conversations }))
    .use(usageRoutes({ keys: rt.keys, wallet: rt.wallet }))
    .use(promotionsRoutes({ keys: rt.keys, ads: rt.market.ads, limits }))
    .use(clicksRoutes({ clicks: rt.market.clicks }))
    .use(adminProjectCollectionRoutes(projectDeps))
    .use(dashboardAuthRoutes({ accounts: rt.accounts, adminAuth: rt.adminAuth, secureCookies: (rt.config.publicUrl ?? '').startsWith('https://') }))
    .use(dashboardProjectsRoutes({ accounts: rt.accounts, projects: rt.projects, wallet: rt.wallet }))
    .use(dashboardOperatorRoutes({ accounts: rt.accounts, analytics: rt.market.analytics, config: rt.config, platform: rt.platform }));
  // A project's routes, mounted for the admin token and for the dashboard's accounts (each access checks its callers).
  const dashboard = dashboardAccess({ accounts: rt.accounts, projects: rt.projects });
  for (const access of [adminAccess({ adminAuth: rt.adminAuth, projects: rt.projects }), dashboard]) {
    app.use(projectRoutes(projectDeps, access));
    app.use(marketRoutes({ maxBodyBytes: limits.maxBodyBytes, maxImportBytes: limits.maxImportBytes, projects: rt.projects, market: rt.market }, access));
  }
  app.use(dashboardConversationsRoutes({ conversations: rt.conversations, analytics: rt.market.analytics }, dashboard));

  /** Outer handler: parses the request target once, routes on it, stamps the request id, logs one line. */
  async function fetch(request: Request, server?: { requestIP(r: Request): { address: string } | null }): Promise<Response> {
    const started = performance.now();
    const target = parseRequestTarget(request.url);
    const routed = target ? routableRequest(request, target) : request;
    if (target && needsClientAddress(target.path)) recordClientAddress(routed, server?.requestIP(request)?.address);
    const requestId = assignRequestId(routed, started);
    const response = target
      ? await app.handle(routed)
      : renderError(badRequest('invalid_request_target', 'The request target is not a valid path'));
    response.headers.set('x-request-id', requestId);
    rt.metrics.request(request.method, target ? matchedRoute.get(routed) ?? 'unmatched' : 'unparsable', response.status, performance.now() - started);
    const overheadMs = response.headers.get('x-vexrail-overhead-ms');
    if (overheadMs !== null) rt.metrics.overhead(Number(overheadMs));
    const path = target?.path ?? '(unparsable)';
    // Successful completions are logged when they settle, with their tokens and cost.
    if (!(path === '/v1/chat/completions' && response.status === 200))
      rt.log.write({ request_id: requestId, method: request.method, path: loggablePath(path), status: response.status, latency_ms: Math.round((performance.now() - started) * 1000) / 1000 });
    return response;
  }

  return { app, fetch, links };
}
export type App = ReturnType<typeof createApp>;
