import { Elysia } from 'elysia';
import { validateChatBody } from '../chat/chat.validate';
import type { Limits } from '../config/config';
import { describe, listOf, PUBLIC_SECURITY } from '../http/docs';
import { readJsonObject } from '../http/body';
import { badRequest } from '../http/errors';
import { authenticatePublic } from '../http/public-auth';
import type { KeysService } from '../keys/keys.service';
import type { AdsService } from './ads.service';

const MAX_LIMIT = 20;
const MAX_QUERY_CHARS = 4000;

const ResultSchema = listOf({
  type: 'object',
  properties: {
    product: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, description: { type: 'string' }, url: { type: 'string' } } },
    campaign: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
    advertiser: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
    relevance: { type: 'number', minimum: 0, maximum: 1 },
  },
});

/** Promotions that would be eligible for a context, for publishers who render their own cards. */
export function promotionsRoutes(deps: { keys: KeysService; ads: AdsService; limits: Limits }) {
  return new Elysia({ name: 'promotions-routes' }).post(
    '/v1/promotions/search',
    async ({ request }) => {
      // Keys first: an unauthenticated caller never gets its body read.
      const caller = authenticatePublic(deps.keys, request);
      const input = (await readJsonObject(request, deps.limits.maxBodyBytes)) as { query?: unknown; messages?: unknown; limit?: unknown };
      const limit = input.limit === undefined ? 5 : input.limit;
      if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
        throw badRequest('invalid_value', `limit must be an integer from 1 to ${MAX_LIMIT}`, 'limit');
      let search: { query?: string; messages?: any[] };
      if (input.messages !== undefined) search = { messages: validateChatBody({ model: 'search', messages: input.messages }, deps.limits).body.messages };
      else if (typeof input.query === 'string' && input.query.trim() !== '' && input.query.length <= MAX_QUERY_CHARS) search = { query: input.query };
      else throw badRequest('invalid_request_body', `send {"query": "..."} (at most ${MAX_QUERY_CHARS} characters) or {"messages": [...]}`, 'query');
      return { object: 'list', data: deps.ads.search(caller.projectId, caller.project.monetization === 1, search, limit) };
    },
    {
      parse: 'none',
      detail: describe({
        tags: ['Promotions'],
        summary: 'Search eligible promotions for a context',
        description:
          'Up to `limit` products for a carousel, best first (ranked as the auction ranks campaigns: bid x relevance; with equal bids, by relevance). ' +
          'A campaign may place several of its products, its most relevant, at most `ads.maxProductsPerCampaign` (default 3); an answer still carries one promotion. ' +
          'Applies the same relevance floor and gates as answers (monetization, sensitive topics, shopping intent, campaign eligibility, blocked categories) and records no impression. Empty when monetization is off.',
        security: PUBLIC_SECURITY,
        body: { type: 'object', properties: { query: { type: 'string' }, messages: { type: 'array', items: { type: 'object', additionalProperties: true, description: 'A chat message, as in chat completions' } }, limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 5 } } },
        ok: { description: 'Promotions, best first; at most `limit`, and at most ads.maxProductsPerCampaign from one campaign', schema: ResultSchema },
        errors: [[400, 'invalid_json', 'invalid_request_body', 'invalid_value', 'missing_content', 'too_many_messages'], 401, 403, 413],
      }),
    },
  );
}
