import type { ChatMessage } from '../chat/chat.validate';
import { messageText } from '../upstream/tokenizer';

/** Machine-readable reasons why an answer carries no promotion (kept for analytics). */
export type NoFillReason =
  | 'monetization_off'
  | 'structured_output'
  | 'tools'
  | 'multiple_choices'
  | 'sensitive_topic'
  | 'no_shopping_intent'
  | 'frequency_cap'
  | 'no_relevant_product'
  | 'answer_not_finished'
  | 'not_delivered'
  /** The LLM judge said no shopping intent, sensitive, no fit, or was unsure (below its confidence floor). */
  | 'judge_rejected'
  /** The LLM judge was late, failed, or answered something other than its JSON verdict. */
  | 'judge_unavailable';

/** Request-level gates: JSON/structured output, tool use and n > 1 never carry a promotion. */
export function requestGate(body: Record<string, unknown>): NoFillReason | null {
  const format = (body.response_format as { type?: unknown } | undefined)?.type;
  if (format === 'json_object' || format === 'json_schema') return 'structured_output';
  if ((Array.isArray(body.tools) && body.tools.length > 0) || (Array.isArray(body.functions) && body.functions.length > 0) || (body.tool_choice !== undefined && body.tool_choice !== 'none'))
    return 'tools';
  if (typeof body.n === 'number' && body.n > 1) return 'multiple_choices';
  return null;
}

const PROMOTION_LINK = /\/r\/(imp_[0-9A-Za-z]{20})\./g;

/** What the request's own history says: the current turn and the last promotion the client saw. */
export function historyFacts(messages: ChatMessage[]): { turn: number; userTexts: string[]; lastPromotion: { impressionId: string; turnsAgo: number } | null } {
  let assistantTurns = 0;
  let lastPromotion: { impressionId: string; turn: number } | null = null;
  const userTexts: string[] = [];
  for (const m of messages) {
    const text = messageText(m.content);
    if (m.role === 'assistant') {
      assistantTurns++;
      const ids = [...text.matchAll(PROMOTION_LINK)];
      if (ids.length > 0) lastPromotion = { impressionId: ids[ids.length - 1][1], turn: assistantTurns };
    } else if (m.role === 'user') userTexts.push(text);
  }
  const turn = assistantTurns + 1;
  return { turn, userTexts, lastPromotion: lastPromotion ? { impressionId: lastPromotion.impressionId, turnsAgo: turn - lastPromotion.turn } : null };
}
