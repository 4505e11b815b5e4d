import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError, errorEnvelope } from '../http/errors';
import type { UpstreamHandle } from '../upstream/upstream.client';
import { upstreamBroken, upstreamTimeout } from '../upstream/upstream-errors';
import { finishSafely, type AnswerDecoration } from './answer-decorator';

export type StreamUsage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };

export type StreamOutcome = {
  usage: StreamUsage | null;
  relayedText: string;
  finishReason: string | null;
  error: ApiError | null;
  clientGone: boolean;
};

type RelayOptions = {
  upstream: UpstreamHandle;
  wantsUsage: boolean;
  keepAliveMs: number;
  idleTimeoutMs: number;
  decoration: AnswerDecoration | null;
  /**
   * Runs exactly once, after the last byte or the failure; settles the hold. The stream ends only when the
   * promise it returns resolves (the charge is committed), so a charge is durable before its answer completes.
   */
  onDone: (outcome: StreamOutcome) => Promise<void> | void;
};

const encoder = new TextEncoder();
const KEEPALIVE = encoder.encode(': keep-alive\n\n');
const DONE = encoder.encode('data: [DONE]\n\n');

const frame = (data: string) => encoder.encode(`data: ${data}\n\n`);

/** One extra content chunk that looks exactly like the upstream's own (same id, model, created). */
function contentChunk(template: Record<string, any>, text: string): string {
  return JSON.stringify({
    id: template.id,
    object: 'chat.completion.chunk',
    created: template.created,
    model: template.model,
    choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
  });
}

/**
 * Relays an upstream SSE stream to the client. Organic frames go out byte for byte as they arrive; the
 * usage chunk only when the client asked for it; keep-alive comments during long silences; failures after
 * the headers become one `data: {"error":...}` frame. The upstream request is aborted as soon as the
 * client goes away.
 */
export function relayStream(opts: RelayOptions): ReadableStream<Uint8Array> {
  const { upstream } = opts;
  const outcome: StreamOutcome = { usage: null, relayedText: '', finishReason: null, error: null, clientGone: false };
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let lastWriteMs = performance.now();
  let lastReadMs = performance.now();
  let doneSent = false;
  let pending: Promise<void> = Promise.resolve();
  let keepAliveTimer: ReturnType<typeof setInterval> | null = null;
  let decorationSettled = false;

  const write = (bytes: Uint8Array) => {
    if (closed) return;
    try {
      controller.enqueue(bytes);
      lastWriteMs = performance.now();
    } catch {
      closed = true;
    }
  };

  const finish = async () => {
    if (keepAliveTimer) clearInterval(keepAliveTimer);
    if (opts.decoration && !decorationSettled) opts.decoration.abandoned?.(outcome.clientGone ? 'not_delivered' : 'answer_not_finished');
    upstream.dispose();
    try {
      await opts.onDone(outcome);
    } finally {
      if (!closed) {
        closed = true;
        try {
          controller.close();
        } catch {}
      }
    }
  };

  const fail = (err: ApiError) => {
    outcome.error ??= err;
    write(frame(JSON.stringify(errorEnvelope(err))));
  };

  async function appendDecoration(template: Record<string, any>): Promise<void> {
    const extra = await finishSafely(opts.decoration, { organicText: outcome.relayedText, finishReason: outcome.finishReason });
    if (!extra) {
      decorationSettled = true;
      return;
    }
    if (closed) return;
    write(frame(contentChunk(template, extra)));
    if (closed) return;
    decorationSettled = true;
    opts.decoration?.delivered?.();
  }

  async function onChunk(data: string): Promise<void> {
    if (data === '[DONE]') {
      doneSent = true;
      write(DONE);
      return;
    }
    let chunk: any;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw upstreamBroken('malformed stream frame');
    }
    if (chunk?.error) throw upstreamBroken('error reported mid-stream');
    const choice = Array.isArray(chunk?.choices) ? chunk.choices[0] : undefined;
    if (chunk?.usage) outcome.usage = chunk.usage;
    if (typeof choice?.delta?.content === 'string' && !choice.finish_reason) outcome.relayedText += choice.delta.content;
    if (chunk?.usage && (!choice || chunk.choices.length === 0)) {
      if (opts.wantsUsage) write(frame(data));
      return;
    }
    if (choice?.finish_reason) {
      outcome.finishReason = choice.finish_reason;
      const content = choice.delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        // Keep the organic text before any appended text: split this chunk into content, then finish.
        outcome.relayedText += content;
        write(frame(contentChunk(chunk, content)));
        choice.delta = {};
        data = JSON.stringify(chunk);
      }
      await appendDecoration(chunk);
    }
    if (chunk?.usage && !opts.wantsUsage) {
      delete chunk.usage;
      data = JSON.stringify(chunk);
    }
    write(frame(data));
  }

  async function pump(): Promise<void> {
    const reader = upstream.response.body!.getReader();
    const decoder = new TextDecoder();
    let failure: ApiError | null = null;
    const parser = createParser({
      onEvent(event: EventSourceMessage) {
        pending = pending.then(() => (failure || doneSent ? undefined : onChunk(event.data))).catch((err) => {
          failure ??= err instanceof ApiError ? err : upstreamBroken('stream error');
        });
      },
    });
    try {
      while (!closed && !failure && !doneSent) {
        const { value, done } = await reader.read();
        lastReadMs = performance.now();
        if (done) break;
        parser.feed(decoder.decode(value, { stream: true }));
        await pending;
      }
      await pending;
      if (failure) fail(failure);
      else if (!doneSent && !closed) fail(upstreamBroken('the stream ended before [DONE]'));
    } catch {
      const reason = upstream.abortReason();
      if (reason === 'client_gone') outcome.clientGone = true;
      else fail(reason === 'request_timeout' || reason === 'idle_timeout' ? upstreamTimeout() : upstreamBroken('the stream broke off'));
    } finally {
      reader.releaseLock();
      await finish();
    }
  }

  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      keepAliveTimer = setInterval(() => {
        const now = performance.now();
        if (now - lastReadMs >= opts.idleTimeoutMs) upstream.abort('idle_timeout');
        else if (now - lastWriteMs >= opts.keepAliveMs) write(KEEPALIVE);
      }, Math.max(10, Math.min(opts.keepAliveMs, opts.idleTimeoutMs) / 4));
      void pump();
    },
    cancel() {
      outcome.clientGone = true;
      closed = true;
      upstream.abort('client_gone');
    },
  });
}
