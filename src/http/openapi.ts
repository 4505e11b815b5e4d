import { openapi } from '@elysiajs/openapi';
import { Elysia } from 'elysia';
import bundlePath from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' };
import cssPath from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' };
import pkg from '../../package.json' with { type: 'json' };
import { ErrorEnvelopeSchema, restoreParameters } from './docs';

/**
 * Spec at /swagger/json, Swagger UI at /swagger (and /swagger/). The UI's script and stylesheet are embedded in the
 * binary and served from /swagger/assets, so the docs render with no internet access.
 */
const ASSET_PREFIX = '/swagger/assets';
const SPEC_PATH = '/swagger/json';

/** The plugin types leave out `url`; its default is relative ("swagger/json"), which /swagger/ resolves to /swagger/swagger/json. */
const swaggerOptions = {
  url: SPEC_PATH,
  cdn: `${ASSET_PREFIX}/swagger-ui-bundle.js`,
  theme: `${ASSET_PREFIX}/swagger-ui.css`,
  autoDarkMode: false,
};

export function openapiPlugin() {
  const assets = new Elysia({ name: 'swagger-assets' })
    .get(`${ASSET_PREFIX}/swagger-ui-bundle.js`, () => assetResponse(bundlePath, 'application/javascript; charset=utf-8'), { detail: { hide: true } })
    .get(`${ASSET_PREFIX}/swagger-ui.css`, () => assetResponse(cssPath, 'text/css; charset=utf-8'), { detail: { hide: true } });
  // A local hook: it sees the routes of this instance only (assets, UI page, spec), never the API's.
  const restore = ({ path, responseValue }: { path: string; responseValue: unknown }) =>
    path === SPEC_PATH && responseValue && typeof responseValue === 'object' ? restoreParameters(responseValue as any) : undefined;
  return new Elysia({ name: 'openapi' }).use(assets).onAfterHandle(restore).use(
    openapi({
      path: '/swagger',
      specPath: SPEC_PATH,
      provider: 'swagger-ui',
      exclude: { paths: [/^\/swagger/] },
      swagger: swaggerOptions,
      documentation: {
        info: {
          title: 'Vexrail',
          version: pkg.version,
          // package.json's licence: UNLICENSED is npm's word for proprietary (no licence granted to others).
          license: { name: (pkg as { license?: string }).license ?? 'UNLICENSED' },
          description:
            'Self-hosted OpenAI-compatible chat-completions gateway with key-pair authentication, a prepaid credit ' +
            'wallet, conversation tracking and an advertising marketplace (labeled promotions after the organic answer, ' +
            'tracked clicks, publisher earnings). Errors use the OpenAI envelope plus top-level statusCode and message.',
        },
        servers: [
          { url: '/', description: 'The gateway serving this document' },
          { url: 'http://127.0.0.1:8080', description: 'A gateway on its default address' },
        ],
        tags: [
          { name: 'Chat', description: 'OpenAI-compatible chat completions' },
          { name: 'Models', description: 'Models this gateway serves' },
          { name: 'Conversations', description: 'Conversations of the calling key pair\'s project' },
          { name: 'Promotions', description: 'Promotion search and tracked links' },
          { name: 'Admin: projects', description: 'Operator API: projects, domains, keys, ad settings' },
          { name: 'Admin: products', description: 'Operator API: advertisers\' products' },
          { name: 'Admin: campaigns', description: 'Operator API: CPC campaigns' },
          { name: 'Admin: earnings and analytics', description: 'Operator API: publisher earnings, analytics, click refunds' },
          { name: 'Admin: wallets', description: 'Operator API: credit wallets' },
          { name: 'Operations', description: 'Health and readiness' },
        ],
        components: {
          schemas: { ErrorEnvelope: ErrorEnvelopeSchema as any },
          securitySchemes: {
            publishableKey: { type: 'apiKey', in: 'header', name: 'x-publishable-key', description: 'pk_live_... identifies the project' },
            secretKey: { type: 'apiKey', in: 'header', name: 'x-secret-key', description: 'sk_live_... authenticates; server-side only' },
            adminBearer: { type: 'http', scheme: 'bearer', description: 'Operator token (VEXRAIL_ADMIN_TOKEN or printed on first start)' },
            dashboardSession: { type: 'apiKey', in: 'cookie', name: 'vexrail_session', description: 'Dashboard session cookie (set by sign-in); state-changing calls also send the session\'s x-csrf-token header' },
          },
        },
      },
    }),
  );
}

function assetResponse(path: string, contentType: string): Response {
  return new Response(Bun.file(path), { headers: { 'content-type': contentType, 'cache-control': 'public, max-age=86400' } });
}
