import { countTokens, warm } from './bpe-counter';

/**
 * Token counts with the o200k_base BPE (GPT-4o family), exactly as gpt-tokenizer counts them but from compact tables
 * (see bpe-counter.ts); text that looks like a special token ('<|endoftext|>') counts as plain text. For other model
 * families the count is an estimate, used only to size holds and to bill streams the upstream cut short before
 * reporting usage. Whole requests (tools, images, response_format, ...) are counted by prompt-tokens.ts.
 */

export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((part) => (part && typeof part === 'object' && typeof part.text === 'string' ? part.text : '')).join('');
  return '';
}

/** Loads the BPE ranks at start-up instead of on the first request. */
export function warmTokenizer(): void {
  warm();
  countTextTokens('warm up');
}
