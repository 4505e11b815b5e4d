/**
 * Benchmark upstream: a minimal OpenAI-compatible POST /v1/chat/completions with no artificial delay.
 * Non-stream: one fixed small completion with usage. `stream: true`: 5 chunks (4 content + finish), a usage
 * chunk and `data: [DONE]`, one frame per pull so each frame is its own write.
 *
 * Started by scripts/bench.ts: binds 127.0.0.1 on a free port (or --port N), prints `listening <port>` on
 * stdout, and exits when its stdin closes (the bench died) or on SIGTERM/SIGINT.
 */
import { runAsBenchChild } from './bench-child';
const portFlag = process.argv.indexOf('--port');
const port = portFlag > 0 ? Number(process.argv[portFlag + 1]) : 0;

const MODEL = 'gpt-4o-mini';
const CREATED = Math.floor(Date.now() / 1000);
const USAGE = { prompt_tokens: 17, completion_tokens: 19, total_tokens: 36 };
const PIECES = ['Project boards such', ' as Trello or Jira,', ' a shared calendar,', ' and a time tracker.'];

const COMPLETION = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: CREATED,
  model: MODEL,
  choices: [{ index: 0, message: { role: 'assistant', content: PIECES.join('') }, finish_reason: 'stop' }],
  usage: USAGE,
});

const encoder = new TextEncoder();
const chunk = (choices: unknown[], extra: object = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: CREATED, model: MODEL, choices, ...extra })}\n\n`;
const FRAMES: Uint8Array[] = [
  ...PIECES.map((p, i) => chunk([{ index: 0, delta: i === 0 ? { role: 'assistant', content: p } : { content: p }, finish_reason: null }])),
  chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]),
  chunk([], { usage: USAGE }),
  'data: [DONE]\n\n',
].map((s) => encoder.encode(s));

const JSON_HEADERS = { 'content-type': 'application/json' };
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

function sse(): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < FRAMES.length) controller.enqueue(FRAMES[i++].slice());
      else controller.close();
    },
  });
  return new Response(body, { status: 200, headers: SSE_HEADERS });
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  idleTimeout: 255,
  async fetch(req) {
    const path = req.url.slice(req.url.indexOf('/', 8));
    if (req.method !== 'POST' || path !== '/v1/chat/completions')
      return new Response(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error', code: 'not_found' } }), { status: 404, headers: JSON_HEADERS });
    let body: any;
    try {
      body = await req.json();
    } catch {
      return new Response(JSON.stringify({ error: { message: 'bad json', type: 'invalid_request_error', code: 'invalid_json' } }), { status: 400, headers: JSON_HEADERS });
    }
    return body?.stream === true ? sse() : new Response(COMPLETION, { status: 200, headers: JSON_HEADERS });
  },
});

runAsBenchChild(server);

export {};
