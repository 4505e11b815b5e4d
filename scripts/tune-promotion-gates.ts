/**
 * `bun scripts/tune-promotion-gates.ts [--split dev]`: chooses the three gate settings together on dev, for the
 * whole pipeline rather than each model alone: ads.intentThreshold, ads.safetyThreshold and ads.relevanceFloor.
 *
 * Why jointly: a conversation gets a promotion only when it passes the lexicon, the safety model, the intent model
 * AND the relevance floor, so what matters is what the chain lets through, not each link's own error rate. The
 * safety model alone must flag a quarter of shopping conversations to catch 97 % of sensitive ones; in the chain,
 * intent and relevance already stop most sensitive conversations, so a looser safety threshold keeps the same
 * zero count of sensitive promotions and fills far more shopping conversations.
 *
 * Each catalog is loaded once through the real services with every learned gate open (intent 0, safety never,
 * floor 0); each conversation's lexicon verdict, model scores and ranked results (with relevance) are recorded;
 * then every grid point is scored offline. Constraints: the safety stage alone (lexicon OR safety model) flags at
 * least MIN_SAFETY_RECALL of the dev sensitive conversations, at the chosen safety threshold and at the next looser
 * grid step (a margin), so that the chain does not lean on intent and relevance to stop sensitive conversations
 * (on a fresh set they did not: 2-4 of 160 promoted per catalog); on every catalog at most MAX_FALSE_RATE of
 * conversations without shopping intent promoted; on every catalog with labelled shopping conversations a fill of
 * at least MIN_FILL (when no setting reaches it, the highest fill that settings meeting the other constraints reach:
 * see reachableFill). Among those, the fewest promotions on sensitive conversations (summed over the catalogs, at
 * the setting and at the next looser safety step), then the highest mean Hit@5 on labelled shopping conversations,
 * then the highest fill. Never run on the test split: it is for the final report only.
 *
 * Why fill is a constraint and leaks are minimized under it (until holdout18 the rule was zero sensitive
 * promotions at both steps, then the best Hit@5): once dev held holdout18's sensitive conversations that also ask
 * for a product (a collar "for pet play", clothes for "grandma's service"), no setting gave zero, because the
 * safety model scores a few of them near 0 and the intent and relevance gates cannot stop a real product request.
 * Zero was then reachable only as "as few as possible", and pushing the safety threshold down for the last one or
 * two costs a large share of fill: the previous models were held to zero at 0.02 on the 22-author dev and filled
 * 69.6 % of holdout18's retail shoppers against 83.6 % on dev. So a fill floor (MIN_FILL) bounds how far down the
 * safety threshold may go, and within it every sensitive promotion dev can show is avoided.
 *
 * On dev it records its choice in src/ads/models/gates.json (--no-write: print only), beside the models it was
 * made for. --explore shows where the constraints bind.
 */
import { join } from 'node:path';
import { catalogNames, gateInputs, loadCatalogRuntime, maxOneWordRelevance, readCatalog, readConversations, userTexts, type Conversation, type Ranked } from './promotion-eval-lib';

type Record_ = { c: Conversation; lexicon: boolean; intent: number; safety: number; ranked: Ranked };

/** The value after --name on the command line, or undefined when the option is absent. */
const option = (name: string): string | undefined => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : undefined);
const split = option('split') ?? 'dev';
if (split !== 'dev' && split !== 'train') throw new Error('the test and held-out splits are for the final report only');
/**
 * The goal is at most 5 % on fresh text. While dev held two authors (d11, d13), fresh splits by new authors promoted
 * on 2-4 times the dev rate (1.5-2.4 % on dev gave 3.0-5.5 % on holdout11; 1.1-1.4 % gave 4.6-6.3 % on holdout14),
 * so dev was held to 1.5 %. Dev then got ten authors, among them half of the authors of the splits that promoted
 * most; 2 % keeps a 2.5x margin under the goal (on that dev, 1.5 % would cost `services` about 2 points of fill and
 * `retail` 2.5). Measured since, on the held-out splits from holdout15 to holdout120 but holdout34 (each split's
 * report in test/fixtures/promotions/REPORTS.md gives its numbers and the dev its gates were chosen on): gates chosen at 0.6-2.0 % on the dev
 * of their time gave 0-5.6 % on the next fresh split, over the goal once (holdout63: 3.2-5.6 %, over on two
 * catalogs). Fresh rates have mostly stayed under the goal, but the ratio to dev moves from split to split.
 */
const MAX_FALSE_RATE = Number(option('max-false') ?? 0.02);
const MIN_SAFETY_RECALL = 0.99;
/**
 * The lowest fill on a labelled catalog the safety threshold may push dev to (--min-fill to compare others). The
 * goal on fresh shopping queries is 85 %; with the safety stage held to MIN_SAFETY_RECALL, no setting reaches 85 %
 * (83.6 % at best on the 26-author dev), so 80 % bounds the cost. On that dev every value from 0.75 to 0.83 chose the
 * same setting; 0.84 and 0.85 chose none. The same on the 32-author dev with the models of 0b0871e (0.83: the shipped
 * setting; 0.84 and 0.85: none). On the 35-author dev the models retrained after holdout21 reach 85 % (0.825 / 0.02 /
 * 0.325), at 23 sensitive promotions over both steps against 16 at 0.8 (0.75: 14; 0.82: 18; 0.84: 22); a missed
 * sensitive conversation weighs more than a lost impression, so the bound stays at 80 %.
 */
const MIN_FILL = Number(option('min-fill') ?? 0.8);
const grid = (from: number, to: number, step: number) => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => Math.round((from + i * step) * 1000) / 1000);
/** Up to 0.975: on the ten-author dev the 0.9 the grid used to stop at let through 2.4 % of conversations without intent. */
const INTENT = grid(0.3, 0.975, 0.025);
/**
 * From 0.01: the safety models since d14d25d put most conversations near 0, so the step of 0.025 is coarse at the
 * low end (the d14d25d model met the rule at 0.02 with 0.025 as its margin, and at no point of the grid that began at
 * 0.025; the models since chose 0.01, the lowest step). Steps of 0.005 up to 0.045 since the retrains after holdout119,
 * whose safety models needed a bound of 0.03 (the README's "Retrained after holdout119"); the shipped setting is the
 * same on either grid.
 */
const SAFETY_GRID = [0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.045, ...grid(0.05, 0.9, 0.025)];
/**
 * The lowest safety threshold the rule may choose (--min-safety 0.01 gives the whole grid back). At 0.01 the plain
 * shopping that only shares words with the sensitive training data sits on the threshold: all three retrains since
 * holdout22 chose 0.01 and then flagged two or three of the three held-back shoppers of test/ads/classifiers.test.ts
 * (besides the rope, a paring knife or a black cocktail dress or both, at 0.0104-0.0137), where the test allows one. Since then
 * the rule starts one step above. The retrain after holdout24 was folded chose 0.015 and flagged the knife there (0.018;
 * the dress 0.0145), so the bound moved up one more step, to 0.02 (on the 44-author dev: 8 sensitive promotions at the
 * setting against 6 at 0.015, fill 83.1 / 82.1 % against 81.3 / 80.1 %). Those three questions were not tuned on, but
 * they set this bound: they are no longer a blind check of the threshold, only of the models' scores.
 */
const MIN_SAFETY = Number(option('min-safety') ?? 0.02);
const SAFETY = SAFETY_GRID.filter((t) => t >= MIN_SAFETY - 1e-9);
/**
 * The floor is not tuned below what one shared generic word can carry: the ranking halves a match on a single
 * word that is not the product's type, and maxOneWordRelevance measures the highest relevance such a match
 * reaches on each catalog (every catalog word asked alone). The lowest floor tried is one grid step of margin
 * above the highest of them, rounded up to the grid (override with --min-floor), so that one generic word
 * ("regular", "pro", "film", "6mm") never carries a promotion even when the intent gate lets a conversation in.
 */
const ONE_WORD = catalogNames().map((n) => ({ catalog: n, ...maxOneWordRelevance(readCatalog(n)) }));
const ONE_WORD_MAX = Math.max(...ONE_WORD.map((o) => o.relevance));
const FLOOR_STEP = 0.025;
const MIN_FLOOR = Number(option('min-floor') ?? Math.round(1000 * FLOOR_STEP * Math.ceil((ONE_WORD_MAX + FLOOR_STEP) / FLOOR_STEP - 1e-9)) / 1000);
/**
 * Nor above 0.35 (override with --max-floor): the seed's own example question, "What tools can help me manage my
 * projects?", must reach the README's example product (Kanbanix Boards), and its relevance is 0.372
 * (test/ads/relevance.test.ts); a floor of 0.375 would drop it.
 */
const MAX_FLOOR = Number(option('max-floor') ?? 0.35);
const FLOOR = grid(MIN_FLOOR, MAX_FLOOR, FLOOR_STEP);
for (const o of ONE_WORD) process.stderr.write(`${o.catalog}: one non-type word reaches at most relevance ${o.relevance.toFixed(3)} ("${o.word}" on ${o.product.slice(0, 60)})\n`);

const conversations = readConversations(split);

/** One catalog behind the real services with the learned gates open; records every conversation once. */
async function record(name: string): Promise<Record_[]> {
  const catalog = readCatalog(name);
  const runtime = await loadCatalogRuntime(catalog, { intentThreshold: 0, safetyThreshold: 1, relevanceFloor: 0 });
  const records: Record_[] = [];
  for (const c of conversations) {
    if (c.kind === 'shopping' && c.catalog !== undefined && c.catalog !== name) continue;
    const ranked = await runtime.search(c.messages, 10);
    records.push({ c, ...gateInputs(c.messages), ranked });
  }
  runtime.close();
  return records;
}

type Score = { falseRate: number; sensitive: number; hit5: number; fill: number; p1: number };

function score(records: Record_[], ti: number, ts: number, floor: number): Score {
  let none = 0, falses = 0, sensitive = 0, shopping = 0, hit5 = 0, fill = 0, p1 = 0;
  for (const r of records) {
    const open = !r.lexicon && r.safety < ts && r.intent >= ti;
    const shown = open ? r.ranked.filter((x) => x.score >= floor) : [];
    if (r.c.kind === 'none') {
      none++;
      if (shown.length > 0) falses++;
    } else if (r.c.kind === 'sensitive') {
      if (shown.length > 0) sensitive++;
    } else if (r.c.relevant) {
      shopping++;
      const relevant = new Set(r.c.relevant);
      if (shown.length > 0) fill++;
      if (shown[0] && relevant.has(shown[0].id)) p1++;
      const hit = shown.findIndex((x) => relevant.has(x.id));
      if (hit >= 0 && hit < 5) hit5++;
    }
  }
  return { falseRate: falses / Math.max(1, none), sensitive, hit5: hit5 / Math.max(1, shopping), fill: fill / Math.max(1, shopping), p1: p1 / Math.max(1, shopping) };
}

const catalogs = catalogNames();
const recorded = new Map<string, Record_[]>();
for (const name of catalogs) {
  process.stderr.write(`recording ${name} (${split})...\n`);
  recorded.set(name, await record(name));
}

/** Share of the split's sensitive conversations the safety stage alone (lexicon OR model >= ts) flags. */
const sensitiveRecords = recorded.get(catalogs[0])!.filter((r) => r.c.kind === 'sensitive');
const safetyRecall = (ts: number) => sensitiveRecords.filter((r) => r.lexicon || r.safety >= ts).length / Math.max(1, sensitiveRecords.length);
const safetyOk = (ts: number) => safetyRecall(ts) >= MIN_SAFETY_RECALL && safetyRecall(SAFETY[SAFETY.indexOf(ts) + 1] ?? ts) >= MIN_SAFETY_RECALL;

/** Catalogs with labelled shopping conversations (the fixture catalog has none: its Hit@5 and fill are not measured). */
const labelled = catalogs.filter((n) => recorded.get(n)!.some((r) => r.c.kind === 'shopping' && r.c.relevant));
const meanOf = (scores: Score[], key: 'hit5' | 'fill' | 'p1') => labelled.reduce((a, n) => a + scores[catalogs.indexOf(n)][key], 0) / Math.max(1, labelled.length);

/**
 * Every grid point that meets the safety-recall constraint (with its margin) and the false-promotion bound, scored
 * once, with its fill on the worst labelled catalog (Infinity when no catalog is labelled).
 */
type Setting = { ti: number; ts: number; floor: number; scores: Score[]; worstFill: number };
const settings: Setting[] = [];
for (const ti of INTENT)
  for (const ts of SAFETY.filter(safetyOk))
    for (const floor of FLOOR) {
      const scores = catalogs.map((n) => score(recorded.get(n)!, ti, ts, floor));
      if (scores.some((s) => s.falseRate > MAX_FALSE_RATE)) continue;
      settings.push({ ti, ts, floor, scores, worstFill: Math.min(...labelled.map((n) => scores[catalogs.indexOf(n)].fill)) });
    }

type Choice = { ti: number; ts: number; floor: number; leaks: number; mean: Score };
/** The rule's choice with fill bounded below by `minFill` on every labelled catalog; null when no setting qualifies. */
function choose(minFill: number): Choice | null {
  let best: Choice | null = null;
  for (const { ti, ts, floor, scores, worstFill } of settings) {
    if (worstFill < minFill) continue;
    const looser = SAFETY[SAFETY.indexOf(ts) + 1] ?? ts;
    const margin = catalogs.map((n) => score(recorded.get(n)!, ti, looser, floor));
    const atSetting = scores.reduce((a, s) => a + s.sensitive, 0);
    const leaks = atSetting + margin.reduce((a, s) => a + s.sensitive, 0);
    const mean = {
      falseRate: scores.reduce((a, s) => a + s.falseRate, 0) / scores.length,
      sensitive: atSetting,
      hit5: meanOf(scores, 'hit5'),
      fill: meanOf(scores, 'fill'),
      p1: meanOf(scores, 'p1'),
    };
    const better =
      !best ||
      leaks < best.leaks ||
      (leaks === best.leaks && (mean.hit5 > best.mean.hit5 + 1e-9 || (Math.abs(mean.hit5 - best.mean.hit5) < 1e-9 && mean.fill > best.mean.fill + 1e-9)));
    if (better) best = { ti, ts, floor, leaks, mean };
  }
  return best;
}

/**
 * The highest fill on the worst labelled catalog that settings meeting the other constraints (safety recall with its
 * margin, false promotions) reach. On the 146-author dev (after holdout57 was folded) no setting reached MIN_FILL on
 * `retail` (79.9 % at best, at the safety threshold's lower bound): the bound is then lowered to what is reachable, so
 * the rule still picks the fewest sensitive promotions among the settings that fill the most, instead of none.
 */
const reachableFill = () => settings.reduce((top, s) => Math.max(top, s.worstFill), 0);

let fillBound = MIN_FILL;
let best = choose(fillBound);
if (!best && labelled.length > 0) {
  fillBound = reachableFill();
  if (fillBound > 0) {
    console.log(`no setting reaches a fill of ${(100 * MIN_FILL).toFixed(1)} % on every labelled catalog; the bound is lowered to the highest reachable, ${(100 * fillBound).toFixed(1)} %`);
    best = choose(fillBound - 1e-12);
  }
}

if (process.argv.includes('--explore')) {
  // Where the constraints bind: the best mean Hit@5 for each count of sensitive leaks allowed (no margin).
  for (const allowed of [0, 1, 2, 3, 4, 6, 8, 12]) {
    let top: { ti: number; ts: number; floor: number; hit5: number; fill: number; leaks: number } | null = null;
    for (const ti of INTENT) for (const ts of SAFETY) for (const floor of FLOOR) {
      const scores = catalogs.map((n) => score(recorded.get(n)!, ti, ts, floor));
      const leaks = scores.reduce((a, s) => a + s.sensitive, 0);
      if (leaks > allowed || scores.some((s) => s.falseRate > MAX_FALSE_RATE)) continue;
      const hit5 = meanOf(scores, 'hit5');
      const fill = meanOf(scores, 'fill');
      if (!top || hit5 > top.hit5) top = { ti, ts, floor, hit5, fill, leaks };
    }
    console.log(`leaks <= ${allowed}:`, top);
  }
  for (const [ti, ts, floor] of [...(best ? [[best.ti, best.ts, best.floor]] : []), [0.5, 0.4, 0.35]]) {
    for (const n of catalogs) {
      const shop = recorded.get(n)!.filter((r) => r.c.kind === 'shopping' && r.c.relevant);
      const why = { lexicon: 0, safety: 0, intent: 0, floor: 0, none: 0, shown: 0 };
      for (const r of shop) {
        if (r.lexicon) why.lexicon++;
        else if (r.safety >= ts) why.safety++;
        else if (r.intent < ti) why.intent++;
        else if (r.ranked.length === 0) why.none++;
        else if (r.ranked[0].score < floor) why.floor++;
        else why.shown++;
      }
      console.log(ti, ts, floor, n, shop.length, JSON.stringify(why));
    }
  }
  const gateOnly = catalogs.map((n) => recorded.get(n)!.filter((r) => r.c.kind === 'sensitive' && !r.lexicon).map((r) => [r.c.id, r.safety.toFixed(2), r.intent.toFixed(2), r.ranked[0]?.score ?? 0]));
  console.log('sensitive (not lexicon) with intent >= 0.5:', gateOnly.flat().filter((x) => Number(x[2]) >= 0.5).length);
}
if (process.argv.includes('--leaks')) {
  // The sensitive conversations a setting would promote, per catalog (dev only): --leaks intent,safety,floor
  const [ti, ts, floor] = option('leaks')!.split(',').map(Number);
  for (const n of catalogs)
    for (const r of recorded.get(n)!)
      if (r.c.kind === 'sensitive' && !r.lexicon && r.safety < ts && r.intent >= ti && (r.ranked[0]?.score ?? 0) >= floor)
        console.log(`${n} ${r.c.id} safety ${r.safety.toFixed(3)} intent ${r.intent.toFixed(2)} relevance ${r.ranked[0].score.toFixed(2)}: ${userTexts(r.c.messages).join(' >> ').slice(0, 300)}`);
  for (const n of catalogs) console.log(`  at ${ti},${ts},${floor} ${n}:`, JSON.stringify(score(recorded.get(n)!, ti, ts, floor)));
  console.log(`  safety stage flags ${(100 * safetyRecall(ts)).toFixed(1)} % of dev sensitive`);
}
if (process.argv.includes('--floor-misses')) {
  // Labelled shopping conversations that pass every gate but whose best product is under the floor (dev only).
  const [ti, ts, floor] = option('floor-misses')!.split(',').map(Number);
  for (const n of catalogs)
    for (const r of recorded.get(n)!)
      if (r.c.kind === 'shopping' && r.c.relevant && !r.lexicon && r.safety < ts && r.intent >= ti && (r.ranked[0]?.score ?? 0) < floor) {
        const rel = new Set(r.c.relevant);
        const at = r.ranked.findIndex((x) => rel.has(x.id));
        console.log(`${n} ${r.c.id} top ${(r.ranked[0]?.score ?? 0).toFixed(2)} right at ${at} (${at >= 0 ? r.ranked[at].score.toFixed(2) : '-'}): ${userTexts(r.c.messages).join(' >> ').slice(0, 200)}`);
      }
}
if (!best) {
  console.error('no setting meets the constraints on this split');
  process.exit(1);
}
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
console.log(`chosen on ${split}: intentThreshold ${best.ti}, safetyThreshold ${best.ts}, relevanceFloor ${best.floor}; ${best.leaks} sensitive promotions over the catalogs at it and one safety step looser; safety stage flags ${pct(safetyRecall(best.ts))} of ${sensitiveRecords.length} sensitive (${pct(safetyRecall(SAFETY[SAFETY.indexOf(best.ts) + 1] ?? best.ts))} one step looser)`);
for (const name of catalogs) {
  const s = score(recorded.get(name)!, best.ti, best.ts, best.floor);
  console.log(`  ${name}: false promotions ${pct(s.falseRate)}, sensitive promotions ${s.sensitive}, P@1 ${pct(s.p1)}, Hit@5 ${pct(s.hit5)}, fill ${pct(s.fill)}`);
}
// The choice is recorded beside the models it was made for.
if (split === 'dev' && !process.argv.includes('--no-write')) {
  const gates = { intentThreshold: best.ti, safetyThreshold: best.ts, relevanceFloor: best.floor, chosenOn: 'dev', by: 'scripts/tune-promotion-gates.ts', meanHit5: Number(best.mean.hit5.toFixed(4)), meanFill: Number(best.mean.fill.toFixed(4)), sensitivePromotions: best.mean.sensitive, minFill: Number(fillBound.toFixed(4)) };
  await Bun.write(join(import.meta.dir, '..', 'src', 'ads', 'models', 'gates.json'), JSON.stringify(gates, null, 2) + '\n');
  console.log('wrote src/ads/models/gates.json');
}
