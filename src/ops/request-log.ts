/**
 * One JSON line per request: request id, project, model, status, latency, tokens. Never secrets or message
 * content. Lines are buffered and written by the background flusher, not on the request path.
 */
export type LogLine = {
  request_id: string;
  method: string;
  path: string;
  status: number;
  latency_ms: number;
  project_id?: string;
  model?: string;
  prompt_tokens?: number;
  completion_tokens?: number;
  cost_micros?: number;
  streamed?: boolean;
  error_code?: string | null;
};

const MAX_BUFFERED_LINES = 50_000;

export function createRequestLog(sink: (text: string) => void, enabled: boolean) {
  let buffer: string[] = [];
  return {
    write(line: LogLine): void {
      if (!enabled) return;
      if (buffer.length >= MAX_BUFFERED_LINES) buffer.shift();
      buffer.push(JSON.stringify({ ts: new Date().toISOString(), ...line }));
    },
    flush(): void {
      if (buffer.length === 0) return;
      const text = buffer.join('\n') + '\n';
      buffer = [];
      sink(text);
    },
  };
}
export type RequestLog = ReturnType<typeof createRequestLog>;
