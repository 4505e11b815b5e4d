/**
 * A long text as its first and last `maxChars / 2` characters, joined by " \n " (a text of at most `maxChars` is
 * returned as it is). What a chat turn asks for is at its start and end, and reading a pasted megabyte whole would
 * hold the event loop for hundreds of milliseconds. The promotion classifiers (src/ads/classifier-features.ts) and
 * the promotion search's query words (src/ads/text.ts) read long turns this way.
 */
export function headAndTail(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const half = maxChars / 2;
  return `${text.slice(0, half)} \n ${text.slice(-half)}`;
}
