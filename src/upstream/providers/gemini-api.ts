import { createParser } from 'eventsource-parser';
import { fromUpstreamStatus } from '../upstream-errors';
import type { ProviderApi, TranslateContext } from './provider-api';
import {
  alternatingTurns, chunkOf, dataUrl, isSet, maxTokensOf, plainText, sseFrame, SSE_DONE, stopList, streamErrorFrame, toolArguments,
  unsupported, usageOf,
} from './openai-shapes';

/**
 * Google's Generative Language API (`{base_url}/models/{model}:generateContent` and
 * `:streamGenerateContent?alt=sse`, `x-goog-api-key`), translated from and to OpenAI chat completions.
 */
const NAME = 'gemini';

const TRANSLATED = new Set([
  'model', 'messages', 'stream', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'tools',
  'tool_choice', 'n', 'response_format', 'presence_penalty', 'frequency_penalty', 'seed', 'logprobs', 'parallel_tool_calls',
]);
/** OpenAI fields that do not change the answer (OpenAI-side storage, end-user tag, the gateway's usage request): not sent. */
const IGNORED = new Set(['stream_options', 'store', 'metadata', 'user']);

type Part = Record<string, unknown>;
type Content = { role: 'user' | 'model'; parts: Part[] };

function userParts(content: unknown, param: string): Part[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) throw unsupported(NAME, param, 'must be a string or a list of content parts');
  return content.map((part, i) => {
    const where = `${param}[${i}]`;
    if (part?.type === 'text' && typeof part.text === 'string') return { text: part.text };
    if (part?.type === 'image_url' && typeof part.image_url?.url === 'string') {
      const inline = dataUrl(part.image_url.url);
      if (inline) return { inlineData: { mimeType: inline.mimeType, data: inline.data } };
      throw unsupported(NAME, `${where}.image_url.url`, 'as a web address (Gemini takes images inline: send a data: URL)');
    }
    throw unsupported(NAME, `${where}.type`, `"${String(part?.type)}" content`);
  });
}

/** OpenAI messages as Gemini contents (`user` / `model` turns) and its system instruction. */
function translateMessages(messages: unknown): { system: string | null; contents: Content[] } {
  /** Tool call id -> function name: a function response names the function, not the call. */
  const callNames = new Map<string, string>();
  const { system, turns } = alternatingTurns<Part>(messages, NAME, {
    user: userParts,
    assistant(m, param) {
      const parts: Part[] = [];
      const text = plainText(Array.isArray(m.content) ? m.content.filter((p: any) => p?.type !== 'refusal') : m.content, NAME, `${param}.content`);
      if (text !== '') parts.push({ text });
      if (m.function_call) throw unsupported(NAME, `${param}.function_call`, '(the legacy form; use tool_calls)');
      for (const [k, call] of (Array.isArray(m.tool_calls) ? m.tool_calls : []).entries()) {
        if (call?.type !== 'function') throw unsupported(NAME, `${param}.tool_calls[${k}].type`, `"${String(call?.type)}" tool calls`);
        const name = String(call.function?.name);
        callNames.set(String(call.id), name);
        parts.push({ functionCall: { name, args: toolArguments(call.function?.arguments, NAME, `${param}.tool_calls[${k}].function.arguments`) } });
      }
      return parts;
    },
    tool(m, param) {
      const name = callNames.get(String(m.tool_call_id));
      if (!name) throw unsupported(NAME, `${param}.tool_call_id`, 'without an earlier assistant tool call of that id');
      const text = plainText(m.content, NAME, `${param}.content`);
      let result: unknown = text;
      try {
        result = JSON.parse(text);
      } catch {}
      // Gemini takes the function's result as an object: a JSON object result as it is, anything else under "result".
      const response = result && typeof result === 'object' && !Array.isArray(result) ? result : { result };
      return [{ functionResponse: { name, response } }];
    },
  });
  return { system, contents: turns.map((t) => ({ role: t.side === 'assistant' ? 'model' : 'user', parts: t.items })) };
}

function buildBody(body: Record<string, unknown>, ctx: TranslateContext): Record<string, unknown> {
  for (const key of Object.keys(body)) if (!TRANSLATED.has(key) && !IGNORED.has(key) && body[key] !== undefined) throw unsupported(NAME, key);
  if (isSet(body.logprobs)) throw unsupported(NAME, 'logprobs');
  if (body.parallel_tool_calls === false) throw unsupported(NAME, 'parallel_tool_calls', 'set to false');
  const { system, contents } = translateMessages(body.messages);
  const generationConfig: Record<string, unknown> = { maxOutputTokens: maxTokensOf(body, ctx) };
  if (typeof body.temperature === 'number') generationConfig.temperature = body.temperature;
  if (typeof body.top_p === 'number') generationConfig.topP = body.top_p;
  const stop = stopList(body.stop);
  if (stop && stop.length > 0) generationConfig.stopSequences = stop;
  if (typeof body.n === 'number' && body.n !== 1) generationConfig.candidateCount = body.n;
  if (typeof body.presence_penalty === 'number' && body.presence_penalty !== 0) generationConfig.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number' && body.frequency_penalty !== 0) generationConfig.frequencyPenalty = body.frequency_penalty;
  if (typeof body.seed === 'number') generationConfig.seed = body.seed;
  const format = body.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === 'json_object') generationConfig.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    generationConfig.responseMimeType = 'application/json';
    if (format.json_schema?.schema !== undefined) generationConfig.responseJsonSchema = format.json_schema.schema;
  } else if (format?.type !== undefined && format.type !== 'text') throw unsupported(NAME, 'response_format', `of type "${format.type}"`);
  const request: Record<string, unknown> = { contents, generationConfig };
  if (system !== null) request.systemInstruction = { parts: [{ text: system }] };
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    request.tools = [{
      functionDeclarations: body.tools.map((tool: any, i) => {
        if (tool?.type !== 'function') throw unsupported(NAME, `tools[${i}].type`, `"${String(tool?.type)}" tools`);
        const fn = tool.function ?? {};
        const out: Record<string, unknown> = { name: fn.name };
        if (fn.description !== undefined) out.description = fn.description;
        if (fn.parameters !== undefined) out.parametersJsonSchema = fn.parameters;
        return out;
      }),
    }];
  }
  const choice = body.tool_choice as any;
  if (choice !== undefined && choice !== null) {
    let config: Record<string, unknown>;
    if (choice === 'auto') config = { mode: 'AUTO' };
    else if (choice === 'none') config = { mode: 'NONE' };
    else if (choice === 'required') config = { mode: 'ANY' };
    else if (choice?.type === 'function') config = { mode: 'ANY', allowedFunctionNames: [choice.function?.name] };
    else throw unsupported(NAME, 'tool_choice', `value ${JSON.stringify(choice)}`);
    request.toolConfig = { functionCallingConfig: config };
  }
  return request;
}

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);
function finishOf(reason: unknown, calledTools: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

/** Output tokens as billed: the answer's plus the model's thinking. */
function usageFrom(meta: any) {
  const prompt = meta?.promptTokenCount ?? 0;
  return usageOf(prompt, (meta?.candidatesTokenCount ?? 0) + (meta?.thoughtsTokenCount ?? 0));
}

/** Text and function calls of a candidate's parts (thought summaries are not part of the answer). */
function partsOf(candidate: any, callIds: (k: number) => string) {
  let text = '';
  const toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const part of Array.isArray(candidate?.content?.parts) ? candidate.content.parts : []) {
    if (part?.thought) continue;
    if (typeof part?.text === 'string') text += part.text;
    else if (part?.functionCall) toolCalls.push({ id: callIds(toolCalls.length), type: 'function', function: { name: part.functionCall.name, arguments: JSON.stringify(part.functionCall.args ?? {}) } });
  }
  return { text, toolCalls };
}

function translateResponse(json: any, ctx: TranslateContext): Record<string, unknown> {
  if (!json || typeof json !== 'object') throw new Error('not a generateContent answer');
  const candidates: any[] = Array.isArray(json.candidates) ? json.candidates : [];
  // A prompt blocked before any answer: an empty, filtered answer rather than an error the client can't act on.
  const list = candidates.length > 0 ? candidates : [{ index: 0, finishReason: json.promptFeedback?.blockReason ? 'SAFETY' : 'STOP' }];
  const choices = list.map((candidate, i) => {
    const index = typeof candidate.index === 'number' ? candidate.index : i;
    const { text, toolCalls } = partsOf(candidate, (k) => `call_${ctx.id.slice(-12)}_${index}_${k}`);
    const message: Record<string, unknown> = { role: 'assistant', content: text === '' && toolCalls.length > 0 ? null : text, refusal: null };
    if (toolCalls.length > 0) message.tool_calls = toolCalls;
    return { index, message, logprobs: null, finish_reason: finishOf(candidate.finishReason, toolCalls.length > 0) };
  });
  return { id: ctx.id, object: 'chat.completion', created: ctx.created, model: ctx.model, choices, usage: usageFrom(json.usageMetadata) };
}

function translateStream(ctx: TranslateContext): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let usageMeta: unknown = null;
  let failed = false;
  /** Per candidate: whether its first chunk (with the role) went out, tool calls so far, and whether it finished. */
  const state = new Map<number, { started: boolean; tools: number; finished: boolean }>();
  let out!: TransformStreamDefaultController<Uint8Array>;
  const parser = createParser({
    onEvent(event) {
      if (failed) return;
      let data: any;
      try {
        data = JSON.parse(event.data);
      } catch {
        failed = true;
        out.enqueue(streamErrorFrame());
        return;
      }
      if (data?.error) {
        failed = true;
        out.enqueue(streamErrorFrame());
        return;
      }
      if (data?.usageMetadata) usageMeta = data.usageMetadata;
      const candidates: any[] = Array.isArray(data?.candidates) ? data.candidates : [];
      if (candidates.length === 0 && data?.promptFeedback?.blockReason) candidates.push({ index: 0, finishReason: 'SAFETY' });
      for (const [i, candidate] of candidates.entries()) {
        const index = typeof candidate.index === 'number' ? candidate.index : i;
        let s = state.get(index);
        if (!s) state.set(index, (s = { started: false, tools: 0, finished: false }));
        const first = s.tools;
        const { text, toolCalls } = partsOf(candidate, (k) => `call_${ctx.id.slice(-12)}_${index}_${first + k}`);
        const delta: Record<string, unknown> = {};
        if (!s.started) {
          delta.role = 'assistant';
          s.started = true;
        }
        if (text !== '') delta.content = text;
        else if (delta.role && toolCalls.length === 0) delta.content = '';
        if (toolCalls.length > 0) {
          delta.tool_calls = toolCalls.map((call, k) => ({ index: first + k, ...call }));
          s.tools += toolCalls.length;
        }
        if (text !== '' || toolCalls.length > 0 || delta.role)
          out.enqueue(sseFrame(chunkOf(ctx, [{ index, delta, logprobs: null, finish_reason: null }])));
        if (candidate.finishReason && !s.finished) {
          s.finished = true;
          out.enqueue(sseFrame(chunkOf(ctx, [{ index, delta: {}, logprobs: null, finish_reason: finishOf(candidate.finishReason, s.tools > 0) }])));
        }
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
    // The stream API has no end event: the body ending cleanly is the end. A broken body never reaches flush.
    flush() {
      if (failed) return;
      for (const [index, s] of state)
        if (!s.finished) out.enqueue(sseFrame(chunkOf(ctx, [{ index, delta: {}, logprobs: null, finish_reason: s.tools > 0 ? 'tool_calls' : 'stop' }])));
      if (state.size === 0) {
        // Nothing at all arrived: not an answer.
        out.enqueue(streamErrorFrame());
        return;
      }
      out.enqueue(sseFrame(chunkOf(ctx, [], usageFrom(usageMeta))));
      out.enqueue(SSE_DONE);
    },
  });
}

function modelPath(model: string): string {
  return encodeURIComponent(model.replace(/^models\//, ''));
}

export const geminiApi: ProviderApi = {
  buildRequest(target, body, ctx) {
    const stream = body.stream === true;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    const url = `${target.baseUrl}/models/${modelPath(ctx.model)}:${stream ? 'streamGenerateContent?alt=sse' : 'generateContent'}`;
    return { url, headers, body: JSON.stringify(buildBody(body, ctx)) };
  },
  translateResponse,
  translateStream,
  errorFrom: (status) => fromUpstreamStatus(status, null),
  modelsRequest(target) {
    const headers: Record<string, string> = {};
    if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
    return { url: `${target.baseUrl}/models?pageSize=1000`, headers };
  },
  parseModels: (json: any) =>
    (Array.isArray(json?.models) ? json.models : [])
      .filter((m: any) => !Array.isArray(m?.supportedGenerationMethods) || m.supportedGenerationMethods.includes('generateContent'))
      .map((m: any) => (typeof m?.name === 'string' ? m.name.replace(/^models\//, '') : null))
      .filter((id: string | null): id is string => id !== null),
};
