import { classifyConversation, loadClassifier, type Classifier, type ClassifierAsset } from '../classifier';
// Imported (not read from disk) so `bun build --compile` embeds them in the binary.
import intentAsset from './intent.json' with { type: 'json' };
import safetyAsset from './safety.json' with { type: 'json' };

/**
 * The embedded shopping-intent and safety models, trained by scripts/train-promotion-classifiers.ts.
 * Decoded on first use (two 1 MiB weight tables).
 */
let models: { intent: Classifier; safety: Classifier } | null = null;

export function promotionModels(): { intent: Classifier; safety: Classifier } {
  models ??= { intent: loadClassifier(intentAsset as unknown as ClassifierAsset), safety: loadClassifier(safetyAsset as unknown as ClassifierAsset) };
  return models;
}

/** Thresholds the training script chose on dev (the config defaults mirror them). */
export const DEV_THRESHOLDS = { intent: (intentAsset as unknown as ClassifierAsset).devThreshold, safety: (safetyAsset as unknown as ClassifierAsset).devThreshold };

/** The last conversation scored: a decision asks the safety gate and then the intent gate about the same turns. */
let last: { current: string; earlier: readonly string[]; scores: { intent: number; safety: number } } | null = null;

function sameTurns(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Shopping-intent and safety probabilities of a conversation (latest user turn, earlier ones most recent first). */
export function scoreConversation(current: string, earlier: readonly string[]): { intent: number; safety: number } {
  if (last && last.current === current && sameTurns(last.earlier, earlier)) return last.scores;
  const scores = classifyConversation(promotionModels(), current, earlier);
  last = { current, earlier: [...earlier], scores };
  return scores;
}
