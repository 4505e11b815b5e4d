import { Elysia } from 'elysia';
import { describe, PUBLIC_SECURITY } from '../http/docs';
import { authenticatePublic } from '../http/public-auth';
import type { KeysService } from '../keys/keys.service';
import type { WalletService } from '../wallet/wallet.service';
import { CreditsSchema, UsageSchema } from './usage.model';
import { OwnUsageQuery } from './usage.inputs';
import { usageRange, usageReport } from './usage.service';

/** A publisher's own state, read with its key pair: the project's credits and usage (or the calling key's). */
/** authenticatePublic: the key pair's 401s, then the project's unverified domain. */
const AUTH_ERRORS = [[401, 'missing_api_key', 'invalid_api_key', 'key_pair_mismatch', 'inactive_key', 'expired_key'], [403, 'domain_not_verified']] as const;

export function usageRoutes(deps: { keys: KeysService; wallet: WalletService; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return new Elysia({ name: 'usage-routes' })
    .get('/v1/credits', async ({ request }) => deps.wallet.credits((await authenticatePublic(deps.keys, request)).projectId), {
      detail: describe({
        tags: ['Usage'], summary: "The calling key's project credits: balance, held and available", security: PUBLIC_SECURITY,
        ok: { description: 'Credits', schema: CreditsSchema }, errors: AUTH_ERRORS,
      }),
    })
    .get('/v1/usage', async ({ request, query }) => {
      const caller = await authenticatePublic(deps.keys, request);
      const { from, to, key } = OwnUsageQuery.check(query);
      const range = usageRange(from, to, now());
      const keyId = key === 'self' ? caller.keyId : null;
      const rows = await deps.wallet.usage(caller.projectId, keyId, range.fromMs, range.toMs);
      return usageReport(rows, range, { projectId: caller.projectId, keyId });
    }, {
      detail: describe({
        tags: ['Usage'], summary: "Usage of the calling key's project (or of the key itself) per day and per model",
        description: 'Requests, tokens and cost of the requests charged to the credit wallet, by UTC day and model.',
        security: PUBLIC_SECURITY,
        query: OwnUsageQuery.schema,
        ok: { description: 'Usage', schema: UsageSchema }, errors: [[400, 'invalid_value'], ...AUTH_ERRORS],
      }),
    });
}
