/**
 * Scripted fakes of Anthropic's Messages API and Google's Generative Language API, for tests. They answer in
 * the providers' documented wire shapes (event names, field order, ids such as msg_... / toolu_...,
 * `alt=sse` frames with CRLF line ends), count tokens as one per word (+3 per message), record every request,
 * and take scenarios like test/helpers/fake-upstream.ts.
 */
export type ProviderScenario =
  | { kind: 'text'; content?: string }
  | { kind: 'tool'; name: string; args: Record<string, unknown>; content?: string }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Streams part of the answer, then the provider's mid-stream error. */
  | { kind: 'stream_error' }
  /** Streams part of the answer, then drops the connection. */
  | { kind: 'drop' }
  | { kind: 'hang' };

export type ProviderRequest = { method: string; path: string; search: string; headers: Record<string, string>; body: any };

export type FakeProvider = {
  baseUrl: string;
  requests: ProviderRequest[];
  script(s: ProviderScenario): void;
  scriptOnce(s: ProviderScenario): void;
  close(): Promise<void>;
};

const words = (text: string) => (text.match(/\S+/g) ?? []).length;
const enc = new TextEncoder();

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((v) => textOf(v?.text ?? v?.content ?? v?.parts ?? '')).join(' ');
  return '';
}

/** Streams `frames` with a short pause between them; `end` decides how the body finishes. */
function streamed(frames: string[], end: 'close' | 'drop', signal: AbortSignal, contentType = 'text/event-stream'): Response {
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const frame of frames) {
        if (signal.aborted) return;
        controller.enqueue(enc.encode(frame));
        await Bun.sleep(2);
      }
      if (end === 'drop') controller.error(new Error('dropped'));
      else controller.close();
    },
  });
  return new Response(body, { headers: { 'content-type': contentType } });
}

function startServer(handle: (req: Request, body: any, scenario: ProviderScenario, url: URL) => Response | Promise<Response>, models: () => Response) {
  const requests: ProviderRequest[] = [];
  let current: ProviderScenario = { kind: 'text' };
  const queue: ProviderScenario[] = [];
  const hanging = new Set<() => void>();
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const text = await req.text();
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      requests.push({ method: req.method, path: url.pathname, search: url.search, headers: Object.fromEntries(req.headers), body });
      if (req.method === 'GET') return models();
      const scenario = queue.shift() ?? current;
      if (scenario.kind === 'hang')
        return new Promise<Response>((resolve) => {
          const release = () => resolve(new Response(null, { status: 599 }));
          hanging.add(release);
          req.signal.addEventListener('abort', release, { once: true });
        });
      return handle(req, body, scenario, url);
    },
  });
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    requests,
    script: (s: ProviderScenario) => void (current = s),
    scriptOnce: (s: ProviderScenario) => void queue.push(s),
    async close() {
      for (const release of hanging) release();
      server.stop(true);
    },
  };
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The Messages API at `{baseUrl}/v1` (`POST /v1/messages`, `GET /v1/models`). */
export function startFakeAnthropic(opts: { models?: string[] } = {}): FakeProvider {
  const models = opts.models ?? ['claude-sonnet-4-5', 'claude-haiku-4-5'];
  let n = 0;
  const server = startServer(
    (req, body, scenario) => {
      if (scenario.kind === 'status') {
        const type = scenario.status === 529 ? 'overloaded_error' : scenario.status === 429 ? 'rate_limit_error' : scenario.status >= 500 ? 'api_error' : 'invalid_request_error';
        return Response.json({ type: 'error', error: { type, message: 'Upstream detail that must not reach clients (sk-ant-secret)' } }, { status: scenario.status, headers: scenario.headers });
      }
      const id = `msg_01${String(++n).padStart(22, 'X')}`;
      const prompt = words(textOf(body?.system ?? '')) + (body?.messages ?? []).reduce((sum: number, m: any) => sum + words(textOf(m.content)) + 3, 0);
      const content = 'content' in scenario && scenario.content !== undefined ? scenario.content : 'Hello from the fake Anthropic model.';
      const tool = scenario.kind === 'tool' ? { type: 'tool_use', id: `toolu_01${String(n).padStart(22, 'Y')}`, name: scenario.name, input: scenario.args } : null;
      const output = words(content) + (tool ? 10 : 0);
      const stopReason = tool ? 'tool_use' : 'end_turn';
      if (body?.stream !== true) {
        const blocks: unknown[] = [];
        if (content) blocks.push({ type: 'text', text: content });
        if (tool) blocks.push(tool);
        return Response.json({
          id, type: 'message', role: 'assistant', model: body?.model, content: blocks, stop_reason: stopReason, stop_sequence: null,
          usage: { input_tokens: prompt, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output },
        });
      }
      const frames = [
        sse('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model: body?.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: prompt, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 } } }),
      ];
      let index = 0;
      if (content) {
        frames.push(sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
        frames.push(sse('ping', { type: 'ping' }));
        for (const piece of content.match(/\s*\S+/g) ?? []) frames.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
        frames.push(sse('content_block_stop', { type: 'content_block_stop', index }));
        index++;
      }
      if (scenario.kind === 'stream_error') {
        frames.push(sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }));
        return streamed(frames, 'close', req.signal);
      }
      if (scenario.kind === 'drop') return streamed(frames, 'drop', req.signal);
      if (tool) {
        frames.push(sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: tool.id, name: tool.name, input: {} } }));
        const json = JSON.stringify(tool.input);
        const mid = Math.floor(json.length / 2);
        frames.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }));
        frames.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(0, mid) } }));
        frames.push(sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json.slice(mid) } }));
        frames.push(sse('content_block_stop', { type: 'content_block_stop', index }));
      }
      frames.push(sse('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: output } }));
      frames.push(sse('message_stop', { type: 'message_stop' }));
      return streamed(frames, 'close', req.signal);
    },
    () => Response.json({ data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' })), has_more: false, first_id: models[0], last_id: models.at(-1) }),
  );
  return { ...server, baseUrl: `${server.baseUrl}/v1` };
}

/** The Generative Language API at `{baseUrl}/v1beta` (`:generateContent`, `:streamGenerateContent?alt=sse`, `GET /models`). */
export function startFakeGemini(opts: { models?: string[] } = {}): FakeProvider {
  const models = opts.models ?? ['gemini-2.5-flash', 'gemini-2.5-pro', 'text-embedding-004'];
  const server = startServer(
    (req, body, scenario, url) => {
      if (scenario.kind === 'status') {
        const status = scenario.status === 429 ? 'RESOURCE_EXHAUSTED' : scenario.status === 503 ? 'UNAVAILABLE' : scenario.status >= 500 ? 'INTERNAL' : scenario.status === 403 ? 'PERMISSION_DENIED' : 'INVALID_ARGUMENT';
        return Response.json({ error: { code: scenario.status, message: 'Upstream detail that must not reach clients (AIza-secret)', status } }, { status: scenario.status, headers: scenario.headers });
      }
      const model = decodeURIComponent(url.pathname.split('/models/')[1]?.split(':')[0] ?? '');
      const stream = url.pathname.endsWith(':streamGenerateContent');
      const prompt = words(textOf(body?.systemInstruction?.parts ?? [])) + (body?.contents ?? []).reduce((sum: number, c: any) => sum + words(textOf(c.parts)) + 3, 0);
      const content = 'content' in scenario && scenario.content !== undefined ? scenario.content : 'Hello from the fake Gemini model.';
      const call = scenario.kind === 'tool' ? { functionCall: { name: scenario.name, args: scenario.args } } : null;
      const candidatesTokenCount = words(content) + (call ? 10 : 0);
      const usageMetadata = { promptTokenCount: prompt, candidatesTokenCount, totalTokenCount: prompt + candidatesTokenCount, promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }] };
      const candidateCount = body?.generationConfig?.candidateCount ?? 1;
      if (!stream) {
        const parts: unknown[] = [];
        if (content) parts.push({ text: content });
        if (call) parts.push(call);
        const candidates = Array.from({ length: candidateCount }, (_, index) => ({ content: { parts, role: 'model' }, finishReason: 'STOP', avgLogprobs: -0.1, index }));
        return Response.json({ candidates, usageMetadata, modelVersion: model, responseId: 'fakeResponseId01' });
      }
      const pieces = content.match(/\s*\S+/g) ?? [];
      const frames: string[] = [];
      const frame = (data: unknown) => `data: ${JSON.stringify(data)}\r\n\r\n`;
      pieces.forEach((piece, i) => {
        const partial = { promptTokenCount: prompt, totalTokenCount: prompt };
        frames.push(frame({ candidates: [{ content: { parts: [{ text: piece }], role: 'model' }, index: 0 }], usageMetadata: i === 0 ? partial : undefined, modelVersion: model, responseId: 'fakeResponseId01' }));
      });
      if (scenario.kind === 'stream_error') {
        frames.push(frame({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }));
        return streamed(frames, 'close', req.signal);
      }
      if (scenario.kind === 'drop') return streamed(frames, 'drop', req.signal);
      frames.push(frame({ candidates: [{ content: { parts: call ? [call] : [{ text: '' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata, modelVersion: model, responseId: 'fakeResponseId01' }));
      return streamed(frames, 'close', req.signal);
    },
    () => Response.json({
      models: models.map((id) => ({ name: `models/${id}`, displayName: id, supportedGenerationMethods: id.includes('embedding') ? ['embedContent'] : ['generateContent', 'countTokens'] })),
    }),
  );
  return { ...server, baseUrl: `${server.baseUrl}/v1beta` };
}
