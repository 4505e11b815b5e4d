import { Type as T } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import type { AnalyticsService } from '../analytics/analytics.service';
import type { Config } from '../config/config';
import type { ModelCatalog } from '../models/catalog';
import { DASHBOARD_SECURITY, describe, listOf } from '../http/docs';
import { queryValidator } from '../http/schema';
import { formatMicros } from '../money/money';
import type { AccountsService } from './accounts.service';
import { AccountSchema, DASHBOARD_API, dashboardSession } from './dashboard-session';

const RangeQuery = queryValidator(T.Object({
  from: T.Optional(T.String({ format: 'date', description: 'First UTC day, e.g. 2026-11-01 (default: 29 days before `to`)' })),
  to: T.Optional(T.String({ format: 'date', description: 'Last UTC day (default: today)' })),
}));


/** The operator's own views in the dashboard: accounts, the platform's settings and its revenue. Operator accounts only. */
export function dashboardOperatorRoutes(deps: { accounts: AccountsService; analytics: AnalyticsService; config: Config; catalog: ModelCatalog }) {
  const session = dashboardSession(deps.accounts);
  const tags = ['Dashboard: operator'];
  const errors = [[401, 'not_signed_in'], [403, 'operator_only']] as const;
  return new Elysia({ name: 'dashboard-operator-routes', prefix: `${DASHBOARD_API}/operator` })
    .get('/accounts', async ({ request }) => {
      await session(request, { csrf: false, operator: true });
      return { object: 'list', data: await deps.accounts.list(1000) };
    }, {
      detail: describe({ tags, summary: 'Every account (newest first, up to 1,000) with the number of projects it owns', security: DASHBOARD_SECURITY, ok: { description: 'Accounts', schema: listOf({ ...AccountSchema, properties: { ...AccountSchema.properties, projects: { type: 'integer' } } }) }, errors: [...errors] }),
    })
    .get('/settings', async ({ request }) => {
      await session(request, { csrf: false, operator: true });
      const ads = deps.config.ads;
      return {
        object: 'platform_settings',
        signup: deps.accounts.signupMode,
        publisher_share_percent: ads.publisherShareBps / 100,
        earnings_hold_days: ads.earningsHoldMs / 86_400_000,
        min_cpc: formatMicros(ads.minCpcMicros), min_cpc_micros: ads.minCpcMicros,
        judge: ads.judge,
        models: deps.catalog.ids().map((id) => {
          const route = deps.catalog.resolve(id);
          return {
            id,
            providers: route ? route.providers.map((p) => p.name) : [],
            input_per_mtok: route ? formatMicros(route.price.inputMicrosPerMTok) : null,
            input_per_mtok_micros: route ? route.price.inputMicrosPerMTok : null,
            output_per_mtok: route ? formatMicros(route.price.outputMicrosPerMTok) : null,
            output_per_mtok_micros: route ? route.price.outputMicrosPerMTok : null,
          };
        }),
      };
    }, {
      detail: describe({
        tags, summary: 'The platform\'s settings: model prices, revenue share, hold period, sign-up mode (set in the config file)', security: DASHBOARD_SECURITY,
        ok: { description: 'Settings', schema: { type: 'object', additionalProperties: true } }, errors: [...errors],
      }),
    })
    .get('/revenue', async ({ request, query }) => {
      await session(request, { csrf: false, operator: true });
      return deps.analytics.platformRevenue(RangeQuery.check(query));
    }, {
      detail: describe({
        tags, summary: 'Platform revenue per UTC day: its share of charged clicks, less refunds', security: DASHBOARD_SECURITY, query: RangeQuery.schema,
        ok: { description: 'Revenue', schema: { type: 'object', properties: { object: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, total: { type: 'string' }, total_micros: { type: 'integer' }, daily: { type: 'array', items: { type: 'object', properties: { date: { type: 'string' }, revenue: { type: 'string' }, revenue_micros: { type: 'integer' }, fees_micros: { type: 'integer' }, refunds_micros: { type: 'integer' } } } } } } },
        errors: [[400, 'invalid_value'], ...errors],
      }),
    });
}
