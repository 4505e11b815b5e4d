/**
 * Commercial intent. A promotion belongs next to an answer to someone who wants to get, choose or replace
 * something, not next to an explanation, a translation or homework. Informational phrasing without any
 * shopping cue lowers relevance; it does not forbid a promotion outright.
 */
const SHOPPING_CUES =
  /\b(buy|buying|purchase|shop|shopping|order|recommend|recommendation|suggest|suggestions?|best|top|cheap|cheaper|affordable|budget|worth|alternative|alternatives|instead of|replace|replacement|upgrade|switch|looking for|need an?|want an?|which (?:one|app|tool|brand|model|service)|what (?:app|tool|brand|service|product)s?|any (?:good|decent)|is there an? (?:app|tool|service|way to)|compare|comparison|vs\.?|versus|deal|discount|subscription|pricing|price|plan for|gift|tried)\b/;
const INFORMATIONAL_OPENERS =
  /^(?:(?:can you|could you|please)\s+)?(?:what is|what are|what was|what's|whats|who|when|why|how does|how do|how did|how is|how are|how many|how much does .* weigh|explain|define|definition of|translate|write|summari[sz]e|tell me about|describe|calculate|solve|prove|is it true)\b/;

export function informationalOnly(text: string): boolean {
  const lower = text.trim().toLowerCase();
  return INFORMATIONAL_OPENERS.test(lower) && !SHOPPING_CUES.test(lower);
}

/** Multiplier applied to relevance for a purely informational question. */
export const INFORMATIONAL_FACTOR = 0.6;
