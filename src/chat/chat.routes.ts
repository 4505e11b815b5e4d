import { Elysia } from 'elysia';
import type { Config } from '../config/config';
import { describe, headerParam, PUBLIC_SECURITY } from '../http/docs';
import { readJsonObject } from '../http/body';
import { renderError } from '../http/errors';
import type { LinkOrigins } from '../http/link-origin';
import { authenticatePublic } from '../http/public-auth';
import { requestIdOf, requestStartOf } from '../http/request-ids';
import type { KeysService } from '../keys/keys.service';
import { ChatCompletionChunkSchema, ChatCompletionSchema, chatInput } from './chat.model';
import type { ChatService } from './chat.service';
import { validateChatBody, validateConversationId } from './chat.validate';

export function chatRoutes(deps: { config: Config; keys: KeysService; chat: ChatService; links: LinkOrigins }) {
  return new Elysia({ name: 'chat-routes' }).post(
    '/v1/chat/completions',
    async ({ request }) => {
      // Checks run in the documented order: auth, domain, body, credits, upstream.
      const caller = await authenticatePublic(deps.keys, request);
      const body = await readJsonObject(request, deps.config.limits.maxBodyBytes, { emptyAsObject: false });
      const chatRequest = validateChatBody(body, deps.config.limits);
      const conversationId = validateConversationId(request.headers.get('x-conversation-id'), deps.config.limits);
      // The key's own limits, in memory: allowed models, budget, requests and tokens per minute.
      const model = chatRequest.body.model;
      const admission = await deps.keys.admit(caller, model, Object.hasOwn(deps.config.aliases, model) ? deps.config.aliases[model] : null);
      if ('error' in admission) return renderError(admission.error, admission.headers);
      const { response } = await deps.chat.complete({
        caller,
        request: chatRequest,
        conversationId,
        requestId: requestIdOf(request),
        origin: deps.links.originFor(request),
        signal: request.signal,
        startedMs: requestStartOf(request),
        // Tokens per minute; the charge reaches the key's budget through its hold (keys.budget).
        onSettled: (tokens) => deps.keys.recordUsage(caller.keyId, tokens),
      });
      for (const [name, value] of Object.entries(admission.headers)) response.headers.set(name, value);
      return response;
    },
    {
      parse: 'none',
      detail: describe({
        tags: ['Chat'],
        summary: 'Create a chat completion',
        description:
          'OpenAI-compatible. With `stream: true` the answer is Server-Sent Events of `chat.completion.chunk` objects ending with ' +
          '`data: [DONE]`; the usage chunk is sent only when `stream_options.include_usage` is true. Unknown OpenAI fields ' +
          '(stop, n, tools, response_format, seed, user, metadata, ...) pass through to the upstream untouched. The cost of the ' +
          'tokens is charged to the project\'s credit wallet. Response headers: `x-request-id`, `x-vexrail-provider` (the name of the provider that answered, as configured), `x-vexrail-overhead-ms` ' +
          '(time spent in the gateway outside the upstream) and `Server-Timing`. A key with `rpm_limit` / `tpm_limit` gets ' +
          '`x-ratelimit-limit-requests`, `x-ratelimit-remaining-requests`, `x-ratelimit-reset-requests` (and the `-tokens` trio) ' +
          'on every answer, and 429 `rate_limit_exceeded` with `Retry-After` past them; 403 `key_budget_exceeded` when its budget, less what requests in flight hold, cannot pay for the prompt and a minimal answer; ' +
          '403 `model_not_allowed` for a model outside its `allowed_models`.',
        security: PUBLIC_SECURITY,
        parameters: [headerParam('x-conversation-id', 'Groups requests into a conversation (1-128 printable ASCII characters)')],
        body: chatInput(deps.config.limits).schema,
        ok: {
          description: 'The completion (JSON), or a stream of chunks (text/event-stream)',
          schema: ChatCompletionSchema,
          extraContent: { 'text/event-stream': { schema: ChatCompletionChunkSchema } },
        },
        errors: [
          [400, 'invalid_json', 'json_too_deep', 'invalid_encoding', 'body_incomplete', 'invalid_request_body', 'missing_model', 'missing_messages', 'empty_messages', 'invalid_type', 'missing_content', 'too_many_messages', 'content_too_long', 'invalid_conversation_id'],
          [401, 'missing_api_key', 'invalid_api_key', 'key_pair_mismatch', 'inactive_key', 'expired_key'],
          [403, 'domain_not_verified', 'insufficient_credits', 'key_budget_exceeded', 'model_not_allowed'],
          413,
          [422, 'model_not_found', 'invalid_value'],
          [429, 'rate_limit_exceeded', 'upstream_rate_limited'],
          500,
          [502, 'upstream_error', 'upstream_auth_failed'],
          [504, 'upstream_timeout'],
        ],
      }),
    },
  );
}
