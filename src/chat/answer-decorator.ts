/**
 * The seam through which an answer passes on its way back to the client, stream or not. The gateway calls
 * `decide` right after the upstream request is sent (so the choice overlaps generation) and `finish` once the organic
 * answer is complete; text returned by `finish` is sent after the organic content, before finish_reason.
 * The organic answer itself is never changed; the marketplace (src/ads) is the decorator the gateway uses.
 */
export type AnswerContext = {
  requestId: string;
  projectId: string;
  /** The publisher project has monetization switched on. */
  monetization: boolean;
  conversationId: string | null;
  request: Record<string, unknown>;
  /** Origin of the incoming request, for absolute links when no public URL is configured. */
  origin: string;
};

export type AnswerOutcome = { organicText: string; finishReason: string | null };

export interface AnswerDecoration {
  /** Text to append after the organic answer, or null for nothing. */
  finish(outcome: AnswerOutcome): Promise<string | null> | string | null;
  /** Called once the appended text actually reached the client (for a stream: it was not gone). */
  delivered?(): void;
  /** Called when the answer ended without the text being delivered (client gone, upstream failure). */
  abandoned?(reason: 'not_delivered' | 'answer_not_finished'): void;
  /**
   * Response headers naming the chosen promotion. A JSON answer carries them only when the promotion was
   * added; a stream carries them from the start (before the answer is known), so there they mean "chosen".
   */
  headers?(): Record<string, string>;
}

export interface AnswerDecorator {
  /** May read the store (then resolves later): the gateway awaits it while the upstream call is already under way. */
  decide(ctx: AnswerContext): AnswerDecoration | null | Promise<AnswerDecoration | null>;
}


/** Runs a decoration's finish; a failure there costs the promotion, never the answer. */
export async function finishSafely(decoration: AnswerDecoration | null, outcome: AnswerOutcome): Promise<string | null> {
  if (!decoration) return null;
  try {
    return await decoration.finish(outcome);
  } catch (err) {
    console.error(JSON.stringify({ level: 'error', msg: 'promotion failed', error: String(err) }));
    return null;
  }
}
