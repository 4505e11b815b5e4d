/** Queries of the usage reports: each validates, types the handler and documents the route (src/http/schema.ts). */
import { Type as T } from '@sinclair/typebox';
import { queryValidator, StringEnum } from '../http/schema';

/** `from` and `to`: whole UTC days, inclusive (usage reports and analytics). */
export const DAY_RANGE = {
  from: T.Optional(T.String({ format: 'date', example: '2026-01-01', description: 'First day, UTC (default: 29 days before `to`)', 'x-error-message': 'must be a date like 2026-01-31' })),
  to: T.Optional(T.String({ format: 'date', example: '2026-01-31', description: 'Last day, UTC, inclusive (default: today)', 'x-error-message': 'must be a date like 2026-01-31' })),
};

/** `from` and `to` of a usage report (UTC days, inclusive; at most 366 days). */
export const UsageQuery = queryValidator(T.Object(DAY_RANGE));

/** The publisher's own report: the project's, or with `key=self` the calling key pair's. */
export const OwnUsageQuery = queryValidator(T.Object({
  ...DAY_RANGE,
  key: T.Optional(StringEnum(['self'] as const, { description: '`self`: only the calling key pair (default: the whole project)' })),
}));
