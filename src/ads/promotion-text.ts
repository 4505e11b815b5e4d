/**
 * The sentence that follows an organic answer. Advertiser text is untrusted data: it is flattened to one
 * line, stripped of markup and links, and cut to length before it is placed in our own template, so it
 * cannot break out of the paragraph, inject a link or impersonate the disclosure label.
 */
const MAX_NAME_CHARS = 80;
const MAX_PITCH_CHARS = 180;

export function sanitizeInline(text: string, maxChars: number): string {
  let clean = text
    .replace(/https?:\/\/\S+/gi, '')
    .replace(/[\u0000-\u001f\u007f\u200b-\u200f\u2028-\u202e]/g, ' ')
    .replace(/[\\`*_[\]()<>#|~]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean.length > maxChars) clean = clean.slice(0, maxChars).replace(/\s+\S*$/, '') + '…';
  return clean;
}

function firstSentence(text: string): string {
  const match = /^(.+?[.!?])(\s|$)/.exec(text);
  return (match ? match[1] : text).replace(/[.!?]+$/, '');
}

function lowerFirst(text: string): string {
  return text.length > 1 && /^[A-Z]([a-z]|\s)/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

export type PromotionInput = { label: string; productName: string; description: string; matchedTopic: string | null; url: string };

/** Markdown: a blank line, the label, the product as a link, and why it fits, in one or two sentences. */
export function templatePromotion(p: PromotionInput): string {
  const label = sanitizeInline(p.label, 40) || 'Sponsored';
  const name = sanitizeInline(p.productName, MAX_NAME_CHARS);
  const pitch = lowerFirst(sanitizeInline(firstSentence(p.description), MAX_PITCH_CHARS));
  const topic = p.matchedTopic ? sanitizeInline(p.matchedTopic, 60) : null;
  const lead = topic ? `If you are looking into ${topic}, ` : 'You might also like ';
  const linked = `[${name}](${p.url})`;
  const body = topic ? `${lead}${linked} may fit: ${pitch}.` : `${lead}${linked}: ${pitch}.`;
  return `\n\n*${label}:* ${body}`;
}
