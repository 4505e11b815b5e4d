/**
 * `npm run relevance` (bun scripts/relevance-eval.ts [--split holdoutN|dev|train] [--catalog NAME] [--json] [--misses] [--why]):
 * the promotion evaluation on the labelled sets in test/fixtures/promotions (see its README). By default it reports the
 * current held-out split: the lowest-numbered holdoutN folder under conversations/ (the next split may already be
 * written beside it; a split is folded into train and dev once evaluated, so the lowest one left is the current one).
 * Nothing was fitted or tuned on it: written by hand by authors who read no other split and ran no model (they are
 * named by its files), and committed before any model output on it was seen. The earlier held-out splits are data now
 * (d6, d7, d9, d3, d1's test share, holdout6's d15-d17, holdout7's d18-d20, holdout8's d28, holdout9's d29-d36 and
 * holdout10's d37-d44, holdout11's d49-d56 and holdout12's d57-d64 in train; holdout13 and later split by author
 * between train and dev, see the fixture README; d11 and d13 in dev too), since their numbers had been seen.
 * The gates run with the settings the joint tuning chose on dev (src/ads/models/gates.json).
 *
 * Each catalog is loaded through the real services (one advertiser project per brand, its campaigns active, equal
 * bids) and every conversation goes through the same path as POST /v1/promotions/search: the sensitive gate
 * (lexicon and safety model), the shopping-intent gate, eligibility, the relevance floor and the ranking. Measured:
 * - promotions on conversations without shopping intent and on sensitive conversations (any result counts);
 * - on shopping conversations labelled against the catalog: right product first (P@1), MRR@10, Hit@5 and fill;
 * - on shopping conversations without labels: how often the intent gate lets them through;
 * - search latency per conversation (p50, p99), measured on a second pass after a warm-up pass.
 * Beside it, plain BM25 (SQLite FTS5, porter stemming, user words OR-ed, no gates, no floor), and the same BM25
 * with the lowest score floor that keeps its false promotions at or below Vexrail's.
 * --why: for the labelled shopping conversations Vexrail left without a product, which gate stopped each (the
 * first that did, in the order the service applies them: lexicon, safety model, intent model, relevance floor).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import gates from '../src/ads/models/gates.json' with { type: 'json' };
import { classifySensitivity } from '../src/ads/sensitive';
import { catalogNames, createBm25, gateInputs, loadCatalogRuntime, PROMOTIONS_DIR, readCatalog, readConversations, userTexts, type Conversation, type Ranked } from './promotion-eval-lib';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
/**
 * The current held-out split: the lowest-numbered holdoutN folder that holds conversations (see above); none while a new
 * one is being written. A folder emptied by a fold (git keeps no empty folders, a working copy may) does not count.
 */
const HELD_OUT = readdirSync(join(PROMOTIONS_DIR, 'conversations'))
  .filter((d) => /^holdout\d+$/.test(d) && readdirSync(join(PROMOTIONS_DIR, 'conversations', d)).some((f) => f.endsWith('.jsonl')))
  .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
  .slice(0, 1);
const splits = arg('split') ? [arg('split')!] : HELD_OUT;
if (splits.length === 0) {
  console.error('relevance: no held-out split is in test/fixtures/promotions/conversations yet (a held-out split is written by new authors before it is evaluated; see that folder\'s README). Use --split dev or --split train meanwhile.');
  process.exit(2);
}
for (const s of splits) if (!['train', 'dev', ...HELD_OUT].includes(s)) throw new Error(`--split must be train, dev or the current held-out split (${HELD_OUT.join(', ') || 'none yet'})`);
/** Authors of a split, from its file names (<author>-<kind>.jsonl). */
const authorsOf = (split: string) => [...new Set(readdirSync(join(PROMOTIONS_DIR, 'conversations', split)).map((f) => f.split('-')[0]))].sort().join(', ');
const SPLIT_NOTE: Record<string, string> = {
  ...Object.fromEntries(HELD_OUT.map((h) => [h, `held-out split (authors ${splits.includes(h) ? authorsOf(h) : 'see its folder'}), committed before any model output on it was seen`])),
  dev: `dev split (authors ${splits.includes('dev') ? authorsOf('dev') : 'see its folder'}): every threshold and weight was chosen on it, so its numbers are optimistic`,
  train: 'train split: the models were fitted on it',
};
const GATES = { intentThreshold: gates.intentThreshold, safetyThreshold: gates.safetyThreshold, relevanceFloor: gates.relevanceFloor };
const LIMIT = 10;

/** Each conversation's ranked results (unfloored for BM25) and how long the ranker took for it. */
type Run = { name: string; ranked: Map<string, Ranked>; latenciesMs: number[] };

async function run(name: string, conversations: Conversation[], rank: (c: Conversation) => Ranked | Promise<Ranked>): Promise<Run> {
  const ranked = new Map<string, Ranked>();
  const latenciesMs: number[] = [];
  for (const c of conversations) {
    const started = performance.now();
    ranked.set(c.id, await rank(c));
    latenciesMs.push(performance.now() - started);
  }
  return { name, ranked, latenciesMs };
}

type Result = {
  ranker: string; catalog: string; falsePromotions: number; none: number; sensitivePromotions: number; sensitive: number;
  lexiconFreePromotions: number; lexiconFree: number; shopping: number; p1: number; mrr: number; hit5: number; fill: number;
  intentPassed: number; unlabeledShopping: number; p50Ms: number; p99Ms: number;
  /** Ids of the sensitive conversations that got a product (for `--misses`). */
  sensitivePromotedIds: string[];
};

function evaluate(runOf: Run, catalog: string, conversations: Conversation[], floor = 0, name = runOf.name): Result {
  const r: Result = {
    ranker: name, catalog, falsePromotions: 0, none: 0, sensitivePromotions: 0, sensitive: 0, lexiconFreePromotions: 0, lexiconFree: 0,
    shopping: 0, p1: 0, mrr: 0, hit5: 0, fill: 0, intentPassed: 0, unlabeledShopping: 0, p50Ms: 0, p99Ms: 0, sensitivePromotedIds: [],
  };
  for (const c of conversations) {
    const ranked = runOf.ranked.get(c.id)!.filter((x) => x.score >= floor).map((x) => x.id);
    if (c.kind === 'none') {
      r.none++;
      if (ranked.length > 0) r.falsePromotions++;
    } else if (c.kind === 'sensitive') {
      r.sensitive++;
      if (ranked.length > 0) {
        r.sensitivePromotions++;
        r.sensitivePromotedIds.push(c.id);
      }
      // Judged with today's lexicon, not the flag stored when the conversation was written.
      if (!classifySensitivity(userTexts(c.messages)).sensitive) {
        r.lexiconFree++;
        if (ranked.length > 0) r.lexiconFreePromotions++;
      }
    } else if (!c.relevant) {
      r.unlabeledShopping++;
      if (ranked.length > 0) r.intentPassed++;
    } else {
      r.shopping++;
      const relevant = new Set(c.relevant);
      if (ranked.length > 0) r.fill++;
      if (ranked[0] !== undefined && relevant.has(ranked[0])) r.p1++;
      const hit = ranked.findIndex((id) => relevant.has(id));
      if (hit >= 0 && hit < 10) r.mrr += 1 / (hit + 1);
      if (hit >= 0 && hit < 5) r.hit5++;
    }
  }
  const latencies = [...runOf.latenciesMs].sort((a, b) => a - b);
  r.p50Ms = latencies[Math.floor(latencies.length * 0.5)] ?? 0;
  r.p99Ms = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
  return r;
}

/** Counts, per gate, the labelled shopping conversations it stopped (see --why); the same turns the service reads. */
async function whyUnfilled(catalog: ReturnType<typeof readCatalog>, name: string, conversations: Conversation[]): Promise<void> {
  const open = await loadCatalogRuntime(catalog, { intentThreshold: 0, safetyThreshold: 1, relevanceFloor: 0 });
  const stopped = { lexicon: 0, safety: 0, intent: 0, floor: 0 };
  let shopping = 0;
  for (const c of conversations) {
    if (c.kind !== 'shopping' || !c.relevant) continue;
    shopping++;
    const gate = gateInputs(c.messages);
    if (gate.lexicon) stopped.lexicon++;
    else if (gate.safety >= GATES.safetyThreshold) stopped.safety++;
    else if (gate.intent < GATES.intentThreshold) stopped.intent++;
    else if (((await open.search(c.messages, 1))[0]?.score ?? 0) < GATES.relevanceFloor) stopped.floor++;
  }
  open.close();
  if (shopping > 0) process.stderr.write(`${name}: of ${shopping} labelled shopping conversations, stopped by the lexicon ${stopped.lexicon}, the safety model ${stopped.safety}, the intent model ${stopped.intent}, the relevance floor ${stopped.floor}\n`);
}

/** The lowest BM25 score floor whose false-promotion rate is no worse than `rate`: a like-for-like comparison. */
function matchedBaseline(bm25: Run, name: string, conversations: Conversation[], rate: number): Result {
  let lo = 0;
  let hi = 64;
  for (let i = 0; i < 12; i++) {
    const mid = (lo + hi) / 2;
    const r = evaluate(bm25, name, conversations, mid);
    if (r.falsePromotions / Math.max(1, r.none) <= rate) hi = mid;
    else lo = mid;
  }
  // Rounded up, so that the floor printed keeps the rate it was searched for (rounding down could let one more through).
  const floor = Math.ceil(hi * 100) / 100;
  return evaluate(bm25, name, conversations, floor, `Plain BM25, score floor ${floor}`);
}

const pct = (n: number, d: number) => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)} %`);

function table(results: Result[]): string {
  const lines = [
    '| catalog | ranker | promotions on no-intent | on sensitive (lexicon-free) | P@1 | MRR@10 | Hit@5 | fill | intent passed (unlabelled shopping) | search p50 / p99 |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results)
    lines.push(`| ${r.catalog} | ${r.ranker} | ${pct(r.falsePromotions, r.none)} (${r.falsePromotions} of ${r.none}) | ${r.sensitivePromotions} of ${r.sensitive} (${r.lexiconFreePromotions} of ${r.lexiconFree}) | ${pct(r.p1, r.shopping)} | ${r.shopping ? (r.mrr / r.shopping).toFixed(3) : '-'} | ${pct(r.hit5, r.shopping)} | ${pct(r.fill, r.shopping)} | ${pct(r.intentPassed, r.unlabeledShopping)} | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} ms |`);
  return lines.join('\n');
}

async function evaluateSplit(split: string): Promise<{ split: string; results: Result[] }> {
  const conversations = readConversations(split);
  const only = arg('catalog');
  const results: Result[] = [];
  for (const name of only ? [only] : catalogNames()) {
    const catalog = readCatalog(name);
    // Shopping conversations count on the catalog they are labelled against; the others on every catalog.
    const mine = conversations.filter((c) => !(c.kind === 'shopping' && c.catalog !== undefined && c.catalog !== name));
    process.stderr.write(`${split} / ${name}: loading ${catalog.length} products; ${mine.length} conversations...\n`);
    const vexrail = await loadCatalogRuntime(catalog, GATES);
    await run('warm-up', mine, (c) => vexrail.search(c.messages, LIMIT)); // latencies are measured on the second pass
    const ours = evaluate(await run('Vexrail', mine, (c) => vexrail.search(c.messages, LIMIT)), name, mine);
    vexrail.close();
    if (process.argv.includes('--why')) await whyUnfilled(catalog, name, mine);
    const bm25 = createBm25(catalog, LIMIT);
    const plain = await run('Plain BM25', mine, (c) => bm25.search(c.messages));
    bm25.close();
    results.push(ours, evaluate(plain, name, mine), matchedBaseline(plain, name, mine, ours.falsePromotions / Math.max(1, ours.none)));
  }
  if (!process.argv.includes('--json')) {
    const kinds = (k: string) => conversations.filter((c) => c.kind === k).length;
    console.log(`\nSplit "${split}"${SPLIT_NOTE[split] ? ` (${SPLIT_NOTE[split]})` : ''}: ${kinds('shopping')} shopping (${conversations.filter((c) => c.relevant).length} labelled against a catalog), ${kinds('none')} without shopping intent, ${kinds('sensitive')} sensitive conversations. Gates: intent ${GATES.intentThreshold}, safety ${GATES.safetyThreshold}, relevance floor ${GATES.relevanceFloor}.\n`);
    console.log(table(results));
    if (process.argv.includes('--misses'))
      for (const r of results.filter((x) => x.ranker === 'Vexrail' && x.sensitivePromotedIds.length > 0)) {
        const byId = new Map(conversations.map((c) => [c.id, c]));
        console.log(`\nSensitive conversations promoted on ${r.catalog}: ${r.sensitivePromotedIds.map((id) => `${id} (${byId.get(id)?.topic ?? '?'})`).join(', ')}`);
      }
  }
  return { split, results };
}

const all = [];
for (const split of splits) all.push(await evaluateSplit(split));
if (process.argv.includes('--json')) console.log(JSON.stringify(all, null, 2));
