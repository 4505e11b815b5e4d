/**
 * Learned conversation classifiers (shopping intent, safety): logistic regression over the hashed sparse and
 * dense word-vector features of classifier-features.ts. The asset format the training script writes, its
 * decoding, and scoring. Shared by scripts/train-promotion-classifiers.ts and inference.
 */

import { CHAR_TAG, denseBlocks, dropSet, extractFeatures, HASH_BITS, newFeatureBuffer, type FeatureBuffer, type FeatureMode } from './classifier-features';
import type { WordVectors } from './word-vectors';

/**
 * A trained model as embedded: sparse weights, varint-delta bucket indices and quantized weights in base64.
 * Format 2 adds dense word-vector weights (`dense`, `vectors`); format 1 (sparse only) still loads.
 */
export type ClassifierAsset = {
  format: 'vexrail-logreg-1' | 'vexrail-logreg-2';
  name: string;
  hashBits: number;
  features: FeatureMode;
  bias: number;
  /** weight = quantized value * scale */
  scale: number;
  count: number;
  /** base64: `count` LEB128 varints (bucket deltas), then `count` little-endian int16 quantized weights */
  weights: string;
  /** The threshold chosen on dev by the training script (the config default mirrors it). */
  devThreshold: number;
  /** See Classifier.turnMax (chosen on dev by the training script). */
  turnMax?: boolean;
  /** Format 2: the word vectors the model was trained with (their id and dimensions) ... */
  vectors?: { id: string; dims: number };
  /** ... and one weight per dense input (denseBlocks(features) x dims). */
  dense?: number[];
  /** Words the model was trained to ignore in its sparse features (see dropSet in classifier-features.ts). */
  drop?: string[];
  trainedOn: Record<string, unknown>;
};

/**
 * `turnMax` (pooled models only): the score is the highest of the pooled conversation's and of each user turn's
 * alone, so a crisis told in one turn is not diluted by ordinary turns around it. `dense` and `vectors`: the
 * word-vector weights and the vectors they were trained on (both or neither).
 */
export type Classifier = { name: string; features: FeatureMode; weights: Float32Array; bias: number; turnMax?: boolean; dense?: Float32Array; vectors?: WordVectors; drop?: ReadonlySet<number> };

/**
 * Encodes weights as an asset, dropping sparse weights with |w| < minAbs. `dense`: the word-vector weights and the
 * vectors they belong to (format 2); without it the asset is format 1.
 */
export function encodeClassifier(name: string, features: FeatureMode, sparse: Float64Array, bias: number, minAbs: number, devThreshold: number, trainedOn: Record<string, unknown>, dense?: { weights: ArrayLike<number>; vectors: WordVectors }): ClassifierAsset {
  const kept: number[] = [];
  let maxAbs = 0;
  for (let i = 0; i < sparse.length; i++) if (Math.abs(sparse[i]) >= minAbs && sparse[i] !== 0) { kept.push(i); maxAbs = Math.max(maxAbs, Math.abs(sparse[i])); }
  const scale = maxAbs > 0 ? maxAbs / 32767 : 1;
  const bytes: number[] = [];
  let last = 0;
  for (const i of kept) {
    let d = i - last;
    last = i;
    while (d >= 0x80) { bytes.push((d & 0x7f) | 0x80); d >>>= 7; }
    bytes.push(d);
  }
  const q = new DataView(new ArrayBuffer(kept.length * 2));
  kept.forEach((i, k) => q.setInt16(k * 2, Math.round(sparse[i] / scale), true));
  const all = new Uint8Array(bytes.length + kept.length * 2);
  all.set(bytes);
  all.set(new Uint8Array(q.buffer), bytes.length);
  const asset: ClassifierAsset = { format: 'vexrail-logreg-1', name, hashBits: HASH_BITS, features, bias, scale, count: kept.length, weights: Buffer.from(all).toString('base64'), devThreshold, trainedOn };
  if (dense) {
    if (dense.weights.length !== denseBlocks(features) * dense.vectors.dims) throw new Error(`classifier ${name}: ${dense.weights.length} dense weights for ${features} features`);
    asset.format = 'vexrail-logreg-2';
    asset.vectors = { id: dense.vectors.id, dims: dense.vectors.dims };
    asset.dense = Array.from(Float32Array.from(dense.weights));
  }
  return asset;
}

/** Decodes an asset; one with word-vector weights needs the word vectors it was trained with. */
export function loadClassifier(asset: ClassifierAsset, vectors?: WordVectors | null): Classifier {
  if ((asset.format !== 'vexrail-logreg-1' && asset.format !== 'vexrail-logreg-2') || asset.hashBits !== HASH_BITS || (asset.features !== 'turns' && asset.features !== 'pooled')) throw new Error(`classifier ${asset.name}: unsupported format`);
  const raw = Buffer.from(asset.weights, 'base64');
  const weights = new Float32Array(1 << HASH_BITS);
  const buckets = new Int32Array(asset.count);
  let p = 0;
  let last = 0;
  for (let k = 0; k < asset.count; k++) {
    let d = 0;
    let shift = 0;
    for (;;) {
      const b = raw[p++];
      d |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    last += d;
    buckets[k] = last;
  }
  const view = new DataView(raw.buffer, raw.byteOffset + p, asset.count * 2);
  for (let k = 0; k < asset.count; k++) weights[buckets[k]] = view.getInt16(k * 2, true) * asset.scale;
  const model: Classifier = { name: asset.name, features: asset.features, weights, bias: asset.bias, turnMax: asset.features === 'pooled' && asset.turnMax === true };
  if (asset.drop?.length) model.drop = dropSet(asset.drop);
  if (asset.format === 'vexrail-logreg-2' && asset.dense && asset.vectors) {
    if (!vectors || vectors.id !== asset.vectors.id || vectors.dims !== asset.vectors.dims)
      throw new Error(`classifier ${asset.name}: trained with word vectors ${asset.vectors.id}, given ${vectors ? vectors.id : 'none'}`);
    if (asset.dense.length !== denseBlocks(asset.features) * vectors.dims) throw new Error(`classifier ${asset.name}: malformed dense weights`);
    model.dense = Float32Array.from(asset.dense);
    model.vectors = vectors;
  }
  return model;
}

/** The fewest words a turn needs to be scored alone by a turnMax model. */
export const TURN_MAX_MIN_WORDS = 3;

/** Probability (0..1) the model gives to already-extracted features. */
export function scoreFeatures(model: { weights: ArrayLike<number>; bias: number; turnMax?: boolean; dense?: ArrayLike<number> }, buf: FeatureBuffer): number {
  let z = model.bias;
  const { idx, val, weights } = { idx: buf.idx, val: buf.val, weights: model.weights };
  for (let i = 0; i < buf.n; i++) z += weights[idx[i]] * val[i];
  const dw = model.dense;
  const dense = buf.dense;
  if (dw) {
    if (!dense || (buf.denseN ?? 0) < dw.length) throw new Error('a model with word-vector weights scored on features extracted without word vectors');
    for (let d = 0; d < dw.length; d++) z += dw[d] * dense[d];
  }
  const { tag, segs, nseg = 0 } = buf;
  if (model.turnMax && tag && segs && nseg > 1) {
    // Each turn alone, normalized as extractFeatures would a one-turn conversation: one pass over the same features.
    for (let s = 0; s < nseg; s++) {
      const end = s + 1 < nseg ? segs[s + 1] : buf.n;
      let sw = 0, sc = 0, nw = 0, nc = 0;
      for (let i = segs[s]; i < end; i++) {
        if (tag[i] === CHAR_TAG) { sc += weights[idx[i]]; nc++; } else { sw += weights[idx[i]]; nw++; }
      }
      // A turn of one or two words ("no", "ok cool") is too little to call a conversation sensitive by itself; it
      // still counts in the pooled score. In pooled mode each turn has 2 word features per word plus 2-3 of shape.
      if (nw < 2 * TURN_MAX_MIN_WORDS + 2) continue;
      let zs = model.bias + (nw > 0 ? sw / Math.sqrt(nw) : 0) + (nc > 0 ? sc / Math.sqrt(nc) : 0);
      // Pooled dense inputs: the turn alone is block 1 + s (see denseInputs).
      if (dw) for (let d = 0, at = (1 + s) * dw.length; d < dw.length; d++) zs += dw[d] * dense![at + d];
      if (zs > z) z = zs;
    }
  }
  return 1 / (1 + Math.exp(-z));
}

const shared = newFeatureBuffer();

/** Scores one conversation (latest user turn, earlier user turns most recent first) with each model. */
export function classifyConversation<K extends string>(models: Record<K, Classifier>, current: string, earlier: readonly string[]): Record<K, number> {
  const out = {} as Record<K, number>;
  // The turns' vector sums, once computed with these vectors, serve the other mode too (same turns, same words).
  let summed: WordVectors | null = null;
  for (const mode of ['turns', 'pooled'] as const) {
    let extracted: WordVectors | null | undefined;
    let dropped: ReadonlySet<number> | null = null;
    for (const k in models) {
      if (models[k].features !== mode) continue;
      const vectors = models[k].vectors ?? null;
      const drop = models[k].drop ?? null;
      // Models of one mode normally share one extraction (and one set of vectors, or none, and one drop list).
      if (extracted === undefined || (vectors !== null && extracted !== vectors) || drop !== dropped) {
        extractFeatures(shared, current, earlier, mode, vectors, vectors !== null && summed === vectors, drop, true);
        if (vectors) summed = vectors;
      }
      extracted = vectors;
      dropped = drop;
      out[k] = scoreFeatures(models[k], shared);
    }
  }
  return out;
}
