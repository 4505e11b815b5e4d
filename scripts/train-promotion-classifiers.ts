/**
 * Trains the shopping-intent and safety classifiers (src/ads/classifier-features.ts features, logistic regression,
 * L2, full-batch L-BFGS: convex, so the result is deterministic) on the train split, chooses the L2 strength,
 * the pruning and the default thresholds on dev, prints dev metrics and writes src/ads/models/{intent,safety}.json.
 *
 *   bun scripts/train-promotion-classifiers.ts            train, tune on dev, write the assets
 *   bun scripts/train-promotion-classifiers.ts --test     evaluate the written assets on the holdout2, holdout and test splits
 *                                                         (final report only: never tune on it)
 *   --intent-sensitive=negative                           train intent with sensitive conversations as negatives (comparison)
 *   --no-write                                            print only
 *   --out=DIR                                             write the assets to DIR instead of src/ads/models (to compare candidates)
 *   --aside-weight=W                                      add every hand-written train conversation again with an aside (see withAsides;
 *   --aside-max-words=N --aside-min-turn-words=N           default 0: none), asides of at most N words, latest turns of at least N words,
 *   --aside-models=intent|both                            for the intent model only or both
 *   --aside-dev                                           also report dev with an aside in each latest user turn (see asideReport)
 *   --errors                                              list dev conversations each model gets wrong
 *   --vector-scales=0,1,3                                 word-vector feature scales tried (0: no word vectors); dev chooses
 *   --safety-vector-scales=0,0.5                          the safety model's own (default: --vector-scales)
 *   --vectors=FILE                                        word vectors to train with (default src/ads/models/word-vectors.bin)
 *   --no-turn-negatives                                   leave out the single turns added as safety negatives (see turnsAsNegatives)
 *   --safety-other-weights=0.3,1                          add third-person copies of shopping conversations as safety negatives (see forSomeoneElse; measured, not used)
 *   --safety-drop=third,relations                         words the safety model's sparse features leave out (see DROP_LISTS)
 *   --safety-leave-out=d264,d265                          train authors the safety model does not train on (see SAFETY_LEAVE_OUT)
 *   --safety-cascade=0.01,0.02                            also report a second-stage safety model on dev (see CASCADE_CUTOFFS; comparison only)
 *
 * The shipped models: `bun scripts/make-word-vectors.ts`, then (`npm run train:classifiers` runs this command)
 *   bun scripts/train-promotion-classifiers.ts --vector-scales=0.5 --generated-weights=0.1 --lambdas=1e-7
 *     --safety-features=pooled --safety-generated-weights=0.1 --safety-lambdas=1e-6 --safety-shopping-weights=20
 *     --safety-pos-weights=3 --safety-hard-weights=10 --safety-hard-shopping=30 --safety-drop=third,relations
 *     --safety-leave-out=d264,d265
 * (hard shoppers at 30 since the retrain after holdout82, with the safety grid narrowed to the setting every retrain
 * of the previous command chose: by the gate tuner's rule on the 221-author dev, 117 sensitive promotions over both
 * safety steps against 126 for the models of 3c83ecc, 172 for the same narrowed command without hard shoppers and 135
 * for 3; 10 gave 97 but its safety model flagged two of the three held-back shoppers of test/ads/classifiers.test.ts
 * at its threshold (the black dress at 0.0203 against 0.02; the test allows one), so it was not shipped. Before that
 * `--safety-lambdas=1e-6,3e-6 --safety-pos-weights=1,3 --safety-hard-weights=3,10` without hard shoppers, and
 * shopping weight 20 since the retrain after holdout70, with the training additions d538 and d539: by the gate
 * tuner's rule on the 185-author dev, 38 sensitive promotions at the 80 % fill bound against 43 for weight 15 trained
 * on the same data and 71 for the models it replaced; retrained the same way after holdout71, 43 on the 188-author
 * dev against 46 for weight 25 and 44 for the models of bbf232b; weight 15 after holdout67, chosen the same way on
 * the 176-author dev: 55 against 72 for weight 10 and 58 for the models before; weight 10 after holdout66, chosen the
 * same way: 54 against 80 for weight 5 and 74 for the models before; weight 5 from 7ffd69c until then, chosen by the
 * same rule against 3, 7 and 10), a grid narrowed to the settings the previous full grids chose (plus the new
 * hard-weight and region choices; the full default grid was not rerun). For the models of 4aff794,
 * --safety-shopping-weights=3,10 was tried too: dev's criterion preferred 3, but that model flagged two of the three
 * held-back shoppers of test/ads/classifiers.test.ts whose words occur in sensitive training data (a climbing rope, a
 * black cocktail dress), so the grid stayed at 10.
 *
 * Data: test/fixtures/promotions/conversations/{train,dev}/*.jsonl (the relevance set's queries are there too,
 * as fx-*.jsonl); the test split is read only by --test.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { classifyConversation, encodeClassifier, loadClassifier, scoreFeatures, type ClassifierAsset } from '../src/ads/classifier';
import { denseBlocks, dropSet, extractFeatures, newFeatureBuffer, type FeatureMode } from '../src/ads/classifier-features';
import { loadWordVectors, type WordVectors } from '../src/ads/word-vectors';
import { classifySensitivity } from '../src/ads/sensitive';

const ROOT = join(import.meta.dir, '..');
const CONVERSATIONS = join(ROOT, 'test/fixtures/promotions/conversations');
const MODELS = join(ROOT, 'src/ads/models');
const args = new Set(process.argv.slice(2));
/** A comma-separated list of numbers given as --name=1,2,3 (narrows a grid for a quick comparison), or the default. */
function argList(name: string, fallback: number[]): number[] {
  const given = [...args].find((a) => a.startsWith(`--${name}=`));
  return given ? given.slice(name.length + 3).split(',').map(Number) : fallback;
}

/** A value given as --name=value, or the default. */
const argValue = (name: string, fallback: string) => [...args].find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

type Message = { role: string; content: string };
type Item = { id: string; kind: 'shopping' | 'none' | 'sensitive'; topic: string; messages: Message[]; lexicon_free?: boolean; source: string };
type Example = { item: Item; idx: Int32Array; val: Float32Array; tag: Uint8Array; segs: Int32Array; dense: Float32Array; lexicon: boolean };
type Sets = Record<FeatureMode, { train: Example[]; dev: Example[] }>;

// ---------------------------------------------------------------- data
function readSplit(split: string): Item[] {
  const dir = join(CONVERSATIONS, split);
  if (!existsSync(dir)) return [];
  const items: Item[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort()) {
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    lines.forEach((line, n) => {
      if (!line.trim()) return;
      try {
        const o = JSON.parse(line) as Item;
        if (!['shopping', 'none', 'sensitive'].includes(o.kind) || !Array.isArray(o.messages)) throw new Error('bad kind or messages');
        items.push({ ...o, source: `${split}/${file}` });
      } catch (err) {
        console.warn(`skip ${split}/${file}:${n + 1}: ${String(err)}`);
      }
    });
  }
  return items;
}

/** Written by the generator (author d4, scripts/make-training-conversations.ts) rather than by hand; see isGenerated. */
const isGeneratedItem = (item: Item) => item.id.startsWith('d4-');

/** Latest user turn and earlier user turns (most recent first): what the ads service sees. */
export function userContext(messages: Message[]): { current: string; earlier: string[] } {
  const users = messages.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : ''));
  return { current: users[users.length - 1] ?? '', earlier: users.slice(0, -1).reverse() };
}

function featurize(items: Item[], mode: FeatureMode, vectors: WordVectors | null, drop: ReadonlySet<number> | null = null): Example[] {
  const buf = newFeatureBuffer();
  return items.map((item) => {
    const { current, earlier } = userContext(item.messages);
    extractFeatures(buf, current, earlier, mode, vectors, false, drop);
    const dense = buf.dense ? buf.dense.slice(0, buf.denseN) : new Float32Array(0);
    return { item, idx: buf.idx.slice(0, buf.n), val: buf.val.slice(0, buf.n), tag: buf.tag!.slice(0, buf.n), segs: buf.segs!.slice(0, buf.nseg), dense, lexicon: classifySensitivity([current, ...earlier]).sensitive };
  });
}

/**
 * Each user turn of a train conversation without a sensitive context, alone, as one more safety negative
 * (--no-turn-negatives leaves them out). A model that also scores every turn alone (turnMax) must not flag a
 * shopper's opening turn ("Hi there, how has your day been so far?", "I just passed my driving test!!"), which
 * pooled training never showed it by itself. Sensitive conversations give no turn positives: their neutral turns
 * ("thanks, which one?") are not sensitive alone. Measured once (22-author dev, the shipped grid, gates tuned by
 * scripts/tune-promotion-gates.ts): without them dev's mean Hit@5 was 0.4 points higher (intent 0.925, safety 0.05),
 * but that model scored the greeting above at 0.063 alone, so a conversation opening with small talk never got a
 * promotion (an end-to-end test failed on it); with them it scores under 0.02 (gates 0.85 / 0.02 / 0.3).
 */
function turnsAsNegatives(items: Item[]): Item[] {
  const out: Item[] = [];
  for (const item of items) {
    if (item.kind === 'sensitive') continue;
    const users = item.messages.filter((m) => m.role === 'user');
    if (users.length < 2) continue;
    users.forEach((m, k) => out.push({ ...item, id: `${item.id}#turn${k + 1}`, messages: [m] }));
  }
  return out;
}

/**
 * Shopping for someone else, as safety negatives (pooled train only). Measured on `holdout26` (d191 and d192: gifts and
 * purchases for a partner, a parent, a child, a flatmate): the safety model of 9aceef4 flagged 101 of 270 such
 * shoppers, and removing one word at a time showed what carried the score: third-person pronouns (he, she, her, his)
 * and relation words (husband, girlfriend, mum, flatmate), because the sensitive training conversations are often
 * about someone else and the shopping ones mostly about the writer. Each hand-written train shopping conversation is
 * copied with its user turns moved to the third person about a relative or friend (chosen by a hash of its id, with
 * the matching pronouns: "I need running shoes, my knees hurt" -> "my sister need running shoes, her knees hurt"; the
 * verb is left as written), so that the people words occur on both sides. Their weight is a hyper-parameter
 * (--safety-other-weights=0.3,1; default 0: left out). Measured once, after `holdout26` was folded (51-author dev; the
 * shipped command's grid plus these weights; gates by scripts/tune-promotion-gates.ts): at weight 1 the model flagged 41
 * of dev's 135 gift shoppers (d192) at 0.02 against 55 without the copies, and other dev shoppers less (26 against 36 of
 * d176's 240), but the chain leaked more sensitive conversations (32 at the chosen gates and one safety step looser,
 * against 27 without the copies and 21 for the models of 9aceef4 tuned afresh): the people words were also what told
 * it that a conversation about someone else's crisis is sensitive. At weight 0.1 the gift shoppers were flagged as
 * before (54) and the paring knife of test/ads/classifiers.test.ts scored 0.031, over the 0.02 bound. Not used.
 */
const RELATIONS: [string, 'f' | 'm'][] = [
  ['mum', 'f'], ['dad', 'm'], ['wife', 'f'], ['husband', 'm'], ['girlfriend', 'f'], ['boyfriend', 'm'], ['sister', 'f'],
  ['brother', 'm'], ['daughter', 'f'], ['son', 'm'], ['gran', 'f'], ['grandad', 'm'], ['aunt', 'f'], ['uncle', 'm'],
  ['niece', 'f'], ['nephew', 'm'], ['mother-in-law', 'f'], ['father-in-law', 'm'], ['best friend', 'f'], ['flatmate', 'm'],
  ['colleague', 'f'], ['neighbour', 'm'], ['partner', 'f'], ['boss', 'm'],
];
const PRONOUNS = {
  f: { "i'm": "she's", "i've": "she's", "i'd": "she'd", "i'll": "she'll", i: 'she', me: 'her', my: 'her', mine: 'hers', myself: 'herself' },
  m: { "i'm": "he's", "i've": "he's", "i'd": "he'd", "i'll": "he'll", i: 'he', me: 'him', my: 'his', mine: 'his', myself: 'himself' },
} as const;
const FIRST_PERSON = /\b(i'm|i've|i'd|i'll|i|me|my|mine|myself)\b/gi;

function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** How the first first-person word of a conversation names the person instead ("my" -> "my sister's"). */
const NAMING: Record<string, string> = { i: '', me: '', myself: '', "i'm": "'s", "i've": "'s", my: "'s", mine: "'s", "i'd": "'d", "i'll": "'ll" };

/** A user turn in the third person about `relation`; the first turn names the person. */
function aboutSomeoneElse(text: string, relation: string, gender: 'f' | 'm', first: boolean): string {
  const table = PRONOUNS[gender] as Record<string, string>;
  let named = !first;
  const out = text.replace(FIRST_PERSON, (w) => {
    const lower = w.toLowerCase();
    if (!named) { named = true; return `my ${relation}${NAMING[lower]}`; }
    const r = table[lower];
    return w[0] === w[0].toUpperCase() && w !== 'I' ? r[0].toUpperCase() + r.slice(1) : r;
  });
  return named ? out : `For my ${relation}: ${out}`;
}

const FEMININE = /\b(women'?s?|woman|ladies|lady|girls?|she|her)\b/i;
const MASCULINE = /\b(men'?s?|man|gents|boys?|he|him|his)\b/i;

function forSomeoneElse(items: Item[]): Item[] {
  const out: Item[] = [];
  for (const item of items) {
    if (item.kind !== 'shopping' || isGeneratedItem(item)) continue;
    // A relative of the gender the conversation shops for, when it says ("women's XS" is not for a nephew).
    const text = item.messages.filter((m) => m.role === 'user').map((m) => m.content).join(' ');
    const f = FEMININE.test(text), m = MASCULINE.test(text);
    const pool = f === m ? RELATIONS : RELATIONS.filter(([, g]) => g === (f ? 'f' : 'm'));
    const [relation, gender] = pool[hashOf(item.id) % pool.length];
    let firstUser = true;
    const messages = item.messages.map((msg) => {
      if (msg.role !== 'user') return msg;
      const content = aboutSomeoneElse(msg.content, relation, gender, firstUser);
      firstUser = false;
      return { ...msg, content };
    });
    out.push({ ...item, id: `${item.id}#for-other`, messages });
  }
  return out;
}
const isForOther = (e: Example) => e.item.id.endsWith('#for-other');
const SAFETY_OTHER_WEIGHTS = argList('safety-other-weights', [0]);

/**
 * Asides: a sentence that is not the request, added to the latest user turn ("Thanks in advance.", "We are 12 people.",
 * "I asked a friend but she did not know."). People write to an assistant that way, and most turns of the data are only
 * the request: with the models of d398ead, one such sentence appended to every dev shopping conversation took the
 * intent gate's recall from 96.7 % to 59-93 % depending on the sentence, and made the safety model flag up to 38 % of
 * the shoppers instead of 11 % (a one-off list of ten sentences; the probe kept is --aside-dev, with dev's own).
 * With --aside-weight > 0 each hand-written train conversation (every kind) is copied once with one aside, appended
 * (two in three) or put first, keeping its label; the asides are the statements of the hand-written train
 * conversations without shopping intent (no "?", 3 to --aside-max-words words, no lexicon phrase), chosen by a hash of
 * the conversation id from another author's, so the same sentences occur on every side. --aside-min-turn-words leaves
 * short latest turns (bare queries) without a copy; --aside-models=intent gives them to the intent model only.
 * Measured and not used by the shipped command (see the README, "Remarks around the request"): the intent model got
 * robust to asides but lost short direct questions, and with asides the safety model made the chain worse on dev.
 */
type Aside = { text: string; author: string };
const authorOf = (item: Item) => item.id.split('-')[0];

function asidePool(items: Item[]): Aside[] {
  const seen = new Set<string>();
  const pool: Aside[] = [];
  for (const item of items) {
    if (item.kind !== 'none' || isGeneratedItem(item)) continue;
    for (const m of item.messages) {
      if (m.role !== 'user' || typeof m.content !== 'string') continue;
      for (const raw of m.content.split(/(?<=[.!])\s+/)) {
        const text = raw.trim();
        const words = text.split(/\s+/).length;
        if (text.includes('?') || words < 3 || words > ASIDE_MAX_WORDS || !/^[A-Za-z]/.test(text) || seen.has(text)) continue;
        if (classifySensitivity([text]).sensitive) continue;
        seen.add(text);
        pool.push({ text, author: authorOf(item) });
      }
    }
  }
  return pool;
}

function withAsides(items: Item[], pool: Aside[]): Item[] {
  const out: Item[] = [];
  if (pool.length === 0) return out;
  for (const item of items) {
    if (isGeneratedItem(item)) continue;
    const h = hashOf(item.id);
    let k = h % pool.length;
    for (let tries = 0; tries < 8 && pool[k].author === authorOf(item); tries++) k = (k + 1) % pool.length;
    const aside = pool[k].text;
    let last = -1;
    item.messages.forEach((m, i) => { if (m.role === 'user') last = i; });
    if (last < 0 || (item.messages[last].content ?? '').split(/\s+/).length < ASIDE_MIN_TURN_WORDS) continue;
    const messages = item.messages.map((m, i) => {
      if (i !== last) return m;
      const content = typeof m.content === 'string' ? m.content.trim() : '';
      return { ...m, content: (h >>> 8) % 3 === 0 ? `${aside} ${content}` : `${content} ${aside}` };
    });
    out.push({ ...item, id: `${item.id}#aside`, messages });
  }
  return out;
}
const isAside = (e: Example) => e.item.id.endsWith('#aside');
const ASIDE_WEIGHT = Number(argValue('aside-weight', '0'));
/** The longest aside (words) and the shortest latest turn that gets one (a bare query "2200w hairdryer" rarely comes with remarks). */
const ASIDE_MAX_WORDS = Number(argValue('aside-max-words', '16'));
const ASIDE_MIN_TURN_WORDS = Number(argValue('aside-min-turn-words', '0'));
/** Which models train with the asides: "intent" (the turns-mode model) or "both". */
const ASIDE_MODELS = argValue('aside-models', 'both');
if (ASIDE_MODELS !== 'both' && ASIDE_MODELS !== 'intent') throw new Error('--aside-models must be intent or both');

/**
 * The word vectors the dense features come from (scripts/make-word-vectors.ts); null when absent or when only
 * vector scale 0 is tried.
 */
function readVectors(): WordVectors | null {
  const file = argValue('vectors', join(MODELS, 'word-vectors.bin'));
  if ([...VECTOR_SCALES, ...SAFETY_VECTOR_SCALES].every((s) => s === 0) || !existsSync(file)) return null;
  return loadWordVectors(readFileSync(file));
}

// ---------------------------------------------------------------- training
/**
 * `hardWeight` and `intentOf`: a positive (sensitive) example weighs 1 + hardWeight x its shopping-intent score
 * (see main); absent, every example of a class weighs the same.
 */
type Task = { drop?: string[]; name: string; label: (e: Example) => 0 | 1 | null; posWeight: number; generatedWeight?: number; shoppingWeight?: number; otherWeight?: number; hardWeight?: number; intentOf?: Map<string, number>; shoppingHard?: number; shoppingHardOf?: Map<string, number>; turnMaxChoices?: boolean[]; denseLen?: number; vectorScale?: number };

/**
 * Conversations written by a generator (author d4, scripts/make-training-conversations.ts) rather than by hand.
 * They come from a few hundred templates, so at full weight the model also learns the templates' own words;
 * their weight is a hyper-parameter chosen on dev (GENERATED_WEIGHTS).
 */
const isGenerated = (e: Example) => isGeneratedItem(e.item);
const GENERATED_WEIGHTS = argList('generated-weights', [0.1, 0.3, 1]);
/** Safety at full generated weight learned the templates' words (dev quality 0.83 vs 0.87 at 0.1): not retried. */
const SAFETY_GENERATED_WEIGHTS = argList('safety-generated-weights', [0.1, 0.3]);

/**
 * Logistic loss + L2 over the buckets seen in train (remapped to a compact range) and the `task.denseLen` word-vector
 * inputs times `task.vectorScale` (the scale sets how strongly L2 holds those weights back against the sparse ones;
 * the returned dense weights apply to the unscaled inputs); bias not regularized.
 */
function train(examples: Example[], task: Task, lambda: number): { dense: Float64Array; bias: number; vector: Float64Array } {
  const data = examples.map((e) => ({ e, y: task.label(e) })).filter((d) => d.y !== null) as { e: Example; y: 0 | 1 }[];
  if (!data.some((d) => d.y === 1) || !data.some((d) => d.y === 0)) throw new Error(`${task.name}: train needs both classes`);
  const remap = new Map<number, number>();
  for (const { e } of data) for (const i of e.idx) if (!remap.has(i)) remap.set(i, remap.size);
  const hard = (e: Example) => 1 + (task.hardWeight ?? 0) * (task.intentOf?.get(e.item.id) ?? 0);
  const hardShopper = (e: Example) => 1 + (task.shoppingHard ?? 0) * (task.shoppingHardOf?.get(e.item.id) ?? 0);
  const rows = data.map(({ e, y }) => ({ idx: Int32Array.from(e.idx, (i) => remap.get(i)!), val: e.val, y, w: (y === 1 ? task.posWeight * hard(e) : e.item.kind === 'shopping' ? (task.shoppingWeight ?? 1) * hardShopper(e) : task.name === 'safety' ? SAFETY_NONE_WEIGHT : 1) * (isGenerated(e) ? task.generatedWeight ?? 1 : 1) * (isForOther(e) ? task.otherWeight ?? 1 : 1) * (isAside(e) ? ASIDE_WEIGHT : 1) * (task.name === 'safety' && SAFETY_WEIGHTED_AUTHORS.has(authorOf(e.item)) ? SAFETY_AUTHOR_WEIGHT : 1) }));
  const totalW = rows.reduce((s, r) => s + r.w, 0);
  const vs = task.vectorScale ?? 0;
  const L = vs > 0 ? task.denseLen ?? 0 : 0;
  const V = remap.size; // word-vector weights at [V, V + L)
  const inputs = data.map(({ e }) => {
    if (e.dense.length < L) throw new Error(`${task.name}: features extracted without word vectors`);
    return Float64Array.from(e.dense.subarray(0, L), (x) => x * vs);
  });
  const D = V + L + 1; // last coordinate: bias
  const objective = (x: Float64Array, g: Float64Array): number => {
    g.fill(0);
    let loss = 0;
    rows.forEach((r, n) => {
      let z = x[D - 1];
      for (let k = 0; k < r.idx.length; k++) z += x[r.idx[k]] * r.val[k];
      const u = inputs[n];
      for (let k = 0; k < L; k++) z += x[V + k] * u[k];
      const s = r.y === 1 ? z : -z;
      loss += r.w * (s > 0 ? Math.log1p(Math.exp(-s)) : -s + Math.log1p(Math.exp(s)));
      const p = 1 / (1 + Math.exp(-z));
      const d = (r.w * (p - r.y)) / totalW;
      for (let k = 0; k < r.idx.length; k++) g[r.idx[k]] += d * r.val[k];
      for (let k = 0; k < L; k++) g[V + k] += d * u[k];
      g[D - 1] += d;
    });
    loss /= totalW;
    for (let i = 0; i < D - 1; i++) {
      loss += 0.5 * lambda * x[i] * x[i];
      g[i] += lambda * x[i];
    }
    return loss;
  };
  const x = lbfgs(objective, D, 300);
  const dense = new Float64Array(1 << 18);
  for (const [bucket, i] of remap) dense[bucket] = x[i];
  return { dense, bias: x[D - 1], vector: Float64Array.from(x.subarray(V, V + L), (w) => w * vs) };
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Limited-memory BFGS (m = 10) with a backtracking Armijo line search; stops on a small relative change. */
function lbfgs(f: (x: Float64Array, g: Float64Array) => number, D: number, maxIter: number): Float64Array {
  const m = 10;
  let x = new Float64Array(D);
  let g = new Float64Array(D);
  let fx = f(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const dir = new Float64Array(D);
  for (let iter = 0; iter < maxIter; iter++) {
    dir.set(g);
    const alpha: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const a = dot(S[k], dir) / dot(Y[k], S[k]);
      alpha[k] = a;
      for (let i = 0; i < D; i++) dir[i] -= a * Y[k][i];
    }
    const gamma = S.length ? dot(S[S.length - 1], Y[Y.length - 1]) / dot(Y[Y.length - 1], Y[Y.length - 1]) : 1 / Math.max(1, Math.sqrt(dot(g, g)));
    for (let i = 0; i < D; i++) dir[i] *= gamma;
    for (let k = 0; k < S.length; k++) {
      const b = dot(Y[k], dir) / dot(Y[k], S[k]);
      for (let i = 0; i < D; i++) dir[i] += S[k][i] * (alpha[k] - b);
    }
    const slope = -dot(g, dir);
    if (slope >= 0) break;
    let step = 1;
    const xNew = new Float64Array(D);
    const gNew = new Float64Array(D);
    let fNew = 0;
    for (;;) {
      for (let i = 0; i < D; i++) xNew[i] = x[i] - step * dir[i];
      fNew = f(xNew, gNew);
      if (fNew <= fx + 1e-4 * step * slope || step < 1e-10) break;
      step *= 0.5;
    }
    const s = new Float64Array(D);
    const y = new Float64Array(D);
    for (let i = 0; i < D; i++) { s[i] = xNew[i] - x[i]; y[i] = gNew[i] - g[i]; }
    const done = Math.abs(fx - fNew) <= 1e-7 * Math.max(1, Math.abs(fx));
    x = xNew;
    g = gNew;
    fx = fNew;
    if (dot(s, y) > 1e-12) {
      S.push(s);
      Y.push(y);
      if (S.length > m) { S.shift(); Y.shift(); }
    }
    if (done) break;
  }
  return x;
}

// ---------------------------------------------------------------- metrics
const bufferOf = (e: Example) => ({ idx: e.idx, val: e.val, n: e.idx.length, tag: e.tag, segs: e.segs, nseg: e.segs.length, dense: e.dense, denseN: e.dense.length });

function scoresOf(model: { weights: ArrayLike<number>; bias: number; turnMax?: boolean; dense?: ArrayLike<number> }, examples: Example[]): number[] {
  return examples.map((e) => scoreFeatures(model, bufferOf(e)));
}

/** Average precision of the positives among all labelled examples. */
function averagePrecision(scores: number[], labels: (0 | 1)[]): number {
  const order = scores.map((s, i) => i).sort((a, b) => scores[b] - scores[a] || a - b);
  const positives = labels.filter((l) => l === 1).length;
  let hits = 0;
  let sum = 0;
  order.forEach((i, rank) => {
    if (labels[i] === 1) { hits++; sum += hits / (rank + 1); }
  });
  return positives ? sum / positives : 0;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

type IntentReport = { threshold: number; precision: number; recall: number; f1: number; fprNone: number; fprSensitive: number; ap: number };

function intentReport(scores: number[], examples: Example[], threshold: number): IntentReport {
  let tp = 0, fp = 0, fn = 0, none = 0, noneFp = 0, sens = 0, sensFp = 0;
  const labels: (0 | 1)[] = [];
  const apScores: number[] = [];
  examples.forEach((e, i) => {
    const yes = scores[i] >= threshold;
    if (e.item.kind === 'shopping') { yes ? tp++ : fn++; labels.push(1); apScores.push(scores[i]); }
    else if (e.item.kind === 'none') { none++; if (yes) { fp++; noneFp++; } labels.push(0); apScores.push(scores[i]); }
    else { sens++; if (yes) sensFp++; }
  });
  const precision = tp / Math.max(1, tp + fp);
  const recall = tp / Math.max(1, tp + fn);
  return { threshold, precision, recall, f1: (2 * precision * recall) / Math.max(1e-9, precision + recall), fprNone: noneFp / Math.max(1, none), fprSensitive: sensFp / Math.max(1, sens), ap: averagePrecision(apScores, labels) };
}

/** The lowest threshold (most shopping conversations kept) at which at most `maxNonePass` of dev "none" pass. */
function intentThresholdAt(scores: number[], examples: Example[], maxNonePass: number): number {
  const candidates = [...new Set(scores.map((s) => Math.round(s * 1000) / 1000))].sort((a, b) => a - b);
  for (const t of candidates) if (intentReport(scores, examples, t).fprNone <= maxNonePass) return t;
  return 1;
}

/**
 * Intent default: at most 5 % of dev "none" conversations pass. The relevance floor filters them again, so
 * together far fewer get a promotion, while a stricter gate would cost fill on real shopping questions.
 */
const INTENT_MAX_NONE_PASS = 0.05;

function printIntentCurve(scores: number[], examples: Example[]) {
  const points = [0.01, 0.02, 0.03, 0.05, 0.1].map((p) => {
    const r = intentReport(scores, examples, intentThresholdAt(scores, examples, p));
    return `none pass <= ${pct(p)}: threshold ${r.threshold}, recall ${pct(r.recall)}`;
  });
  console.log(`DEV intent operating points: ${points.join('; ')}`);
}

type SafetyReport = { threshold: number; recallCombined: number; recallModel: number; recallLexiconFree: number; lexiconFreeCount: number; fpr: number; fprShopping: number; ap: number };

function safetyReport(scores: number[], examples: Example[], threshold: number): SafetyReport {
  let sens = 0, caught = 0, model = 0, free = 0, freeCaught = 0, neg = 0, negFp = 0, shop = 0, shopFp = 0;
  examples.forEach((e, i) => {
    const flagged = e.lexicon || scores[i] >= threshold;
    if (e.item.kind === 'sensitive') {
      sens++;
      if (flagged) caught++;
      if (scores[i] >= threshold) model++;
      if (!e.lexicon) { free++; if (flagged) freeCaught++; }
    } else {
      neg++;
      if (flagged) negFp++;
      if (e.item.kind === 'shopping') { shop++; if (flagged) shopFp++; }
    }
  });
  const labels = examples.map((e) => (e.item.kind === 'sensitive' ? 1 : 0)) as (0 | 1)[];
  return { threshold, recallCombined: caught / Math.max(1, sens), recallModel: model / Math.max(1, sens), recallLexiconFree: freeCaught / Math.max(1, free), lexiconFreeCount: free, fpr: negFp / Math.max(1, neg), fprShopping: shopFp / Math.max(1, shop), ap: averagePrecision(scores, labels) };
}

/** The highest safety threshold at which lexicon OR model still catches `recall` of the dev sensitive items. */
function safetyThresholdAt(scores: number[], examples: Example[], recall: number): number {
  const candidates = [...new Set(scores.map((s) => Math.floor(s * 1000) / 1000))].sort((a, b) => b - a);
  for (const t of candidates) if (safetyReport(scores, examples, t).recallCombined >= recall) return t;
  return 0.001;
}

/**
 * Extra training weight of a sensitive conversation per unit of its shopping-intent score (see main); dev chooses.
 * 30 was tried once beside 3 and 10 (region quality, 22-author dev) and never came first.
 */
const SAFETY_HARD_WEIGHTS = argList('safety-hard-weights', [3, 10]);
/**
 * The region the safety model is judged in (--safety-quality=region): dev conversations whose shopping-intent score
 * is at least this. Below it the intent gate stops a conversation whatever safety says (the gate has never been
 * tuned below 0.475), so only this region's sensitive conversations can be promoted and only its shoppers lost.
 */
const SAFETY_REGION_INTENT = 0.5;
/**
 * The recalls of the region's sensitive conversations at which the region criterion counts flagged shoppers
 * (--safety-region-recalls). The 100 % point hangs on the one lowest-scoring sensitive conversation of the region (it
 * had made the criterion prefer a pruned safety model that flagged more of dev's shoppers). Tried on the 38-author
 * dev (after holdout22): 97-99 % chose positive weight 3 and hard weight 3, which flags 5.3 % of dev's shoppers at
 * 99 % recall where 98-100 % chose hard weight 10 (6.3 %). At the safety threshold then chosen for it (gates 0.95 /
 * 0.01 / 0.325: 13 sensitive promotions at both steps against 20 for the shipped models, fill 81.5 / 81.8 %) it flags
 * two of the three held-back shoppers of test/ads/classifiers.test.ts (a climbing rope, a black cocktail dress at
 * 0.0104), so neither retrained model was shipped and the default stays as the shipped models were trained.
 */
const SAFETY_REGION_RECALLS = argList('safety-region-recalls', [0.98, 0.99, 1]);

/**
 * Safety default: a missed sensitive conversation is far worse than a lost impression. The threshold keeps 99 % of
 * the dev sensitive conversations flagged by the safety stage alone (lexicon OR model), whatever intent and
 * relevance would do with them (scripts/tune-promotion-gates.ts applies the same rule, with a margin).
 */
const SAFETY_RECALL = 0.99;
/**
 * What safety-model selection minimizes: the share of dev shopping conversations flagged in the region the intent
 * gate can pass, at 98-100 % recall of that region's sensitive conversations ("region", the default; see
 * SAFETY_REGION_RECALLS); over all of dev at 95-99 % recall ("shopping"); or of all non-sensitive ones ("all"). Same
 * train, dev and grid (the 22-author dev): chosen by "shopping", no gate setting had zero sensitive promotions on dev
 * (at best one); chosen by "region" (which also picked the turn maximum), intent 0.9 / safety 0.05 / floor 0.3 had
 * none at that safety threshold and one step looser, with dev fill 84.5 % `retail` and 84.9 % `services`.
 */
const SAFETY_QUALITY = argValue('safety-quality', 'region');
/**
 * Training weight of a shopping conversation as a safety negative (none conversations weigh 1); dev chose 3 of 1, 3,
 * then, on the ten-author dev, 10 of 3, 10 (quality 0.9877 against 0.9863).
 */
const SAFETY_SHOPPING_WEIGHTS = argValue('safety-shopping-weights', '1,3,10').split(',').map(Number);
/** The safety model was never chosen at the grid's ends (3e-7, 3e-4, 1e-3 of LAMBDAS): left out to halve training time. */
const SAFETY_LAMBDAS = argList('safety-lambdas', [1e-6, 3e-6, 1e-5, 3e-5, 1e-4]);
/** Training weight of the sensitive class (before its hard weight). */
const SAFETY_POS_WEIGHTS = argList('safety-pos-weights', [1, 3]);
const SAFETY_FEATURES = argValue('safety-features', 'turns,pooled').split(',') as FeatureMode[];
/**
 * Words the safety model's sparse features leave out (--safety-drop=third,first,relations; default none): the
 * shoppers it flagged on dev were mostly people buying for someone they name, and leaving out one word type at a
 * time lowered those scores most for pronouns and relation words, which say who a conversation is about, not
 * whether it is sensitive. The word vectors still see them. Forms are as the features read them ("he's": "hes"); a
 * contraction that is also a word is left out of the lists ("she'll" = "shell", "i'll" = "ill"). `function` (articles,
 * prepositions, auxiliaries, other pronouns, common adverbs) and `light` (common verbs such as went, gone, feel, need)
 * were measured after `holdout79` and are not used: the gate tuner found 185 sensitive promotions on the 212-author dev
 * with `third,relations,function` against 112 for the shipped models (test/fixtures/promotions/REPORTS.md, earlier choices of the gates).
 */
const DROP_LISTS: Record<string, string[]> = {
  third: ['he', 'she', 'him', 'her', 'his', 'hers', 'himself', 'herself', 'hes', 'shes', 'hed'],
  first: ['i', 'me', 'my', 'mine', 'myself', 'im', 'ive'],
  function: ['a', 'an', 'the', 'and', 'or', 'but', 'so', 'if', 'then', 'than', 'because', 'as', 'of', 'in', 'on', 'at', 'to', 'from', 'for', 'with', 'without', 'by', 'about', 'into', 'onto', 'off', 'out', 'up', 'down', 'over', 'under', 'after', 'before', 'since', 'until', 'while', 'during', 'through', 'around', 'again', 'ago', 'ever', 'never', 'just', 'really', 'very', 'too', 'also', 'still', 'even', 'now', 'all', 'some', 'any', 'every', 'each', 'this', 'that', 'these', 'those', 'there', 'here', 'theres', 'thats', 'its', 'it', 'is', 'am', 'are', 'was', 'were', 'be', 'been', 'being', 'has', 'have', 'had', 'having', 'hasnt', 'havent', 'hadnt', 'isnt', 'arent', 'wasnt', 'werent', 'do', 'does', 'did', 'doing', 'dont', 'doesnt', 'didnt', 'can', 'could', 'would', 'should', 'will', 'wont', 'cant', 'couldnt', 'wouldnt', 'shouldnt', 'may', 'might', 'must', 'we', 'us', 'our', 'ours', 'you', 'your', 'yours', 'youre', 'they', 'them', 'their', 'theirs', 'theyre', 'who', 'whom', 'whose', 'what', 'whats', 'which', 'when', 'where', 'why', 'how', 'not', 'no', 'yes', 'one', 'ones', 'much', 'many', 'more', 'most', 'own', 'only', 'like'],
  light: ['get', 'gets', 'got', 'getting', 'go', 'goes', 'going', 'went', 'gone', 'come', 'comes', 'came', 'coming', 'keep', 'keeps', 'kept', 'feel', 'feels', 'felt', 'make', 'makes', 'made', 'take', 'takes', 'took', 'say', 'says', 'said', 'saying', 'tell', 'told', 'seem', 'seems', 'seemed', 'put', 'let', 'want', 'wants', 'wanted', 'need', 'needs', 'needed', 'know', 'knew', 'think', 'thought'],
  relations: ['wife', 'husband', 'partner', 'boyfriend', 'girlfriend', 'mum', 'mom', 'mother', 'dad', 'father', 'son', 'daughter', 'sister', 'brother', 'sisters', 'brothers', 'grandma', 'grandmother', 'grandad', 'granddad', 'grandpa', 'grandfather', 'nan', 'parents', 'parent', 'friend', 'friends', 'flatmate', 'roommate', 'colleague', 'coworker', 'boss', 'neighbour', 'neighbor', 'niece', 'nephew', 'aunt', 'uncle', 'cousin', 'mums', 'moms', 'dads', 'wifes', 'husbands', 'sons', 'daughters', 'partners'],
};
/**
 * Train authors the safety model does not train on (--safety-leave-out=d264,d265; the intent model still does).
 * d264 and d265 were written for the intent model ("what is the best X" asked for products and for things nobody
 * buys). Measured on the 80-author dev (the shipped command, then scripts/tune-promotion-gates.ts --no-write with the
 * pair in place): both models trained with them gave 54 sensitive promotions over both safety steps, the shipped
 * command with this option 25, against 33 for the models of b63b276 (their safety model beside the new intent model:
 * 22, but that pair is not what one run of the command makes). d264's 420 requests for
 * products at shopping weight 10 (car seats, baby gear, locks, phones) teach the safety model that a product request
 * is not sensitive, which is what a sensitive conversation with a practical ask looks like too.
 */
const SAFETY_LEAVE_OUT = new Set(argValue('safety-leave-out', '').split(',').filter(Boolean));
/**
 * Train authors whose conversations the safety model weighs SAFETY_AUTHOR_WEIGHT times as much
 * (--safety-weighted-authors=d575,d577 --safety-author-weight=3; default none): to fit one kind of writing harder.
 * Measured after `holdout80` with the 16 train authors of `holdout77`'s briefs at weight 3 and not used: the gate
 * tuner found 130 sensitive promotions on the 215-author dev against 120 for the shipped models
 * (test/fixtures/promotions/REPORTS.md, earlier choices of the gates).
 */
const SAFETY_WEIGHTED_AUTHORS = new Set(argValue('safety-weighted-authors', '').split(',').filter(Boolean));
const SAFETY_AUTHOR_WEIGHT = Number(argValue('safety-author-weight', '1'));
/**
 * Hard shoppers (--safety-hard-shopping=K; default 0: off): a train shopping conversation weighs its shopping weight
 * times 1 + K x its out-of-fold safety score (three author folds, the first setting of the safety grid), so the
 * shoppers a safety model would flag (a problem told first, a purchase for someone ill) count more, as hardWeight does
 * for sensitive conversations that look like shopping. Chosen after `holdout82` (see the shipped command above and the
 * README's "Hard shoppers" paragraph).
 */
const SAFETY_HARD_SHOPPING = Number(argValue('safety-hard-shopping', '0'));
/**
 * Training weight of a safety negative that is neither shopping nor sensitive (--safety-none-weight=W; default 1):
 * conversations without shopping intent and the single turns added by turnsAsNegatives. Those can never be promoted,
 * so the tuner's rule does not see them, but a safety model that flags ordinary questions is badly calibrated.
 * Measured after `holdout119` (the shipped command on the 503-author train, the gates rule on the 349-author dev; the
 * README's "Retrained after holdout119"): weights 1, 3 and 10 promote 57, 57 and 61 sensitive conversations over both
 * safety steps at intent 0.9 / safety 0.02 / floor 0.35 (147 for the shipped models) and flag 42.4, 32.5 and 22.5 % of
 * dev's conversations without intent at 0.02 (39.7 % for the shipped models); on held-back examples written for the
 * check all three flag more ordinary shoppers than the shipped models, so none shipped.
 */
const SAFETY_NONE_WEIGHT = Number(argValue('safety-none-weight', '1'));
const SAFETY_DROP_NAMES = argValue('safety-drop', '').split(',').filter(Boolean);
for (const n of SAFETY_DROP_NAMES) if (!DROP_LISTS[n]) throw new Error(`--safety-drop: unknown list ${n} (${Object.keys(DROP_LISTS).join(', ')})`);
const SAFETY_DROP = [...new Set(SAFETY_DROP_NAMES.flatMap((n) => DROP_LISTS[n]))];
const chooseSafetyThreshold = (scores: number[], examples: Example[]) => safetyThresholdAt(scores, examples, SAFETY_RECALL);

function printSafetyCurve(scores: number[], examples: Example[]) {
  const points = [0.9, 0.95, 0.97, 0.99].map((p) => {
    const r = safetyReport(scores, examples, safetyThresholdAt(scores, examples, p));
    return `recall >= ${pct(p)}: threshold ${r.threshold}, non-sensitive flagged ${pct(r.fpr)}, shopping flagged ${pct(r.fprShopping)}`;
  });
  console.log(`DEV safety operating points (lexicon OR model): ${points.join('; ')}`);
}

// ---------------------------------------------------------------- model selection
/** Intent chose the smallest, 3e-7, on the ten-author dev, then 1e-7 of 1e-7, 3e-7 (AP 0.9882 against 0.9879). */
const LAMBDAS = argList('lambdas', [1e-7, 3e-7, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3]);
const KEEP_FRACTIONS = [1, 0.5, 0.3, 0.2, 0.1, 0.05];
/**
 * The pruning levels tried for safety (--safety-keeps=1,0.5,0.05 to compare). Safety is not pruned, as intent is not:
 * on the dev split with holdout20 in it, the pruned form the region criterion chose (5 % of the weights) flagged 9.4 %
 * of dev's shoppers at 99 % recall of sensitive conversations, the same model unpruned 7.3 %. The region criterion
 * preferred the pruned form only through its 100 % recall point, which hangs on the one lowest-scoring sensitive
 * conversation of the region (see SAFETY_REGION_RECALLS); the gates chosen on dev by scripts/tune-promotion-gates.ts
 * let through 14 sensitive promotions with the unpruned model, and with the pruned one no setting met the constraints.
 */
const SAFETY_KEEPS = argList('safety-keeps', [1]);

type Candidate = { asset: ClassifierAsset; dev: number[]; quality: number; note: string; setting: Setting };

/** |w| at which `keep` of the non-zero weights survive. */
function pruneLevel(dense: Float64Array, keep: number): number {
  const mags = [...dense].filter((w) => w !== 0).map(Math.abs).sort((a, b) => b - a);
  return keep >= 1 || mags.length === 0 ? 0 : mags[Math.max(0, Math.floor(mags.length * keep) - 1)];
}

/**
 * Trains every setting, scores the embedded (pruned, quantized) form on dev, and keeps the smallest asset
 * whose dev quality is within `tolerance` of the best one. `quality` is higher-is-better.
 */
type Setting = { lambda: number; posWeight: number; features: FeatureMode; generatedWeight: number; shoppingWeight?: number; otherWeight?: number; hardWeight?: number; vectorScale: number };

/** The task as one setting of the grid trains it: the setting's weights, and the word-vector inputs its features have. */
function taskFor(task: Task, s: Setting): Task {
  const denseLen = vectors ? denseBlocks(s.features) * vectors.dims : 0;
  return { ...task, posWeight: s.posWeight, generatedWeight: s.generatedWeight, shoppingWeight: s.shoppingWeight, otherWeight: s.otherWeight, hardWeight: s.hardWeight ?? task.hardWeight, denseLen, vectorScale: s.vectorScale };
}

function select(name: string, sets: Sets, task: Task, settings: Setting[], quality: (scores: number[]) => number, tolerance: number, trainedOn: Record<string, unknown>, keeps: readonly number[] = KEEP_FRACTIONS): Candidate {
  const all: Candidate[] = [];
  for (const s of settings) {
    const t0 = performance.now();
    const { dense, bias, vector } = train(sets[s.features].train, taskFor(task, s), s.lambda);
    const turnMaxes = s.features === 'pooled' && task.turnMaxChoices ? task.turnMaxChoices : [false];
    for (const keep of keeps)
      for (const turnMax of turnMaxes) {
        const withVectors = s.vectorScale > 0 && vectors ? { weights: vector, vectors } : undefined;
        const asset = encodeClassifier(name, s.features, dense, bias, pruneLevel(dense, keep), 0.5, { ...trainedOn, ...s, keepFraction: keep }, withVectors);
        if (turnMax) asset.turnMax = true;
        if (task.drop?.length && s.features === 'pooled') asset.drop = task.drop;
        const dev = scoresOf(loadClassifier(asset, vectors), sets[s.features].dev);
        all.push({ asset, dev, quality: quality(dev), note: `${JSON.stringify(s)} keep=${keep} turnMax=${turnMax} weights=${asset.count}`, setting: s });
      }
    const mine = all.slice(-keeps.length * turnMaxes.length);
    console.log(`  ${name} ${JSON.stringify(s)}: trained in ${(performance.now() - t0).toFixed(0)} ms, dev quality ${mine.map((c) => c.quality.toFixed(4)).join(' / ')}`);
  }
  const best = Math.max(...all.map((c) => c.quality));
  const ok = all.filter((c) => c.quality >= best - tolerance).sort((a, b) => a.asset.count - b.asset.count || b.quality - a.quality);
  console.log(`  ${name}: best dev quality ${best.toFixed(4)}; chosen ${ok[0].note} (quality ${ok[0].quality.toFixed(4)})`);
  return ok[0];
}

function printIntent(label: string, r: IntentReport) {
  console.log(`${label} intent @ ${r.threshold}: precision ${pct(r.precision)}, recall ${pct(r.recall)}, F1 ${pct(r.f1)}, pass rate on "none" ${pct(r.fprNone)}, on "sensitive" ${pct(r.fprSensitive)}, AP ${r.ap.toFixed(3)}`);
}

function printSafety(label: string, r: SafetyReport, lexiconOnly: SafetyReport) {
  console.log(`${label} safety @ ${r.threshold}: sensitive caught by lexicon OR model ${pct(r.recallCombined)} (lexicon alone ${pct(lexiconOnly.recallCombined)}), by the model alone ${pct(r.recallModel)}; ` +
    `lexicon-free sensitive caught ${pct(r.recallLexiconFree)} of ${r.lexiconFreeCount}; non-sensitive flagged ${pct(r.fpr)} (lexicon alone ${pct(lexiconOnly.fpr)}), shopping flagged ${pct(r.fprShopping)}; AP ${r.ap.toFixed(3)}`);
}

function counts(items: Item[]): string {
  const by: Record<string, number> = {};
  for (const i of items) by[i.kind] = (by[i.kind] ?? 0) + 1;
  return Object.entries(by).map(([k, n]) => `${k} ${n}`).join(', ');
}

function timing(models: Record<'intent' | 'safety', ReturnType<typeof loadClassifier>>) {
  const sentence = 'We are a small team moving off spreadsheets, and I keep losing track of who owns which task before a deadline. ';
  const turns = [sentence.repeat(8), sentence.repeat(5), sentence.repeat(4)]; // about 2 KB of user text
  const chars = turns.join('').length;
  const times: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const t0 = performance.now();
    classifyConversation(models, turns[0], turns.slice(1));
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => (times[Math.floor(times.length * p)] * 1000).toFixed(1);
  console.log(`inference, both models, ${chars} chars of user text: p50 ${q(0.5)} us, p99 ${q(0.99)} us`);
}

/** Final report only: the written assets on the held-out splits (holdout2: fresh; holdout and test: previously looked at). */
function evaluateTest() {
  for (const split of ['holdout2', 'holdout', 'test']) {
    const items = readSplit(split);
    if (items.length === 0) continue;
    const test = featurize(items, 'turns', vectors);
    const testPooled = featurize(items, 'pooled', vectors);
    const testOf = (a: ClassifierAsset) => (a.features === 'pooled' ? testPooled : test);
    const intent = JSON.parse(readFileSync(join(MODELS, 'intent.json'), 'utf8')) as ClassifierAsset;
    const safety = JSON.parse(readFileSync(join(MODELS, 'safety.json'), 'utf8')) as ClassifierAsset;
    const label = split.toUpperCase();
    console.log(`${label} split (final report only${split !== 'holdout2' ? ', previously looked at' : ''}): ${counts(items)}`);
    printIntent(label, intentReport(scoresOf(loadClassifier(intent, vectors), testOf(intent)), test, intent.devThreshold));
    printSafety(label, safetyReport(scoresOf(loadClassifier(safety, vectors), testOf(safety)), test, safety.devThreshold), safetyReport(test.map(() => 0), test, 2));
  }
}

function listErrors(devSet: Example[], intent: Candidate, safety: Candidate) {
  const show = (e: Example, p: number) => console.log(`  ${p.toFixed(2)} ${e.item.kind}/${e.item.topic} ${e.item.id}: ${userContext(e.item.messages).current.slice(0, 140)}`);
  console.log('intent errors (dev):');
  devSet.forEach((e, i) => {
    const yes = intent.dev[i] >= intent.asset.devThreshold;
    if ((e.item.kind === 'shopping') !== yes) show(e, intent.dev[i]);
  });
  console.log('safety errors (dev, lexicon OR model):');
  devSet.forEach((e, i) => {
    const yes = e.lexicon || safety.dev[i] >= safety.asset.devThreshold;
    if ((e.item.kind === 'sensitive') !== yes) show(e, safety.dev[i]);
  });
}

/**
 * --aside-dev: the chosen models on dev as written and on dev with one aside in each latest user turn (dev's own
 * statements without shopping intent, so no sentence of train), at the chosen thresholds: what a remark around the
 * request costs (intent recall on shopping, safety flags on shopping, pass rate on "none", sensitive caught). Dev as
 * written is read from the scores model selection already has (`devSet` in the order of `intent.dev` and `safety.dev`).
 */
function asideReport(devSet: Example[], devItems: Item[], intent: Candidate, safety: Candidate, models: Record<'intent' | 'safety', ReturnType<typeof loadClassifier>>, safetyDrop: ReadonlySet<number> | null) {
  const intentT = intent.asset.devThreshold, safetyT = safety.asset.devThreshold;
  const measure = (examples: Example[], si: number[], ss: number[]) => {
    const rate = (kind: string, yes: (i: number) => boolean) => {
      const idx = examples.map((e, i) => (e.item.kind === kind ? i : -1)).filter((i) => i >= 0);
      return pct(idx.filter(yes).length / Math.max(1, idx.length));
    };
    const flagged = (i: number) => examples[i].lexicon || ss[i] >= safetyT;
    return `intent recall ${rate('shopping', (i) => si[i] >= intentT)}, shopping flagged by safety ${rate('shopping', flagged)}, shopping through both ${rate('shopping', (i) => si[i] >= intentT && !flagged(i))}, "none" passing intent ${rate('none', (i) => si[i] >= intentT)}, sensitive caught ${rate('sensitive', flagged)}`;
  };
  const written = devSet.flatMap((e, i) => (isGenerated(e) ? [] : [i]));
  console.log(`DEV hand-written (${written.length}) as written: ${measure(written.map((i) => devSet[i]), written.map((i) => intent.dev[i]), written.map((i) => safety.dev[i]))}`);
  const withAside = withAsides(devItems, asidePool(devItems));
  const turns = featurize(withAside, 'turns', vectors);
  const pooled = featurize(withAside, 'pooled', vectors, safetyDrop);
  const scored = (m: ReturnType<typeof loadClassifier>) => scoresOf(m, m.features === 'pooled' ? pooled : turns);
  console.log(`DEV hand-written with an aside from dev: ${measure(turns, scored(models.intent), scored(models.safety))}`);
}

const INTENT_TOLERANCE = Number(argValue('intent-tolerance', '0.005'));
/** Word-vector feature scales tried (0: none); see train(). */
const VECTOR_SCALES = argValue('vector-scales', '0.5,1').split(',').map(Number);
/** The safety model's own scales (default: the same as the intent model's); 0 trains it without word vectors. */
const SAFETY_VECTOR_SCALES = argList('safety-vector-scales', VECTOR_SCALES);
const vectors = readVectors();

/**
 * --safety-cascade=0.01,0.02 (comparison only, writes nothing): a second safety model trained only where the first one
 * scores at least the cutoff, as a cascade (flagged = lexicon OR (first >= cutoff AND second >= t)). Its training rows
 * are the train conversations the lexicon misses whose first-stage score, out of fold (CASCADE_FOLDS author folds with
 * the chosen setting), reaches the cutoff, so it learns the confusable region: sensitive conversations that look like
 * ordinary requests against shoppers that mention family, pets or hard times. Prints the dev shoppers flagged at 95,
 * 97 and 99 % recall of the dev sensitive conversations, first stage alone and cascaded. Measured once (the shipped
 * command's setting, 149-author dev after holdout58 was folded): alone 2.4 / 4.4 / 11.6 %; cascaded at cutoff 0.01
 * and L2 1e-6, 2.2 / 4.0 / 10.8 % (cutoff 0.02: 2.2 / 3.9 / 11.4 %; L2 1e-5 worse; cutoff 0.04 cannot reach 99 %).
 * A gain under one point at the operating recall: not built into the models.
 */
const CASCADE_CUTOFFS = argList('safety-cascade', []);
const CASCADE_LAMBDAS = argList('safety-cascade-lambdas', [1e-6, 1e-5]);
const CASCADE_FOLDS = 3;

/** A model `train` returned, in the form `scoreFeatures` takes (word-vector weights only when setting `s` uses them). */
function scorable(m: { dense: Float64Array; bias: number; vector: Float64Array }, s: Setting, turnMax: boolean) {
  return { weights: m.dense, bias: m.bias, turnMax, dense: s.vectorScale > 0 && vectors ? m.vector : undefined };
}

/**
 * Safety scores of the train examples, each from a model trained on the other author folds (CASCADE_FOLDS); `turnMax`
 * scores as a turnMax model does; `label` names the progress lines.
 */
function outOfFoldScores(trainEx: Example[], t: Task, s: Setting, turnMax = false, label = 'out-of-fold safety scores'): Float64Array {
  const foldOf = (e: Example) => {
    const a = authorOf(e.item);
    return hashOf(a === 'd4' || a === 'fx' ? e.item.id.split('#')[0] : a) % CASCADE_FOLDS;
  };
  const oof = new Float64Array(trainEx.length);
  for (let k = 0; k < CASCADE_FOLDS; k++) {
    const t0 = performance.now();
    const model = scorable(train(trainEx.filter((e) => foldOf(e) !== k), t, s.lambda), s, turnMax);
    trainEx.forEach((e, i) => { if (foldOf(e) === k) oof[i] = scoreFeatures(model, bufferOf(e)); });
    console.log(`  ${label}: fold ${k + 1}/${CASCADE_FOLDS} trained in ${(performance.now() - t0).toFixed(0)} ms`);
  }
  return oof;
}

/** See CASCADE_CUTOFFS. */
function cascadeReport(trainEx: Example[], devEx: Example[], devSet: Example[], task: Task, chosen: Candidate) {
  const s = chosen.setting;
  const turnMax = chosen.asset.turnMax === true;
  const t = taskFor(task, s);
  const oof = outOfFoldScores(trainEx, t, s, turnMax, 'cascade');
  const recalls = [0.95, 0.97, 0.99];
  const row = (scores: number[]) => recalls.map((r) => { const x = safetyReport(scores, devSet, safetyThresholdAt(scores, devSet, r)); return `${pct(r)}: t ${x.threshold} shop ${pct(x.fprShopping)} all ${pct(x.fpr)}`; }).join('; ');
  console.log(`  cascade: stage 1 alone: ${row(chosen.dev)}`);
  for (const c of CASCADE_CUTOFFS) {
    const region = trainEx.filter((e, i) => oof[i] >= c && !e.lexicon);
    const by = (k: string, y: 0 | 1 | null) => region.filter((e) => e.item.kind === k && t.label(e) === y).length;
    console.log(`  cascade: cutoff ${c}: stage-2 train ${region.length} (sensitive ${by('sensitive', 1)}, shopping ${by('shopping', 0)}, none ${by('none', 0)})`);
    for (const lambda of CASCADE_LAMBDAS) {
      const model2 = scorable(train(region, t, lambda), s, turnMax);
      const combined = devEx.map((e, i) => (chosen.dev[i] >= c ? 0.001 + 0.998 * scoreFeatures(model2, bufferOf(e)) : 0));
      console.log(`  cascade: cutoff ${c} lambda ${lambda}: ${row(combined)}`);
    }
  }
}

function main() {
  if (args.has('--test')) return evaluateTest();
  const trainItems = readSplit('train');
  const devItems = readSplit('dev');
  console.log(`train: ${counts(trainItems)}; dev: ${counts(devItems)}`);
  const turnNegatives = args.has('--no-turn-negatives') ? [] : turnsAsNegatives(trainItems);
  if (turnNegatives.length) console.log(`safety: ${turnNegatives.length} single turns of multi-turn conversations without a sensitive context added as negatives (pooled train only)`);
  const otherNegatives = SAFETY_OTHER_WEIGHTS.some((w) => w > 0) ? forSomeoneElse(trainItems) : [];
  if (otherNegatives.length) console.log(`safety: ${otherNegatives.length} hand-written shopping conversations copied in the third person about someone else, as negatives (pooled train only; weights tried ${SAFETY_OTHER_WEIGHTS.join(', ')})`);
  const safetyDrop = SAFETY_DROP.length ? dropSet(SAFETY_DROP) : null;
  if (safetyDrop) console.log(`safety: sparse features leave out ${SAFETY_DROP.length} words (${SAFETY_DROP_NAMES.join(', ')})`);
  const asides = ASIDE_WEIGHT > 0 ? withAsides(trainItems, asidePool(trainItems)) : [];
  if (asides.length) console.log(`${ASIDE_MODELS === 'both' ? 'both models' : 'intent'}: ${asides.length} hand-written train conversations copied with an aside in the latest user turn, weight ${ASIDE_WEIGHT}`);
  const sets: Sets = {
    turns: { train: featurize([...trainItems, ...asides], 'turns', vectors), dev: featurize(devItems, 'turns', vectors) },
    pooled: { train: featurize([...trainItems, ...(ASIDE_MODELS === 'both' ? asides : []), ...turnNegatives, ...otherNegatives], 'pooled', vectors, safetyDrop), dev: featurize(devItems, 'pooled', vectors, safetyDrop) },
  };
  if (vectors) console.log(`word vectors: ${vectors.count} words x ${vectors.dims}, id ${vectors.id}; scales tried ${VECTOR_SCALES.join(', ')} (safety: ${SAFETY_VECTOR_SCALES.join(', ')})`);
  const devSet = sets.turns.dev; // same items, same order in both modes: labels and lexicon flags
  const trainedOn = { train: counts(trainItems), dev: counts(devItems), files: [...new Set(trainItems.map((i) => i.source))].sort() };

  // Intent: sensitive conversations are left out by default. The safety gate answers for them, and many hold a
  // genuine need ("where can I get tents and blankets tonight" after a wildfire): as negatives they teach the
  // model that a need is not a need. Dev, at the same 4.9 % pass rate on "none": shopping recall 89.6 % without
  // them, 83.2 % with them (which lets 8 % of sensitive conversations through instead of 44 %: the safety gate's
  // job). --intent-sensitive=negative trains with them for comparison.
  const sensitiveNegative = args.has('--intent-sensitive=negative');
  const intentTask: Task = { name: 'intent', label: (e) => (e.item.kind === 'shopping' ? 1 : e.item.kind === 'none' || sensitiveNegative ? 0 : null), posWeight: 1 };
  const intentQuality = (s: number[]) => intentReport(s, devSet, 0.5).ap;
  // Intent is not pruned: the pruned model (5 % of the weights, AP within 0.005) cost the whole chain 2.5 points of
  // mean Hit@5 on dev (scripts/tune-promotion-gates.ts: 0.499 -> 0.524 unpruned), mostly on bare product queries.
  const intent = select('intent', sets, intentTask, VECTOR_SCALES.flatMap((vectorScale) => GENERATED_WEIGHTS.flatMap((generatedWeight) => LAMBDAS.map((lambda) => ({ lambda, posWeight: 1, features: 'turns' as const, generatedWeight, vectorScale })))), intentQuality, INTENT_TOLERANCE, { ...trainedOn, sensitiveAsNegatives: sensitiveNegative }, [1]);
  intent.asset.devThreshold = intentThresholdAt(intent.dev, devSet, INTENT_MAX_NONE_PASS);

  // Safety: sensitive vs everything else, and a sensitive conversation weighs 1 + hardWeight (SAFETY_HARD_WEIGHTS) x
  // its intent score. The chain only leaks sensitive conversations that also look like shopping ("what blade is the sharpest,
  // it's for me"), so those are the ones the safety model must not miss. The intent model never trains on sensitive
  // items, so these scores are out of sample. Dev, whole chain at zero leaks: mean Hit@5 0.577 -> 0.598 with 3
  // (6 and 10: 0.588).
  const intentModel = loadClassifier(intent.asset, vectors);
  const intentOf = new Map(sets.turns.train.map((e) => [e.item.id, scoreFeatures(intentModel, bufferOf(e))]));
  const safetyTask: Task = { name: 'safety', drop: SAFETY_DROP, turnMaxChoices: [false, true], label: (e) => (SAFETY_LEAVE_OUT.has(authorOf(e.item)) ? null : e.item.kind === 'sensitive' ? 1 : 0), posWeight: 1, intentOf };
  // Quality: the share of dev shopping conversations NOT flagged, averaged over the 95, 97 and 99 % recall
  // thresholds (99 % alone hangs on one or two dev conversations; the average still rewards the hard tail). Only a
  // flagged shopping conversation costs a promotion: a flagged no-intent one would have been stopped by the intent
  // gate anyway. Shopping negatives weigh SAFETY_SHOPPING_WEIGHTS in training for the same reason. Dev, with the
  // same train data, chain tuned by scripts/tune-promotion-gates.ts: mean Hit@5 0.643 -> 0.670, mean fill 0.691 ->
  // 0.718 (quality over all non-sensitive conversations and every negative at weight 1 before).
  // --safety-quality=all restores the old criterion for comparison. Now the default is --safety-quality=region,
  // which asks the same within the region where the chain can actually leak or lose (see SAFETY_QUALITY).
  const flaggedRate = (r: SafetyReport) => (SAFETY_QUALITY === 'all' ? r.fpr : r.fprShopping);
  const overallQuality = (s: number[]) => [0.95, 0.97, 0.99].reduce((a, r) => a + 1 - flaggedRate(safetyReport(s, devSet, safetyThresholdAt(s, devSet, r))), 0) / 3;
  // --safety-quality=region: the same, within the region the intent gate can pass (SAFETY_REGION_INTENT) and at the
  // SAFETY_REGION_RECALLS of that region's sensitive conversations: the shoppers kept when (nearly) every sensitive
  // conversation that looks like shopping is caught.
  const inRegion = intent.dev.map((p) => p >= SAFETY_REGION_INTENT);
  const regionSet = devSet.filter((_, i) => inRegion[i]);
  const regionQuality = (s: number[]) => {
    const rs = s.filter((_, i) => inRegion[i]);
    return SAFETY_REGION_RECALLS.reduce((a, r) => a + 1 - safetyReport(rs, regionSet, safetyThresholdAt(rs, regionSet, r)).fprShopping, 0) / SAFETY_REGION_RECALLS.length;
  };
  const safetyQuality = SAFETY_QUALITY === 'region' ? regionQuality : overallQuality;
  console.log(`safety quality: ${SAFETY_QUALITY}${SAFETY_QUALITY === 'region' ? ` (dev region: ${regionSet.filter((e) => e.item.kind === 'sensitive').length} sensitive, ${regionSet.filter((e) => e.item.kind === 'shopping').length} shopping)` : ''}`);
  // Turn features: as for intent, or all turns pooled at full weight (a crisis told earlier counts as much).
  const settings = SAFETY_VECTOR_SCALES.flatMap((vectorScale) => SAFETY_FEATURES.flatMap((features) => SAFETY_GENERATED_WEIGHTS.flatMap((generatedWeight) => SAFETY_LAMBDAS.flatMap((lambda) => SAFETY_POS_WEIGHTS.flatMap((posWeight) => SAFETY_SHOPPING_WEIGHTS.flatMap((shoppingWeight) => SAFETY_OTHER_WEIGHTS.flatMap((otherWeight) => SAFETY_HARD_WEIGHTS.map((hardWeight) => ({ lambda, posWeight, features, generatedWeight, shoppingWeight, otherWeight, hardWeight, vectorScale })))))))));
  const safetyTrainedOn: Record<string, unknown> = SAFETY_LEAVE_OUT.size ? { ...trainedOn, leftOut: [...SAFETY_LEAVE_OUT].sort() } : { ...trainedOn };
  if (SAFETY_WEIGHTED_AUTHORS.size && SAFETY_AUTHOR_WEIGHT !== 1) safetyTrainedOn.weightedAuthors = { authors: [...SAFETY_WEIGHTED_AUTHORS].sort(), weight: SAFETY_AUTHOR_WEIGHT };
  if (SAFETY_HARD_SHOPPING > 0) {
    const oof = outOfFoldScores(sets.pooled.train, taskFor(safetyTask, settings[0]), settings[0]);
    safetyTask.shoppingHard = SAFETY_HARD_SHOPPING;
    safetyTask.shoppingHardOf = new Map(sets.pooled.train.map((e, i) => [e.item.id, oof[i]]));
    const shoppers = sets.pooled.train.map((e, i) => (e.item.kind === 'shopping' ? oof[i] : -1)).filter((x) => x >= 0);
    console.log(`safety: hard shoppers x${SAFETY_HARD_SHOPPING}: ${shoppers.length} train shoppers, out-of-fold score >= 0.02 for ${shoppers.filter((x) => x >= 0.02).length}, >= 0.1 for ${shoppers.filter((x) => x >= 0.1).length}`);
    safetyTrainedOn.hardShopping = SAFETY_HARD_SHOPPING;
  }
  const safety = select('safety', sets, safetyTask, settings, safetyQuality, 0.003, safetyTrainedOn, SAFETY_KEEPS);
  safety.asset.devThreshold = chooseSafetyThreshold(safety.dev, devSet);
  if (CASCADE_CUTOFFS.length) cascadeReport(sets.pooled.train, sets.pooled.dev, devSet, safetyTask, safety);

  console.log('');
  printIntent('DEV', intentReport(intent.dev, devSet, intent.asset.devThreshold));
  printIntentCurve(intent.dev, devSet);
  printSafety('DEV', safetyReport(safety.dev, devSet, safety.asset.devThreshold), safetyReport(devSet.map(() => 0), devSet, 2));
  printSafetyCurve(safety.dev, devSet);
  if (args.has('--errors')) listErrors(devSet, intent, safety);
  const models = { intent: loadClassifier(intent.asset, vectors), safety: loadClassifier(safety.asset, vectors) };
  if (args.has('--aside-dev')) asideReport(devSet, devItems, intent, safety, models, safetyDrop);
  timing(models);
  if (args.has('--no-write')) return;
  for (const c of [intent, safety]) {
    const file = join(argValue('out', MODELS), `${c.asset.name}.json`);
    writeFileSync(file, JSON.stringify(c.asset) + '\n');
    console.log(`wrote ${file}: ${c.asset.count} weights, ${(readFileSync(file).length / 1024).toFixed(0)} KiB, threshold ${c.asset.devThreshold}`);
  }
}

main();
