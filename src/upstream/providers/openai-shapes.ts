import { ApiError, badRequest } from '../../http/errors';
import type { TranslateContext } from './provider-api';

/**
 * Pieces shared by the adapters that translate other provider APIs into OpenAI's chat-completions shapes:
 * refusing what a provider can't express, reading OpenAI message content, and writing OpenAI answers and SSE frames.
 */

export type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

/** A field the provider's API cannot express: a 400 naming it, never a silent drop. */
export function unsupported(provider: string, param: string, why = 'is not supported'): ApiError {
  return badRequest('unsupported_parameter', `${param} ${why} by this model's provider (${provider}); remove it or use a model served by an OpenAI-compatible provider`, param);
}

/** A field present with a value other than its default (false, 0, null, an empty object or list). */
export function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value as object).length > 0;
  return true;
}

/** `stop` as a list (OpenAI allows a string or up to 4 strings). */
export function stopList(stop: unknown): string[] | null {
  if (stop === undefined || stop === null) return null;
  return (Array.isArray(stop) ? stop : [stop]).map(String);
}

/** The answer size to ask for: the client's max_completion_tokens / max_tokens, else what the credit hold covers. */
export function maxTokensOf(body: Record<string, unknown>, ctx: TranslateContext): number {
  const asked = body.max_completion_tokens ?? body.max_tokens;
  return typeof asked === 'number' && asked > 0 ? asked : ctx.defaultMaxTokens;
}

/** Text of a system/developer/tool message: a string, or its text parts joined. */
export function plainText(content: unknown, provider: string, param: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) throw unsupported(provider, param, 'must be a string or a list of text parts');
  return content
    .map((part, i) => {
      if (part?.type !== 'text' || typeof part.text !== 'string') throw unsupported(provider, `${param}[${i}]`, 'may only hold text parts here');
      return part.text;
    })
    .join('');
}

/** Parsed tool-call arguments (OpenAI sends them as a JSON string; the other APIs take an object). */
export function toolArguments(raw: unknown, provider: string, param: string): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'string') throw unsupported(provider, param, 'must be a JSON string');
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
  } catch {}
  throw badRequest('invalid_tool_arguments', `${param} must be a JSON object encoded as a string`, param);
}

/** `data:<mime>;base64,<data>` split, or null for any other URL. */
export function dataUrl(url: string): { mimeType: string; data: string } | null {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,(.*)$/s.exec(url);
  return match ? { mimeType: match[1], data: match[2] } : null;
}

const encoder = new TextEncoder();
export const sseFrame = (payload: unknown): Uint8Array => encoder.encode(`data: ${JSON.stringify(payload)}\n\n`);
export const SSE_DONE = encoder.encode('data: [DONE]\n\n');

export function chunkOf(ctx: TranslateContext, choices: unknown[], usage?: Usage): Record<string, unknown> {
  const chunk: Record<string, unknown> = { id: ctx.id, object: 'chat.completion.chunk', created: ctx.created, model: ctx.model, choices };
  if (usage) chunk.usage = usage;
  return chunk;
}

/** The mid-stream failure frame the relay turns into its own `upstream_error` (the provider's message is not passed on). */
export const streamErrorFrame = () => sseFrame({ error: { message: 'The upstream LLM provider reported an error mid-stream', type: 'upstream_error', code: 'upstream_error' } });

export function usageOf(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** How an adapter turns each kind of OpenAI message into its API's content items. */
export type TurnBuilders<Item> = {
  /** A user message's content (a string or content parts). */
  user(content: unknown, param: string): Item[];
  assistant(message: any, param: string): Item[];
  /** A `tool` message: its result, sent back on the user's side. */
  tool(message: any, param: string): Item[];
};

/**
 * OpenAI messages as the alternating turns both Anthropic and Gemini require: system and developer messages
 * gathered into one system text (in order), consecutive turns of one side merged, tool results on the user's side.
 */
export function alternatingTurns<Item>(messages: unknown, provider: string, build: TurnBuilders<Item>) {
  const system: string[] = [];
  const turns: Array<{ side: 'user' | 'assistant'; items: Item[] }> = [];
  const push = (side: 'user' | 'assistant', items: Item[]) => {
    if (items.length === 0) return;
    const last = turns.at(-1);
    if (last && last.side === side) last.items.push(...items);
    else turns.push({ side, items });
  };
  for (const [i, m] of (Array.isArray(messages) ? messages : []).entries()) {
    const param = `messages[${i}]`;
    switch (m?.role) {
      case 'system':
      case 'developer':
        system.push(plainText(m.content, provider, `${param}.content`));
        break;
      case 'user':
        push('user', build.user(m.content, `${param}.content`));
        break;
      case 'assistant':
        push('assistant', build.assistant(m, param));
        break;
      case 'tool':
        push('user', build.tool(m, param));
        break;
      default:
        throw unsupported(provider, `${param}.role`, `"${String(m?.role)}" messages`);
    }
  }
  if (turns.length === 0) throw unsupported(provider, 'messages', 'without a user or assistant message');
  return { system: system.length ? system.join('\n\n') : null, turns };
}
