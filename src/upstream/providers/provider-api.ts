import type { ApiError } from '../../http/errors';

/**
 * One provider HTTP API, translated to and from the OpenAI chat-completions shapes at the edge, so the
 * rest of the gateway (holds, relay, promotions, conversations) only ever sees OpenAI requests and answers.
 * `openai` needs no translation; `anthropic` and `gemini` implement this.
 */
export type ProviderTarget = {
  /** The provider's base URL without a trailing slash (`https://api.anthropic.com/v1`). */
  baseUrl: string;
  apiKey: string | null;
};

export type TranslateContext = {
  /** The model id sent upstream (aliases already resolved). */
  model: string;
  /** The answer size the credit hold covers: used as max_tokens when the client set none and the provider requires one. */
  defaultMaxTokens: number;
  /** `chatcmpl-...` id the translated answer carries (the provider's own id is not an OpenAI id). */
  id: string;
  /** Unix seconds for `created`. */
  created: number;
};

export type ProviderHttpRequest = { url: string; headers: Record<string, string>; body: string };

export type ProviderApi = {
  /**
   * The HTTP request for one attempt. Throws a 400 ApiError (code `unsupported_parameter`, `param` naming the
   * field) for anything in the OpenAI body this provider cannot express; never drops a field silently.
   * `body` is the OpenAI request as the gateway would send it upstream (`stream_options.include_usage` set on streams).
   */
  buildRequest(target: ProviderTarget, body: Record<string, unknown>, ctx: TranslateContext): ProviderHttpRequest;
  /** A non-stream answer (parsed JSON) as an OpenAI `chat.completion` object, usage from the provider's counts. */
  translateResponse(json: unknown, ctx: TranslateContext): Record<string, unknown>;
  /**
   * A streamed answer: the provider's raw response bytes in, OpenAI SSE bytes out (`data: {chunk}\n\n` frames of
   * `chat.completion.chunk`, then one usage chunk with `choices: []`, then `data: [DONE]\n\n`). A provider error
   * reported mid-stream becomes a `data: {"error": {...}}` frame and the stream ends without [DONE].
   */
  translateStream(ctx: TranslateContext): TransformStream<Uint8Array, Uint8Array>;
  /** An error status and its parsed body (null when not JSON) as the same ApiError an OpenAI upstream's would give. */
  errorFrom(status: number, body: unknown): ApiError;
  /** The model-list request for `"discover": true`, and the ids it answers. */
  modelsRequest(target: ProviderTarget): { url: string; headers: Record<string, string> };
  parseModels(json: unknown): string[];
};
