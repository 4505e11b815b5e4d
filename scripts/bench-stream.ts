/**
 * The streaming measurement (wrk cannot time the first chunk of a body): one connection in this process
 * doing sequential keep-alive fetches of `stream: true` completions for a fixed time, timing the first
 * streamed chunk and the whole answer. At one connection the client's CPU does not compete for long.
 */
import { percentileOf } from './bench-parse';

export type StreamResult = { ok: number; errors: Map<string, number>; ttfbP50: number; ttfbP99: number; totalP50: number; totalP99: number };

const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What tools can help me manage my projects?' }], stream: true });

export async function measureStream(url: string, headers: Record<string, string>, durationS: number): Promise<StreamResult> {
  const ttfbs: number[] = [];
  const totals: number[] = [];
  const errors = new Map<string, number>();
  const fail = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1);
  const deadline = performance.now() + durationS * 1000;
  const decoder = new TextDecoder();
  while (performance.now() < deadline) {
    const t0 = performance.now();
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: STREAM_BODY, signal: AbortSignal.timeout(10_000) });
      let ttfb = NaN;
      let text = '';
      if (res.body) {
        const reader = res.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (Number.isNaN(ttfb) && value.byteLength > 0) ttfb = performance.now() - t0;
          text += decoder.decode(value, { stream: true });
        }
      }
      const total = performance.now() - t0;
      if (res.status !== 200) fail(`HTTP ${res.status}`);
      else if (!text.endsWith('data: [DONE]\n\n') || Number.isNaN(ttfb)) fail('bad stream body');
      else {
        ttfbs.push(ttfb);
        totals.push(total);
      }
    } catch (err) {
      fail(`fetch ${(err as Error)?.name ?? 'error'}`);
    }
  }
  const t = Float64Array.from(ttfbs).sort();
  const w = Float64Array.from(totals).sort();
  return { ok: ttfbs.length, errors, ttfbP50: percentileOf(t, 50), ttfbP99: percentileOf(t, 99), totalP50: percentileOf(w, 50), totalP99: percentileOf(w, 99) };
}
