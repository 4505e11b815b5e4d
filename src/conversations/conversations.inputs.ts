/** Queries of the conversations API: each validates, types the handler and documents the route (src/http/schema.ts). */
import { Type as T } from '@sinclair/typebox';
import { queryValidator } from '../http/schema';
import { MAX_CONVERSATIONS_PAGE, MAX_MESSAGES_PAGE } from './conversations.service';

const ConversationPage = {
  limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_CONVERSATIONS_PAGE, default: 20, description: `Page size, 1-${MAX_CONVERSATIONS_PAGE} (default 20)`, 'x-error-message': `must be an integer from 1 to ${MAX_CONVERSATIONS_PAGE}` })),
  cursor: T.Optional(T.String({ maxLength: 200, description: 'next_cursor of the previous page', 'x-error-code': 'invalid_cursor' })),
};

export const ConversationsQuery = queryValidator(T.Object(ConversationPage));

export const MessagesQuery = queryValidator(T.Object({
  from_seq: T.Optional(T.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0, description: 'First message position to return (default 0); next_seq of the previous page', 'x-error-message': 'must be an integer of at least 0' })),
  limit: T.Optional(T.Integer({ minimum: 1, maximum: MAX_MESSAGES_PAGE, default: MAX_MESSAGES_PAGE, description: `Messages per page, 1-${MAX_MESSAGES_PAGE} (default ${MAX_MESSAGES_PAGE})`, 'x-error-message': `must be an integer from 1 to ${MAX_MESSAGES_PAGE}` })),
}));

export const DashboardConversationsQuery = queryValidator(T.Object({
  q: T.Optional(T.String({ minLength: 1, maxLength: 200, description: 'Text to find in the conversation id or any of its messages (any case)' })),
  ...ConversationPage,
}));
