import { DEMO_MODEL_ID } from '../config/defaults';
import { countMessagesTokens } from './prompt-tokens';
import { countTextTokens, messageText } from './tokenizer';

/**
 * The built-in offline demo model. It calls no LLM: it answers a fixed, deterministic text (mentioning the
 * question) in OpenAI's wire format, so a fresh install works end to end, streaming included. It only
 * serves when no upstream is configured.
 */
const QUESTION_PREVIEW_CHARS = 120;

export function demoReply(messages: Array<{ role: string; content?: unknown }>): string {
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const question = messageText(lastUser?.content).replace(/\s+/g, ' ').trim();
  const preview = question.length > QUESTION_PREVIEW_CHARS ? `${question.slice(0, QUESTION_PREVIEW_CHARS)}...` : question;
  return (
    `This is ${DEMO_MODEL_ID}, the offline demo model built into Vexrail. ` +
    (preview ? `You asked: "${preview}". ` : '') +
    'It does not call a real LLM; it streams this fixed reply so that keys, credits, streaming and ' +
    'conversation tracking can be tried end to end. Set OPENAI_BASE_URL and OPENAI_API_KEY to use a real model.'
  );
}

/** Splits into word-sized pieces whose concatenation is exactly the text. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

function truncateToTokens(text: string, maxTokens: number | undefined): { text: string; cut: boolean } {
  if (!maxTokens) return { text, cut: false };
  let out = '';
  for (const piece of pieces(text)) {
    if (countTextTokens(out + piece) > maxTokens) return { text: out, cut: true };
    out += piece;
  }
  return { text: out, cut: false };
}

export function createDemoFetch(chunkDelayMs: number) {
  return async function demoFetch(_url: string, init: RequestInit): Promise<Response> {
    const body = JSON.parse(String(init.body));
    const signal = init.signal ?? null;
    const maxTokens = body.max_completion_tokens ?? body.max_tokens;
    const { text, cut } = truncateToTokens(demoReply(body.messages), maxTokens);
    const finishReason = cut ? 'length' : 'stop';
    const usage = { prompt_tokens: countMessagesTokens(body.messages), completion_tokens: countTextTokens(text), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    const id = `chatcmpl-demo${Date.now().toString(36)}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      const message = { role: 'assistant', content: text };
      return Response.json({ id, object: 'chat.completion', created, model: DEMO_MODEL_ID, choices: [{ index: 0, message, finish_reason: finishReason }], usage });
    }
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: DEMO_MODEL_ID, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    const frames = pieces(text).map((p, i) => chunk(i === 0 ? { role: 'assistant', content: p } : { content: p }, null));
    frames.push(chunk({}, finishReason));
    if (body.stream_options?.include_usage)
      frames.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: DEMO_MODEL_ID, choices: [], usage })}\n\n`);
    frames.push('data: [DONE]\n\n');
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const frame = frames.shift();
        if (frame === undefined || signal?.aborted) return controller.close();
        if (chunkDelayMs > 0) await Bun.sleep(chunkDelayMs);
        controller.enqueue(encoder.encode(frame));
      },
    });
    return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
  };
}
