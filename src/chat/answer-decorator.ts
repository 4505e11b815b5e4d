/**
 * The seam through which an answer passes on its way back to the client, stream or not. The gateway calls
 * `decide` when the upstream call starts (so slow work overlaps generation) and `finish` once the organic
 * answer is complete; text returned by `finish` is sent after the organic content, before finish_reason.
 * The organic answer itself is never changed. The default decorator adds nothing.
 */
export type AnswerContext = {
  requestId: string;
  projectId: string;
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
  /** Response headers to add, known before the body starts. */
  headers?(): Record<string, string>;
}

export interface AnswerDecorator {
  decide(ctx: AnswerContext): AnswerDecoration | null;
}

export const noDecoration: AnswerDecorator = { decide: () => null };
