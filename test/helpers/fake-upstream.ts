/**
 * A scripted fake OpenAI-compatible upstream for tests.
 *
 * Tests point the gateway at `baseUrl`, pick a behaviour with `script()` / `scriptOnce()`,
 * then inspect `requests` to see what the gateway actually sent (and whether it aborted).
 * Scenarios apply to `POST /v1/chat/completions` only; `GET /v1/models` always answers
 * normally so that health/model probes never consume a queued scenario.
 */
export type FakeScenario =
  /** A normal completion; streams pause `chunkDelayMs` between frames. */
  | { kind: 'normal'; content?: string; chunkDelayMs?: number }
  /** Waits `delayMs` before sending headers, then answers like 'normal'. */
  | { kind: 'slow_first_byte'; delayMs: number; content?: string }
  /**
   * Headers and first frame at once, then `gapMs` of silence before every further frame.
   * Non-stream: headers and half the JSON body at once, the other half after one gap.
   */
  | { kind: 'gaps'; gapMs: number; content?: string }
  /**
   * Streams `afterChunks` (default 2) content frames, then drops the connection: the client's
   * body read rejects (Bun fetch: ECONNRESET). With afterChunks 0 no headers are sent, so fetch
   * itself rejects. Non-stream: headers and half the JSON body, then the drop.
   */
  | { kind: 'disconnect_mid_stream'; afterChunks?: number }
  /**
   * Streams `afterChunks` (default 2) content frames, then `data: {not json`, then ends the body
   * cleanly (no [DONE]). Non-stream: status 200 with body `{not json`.
   */
  | { kind: 'malformed_frame'; afterChunks?: number }
  /** Replies `status` with `body` as JSON (default: an error envelope with a secret-looking message). */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answers, until the client aborts or close() drops the connection. */
  | { kind: 'hang' }
  /** Like 'normal' but without usage, even when the stream asks for include_usage. */
  | { kind: 'no_usage'; content?: string };

export type RecordedRequest = {
  method: string;
  /** Pathname only, without the query string. */
  path: string;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Parsed JSON; the raw text if it was not JSON; undefined if empty. */
  body: any;
  /** The client went away before the response finished (not set by our own drops or close()). */
  aborted: boolean;
};

export type FakeUpstream = {
  url: string;
  baseUrl: string;
  requests: RecordedRequest[];
  /** Scenario for all following chat requests until changed (initially 'normal'). */
  script(s: FakeScenario): void;
  /** Queues a scenario for the next chat request only (FIFO), ahead of the script()ed one. */
  scriptOnce(s: FakeScenario): void;
  /** Drops open connections, stops the server and releases every pending wait. Idempotent. */
  close(): Promise<void>;
};

const DEFAULT_CONTENT = 'Hello from the fake upstream. It works.';
const DEFAULT_MODELS = ['gpt-4o-mini', 'fake-model'];
const DEFAULT_AFTER_CHUNKS = 2;
const SECRET_ERROR_MESSAGE = 'upstream secret detail sk-upstream-XYZ';
const MALFORMED_FRAME = 'data: {not json\n\n';
const DONE_FRAME = 'data: [DONE]\n\n';
// OpenAI's own per-message overhead is about 3 tokens; mirroring it keeps numbers plausible.
const TOKENS_PER_MESSAGE = 3;
// Bun sends headers and queued chunks only once a pull leaves the stream waiting; a stream that
// errors while still being drained synchronously resets the socket before anything was sent.
const FLUSH_BEFORE_DROP_MS = 5;

// ---------------------------------------------------------------------------------------------
// Lifecycle: every wait goes through here so close() can release them all and leak no timers.
// ---------------------------------------------------------------------------------------------

type Lifecycle = {
  readonly closed: boolean;
  /** Resolves after `delayMs` (never, if Infinity), or early on abort / close. */
  wait(delayMs: number, signal?: AbortSignal): Promise<void>;
  shutdown(): void;
};

function createLifecycle(): Lifecycle {
  const releases = new Set<() => void>();
  let closed = false;

  function wait(delayMs: number, signal?: AbortSignal): Promise<void> {
    if (closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const release = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', release);
        releases.delete(release);
        resolve();
      };
      releases.add(release);
      signal?.addEventListener('abort', release, { once: true });
      if (Number.isFinite(delayMs)) timer = setTimeout(release, Math.max(0, delayMs));
    });
  }

  function shutdown(): void {
    closed = true;
    for (const release of [...releases]) release();
  }

  return {
    get closed() {
      return closed;
    },
    wait,
    shutdown,
  };
}

// ---------------------------------------------------------------------------------------------
// Pure helpers: token counting and completion planning.
// ---------------------------------------------------------------------------------------------

type ChatBody = Record<string, unknown>;
type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
type Plan = {
  id: string;
  created: number;
  model: string;
  content: string;
  finishReason: 'stop' | 'length';
  usage: Usage;
};

/** Each piece is one word with the whitespace before it, so joining the pieces restores the text. */
function splitWords(text: string): string[] {
  const pieces = text.match(/\s*\S+/g) ?? [];
  const consumedChars = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const trailing = text.slice(consumedChars);
  if (trailing && pieces.length > 0) pieces[pieces.length - 1] += trailing;
  return pieces;
}

function countWords(text: string): number {
  return splitWords(text).length;
}

function messageText(message: unknown): string {
  if (!isRecord(message)) return '';
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  // Multi-part content: only text parts count, like a real tokenizer ignoring image URLs.
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .join(' ');
}

function promptTokens(body: ChatBody): number {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages.reduce<number>(
    (sum, message) => sum + countWords(messageText(message)) + TOKENS_PER_MESSAGE,
    0,
  );
}

function completionLimit(body: ChatBody): number | undefined {
  // Newer OpenAI clients send max_completion_tokens instead of max_tokens; honour either.
  const limit = body.max_tokens ?? body.max_completion_tokens;
  return typeof limit === 'number' && Number.isInteger(limit) && limit >= 0 ? limit : undefined;
}

function planCompletion(body: ChatBody, fullContent: string): Plan {
  const words = splitWords(fullContent);
  const limit = completionLimit(body);
  const truncated = limit !== undefined && words.length > limit;
  const content = truncated ? words.slice(0, limit).join('') : fullContent;
  const prompt = promptTokens(body);
  const completion = countWords(content);
  return {
    id: `chatcmpl-fake${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`,
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'fake-model',
    content,
    finishReason: truncated ? 'length' : 'stop',
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
  };
}

function completionJson(plan: Plan, withUsage: boolean): string {
  return JSON.stringify({
    id: plan.id,
    object: 'chat.completion',
    created: plan.created,
    model: plan.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: plan.content },
        finish_reason: plan.finishReason,
      },
    ],
    ...(withUsage ? { usage: plan.usage } : {}),
  });
}

function sseFrame(payload: unknown): string {
  return `data: ${JSON.stringify(payload)}\n\n`;
}

function chunkFrame(plan: Plan, delta: Record<string, unknown>, finishReason: string | null): string {
  return sseFrame({
    id: plan.id,
    object: 'chat.completion.chunk',
    created: plan.created,
    model: plan.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
}

/** Content frames only: role + first word, then one word per frame. */
function contentFrames(plan: Plan): string[] {
  const words = splitWords(plan.content);
  // An empty completion still announces the assistant role, as OpenAI does.
  if (words.length === 0) return [chunkFrame(plan, { role: 'assistant', content: '' }, null)];
  return words.map((word, index) =>
    chunkFrame(plan, index === 0 ? { role: 'assistant', content: word } : { content: word }, null),
  );
}

function streamFrames(plan: Plan, withUsage: boolean): string[] {
  const frames = [...contentFrames(plan), chunkFrame(plan, {}, plan.finishReason)];
  if (withUsage) {
    frames.push(
      sseFrame({
        id: plan.id,
        object: 'chat.completion.chunk',
        created: plan.created,
        model: plan.model,
        choices: [],
        usage: plan.usage,
      }),
    );
  }
  frames.push(DONE_FRAME);
  return frames;
}

function wantsUsageChunk(body: ChatBody): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Response builders.
// ---------------------------------------------------------------------------------------------

type FrameEnding = 'close' | 'drop';
type FrameOptions = {
  contentType: string;
  betweenMs: number;
  ending: FrameEnding;
  signal: AbortSignal;
  lifecycle: Lifecycle;
};

const encoder = new TextEncoder();

/**
 * Streams `frames` with `betweenMs` of silence between them. With ending 'drop' the stream errors
 * after the last frame, which makes Bun abort the chunked response (no terminating chunk), so the
 * client sees a broken connection instead of a clean end of body.
 */
function framesResponse(frames: string[], options: FrameOptions): Response {
  const { betweenMs, ending, signal, lifecycle } = options;
  let index = 0;

  function pauseBeforeMs(at: number): number {
    if (at >= frames.length) return Math.max(betweenMs, FLUSH_BEFORE_DROP_MS);
    return at > 0 ? betweenMs : 0;
  }

  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const pauseMs = pauseBeforeMs(index);
      if (pauseMs > 0) await lifecycle.wait(pauseMs, signal);
      if (lifecycle.closed || signal.aborted || (index >= frames.length && ending === 'close')) {
        return safeClose(controller);
      }
      if (index >= frames.length) {
        // Erroring with no reason on purpose: an Error instance makes Bun print a stack trace to
        // the test output for every simulated disconnect, while `undefined` drops it silently.
        return controller.error(undefined);
      }
      controller.enqueue(encoder.encode(frames[index++]));
      if (index === frames.length && ending === 'close') safeClose(controller);
    },
  });
  return new Response(stream, { status: 200, headers: { 'content-type': options.contentType } });
}

function safeClose(controller: ReadableStreamDefaultController<Uint8Array>): void {
  // The client may already have cancelled the stream; closing twice throws and is harmless here.
  try {
    controller.close();
  } catch {}
}

function jsonResponse(status: number, body: unknown, headers?: Record<string, string>): Response {
  return jsonTextResponse(status, JSON.stringify(body), headers);
}

function jsonTextResponse(status: number, text: string, headers?: Record<string, string>): Response {
  // These statuses forbid a body; the Response constructor throws if given one.
  const bodyless = status === 204 || status === 205 || status === 304;
  return new Response(bodyless ? null : text, { status, headers: { 'content-type': 'application/json', ...headers } });
}

function errorEnvelope(status: number, message: string): unknown {
  return {
    error: {
      message,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

/** Splits a non-stream JSON body in two so stream-only scenarios still have a middle to act in. */
function halves(text: string): [string, string] {
  const middle = Math.floor(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

// ---------------------------------------------------------------------------------------------
// Scenario handling for POST /v1/chat/completions.
// ---------------------------------------------------------------------------------------------

type ChatContext = { body: ChatBody; signal: AbortSignal; lifecycle: Lifecycle };

/** Stands in for a response nobody will read: the connection is already gone. */
function goneResponse(): Response {
  return new Response(null, { status: 503 });
}

async function respondToChat(scenario: FakeScenario, ctx: ChatContext): Promise<Response> {
  switch (scenario.kind) {
    case 'normal':
      return completionResponse(ctx, scenario.content, scenario.chunkDelayMs ?? 0, true);
    case 'no_usage':
      return completionResponse(ctx, scenario.content, 0, false);
    case 'slow_first_byte':
      await ctx.lifecycle.wait(scenario.delayMs, ctx.signal);
      if (ctx.lifecycle.closed || ctx.signal.aborted) return goneResponse();
      return completionResponse(ctx, scenario.content, 0, true);
    case 'gaps':
      return gapsResponse(ctx, scenario.content, scenario.gapMs);
    case 'disconnect_mid_stream':
      return disconnectResponse(ctx, scenario.afterChunks ?? DEFAULT_AFTER_CHUNKS);
    case 'malformed_frame':
      return malformedResponse(ctx, scenario.afterChunks ?? DEFAULT_AFTER_CHUNKS);
    case 'status':
      return jsonResponse(scenario.status, scenario.body ?? errorEnvelope(scenario.status, SECRET_ERROR_MESSAGE), scenario.headers);
    case 'hang':
      await ctx.lifecycle.wait(Infinity, ctx.signal);
      return goneResponse();
  }
}

function frameOptions(ctx: ChatContext, contentType: string, betweenMs: number, ending: FrameEnding): FrameOptions {
  return { contentType, betweenMs, ending, signal: ctx.signal, lifecycle: ctx.lifecycle };
}

function completionResponse(
  ctx: ChatContext,
  content: string | undefined,
  chunkDelayMs: number,
  withUsage: boolean,
): Response {
  const plan = planCompletion(ctx.body, content ?? DEFAULT_CONTENT);
  if (!ctx.body.stream) return jsonTextResponse(200, completionJson(plan, withUsage));
  const frames = streamFrames(plan, withUsage && wantsUsageChunk(ctx.body));
  return framesResponse(frames, frameOptions(ctx, 'text/event-stream', chunkDelayMs, 'close'));
}

function gapsResponse(ctx: ChatContext, content: string | undefined, gapMs: number): Response {
  const plan = planCompletion(ctx.body, content ?? DEFAULT_CONTENT);
  if (ctx.body.stream) {
    const frames = streamFrames(plan, wantsUsageChunk(ctx.body));
    return framesResponse(frames, frameOptions(ctx, 'text/event-stream', gapMs, 'close'));
  }
  // Non-stream: headers and half the JSON now, the rest after one gap (exercises body-read timeouts).
  return framesResponse(halves(completionJson(plan, true)), frameOptions(ctx, 'application/json', gapMs, 'close'));
}

function disconnectResponse(ctx: ChatContext, afterChunks: number): Response {
  const plan = planCompletion(ctx.body, DEFAULT_CONTENT);
  if (!ctx.body.stream) {
    const sent = afterChunks > 0 ? [halves(completionJson(plan, true))[0]] : [];
    return framesResponse(sent, frameOptions(ctx, 'application/json', 0, 'drop'));
  }
  // Never reach the finish/usage/[DONE] frames: a disconnect must look unfinished.
  const frames = contentFrames(plan).slice(0, Math.max(0, afterChunks));
  return framesResponse(frames, frameOptions(ctx, 'text/event-stream', 0, 'drop'));
}

function malformedResponse(ctx: ChatContext, afterChunks: number): Response {
  const plan = planCompletion(ctx.body, DEFAULT_CONTENT);
  if (!ctx.body.stream) {
    return jsonTextResponse(200, '{not json');
  }
  const frames = [...contentFrames(plan).slice(0, Math.max(0, afterChunks)), MALFORMED_FRAME];
  return framesResponse(frames, frameOptions(ctx, 'text/event-stream', 0, 'close'));
}

// ---------------------------------------------------------------------------------------------
// Server.
// ---------------------------------------------------------------------------------------------

type ServerState = {
  requests: RecordedRequest[];
  current: FakeScenario;
  queued: FakeScenario[];
  models: string[];
  closing: boolean;
  lifecycle: Lifecycle;
};

async function readBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // Keep the raw text so a test can still see what a buggy client sent.
    return text;
  }
}

function recordRequest(req: Request, state: ServerState): RecordedRequest {
  const record: RecordedRequest = {
    method: req.method,
    path: new URL(req.url).pathname,
    headers: Object.fromEntries(req.headers),
    body: undefined,
    aborted: false,
  };
  // Our own close() tears connections down too; only a client-side abort should count.
  req.signal.addEventListener('abort', () => {
    if (!state.closing) record.aborted = true;
  }, { once: true });
  return record;
}

function modelList(models: string[]): unknown {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake-upstream' })),
  };
}

async function handle(req: Request, state: ServerState): Promise<Response> {
  const record = recordRequest(req, state);
  record.body = await readBody(req);
  state.requests.push(record);

  if (req.method === 'GET' && record.path === '/v1/models') return jsonResponse(200, modelList(state.models));
  if (req.method !== 'POST' || record.path !== '/v1/chat/completions') {
    return jsonResponse(404, errorEnvelope(404, `fake upstream: no route for ${req.method} ${record.path}`));
  }
  if (!isRecord(record.body)) return jsonResponse(400, errorEnvelope(400, 'fake upstream: body must be a JSON object'));

  const scenario = state.queued.shift() ?? state.current;
  return respondToChat(scenario, { body: record.body, signal: req.signal, lifecycle: state.lifecycle });
}

export async function startFakeUpstream(opts?: { models?: string[] }): Promise<FakeUpstream> {
  const state: ServerState = {
    requests: [],
    current: { kind: 'normal' },
    queued: [],
    models: opts?.models ?? DEFAULT_MODELS,
    closing: false,
    lifecycle: createLifecycle(),
  };
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    // 'hang' and long gaps are deliberate; Bun's idle timeout must not cut them short.
    idleTimeout: 0,
    fetch: (req) => handle(req, state),
  });
  const url = `http://127.0.0.1:${server.port}`;
  let closed: Promise<void> | undefined;

  async function close(): Promise<void> {
    state.closing = true;
    // Drop connections first so clients see a reset rather than the placeholder responses that
    // released handlers return; then release every pending wait so no timer or promise lingers.
    const stopped = server.stop(true);
    state.lifecycle.shutdown();
    await stopped;
  }

  return {
    url,
    baseUrl: `${url}/v1`,
    requests: state.requests,
    script(s) {
      state.current = s;
    },
    scriptOnce(s) {
      state.queued.push(s);
    },
    close() {
      closed ??= close();
      return closed;
    },
  };
}
