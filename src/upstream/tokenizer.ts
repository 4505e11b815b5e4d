import { countTokens, warm } from './bpe-counter';

/**
 * Token counts with the o200k_base BPE (GPT-4o family), exactly as gpt-tokenizer counts them but from compact tables
 * (see bpe-counter.ts); text that looks like a special token ('<|endoftext|>') counts as plain text. For other model
 * families the count is an estimate, used only to size holds and to bill streams the upstream cut short before
 * reporting usage.
 */
const PER_MESSAGE_OVERHEAD = 3;
const REPLY_PRIMER = 3;

export function countTextTokens(text: string): number {
  return text.length === 0 ? 0 : countTokens(text);
}

export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((part) => (part && typeof part === 'object' && typeof part.text === 'string' ? part.text : '')).join('');
  return '';
}

export function countPromptTokens(messages: Array<{ role: string; content?: unknown; name?: unknown }>): number {
  let total = REPLY_PRIMER;
  for (const m of messages) {
    total += PER_MESSAGE_OVERHEAD + countTextTokens(m.role) + countTextTokens(messageText(m.content));
    if (typeof m.name === 'string') total += 1 + countTextTokens(m.name);
  }
  return total;
}

/** Loads the BPE ranks at start-up instead of on the first request. */
export function warmTokenizer(): void {
  warm();
  countTextTokens('warm up');
}
