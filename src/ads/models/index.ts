import { readFileSync } from 'node:fs';
import { classifyConversation, loadClassifier, type Classifier, type ClassifierAsset } from '../classifier';
import { loadWordVectors, type WordVectors } from '../word-vectors';
// Imported (not read from disk) so `bun build --compile` embeds them in the binary.
import intentAsset from './intent.json' with { type: 'json' };
import safetyAsset from './safety.json' with { type: 'json' };
// A `type: 'file'` import: a path, embedded into the compiled binary (scripts/make-word-vectors.ts makes the file).
import wordVectorsPath from './word-vectors.bin' with { type: 'file' };

/**
 * The embedded shopping-intent and safety models, trained by scripts/train-promotion-classifiers.ts, and the word
 * vectors their dense features come from. Decoded on first use: two 1 MiB weight tables, and the vectors read once
 * as they are (views into one buffer of the file's size, nothing parsed per word).
 */
let models: { intent: Classifier; safety: Classifier } | null = null;
let vectors: WordVectors | null = null;

/** The embedded word vectors (loaded on first use). */
export function wordVectors(): WordVectors {
  vectors ??= loadWordVectors(readFileSync(wordVectorsPath));
  return vectors;
}

function load(asset: ClassifierAsset): Classifier {
  return loadClassifier(asset, asset.vectors ? wordVectors() : null);
}

export function promotionModels(): { intent: Classifier; safety: Classifier } {
  models ??= { intent: load(intentAsset as unknown as ClassifierAsset), safety: load(safetyAsset as unknown as ClassifierAsset) };
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
