import { Type as T } from '@sinclair/typebox';
import { Elysia } from 'elysia';
import type { AnalyticsService } from '../analytics/analytics.service';
import type { Config } from '../config/config';
import { DASHBOARD_SECURITY, describe, listOf } from '../http/docs';
import { fieldError, Nullable, queryValidator, readBody, USD_TEXT, validator } from '../http/schema';
import { formatMicros } from '../money/money';
import type { PlatformSettings, PlatformSettingsPatch } from '../platform/platform-settings';
import { DAY_RANGE } from '../usage/usage.inputs';
import type { AccountsService } from './accounts.service';
import { AccountSchema, DASHBOARD_API, dashboardSession } from './dashboard-session';

const RangeQuery = queryValidator(T.Object(DAY_RANGE));

const Price = T.Object({
  input: T.String({ pattern: USD_TEXT, example: '0.15', description: 'USD per million prompt tokens' }),
  output: T.String({ pattern: USD_TEXT, example: '0.60', description: 'USD per million completion tokens' }),
}, { additionalProperties: false });
const SettingsBody = validator(T.Object({
  publisher_share_percent: T.Optional(Nullable(T.Number({ minimum: 0, maximum: 100, example: 70, description: 'The publisher\'s share of each charged click, percent (two decimals at most); null: the config file\'s' }))),
  earnings_hold_days: T.Optional(Nullable(T.Number({ minimum: 0, maximum: 3650, example: 7, description: 'Days before a click\'s earning becomes available; null: the config file\'s' }))),
  // A map as additionalProperties (not patternProperties): what OpenAPI clients understand.
  prices: T.Optional(T.Object({}, {
    additionalProperties: Nullable(Price), maxProperties: 500,
    description: 'Model id to its price; null puts the config file\'s back. Requests already running keep the price they started with.',
    ...fieldError('invalid_value'),
  })),
}, { additionalProperties: false }));
const SettingsSchema = { type: 'object', additionalProperties: true };
const MAX_BODY_BYTES = 64 * 1024;

/** The operator's own views in the dashboard: accounts, the platform's settings and its revenue. Operator accounts only. */
export function dashboardOperatorRoutes(deps: { accounts: AccountsService; analytics: AnalyticsService; config: Config; platform: PlatformSettings }) {
  const session = dashboardSession(deps.accounts);
  const tags = ['Dashboard: operator'];
  const errors = [[401, 'not_signed_in'], [403, 'operator_only']] as const;
  const settingsView = () => ({
    object: 'platform_settings',
    signup: deps.accounts.signupMode,
    min_cpc: formatMicros(deps.config.ads.minCpcMicros), min_cpc_micros: deps.config.ads.minCpcMicros,
    judge: deps.config.ads.judge,
    ...deps.platform.view(),
  });
  return new Elysia({ name: 'dashboard-operator-routes', prefix: `${DASHBOARD_API}/operator` })
    .get('/accounts', async ({ request }) => {
      await session(request, { csrf: false, operator: true });
      return { object: 'list', data: await deps.accounts.list(1000) };
    }, {
      detail: describe({ tags, summary: 'Every account (newest first, up to 1,000) with the number of projects it owns', security: DASHBOARD_SECURITY, ok: { description: 'Accounts', schema: listOf({ ...AccountSchema, properties: { ...AccountSchema.properties, projects: { type: 'integer' } } }) }, errors: [...errors] }),
    })
    .get('/settings', async ({ request }) => {
      await session(request, { csrf: false, operator: true });
      return settingsView();
    }, {
      detail: describe({
        tags, summary: 'The platform\'s settings: model prices, revenue share, hold period (each with its source: config or dashboard), minimum CPC, sign-up mode', security: DASHBOARD_SECURITY,
        ok: { description: 'Settings', schema: SettingsSchema }, errors: [...errors],
      }),
    })
    .patch('/settings', async ({ request }) => {
      await session(request, { csrf: true, operator: true });
      await deps.platform.update((await readBody(request, SettingsBody, MAX_BODY_BYTES)) as PlatformSettingsPatch);
      return settingsView();
    }, {
      parse: 'none',
      detail: describe({
        tags, summary: 'Change the revenue share, the hold period or model prices (over the config file\'s; null restores it)', security: DASHBOARD_SECURITY,
        description: 'Applies at once on this instance and within a second on the others sharing the store. A click is split with the share in force when it is charged; an earning keeps the hold it was given; a request keeps the price it started with.',
        body: SettingsBody.schema,
        ok: { description: 'Settings', schema: SettingsSchema }, errors: [[400, 'invalid_json', 'invalid_request_body', 'invalid_value'], [401, 'not_signed_in'], [403, 'csrf_token_mismatch', 'operator_only'], 413],
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
