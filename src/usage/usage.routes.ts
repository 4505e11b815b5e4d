import { Elysia } from 'elysia';
import { describe, PUBLIC_SECURITY } from '../http/docs';
import { badRequest } from '../http/errors';
import { authenticatePublic } from '../http/public-auth';
import type { KeysService } from '../keys/keys.service';
import type { WalletService } from '../wallet/wallet.service';
import { CreditsSchema, fromParam, toParam, UsageSchema } from './usage.model';
import { usageRange, usageReport } from './usage.service';

/** A publisher's own state, read with its key pair: the project's credits and usage (or the calling key's). */
/** authenticatePublic: the key pair's 401s, then the project's unverified domain. */
const AUTH_ERRORS = [[401, 'missing_api_key', 'invalid_api_key', 'key_pair_mismatch', 'inactive_key', 'expired_key'], [403, 'domain_not_verified']] as const;

export function usageRoutes(deps: { keys: KeysService; wallet: WalletService; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return new Elysia({ name: 'usage-routes' })
    .get('/v1/credits', ({ request }) => deps.wallet.credits(authenticatePublic(deps.keys, request).projectId), {
      detail: describe({
        tags: ['Usage'], summary: "The calling key's project credits: balance, held and available", security: PUBLIC_SECURITY,
        ok: { description: 'Credits', schema: CreditsSchema }, errors: AUTH_ERRORS,
      }),
    })
    .get('/v1/usage', ({ request, query }) => {
      const caller = authenticatePublic(deps.keys, request);
      if (query.key !== undefined && query.key !== 'self')
        throw badRequest('invalid_value', 'key must be "self" (the calling key pair) or left out (the whole project)', 'key');
      const range = usageRange(query.from, query.to, now());
      const keyId = query.key === 'self' ? caller.keyId : null;
      const rows = deps.wallet.usage(caller.projectId, keyId, range.fromMs, range.toMs);
      return usageReport(rows, range, { projectId: caller.projectId, keyId });
    }, {
      detail: describe({
        tags: ['Usage'], summary: "Usage of the calling key's project (or of the key itself) per day and per model",
        description: 'Requests, tokens and cost of the requests charged to the credit wallet, by UTC day and model.',
        security: PUBLIC_SECURITY,
        parameters: [fromParam, toParam, { name: 'key', in: 'query', required: false, description: '`self`: only the calling key pair', schema: { type: 'string', enum: ['self'] } }],
        ok: { description: 'Usage', schema: UsageSchema }, errors: [[400, 'invalid_value'], ...AUTH_ERRORS],
      }),
    });
}
