import { Elysia } from 'elysia';
import type { AnalyticsService } from '../analytics/analytics.service';
import { pagedListOf, pathParam } from '../http/docs';
import { conflict } from '../http/errors';
import { describeFor, READ as read, type ProjectAccess } from '../projects/project-access';
import { DashboardConversationsQuery, MessagesQuery } from './conversations.inputs';
import { ConversationSchema, MessageSchema } from './conversations.routes';
import { MAX_MESSAGES_PAGE, type ConversationsService } from './conversations.service';

const PromotionShownSchema = {
  type: 'object',
  properties: {
    impression_id: { type: 'string' }, request_id: { type: 'string', description: 'The answer that carried it (a message\'s request_id)' },
    turn: { type: 'integer' }, campaign_id: { type: 'string' }, product_id: { type: 'string' }, product_name: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' }, clicks: { type: 'integer' },
    click_status: { type: ['string', 'null'], description: 'charged, refunded, invalid or unbilled; null: not clicked' },
  },
};

/**
 * A publisher's conversations in the dashboard: a searchable list and one conversation with its messages and the
 * promotions it showed. The project is the caller's (its owner, or the operator), checked by `access` first.
 */
export function dashboardConversationsRoutes(deps: { conversations: ConversationsService; analytics: AnalyticsService }, access: ProjectAccess) {
  const tags = [access.tag('conversations')];
  const d = describeFor(access);
  const publisherOnly = (kind: string) => {
    if (kind !== 'publisher') throw conflict('not_a_publisher', 'Conversations belong to publisher projects');
  };
  return new Elysia({ name: `dashboard-conversations-${access.name}`, prefix: access.prefix })
    .get('/projects/:id/conversations', async ({ request, params, query }) => {
      const { project } = await access.project(request, params.id, read);
      publisherOnly(project.kind);
      const { q, limit = 20, cursor } = DashboardConversationsQuery.check(query);
      return deps.conversations.search(project.id, q ?? null, limit, cursor ?? null);
    }, {
      detail: d({
        tags, summary: 'Search the project\'s conversations, newest first',
        parameters: [pathParam('id', 'Project id')], query: DashboardConversationsQuery.schema,
        ok: { description: 'A page of conversations, each with its first user message', schema: pagedListOf({ ...ConversationSchema, properties: { ...ConversationSchema.properties, first_user_message: { type: ['string', 'null'] } } }) },
        errors: [[400, 'invalid_value', 'invalid_cursor'], 404, [409, 'not_a_publisher']],
      }, read),
    })
    .get('/projects/:id/conversations/:conversation_id', async ({ request, params, query }) => {
      const { project } = await access.project(request, params.id, read);
      publisherOnly(project.kind);
      const { from_seq = 0, limit = MAX_MESSAGES_PAGE } = MessagesQuery.check(query);
      const conversation = await deps.conversations.get(project.id, params.conversation_id, from_seq, limit);
      return { ...conversation, promotions: await deps.analytics.conversationPromotions(project.id, params.conversation_id) };
    }, {
      detail: d({
        tags, summary: 'One conversation: its messages (role, model, tokens, cost, latency) and the promotions it showed with their clicks',
        parameters: [pathParam('id', 'Project id'), pathParam('conversation_id', 'Conversation id')], query: MessagesQuery.schema,
        ok: {
          description: 'The conversation',
          schema: { ...ConversationSchema, properties: { ...ConversationSchema.properties, messages: { type: 'array', items: MessageSchema }, has_more: { type: 'boolean' }, next_seq: { type: ['integer', 'null'] }, promotions: { type: 'array', items: PromotionShownSchema } } },
        },
        errors: [[400, 'invalid_value'], [404, 'project_not_found', 'conversation_not_found'], [409, 'not_a_publisher']],
      }, read),
    });
}
