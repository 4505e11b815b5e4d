/**
 * Relevance on the DEV split, for tuning the ranking (the final report uses scripts/relevance-eval.ts on
 * the test split; this tool refuses it).
 *
 *   bun scripts/relevance-dev.ts [--catalog fixture|retail|services|relevance] [--split dev|train]
 *                                [--floors 0.25,0.3,0.35,0.4] [--misses N] [--json]
 *
 * A catalog from test/fixtures/promotions/catalogs/<name>.jsonl is loaded through the real services (one
 * advertiser project per advertiser, its site's host as verified domain, products imported as JSON Lines,
 * one active campaign per campaign id, equal bids) and asked through rt.market.ads.search, the code path of
 * POST /v1/promotions/search (every gate included: sensitivity lexicon, intent, relevance floor). The
 * conversations are test/fixtures/promotions/conversations/<split>/*.jsonl: shopping ones labelled against
 * this catalog, every "none" and every "sensitive" one. `--catalog relevance` uses the older set in
 * test/fixtures/relevance (all of it is train/dev material).
 *
 * Reported per ranker: P@1, MRR@10, Hit@5 and fill on shopping conversations (no promotion counts as a
 * miss), the share of "none" conversations that get any promotion (false promotions) and of sensitive ones.
 * Vexrail runs twice, both times with a floor of 0, the floors being applied afterwards (ranking does not
 * depend on the floor: candidates are cut, not reordered): with every gate as configured, and with the
 * shopping-intent gate off (ads.intentThreshold 0), which measures the ranking and its floor alone. Plain BM25 is SQLite FTS5 (porter tokenizer, bm25()), user
 * words OR-ed, without a floor and with the lowest score floor whose false-promotion rate is no worse than
 * Vexrail's at the configured floor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ADS } from '../src/config/defaults';
import { createBm25, loadCatalogRuntime, readCatalog, readConversations, readJsonl, type Conversation, type Message, type Product, type Ranked } from './promotion-eval-lib';

const root = join(import.meta.dir, '..');
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const catalogName = flag('--catalog', existsSync(join(root, 'test/fixtures/promotions/catalogs/fixture.jsonl')) ? 'fixture' : 'relevance');
const split = flag('--split', 'dev');
if (split !== 'dev' && split !== 'train') throw new Error('relevance-dev: only the train and dev splits may be used for tuning (the test split is for the final report)');
const floors = flag('--floors', '0.25,0.3,0.35,0.4,0.45').split(',').map(Number);
const configuredFloor = DEFAULT_ADS.relevanceFloor;
if (!floors.includes(configuredFloor)) floors.push(configuredFloor);
floors.sort((a, b) => a - b);
const showMisses = Number(flag('--misses', '0'));

function loadData(): { catalog: Product[]; conversations: Conversation[] } {
  if (catalogName === 'relevance') {
    const dir = join(root, 'test/fixtures/relevance');
    const queries = JSON.parse(readFileSync(join(dir, 'queries.json'), 'utf8')) as Array<{ id: string; kind: string; messages: Message[]; relevant: string[]; topic?: string; category: string }>;
    const own: Conversation[] = queries.map((q) => ({ id: q.id, kind: q.kind === 'commercial' ? 'shopping' : 'none', topic: q.topic ?? q.category, messages: q.messages, catalog: 'relevance', relevant: q.relevant }));
    return { catalog: readJsonl<Product>(join(dir, 'catalog.jsonl')), conversations: [...own, ...promotionConversations('relevance')] };
  }
  return { catalog: readCatalog(catalogName), conversations: promotionConversations(catalogName) };
}

/** The split's "none" and "sensitive" conversations (catalog-free) and its shopping ones labelled against `catalog`. */
function promotionConversations(catalog: string): Conversation[] {
  return readConversations(split).filter((c) => c.kind !== 'shopping' || (c.catalog === catalog && c.relevant?.length));
}

/** The catalog through the real services, searched like POST /v1/promotions/search with a floor of 0. */
async function loadVexrail(catalog: Product[], intentGate: boolean) {
  const ads = intentGate ? { relevanceFloor: 0 } : { relevanceFloor: 0, intentThreshold: 0, safetyThreshold: 1 };
  const runtime = await loadCatalogRuntime(catalog, ads);
  return { rank: (c: Conversation): Promise<Ranked> => runtime.search(c.messages, 20), close: runtime.close };
}

/** SQLite FTS5 out of the box (porter tokenizer, unweighted bm25), user words OR-ed; score = -bm25. */
function loadBaseline(catalog: Product[]) {
  const bm25 = createBm25(catalog, 20);
  return { rank: (c: Conversation): Ranked => bm25.search(c.messages), close: bm25.close };
}

type Metrics = { p1: number; mrr10: number; hit5: number; fill: number; falsePromotions: number; sensitivePromotions: number };

function measure(conversations: Conversation[], ranked: Map<string, Ranked>, floor: number): Metrics {
  let shopping = 0, p1 = 0, rr = 0, hit5 = 0, filled = 0, none = 0, falsePromos = 0, sensitive = 0, sensitivePromos = 0;
  for (const c of conversations) {
    const ids = ranked.get(c.id)!.filter((r) => r.score >= floor).map((r) => r.id);
    if (c.kind === 'none') {
      none++;
      if (ids.length > 0) falsePromos++;
    } else if (c.kind === 'sensitive') {
      sensitive++;
      if (ids.length > 0) sensitivePromos++;
    } else {
      shopping++;
      const relevant = new Set(c.relevant ?? []);
      if (ids.length > 0) filled++;
      if (ids[0] !== undefined && relevant.has(ids[0])) p1++;
      const first = ids.slice(0, 10).findIndex((id) => relevant.has(id));
      if (first >= 0) rr += 1 / (first + 1);
      if (first >= 0 && first < 5) hit5++;
    }
  }
  const share = (n: number, d: number) => (d === 0 ? NaN : n / d);
  return { p1: share(p1, shopping), mrr10: share(rr, shopping), hit5: share(hit5, shopping), fill: share(filled, shopping), falsePromotions: share(falsePromos, none), sensitivePromotions: share(sensitivePromos, sensitive) };
}

async function rankAll(conversations: Conversation[], ranker: { rank(c: Conversation): Ranked | Promise<Ranked> }) {
  const ranked = new Map<string, Ranked>();
  const latencies: number[] = [];
  for (const c of conversations) {
    const t = performance.now();
    ranked.set(c.id, await ranker.rank(c));
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  return { ranked, p50Ms: latencies[Math.floor(latencies.length / 2)] ?? 0, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

const { catalog, conversations } = loadData();
const count = (kind: string) => conversations.filter((c) => c.kind === kind).length;
process.stderr.write(`catalog ${catalogName}: ${catalog.length} products; ${split}: ${count('shopping')} shopping, ${count('none')} none, ${count('sensitive')} sensitive conversations\n`);
async function runVexrail(intentGate: boolean) {
  const loadStarted = performance.now();
  const vexrail = await loadVexrail(catalog, intentGate);
  process.stderr.write(`loaded through the services in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s\n`);
  const result = await rankAll(conversations, vexrail);
  vexrail.close();
  return result;
}
const ours = await runVexrail(true);
const rankingOnly = await runVexrail(false);
const baseline = loadBaseline(catalog);
const plain = await rankAll(conversations, baseline);
baseline.close();

const rows: Array<{ ranker: string; m: Metrics }> = [
  ...floors.map((f) => ({ ranker: `Vexrail, all gates, floor ${f}${f === configuredFloor ? ' (default)' : ''}`, m: measure(conversations, ours.ranked, f) })),
  ...[0, ...floors].map((f) => ({ ranker: `Vexrail ranking alone (intent gate off), floor ${f}`, m: measure(conversations, rankingOnly.ranked, f) })),
];
const target = measure(conversations, ours.ranked, configuredFloor).falsePromotions;
rows.push({ ranker: 'Plain BM25 (FTS5), no floor', m: measure(conversations, plain.ranked, 0) });
let matched = 0;
for (let f = 0; f <= 60; f += 0.25) if (measure(conversations, plain.ranked, f).falsePromotions <= (Number.isNaN(target) ? 0 : target)) { matched = f; break; }
rows.push({ ranker: `Plain BM25 (FTS5), score floor ${matched} (same false promotions)`, m: measure(conversations, plain.ranked, matched) });

if (argv.includes('--json')) console.log(JSON.stringify({ catalog: catalogName, split, rows, vexrailMs: { p50: ours.p50Ms, p99: ours.p99Ms } }, null, 2));
else {
  const pct = (x: number) => (Number.isNaN(x) ? '-' : `${(x * 100).toFixed(1)} %`);
  console.log(`\n${catalogName} catalog (${catalog.length} products), ${catalogName === 'relevance' ? `its own conversations (train/dev material) and the promotions ${split} split's` : `${split} split`}: ${count('shopping')} shopping, ${count('none')} none, ${count('sensitive')} sensitive conversations\n`);
  console.log('| ranker | P@1 | MRR@10 | Hit@5 | fill (shopping) | false promotions (none) | promotions on sensitive |');
  console.log('|---|--:|--:|--:|--:|--:|--:|');
  for (const { ranker, m } of rows) console.log(`| ${ranker} | ${pct(m.p1)} | ${Number.isNaN(m.mrr10) ? '-' : m.mrr10.toFixed(3)} | ${pct(m.hit5)} | ${pct(m.fill)} | ${pct(m.falsePromotions)} | ${pct(m.sensitivePromotions)} |`);
  console.log(`\nVexrail search per conversation: p50 ${ours.p50Ms.toFixed(2)} ms, p99 ${ours.p99Ms.toFixed(2)} ms`);
}

if (showMisses > 0) {
  // Dev/train items only (the test split is refused above); ranking alone, at the default floor.
  const byId = new Map(catalog.map((p) => [p.id, p]));
  const misses = conversations.filter((c) => c.kind === 'shopping' && !(c.relevant ?? []).includes(rankingOnly.ranked.get(c.id)!.filter((r) => r.score >= configuredFloor)[0]?.id ?? ''));
  for (const c of misses.slice(0, showMisses)) {
    const top = rankingOnly.ranked.get(c.id)![0];
    const user = c.messages.filter((m) => m.role === 'user').map((m) => m.content).join(' | ');
    console.log(`MISS ${c.id}: ${user}\n   got ${top ? `${byId.get(top.id)?.name} (${top.score})` : 'nothing'}; wanted e.g. ${byId.get(c.relevant?.[0] ?? '')?.name}`);
  }
  const falses = conversations.filter((c) => c.kind === 'none' && rankingOnly.ranked.get(c.id)!.some((r) => r.score >= configuredFloor));
  for (const c of falses.slice(0, showMisses)) {
    const top = rankingOnly.ranked.get(c.id)![0];
    console.log(`FALSE ${c.id}: ${c.messages.filter((m) => m.role === 'user').map((m) => m.content).join(' | ').slice(0, 160)}\n   got ${byId.get(top.id)?.name} (${top.score})`);
  }
}
