import { Elysia } from 'elysia';
import { describe, pagedListOf, pathParam, PUBLIC_SECURITY } from '../http/docs';
import { authenticatePublic } from '../http/public-auth';
import type { KeysService } from '../keys/keys.service';
import { MAX_MESSAGES_PAGE, type ConversationsService } from './conversations.service';
import { ConversationsQuery, MessagesQuery } from './conversations.inputs';

export const ConversationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The x-conversation-id, or the request id for untracked requests' },
    object: { type: 'string', example: 'conversation' },
    tracked: { type: 'boolean', description: 'false when the request carried no x-conversation-id' },
    end_user: { type: ['string', 'null'] },
    metadata: { type: ['object', 'null'], additionalProperties: true },
    message_count: { type: 'integer' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
};

export const MessageSchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    role: { type: 'string' },
    content: { type: 'string' },
    model: { type: ['string', 'null'] },
    usage: { type: ['object', 'null'], properties: { prompt_tokens: { type: 'integer' }, completion_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } } },
    cost: { type: ['string', 'null'], description: 'USD, decimal string' },
    cost_micros: { type: ['integer', 'null'] },
    latency_ms: { type: ['integer', 'null'] },
    streamed: { type: ['boolean', 'null'] },
    end_user: { type: ['string', 'null'] },
    metadata: { type: ['object', 'null'], additionalProperties: true },
    request_id: { type: ['string', 'null'] },
    created_at: { type: 'string', format: 'date-time' },
  },
};


export function conversationsRoutes(deps: { keys: KeysService; conversations: ConversationsService }) {
  return new Elysia({ name: 'conversations-routes' })
    .get(
      '/v1/conversations',
      async ({ request, query }) => {
        const caller = await authenticatePublic(deps.keys, request);
        const { limit = 20, cursor } = ConversationsQuery.check(query);
        return deps.conversations.list(caller.projectId, limit, cursor ?? null);
      },
      {
        detail: describe({
          tags: ['Conversations'],
          summary: 'List conversations, newest first',
          security: PUBLIC_SECURITY,
          query: ConversationsQuery.schema,
          ok: {
            description: 'A page of conversations',
            schema: pagedListOf(ConversationSchema),
          },
          errors: [[400, 'invalid_value', 'invalid_cursor'], 401, 403],
        }),
      },
    )
    .get(
      '/v1/conversations/:id',
      async ({ request, params, query }) => {
        const caller = await authenticatePublic(deps.keys, request);
        // params.id is already percent-decoded once by the router: decoding again would misread ids holding '%'.
        const { from_seq = 0, limit = MAX_MESSAGES_PAGE } = MessagesQuery.check(query);
        return deps.conversations.get(caller.projectId, params.id, from_seq, limit);
      },
      {
        detail: describe({
          tags: ['Conversations'],
          summary: 'One conversation with its messages, oldest first',
          security: PUBLIC_SECURITY,
          parameters: [pathParam('id', 'Conversation id')],
          query: MessagesQuery.schema,
          ok: {
            description: 'The conversation',
            schema: { ...ConversationSchema, properties: { ...ConversationSchema.properties, messages: { type: 'array', items: MessageSchema }, has_more: { type: 'boolean' }, next_seq: { type: ['integer', 'null'] } } },
          },
          errors: [[400, 'invalid_value'], 401, 403, [404, 'conversation_not_found']],
        }),
      },
    );
}
