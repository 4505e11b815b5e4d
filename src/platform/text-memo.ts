/**
 * A memo of values computed from texts (token counts, query words), for text that clients send again: a chat client
 * resends the whole conversation with every turn, so each earlier message would otherwise be processed once per
 * request.
 *
 * Bounded by the characters of the texts it holds, in two generations: new entries go to the young one; a hit in
 * the old one moves the entry to the young one; when the young one holds `maxChars / 2` characters, the old one is
 * dropped and the young one becomes old. So a text used again within about one generation stays, whatever else
 * came in between, and the memo never holds more than `maxChars` characters of keys (plus the values). A single
 * map cleared when full (what this replaces) dropped every conversation's history at once whenever it filled, which
 * the benchmark's 128 concurrent conversations did about every hundred requests (README, Performance).
 *
 * Texts shorter than `minChars` (cheaper to compute than to look up) or longer than `maxTextChars` are not kept.
 */
export type TextMemo<V> = {
  /** The value for `text`, computed by `compute` unless it is in the memo. */
  get(text: string, compute: (text: string) => V): V;
  /** Entries and characters held (both generations). */
  size(): { entries: number; chars: number };
  clear(): void;
};

export function createTextMemo<V>(opts: { maxChars: number; maxTextChars: number; minChars?: number }): TextMemo<V> {
  const generationChars = Math.max(1, Math.floor(opts.maxChars / 2));
  const minChars = opts.minChars ?? 0;
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  let youngChars = 0;
  let oldChars = 0;

  const admit = (text: string, value: V) => {
    if (youngChars + text.length > generationChars) {
      old = young;
      oldChars = youngChars;
      young = new Map();
      youngChars = 0;
    }
    young.set(text, value);
    youngChars += text.length;
  };

  return {
    get(text, compute) {
      const len = text.length;
      if (len < minChars || len > opts.maxTextChars) return compute(text);
      let value = young.get(text);
      if (value !== undefined) return value;
      value = old.get(text);
      if (value !== undefined) {
        old.delete(text);
        oldChars -= len;
      } else {
        value = compute(text);
      }
      admit(text, value);
      return value;
    },
    size: () => ({ entries: young.size + old.size, chars: youngChars + oldChars }),
    clear() {
      young = new Map();
      old = new Map();
      youngChars = 0;
      oldChars = 0;
    },
  };
}
