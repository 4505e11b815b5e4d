import type { Config } from '../config/config';
import type { Caller, KeyBudget } from '../keys/keys.service';
import type { BudgetHold } from '../keys/key-meter';
import { ApiError, forbidden, unprocessable } from '../http/errors';
import type { ModelCatalog, ModelRoute } from '../models/catalog';
import { tokenCostMicros } from '../money/money';
import { countRequestPromptTokens } from '../upstream/prompt-tokens';
import { countTextTokens } from '../upstream/tokenizer';
import type { UpstreamClient } from '../upstream/upstream.client';
import { clientClosed, upstreamBroken, upstreamTimeout } from '../upstream/upstream-errors';
import type { WalletService } from '../wallet/wallet.service';
import { finishSafely, type AnswerContext, type AnswerDecoration, type AnswerDecorator } from './answer-decorator';
import type { ChatRequest } from './chat.validate';
import { relayStream, type StreamUsage } from './stream-relay';

/** What one finished exchange reports to conversation tracking and the request log. */
export type ExchangeRecord = {
  requestId: string;
  projectId: string;
  conversationId: string | null;
  request: ChatRequest;
  answerText: string;
  model: string;
  usage: StreamUsage;
  costMicros: number;
  latencyMs: number;
  streamed: boolean;
  status: number;
  errorCode: string | null;
  createdAtMs: number;
};

type Deps = {
  config: Config;
  catalog: ModelCatalog;
  wallet: WalletService;
  /** The calling key's budget: reserved beside the wallet hold, settled with it. */
  keyBudget: KeyBudget;
  upstream: UpstreamClient;
  decorator: AnswerDecorator;
  onExchange: (record: ExchangeRecord) => void;
};

export type ChatCall = {
  caller: Caller;
  request: ChatRequest;
  conversationId: string | null;
  requestId: string;
  origin: string;
  signal: AbortSignal | null;
  startedMs: number;
  /** Told the settled request's total tokens and charge (the key's per-minute tokens and budget). */
  onSettled?: (totalTokens: number, chargedMicros: number) => void;
};

export type ChatResult = { response: Response };

/**
 * Sizes the hold from what the wallet has available: the prompt plus `choices` answers of `wanted` tokens, or, when
 * that is more than available, the largest answer the wallet can pay for (written to `lowered`, to be sent
 * upstream). Null means refuse: not even `minAnswer` tokens a choice are affordable.
 */
function holdSizer(route: ModelRoute, promptTokens: number, answer: { wanted: number; choices: number; minAnswer: number }, lowered: { maxTokens: number | null }) {
  const { inputMicrosPerMTok: inP, outputMicrosPerMTok: outP } = route.price;
  const { wanted, choices, minAnswer } = answer;
  return (available: number): number | null => {
    if (available <= 0) return null;
    const full = tokenCostMicros(promptTokens, wanted * choices, route.price);
    if (full <= available) return full;
    if (outP === 0) return null;
    const affordable = Math.floor((available * 1_000_000 - promptTokens * inP) / outP / choices);
    if (affordable < minAnswer) return null;
    lowered.maxTokens = Math.min(affordable, wanted);
    return Math.min(available, tokenCostMicros(promptTokens, lowered.maxTokens * choices, route.price));
  };
}

/** The most tokens the model can write in one answer: its configured cap, else the default cap of priced models. */
function maxOutputTokensOf(config: Config, model: string): number {
  return Object.hasOwn(config.maxOutputTokens, model) ? config.maxOutputTokens[model] : config.limits.defaultMaxOutputTokens;
}

export function createChatService(deps: Deps) {
  const { limits } = deps.config;

  function resolveModel(model: string): ModelRoute {
    const route = deps.catalog.resolve(model);
    if (!route) throw unprocessable('model_not_found', `The model "${model}" does not exist or is not served by this gateway`, 'model');
    return route;
  }

  /**
   * Holds the worst case: the prompt plus min(max_tokens, the model's output cap) for each of the n answers; without
   * max_tokens the model may write up to its cap, so the cap is held. Returns the max_tokens to send upstream when it
   * differs from the client's: lowered to what the wallet can pay, or clamped to the cap, so the upstream can never
   * write more than was held.
   */
  async function reserve(call: ChatCall, route: ModelRoute, promptTokens: number) {
    const cap = maxOutputTokensOf(deps.config, route.id);
    const asked = call.request.maxTokens;
    const wanted = Math.min(asked ?? cap, cap);
    const choices = typeof call.request.body.n === 'number' ? call.request.body.n : 1;
    const lowered = { maxTokens: null as number | null };
    const answer = { wanted, choices, minAnswer: limits.minAnswerTokens };
    const sizer = holdSizer(route, promptTokens, answer, lowered);
    // The key's budget left and the wallet's available money bound the hold alike; the smaller one decides,
    // and names the refusal. The key's budget is read and held inside the sizing step (synchronous), so no other
    // request can be promised the same budget; a sizing step run again (a shared store's retry) gives back the
    // budget the previous one held.
    let keyBound = false;
    let keyHold: BudgetHold | null = null;
    const hold = await deps.wallet.reserve(call.caller.projectId, (available) => {
      if (keyHold) deps.keyBudget.settle(keyHold, () => 0);
      keyHold = null;
      const keyLeft = deps.keyBudget.left(call.caller);
      keyBound = keyLeft !== null && keyLeft < available;
      const amount = sizer(keyBound ? (keyLeft as number) : available);
      if (amount !== null) keyHold = deps.keyBudget.hold(call.caller, amount);
      return amount;
    });
    if (!hold || !keyHold) {
      if (keyHold) deps.keyBudget.settle(keyHold, () => 0);
      if (keyBound) throw deps.keyBudget.exceeded(call.caller);
      throw forbidden('insufficient_credits', 'Insufficient credit balance: top up the credit wallet to continue');
    }
    const clamped = asked !== null && asked > cap ? cap : null;
    return { hold, keyHold: keyHold as BudgetHold, sentMaxTokens: lowered.maxTokens ?? clamped, heldAnswerTokens: lowered.maxTokens ?? wanted };
  }

  function upstreamBody(call: ChatCall, route: ModelRoute, sentMaxTokens: number | null): Record<string, unknown> {
    const body: Record<string, unknown> = { ...call.request.body };
    // An alias is the gateway's name: providers are asked for the model it stands for.
    if (body.model !== route.id) body.model = route.id;
    if (sentMaxTokens !== null) body[call.request.maxTokensField] = sentMaxTokens;
    // Always ask for usage so the charge is exact; the client sees the usage chunk only if it asked.
    if (call.request.stream) body.stream_options = { ...(body.stream_options as object | undefined), include_usage: true };
    return body;
  }

  async function complete(call: ChatCall): Promise<ChatResult> {
    const route = resolveModel(call.request.body.model);
    const promptTokens = countRequestPromptTokens(call.request.body);
    const { hold, keyHold, sentMaxTokens, heldAnswerTokens } = await reserve(call, route, promptTokens);
    let settled = false;
    /** Decides and queues the charge; resolves once it is committed (the answer completes only after that). */
    const settle = (usage: StreamUsage, answerText: string, streamed: boolean, error: ApiError | null, report = true): Promise<void> => {
      if (settled) return NO_WAIT;
      settled = true;
      const cost = tokenCostMicros(usage.prompt_tokens, usage.completion_tokens, route.price);
      const tag = { keyId: call.caller.keyId, model: route.id, promptTokens: usage.prompt_tokens || 0, completionTokens: usage.completion_tokens || 0 };
      // The key budget's hold and the wallet's settle together: the charge is capped by both.
      let committed = NO_WAIT;
      let final: Promise<{ chargedMicros: number }> | undefined;
      // The key's budget counts the charge as decided now (an upper bound in the rare case that `final` follows).
      const charged = deps.keyBudget.settle(keyHold, (capMicros) => {
        const settlement = deps.wallet.settle(hold.holdId, cost, call.requestId, tag, capMicros);
        if (settlement) {
          committed = settlement.committed;
          final = settlement.final;
        }
        return settlement?.chargedMicros ?? 0;
      }) ?? 0;
      call.onSettled?.(tag.promptTokens + tag.completionTokens, charged);
      if (!report) return committed;
      const latencyMs = Math.round(performance.now() - call.startedMs);
      const createdAtMs = Date.now();
      const record = (costMicros: number) => deps.onExchange({
        requestId: call.requestId, projectId: call.caller.projectId, conversationId: call.conversationId,
        request: call.request, answerText, model: route.id, usage, costMicros,
        latencyMs, streamed, status: error?.status ?? 200, errorCode: error?.code ?? null, createdAtMs,
      });
      if (final) void final.then((f) => record(f.chargedMicros), () => record(0));
      else record(charged);
      return committed;
    };
    const ctx: AnswerContext = {
      requestId: call.requestId, projectId: call.caller.projectId, monetization: call.caller.project.monetization === 1,
      conversationId: call.conversationId, request: call.request.body, origin: call.origin,
    };
    let decoration: AnswerDecoration | null = null;
    try {
      const opening = deps.upstream.open(route, upstreamBody(call, route, sentMaxTokens), call.signal, { defaultMaxTokens: heldAnswerTokens });
      // Awaited below, after the decision: a failure meanwhile is not an unhandled rejection.
      opening.catch(() => {});
      // The promotion decision runs while the upstream generates; a failure there never fails the answer.
      try {
        decoration = await deps.decorator.decide(ctx);
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', request_id: call.requestId, msg: 'promotion decision failed', error: String(err) }));
      }
      const handle = await opening;
      const overheadMs = performance.now() - call.startedMs - handle.waitMs;
      const headers: Record<string, string> = { 'x-request-id': call.requestId, 'x-vexrail-provider': handle.provider.name };
      if (call.request.stream) {
        Object.assign(headers, decoration?.headers?.() ?? {});
        const body = relayStream({
          upstream: handle,
          wantsUsage: call.request.wantsUsage,
          keepAliveMs: deps.config.keepAliveMs,
          idleTimeoutMs: handle.provider.idleTimeoutMs,
          decoration,
          onDone: (o) => settle(o.usage ?? estimateUsage(promptTokens, o.relayedText), o.relayedText, true, o.error),
        });
        headers['content-type'] = 'text/event-stream; charset=utf-8';
        headers['cache-control'] = 'no-cache';
        headers['x-vexrail-overhead-ms'] = overheadMs.toFixed(3);
        headers['server-timing'] = `gateway;dur=${overheadMs.toFixed(3)}, upstream;dur=${handle.waitMs.toFixed(3)};desc="first byte"`;
        return { response: new Response(body, { status: 200, headers }) };
      }
      return { response: await completeJson(call, handle, promptTokens, decoration, headers, settle) };
    } catch (err) {
      decoration?.abandoned?.(err instanceof ApiError && err.code === 'client_closed_request' ? 'not_delivered' : 'answer_not_finished');
      // Nothing reached the client: release the whole hold. The error response itself is logged by the app.
      await settle({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, '', call.request.stream, null, false);
      throw err;
    }
  }

  async function completeJson(
    call: ChatCall,
    handle: Awaited<ReturnType<UpstreamClient['open']>>,
    promptTokens: number,
    decoration: AnswerDecoration | null,
    headers: Record<string, string>,
    settle: (usage: StreamUsage, text: string, streamed: boolean, error: ApiError | null) => Promise<void>,
  ): Promise<Response> {
    const readStarted = performance.now();
    let raw: string;
    try {
      raw = await handle.response.text();
    } catch {
      const reason = handle.abortReason();
      if (reason === 'client_gone') throw clientClosed();
      throw reason === 'request_timeout' ? upstreamTimeout() : upstreamBroken('the response broke off');
    } finally {
      handle.dispose();
    }
    const upstreamMs = handle.waitMs + (performance.now() - readStarted);
    let parsed: any;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw upstreamBroken('malformed response');
    }
    const message = parsed?.choices?.[0]?.message;
    const organic: string = typeof message?.content === 'string' ? message.content : '';
    let body = raw;
    const usage: StreamUsage = parsed.usage ?? estimateUsage(promptTokens, organic);
    const extra = await finishSafely(decoration, { organicText: organic, finishReason: parsed?.choices?.[0]?.finish_reason ?? null });
    if (!parsed.usage || extra) {
      parsed.usage = usage;
      if (extra) message.content = organic + extra;
      body = JSON.stringify(parsed);
    }
    // The charge is committed before the answer is returned.
    await settle(usage, organic, false, null);
    if (extra) {
      Object.assign(headers, decoration?.headers?.() ?? {});
      decoration?.delivered?.();
    }
    const overheadMs = performance.now() - call.startedMs - upstreamMs;
    headers['content-type'] = 'application/json';
    headers['x-vexrail-overhead-ms'] = overheadMs.toFixed(3);
    headers['server-timing'] = `gateway;dur=${overheadMs.toFixed(3)}, upstream;dur=${upstreamMs.toFixed(3)}`;
    return new Response(body, { status: 200, headers });
  }

  return { complete, resolveModel };
}

/**
 * When the upstream reported no usage (an aborted stream), bill what was actually relayed, and the prompt as counted
 * for the hold (exact for text, tools and schemas; the hold's upper bound for images of unknown size, audio, files).
 */
function estimateUsage(promptTokens: number, text: string): StreamUsage {
  const completion = countTextTokens(text);
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion };
}

const NO_WAIT: Promise<void> = Promise.resolve();

export type ChatService = ReturnType<typeof createChatService>;
