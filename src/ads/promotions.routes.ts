import { Elysia } from 'elysia';
import { chatInput } from '../chat/chat.model';
import { validateChatBody } from '../chat/chat.validate';
import type { Limits } from '../config/config';
import { describe, listOf, PUBLIC_SECURITY } from '../http/docs';
import { badRequest } from '../http/errors';
import { readBody, validator } from '../http/schema';
import { Type as T } from '@sinclair/typebox';
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

/** The search body: a query or a conversation, and how many results. */
function searchBody(limits: Limits) {
  const messages = chatInput(limits).schema.properties.messages;
  return validator(T.Object({
    query: T.Optional(T.String({ minLength: 1, maxLength: MAX_QUERY_CHARS, pattern: '\\S', example: 'trail running shoes for wet rocks', description: 'What the user is after, as text (or send messages)', 'x-error-code': 'invalid_request_body' })),
    messages: T.Optional(messages),
    limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 5, 'x-error-message': `must be an integer from 1 to ${MAX_LIMIT}` })),
  }, { additionalProperties: false }));
}

/** Promotions that would be eligible for a context, for publishers who render their own cards. */
export function promotionsRoutes(deps: { keys: KeysService; ads: AdsService; limits: Limits }) {
  const SearchBody = searchBody(deps.limits);
  return new Elysia({ name: 'promotions-routes' }).post(
    '/v1/promotions/search',
    async ({ request }) => {
      // Keys first: an unauthenticated caller never gets its body read.
      const caller = await authenticatePublic(deps.keys, request);
      const input = await readBody(request, SearchBody, deps.limits.maxBodyBytes);
      const limit = input.limit ?? 5;
      let search: { query?: string; messages?: any[] };
      // The messages' content rules (content required, total size) are the chat body's.
      if (input.messages !== undefined) search = { messages: validateChatBody({ model: 'search', messages: input.messages }, deps.limits).body.messages };
      else if (input.query !== undefined) search = { query: input.query };
      else throw badRequest('invalid_request_body', `send {"query": "..."} (at most ${MAX_QUERY_CHARS} characters) or {"messages": [...]}`, 'query');
      return { object: 'list', data: await deps.ads.search(caller.projectId, caller.project.monetization === 1, search, limit) };
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
        body: SearchBody.schema,
        ok: { description: 'Promotions, best first; at most `limit`, and at most ads.maxProductsPerCampaign from one campaign', schema: ResultSchema },
        errors: [[400, 'invalid_json', 'invalid_request_body', 'invalid_value', 'missing_content', 'too_many_messages'], 401, 403, 413],
      }),
    },
  );
}
