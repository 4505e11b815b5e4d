import { createParser } from 'eventsource-parser';
import { fromUpstreamStatus } from '../upstream-errors';
import type { ProviderApi, TranslateContext } from './provider-api';
import {
  alternatingTurns, chunkOf, dataUrl, isSet, maxTokensOf, plainText, sseFrame, SSE_DONE, stopList, streamErrorFrame, toolArguments,
  unsupported, usageOf,
} from './openai-shapes';

/**
 * Anthropic's Messages API (`POST {base_url}/messages`, `x-api-key`, `anthropic-version`), translated from and to
 * OpenAI chat completions.
 */
const NAME = 'anthropic';
const VERSION = '2023-06-01';

/** OpenAI fields the translation reads. */
const TRANSLATED = new Set([
  'model', 'messages', 'stream', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'tools',
  'tool_choice', 'parallel_tool_calls', 'user', 'n', 'response_format', 'presence_penalty', 'frequency_penalty', 'logprobs',
]);
/** OpenAI fields that do not change the answer (OpenAI-side storage and the gateway's own usage request): not sent. */
const IGNORED = new Set(['stream_options', 'store', 'metadata']);

type Block = Record<string, unknown>;

function userBlocks(content: unknown, param: string): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw unsupported(NAME, param, 'must be a string or a list of content parts');
  return content.map((part, i) => {
    const where = `${param}[${i}]`;
    if (part?.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
    if (part?.type === 'image_url' && typeof part.image_url?.url === 'string') {
      const inline = dataUrl(part.image_url.url);
      if (inline) return { type: 'image', source: { type: 'base64', media_type: inline.mimeType, data: inline.data } };
      if (/^https?:\/\//i.test(part.image_url.url)) return { type: 'image', source: { type: 'url', url: part.image_url.url } };
      throw unsupported(NAME, `${where}.image_url.url`, 'must be an http(s) or data: URL');
    }
    throw unsupported(NAME, `${where}.type`, `"${String(part?.type)}" content`);
  });
}

function assistantBlocks(message: any, param: string): Block[] {
  const blocks: Block[] = [];
  if (typeof message.content === 'string') {
    if (message.content !== '') blocks.push({ type: 'text', text: message.content });
  } else if (Array.isArray(message.content)) {
    for (const [i, part] of message.content.entries()) {
      if (part?.type === 'text' && typeof part.text === 'string') blocks.push({ type: 'text', text: part.text });
      else if (part?.type !== 'refusal') throw unsupported(NAME, `${param}.content[${i}].type`, `"${String(part?.type)}" content in an assistant message`);
    }
  }
  if (message.function_call) throw unsupported(NAME, `${param}.function_call`, '(the legacy form; use tool_calls)');
  for (const [i, call] of (Array.isArray(message.tool_calls) ? message.tool_calls : []).entries()) {
    if (call?.type !== 'function') throw unsupported(NAME, `${param}.tool_calls[${i}].type`, `"${String(call?.type)}" tool calls`);
    blocks.push({ type: 'tool_use', id: String(call.id), name: String(call.function?.name), input: toolArguments(call.function?.arguments, NAME, `${param}.tool_calls[${i}].function.arguments`) });
  }
  return blocks;
}

function translateTools(body: Record<string, unknown>, request: Record<string, unknown>): void {
  const tools = body.tools;
  if (Array.isArray(tools) && tools.length > 0) {
    request.tools = tools.map((tool: any, i) => {
      if (tool?.type !== 'function') throw unsupported(NAME, `tools[${i}].type`, `"${String(tool?.type)}" tools`);
      const fn = tool.function ?? {};
      const out: Record<string, unknown> = { name: fn.name, input_schema: fn.parameters ?? { type: 'object', properties: {} } };
      if (fn.description !== undefined) out.description = fn.description;
      return out;
    });
  }
  const choice = body.tool_choice;
  let toolChoice: Record<string, unknown> | null = null;
  if (choice === 'auto') toolChoice = { type: 'auto' };
  else if (choice === 'none') toolChoice = { type: 'none' };
  else if (choice === 'required') toolChoice = { type: 'any' };
  else if (choice && typeof choice === 'object' && (choice as any).type === 'function') toolChoice = { type: 'tool', name: (choice as any).function?.name };
  else if (choice !== undefined && choice !== null) throw unsupported(NAME, 'tool_choice', `value ${JSON.stringify(choice)}`);
  if (body.parallel_tool_calls === false && request.tools) {
    toolChoice ??= { type: 'auto' };
    if (toolChoice.type !== 'none') toolChoice.disable_parallel_tool_use = true;
  }
  if (toolChoice) request.tool_choice = toolChoice;
}

function buildBody(body: Record<string, unknown>, ctx: TranslateContext): Record<string, unknown> {
  for (const key of Object.keys(body)) if (!TRANSLATED.has(key) && !IGNORED.has(key) && body[key] !== undefined) throw unsupported(NAME, key);
  if (typeof body.n === 'number' && body.n !== 1) throw unsupported(NAME, 'n', 'above 1');
  if (isSet(body.presence_penalty)) throw unsupported(NAME, 'presence_penalty');
  if (isSet(body.frequency_penalty)) throw unsupported(NAME, 'frequency_penalty');
  if (isSet(body.logprobs)) throw unsupported(NAME, 'logprobs');
  const format = (body.response_format as { type?: string } | undefined)?.type;
  if (format !== undefined && format !== 'text') throw unsupported(NAME, 'response_format', `of type "${format}"`);
  if (typeof body.temperature === 'number' && body.temperature > 1)
    throw unsupported(NAME, 'temperature', 'above 1 (Anthropic takes 0 to 1)');
  const { system, turns } = alternatingTurns<Block>(body.messages, NAME, {
    user: userBlocks,
    assistant: assistantBlocks,
    tool: (m, param) => [{ type: 'tool_result', tool_use_id: String(m.tool_call_id), content: plainText(m.content, NAME, `${param}.content`) }],
  });
  const messages = turns.map((t) => ({ role: t.side, content: t.items }));
  const request: Record<string, unknown> = { model: ctx.model, max_tokens: maxTokensOf(body, ctx), messages };
  if (system !== null) request.system = system;
  if (typeof body.temperature === 'number') request.temperature = body.temperature;
  if (typeof body.top_p === 'number') request.top_p = body.top_p;
  const stop = stopList(body.stop);
  if (stop && stop.length > 0) request.stop_sequences = stop;
  translateTools(body, request);
  if (typeof body.user === 'string' && body.user !== '') request.metadata = { user_id: body.user };
  if (body.stream === true) request.stream = true;
  return request;
}

const FINISH: Record<string, string> = { end_turn: 'stop', stop_sequence: 'stop', pause_turn: 'stop', max_tokens: 'length', tool_use: 'tool_calls', refusal: 'content_filter', model_context_window_exceeded: 'length' };
const finishOf = (reason: unknown) => (typeof reason === 'string' ? FINISH[reason] ?? 'stop' : 'stop');

/** Input tokens as billed: the uncached ones plus cache writes and reads. */
function inputTokens(usage: any): number {
  return (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0);
}

function translateResponse(json: any, ctx: TranslateContext): Record<string, unknown> {
  if (!json || typeof json !== 'object' || !Array.isArray(json.content)) throw new Error('not a Messages API answer');
  let text = '';
  const toolCalls: unknown[] = [];
  for (const block of json.content) {
    if (block?.type === 'text') text += block.text ?? '';
    else if (block?.type === 'tool_use') toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
  }
  const message: Record<string, unknown> = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishOf(json.stop_reason) }],
    usage: usageOf(inputTokens(json.usage), json.usage?.output_tokens ?? 0),
  };
}

function translateStream(ctx: TranslateContext): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let prompt = 0;
  let completion = 0;
  let finish: string | null = null;
  let ended = false;
  /** Content block index -> OpenAI tool_calls index. */
  const toolIndex = new Map<number, number>();
  let out!: TransformStreamDefaultController<Uint8Array>;
  const choice = (delta: Record<string, unknown>, finishReason: string | null = null) => [{ index: 0, delta, logprobs: null, finish_reason: finishReason }];
  const parser = createParser({
    onEvent(event) {
      if (ended) return;
      let data: any;
      try {
        data = JSON.parse(event.data);
      } catch {
        ended = true;
        out.enqueue(streamErrorFrame());
        return;
      }
      switch (data?.type ?? event.event) {
        case 'message_start':
          prompt = inputTokens(data.message?.usage);
          completion = data.message?.usage?.output_tokens ?? 0;
          out.enqueue(sseFrame(chunkOf(ctx, choice({ role: 'assistant', content: '' }))));
          break;
        case 'content_block_start':
          if (data.content_block?.type === 'tool_use') {
            const index = toolIndex.size;
            toolIndex.set(data.index, index);
            out.enqueue(sseFrame(chunkOf(ctx, choice({ tool_calls: [{ index, id: data.content_block.id, type: 'function', function: { name: data.content_block.name, arguments: '' } }] }))));
          } else if (data.content_block?.type === 'text' && data.content_block.text) {
            out.enqueue(sseFrame(chunkOf(ctx, choice({ content: data.content_block.text }))));
          }
          break;
        case 'content_block_delta':
          if (data.delta?.type === 'text_delta') out.enqueue(sseFrame(chunkOf(ctx, choice({ content: data.delta.text }))));
          else if (data.delta?.type === 'input_json_delta' && toolIndex.has(data.index))
            out.enqueue(sseFrame(chunkOf(ctx, choice({ tool_calls: [{ index: toolIndex.get(data.index), function: { arguments: data.delta.partial_json } }] }))));
          break;
        case 'message_delta':
          if (data.usage?.output_tokens !== undefined) completion = data.usage.output_tokens;
          if (data.usage?.input_tokens !== undefined) prompt = inputTokens(data.usage);
          if (data.delta?.stop_reason) {
            finish = finishOf(data.delta.stop_reason);
            out.enqueue(sseFrame(chunkOf(ctx, choice({}, finish))));
          }
          break;
        case 'message_stop':
          ended = true;
          if (finish === null) out.enqueue(sseFrame(chunkOf(ctx, choice({}, 'stop'))));
          out.enqueue(sseFrame(chunkOf(ctx, [], usageOf(prompt, completion))));
          out.enqueue(SSE_DONE);
          break;
        case 'error':
          ended = true;
          out.enqueue(streamErrorFrame());
          break;
        // 'ping', 'content_block_stop' and event types added later carry nothing to relay.
      }
    },
  });
  return new TransformStream({
    start(controller) {
      out = controller;
    },
    transform(bytes) {
      parser.feed(decoder.decode(bytes, { stream: true }));
    },
  });
}

export const anthropicApi: ProviderApi = {
  buildRequest(target, body, ctx) {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: body.stream === true ? 'text/event-stream' : 'application/json',
      'anthropic-version': VERSION,
    };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    return { url: `${target.baseUrl}/messages`, headers, body: JSON.stringify(buildBody(body, ctx)) };
  },
  translateResponse,
  translateStream,
  // 529 (overloaded) counts as a 5xx; Anthropic's error types carry nothing an OpenAI client could act on.
  errorFrom: (status) => fromUpstreamStatus(status, null),
  modelsRequest(target) {
    const headers: Record<string, string> = { 'anthropic-version': VERSION };
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    return { url: `${target.baseUrl}/models?limit=1000`, headers };
  },
  parseModels: (json: any) => (Array.isArray(json?.data) ? json.data.map((m: any) => m?.id).filter((id: unknown): id is string => typeof id === 'string') : []),
};
