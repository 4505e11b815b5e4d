/**
 * `npm run relevance` (bun scripts/relevance-eval.ts [--split test|dev] [--catalog NAME] [--json]): the promotion
 * evaluation on the labelled sets in test/fixtures/promotions (see its README). Reported numbers come from the test
 * split, which nothing is fitted or tuned on; dev is for tuning.
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
 */
import { Database } from 'bun:sqlite';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { classifySensitivity } from '../src/ads/sensitive';
import { loadConfig } from '../src/config/config';
import { createRuntime } from '../src/runtime';
import { openStore } from '../src/store/database';

type Message = { role: string; content: string };
type Conversation = { id: string; kind: 'shopping' | 'none' | 'sensitive'; topic: string; messages: Message[]; catalog?: string; relevant?: string[]; lexicon_free?: boolean };
type Product = { id: string; advertiser: string; campaign: string; name: string; description: string; url: string; keywords: string[]; category: string; campaign_context: string };
type Ranker = { name: string; rank(messages: Message[]): string[] };

const ROOT = join(import.meta.dir, '..', 'test', 'fixtures', 'promotions');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const split = arg('split') ?? 'test';
if (!['train', 'dev', 'test'].includes(split)) throw new Error('--split must be train, dev or test');
const LIMIT = 10;

const readJsonl = async <T>(path: string): Promise<T[]> =>
  (await Bun.file(path).text()).split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);

async function loadConversations(): Promise<Conversation[]> {
  const dir = join(ROOT, 'conversations', split);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  return (await Promise.all(files.map((f) => readJsonl<Conversation>(join(dir, f))))).flat();
}

/** The catalog behind the real services: returns a ranker over POST /v1/promotions/search's code path. */
async function loadVexrail(catalog: Product[]) {
  const config = loadConfig({ argv: ['--quiet', '--config', 'eval.json'], env: { VEXRAIL_ADMIN_TOKEN: 'eval' }, defaultDataParent: '/tmp', readFile: () => '{}' });
  const store = openStore(':memory:');
  const rt = createRuntime(config, store.db, { resolver: async () => [] });
  const advertisers = new Map<string, string>();
  const ourIdToTheirs = new Map<string, string>();
  const theirIdToOurs = new Map<string, string>();
  for (const adv of new Set(catalog.map((p) => p.advertiser))) {
    const site = new URL(catalog.find((p) => p.advertiser === adv)!.url).hostname;
    const project = rt.projects.create({ name: adv, domain: site, kind: 'advertiser' });
    await rt.projects.verifyDomain(project.id, 'manual');
    rt.wallet.topUp(project.id, { amount: '1000.00' });
    advertisers.set(adv, project.id);
  }
  for (const p of catalog) {
    const owner = rt.projects.get(advertisers.get(p.advertiser)!);
    const created = rt.market.products.create(owner, { name: p.name, description: p.description, url: p.url, keywords: p.keywords, category: p.category });
    ourIdToTheirs.set(created.id, p.id);
    theirIdToOurs.set(p.id, created.id);
  }
  const byCampaign = new Map<string, Product[]>();
  for (const p of catalog) byCampaign.set(p.campaign, [...(byCampaign.get(p.campaign) ?? []), p]);
  for (const [name, products] of byCampaign) {
    const owner = rt.projects.get(advertisers.get(products[0].advertiser)!);
    const campaign = rt.market.campaigns.create(owner, {
      name, context: products[0].campaign_context, base_cpc: '0.40', budget: '100.00', product_ids: products.map((p) => theirIdToOurs.get(p.id)!),
    });
    rt.market.campaigns.activate(owner, campaign.id);
  }
  const publisher = rt.projects.create({ name: 'eval publisher', domain: 'eval-publisher.example.com' });
  const ranker: Ranker = {
    name: 'Vexrail',
    rank: (messages) => rt.market.ads.search(publisher.id, true, { messages: messages as any }, LIMIT).map((r) => ourIdToTheirs.get(r.product.id)!),
  };
  return { ranker, close: () => rt.stop() };
}

const STOP = new Set('a an and are as at be but by can do for from have how i in is it me my of on or so that the this to was what when where which who why will with you your'.split(' '));

/** Plain BM25: SQLite FTS5 out of the box over the retriever-visible fields, user words OR-ed. */
function loadBaseline(catalog: Product[], floor: number): Ranker & { close(): void } {
  const db = new Database(':memory:');
  db.exec(`CREATE VIRTUAL TABLE docs USING fts5 (pid UNINDEXED, name, description, keywords, category, context, tokenize = 'porter unicode61')`);
  const insert = db.query('INSERT INTO docs (pid, name, description, keywords, category, context) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const p of catalog) insert.run(p.id, p.name, p.description, p.keywords.join(' '), p.category.replace(/_/g, ' '), p.campaign_context);
  })();
  const search = db.query(`SELECT pid, -bm25(docs) AS score FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ${LIMIT}`);
  return {
    name: floor > 0 ? `Plain BM25, score floor ${floor}` : 'Plain BM25',
    rank(messages) {
      const words = messages.filter((m) => m.role === 'user').flatMap((m) => m.content.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 1 && !STOP.has(w));
      if (words.length === 0) return [];
      const rows = search.all([...new Set(words)].map((w) => `"${w}"`).join(' OR ')) as Array<{ pid: string; score: number }>;
      return rows.filter((r) => r.score >= floor).map((r) => r.pid);
    },
    close: () => db.close(),
  };
}

type Result = {
  ranker: string; catalog: string; falsePromotions: number; none: number; sensitivePromotions: number; sensitive: number;
  lexiconFreePromotions: number; lexiconFree: number; shopping: number; p1: number; mrr: number; hit5: number; fill: number;
  intentPassed: number; unlabeledShopping: number; p50Ms: number; p99Ms: number;
};

function evaluate(ranker: Ranker, catalog: string, conversations: Conversation[]): Result {
  const r: Result = {
    ranker: ranker.name, catalog, falsePromotions: 0, none: 0, sensitivePromotions: 0, sensitive: 0, lexiconFreePromotions: 0, lexiconFree: 0,
    shopping: 0, p1: 0, mrr: 0, hit5: 0, fill: 0, intentPassed: 0, unlabeledShopping: 0, p50Ms: 0, p99Ms: 0,
  };
  const latencies: number[] = [];
  for (const c of conversations) {
    if (c.kind === 'shopping' && c.catalog !== undefined && c.catalog !== catalog) continue;
    const started = performance.now();
    const ranked = ranker.rank(c.messages);
    latencies.push(performance.now() - started);
    if (c.kind === 'none') {
      r.none++;
      if (ranked.length > 0) r.falsePromotions++;
    } else if (c.kind === 'sensitive') {
      r.sensitive++;
      if (ranked.length > 0) r.sensitivePromotions++;
      // Judged with today's lexicon, not the flag stored when the conversation was written.
      if (!classifySensitivity(c.messages.filter((m) => m.role === 'user').map((m) => m.content)).sensitive) {
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
  latencies.sort((a, b) => a - b);
  r.p50Ms = latencies[Math.floor(latencies.length * 0.5)] ?? 0;
  r.p99Ms = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
  return r;
}

/** The lowest BM25 score floor whose false-promotion rate is no worse than `rate`: a like-for-like comparison. */
function matchedBaseline(catalog: Product[], name: string, conversations: Conversation[], rate: number): Result {
  let lo = 0;
  let hi = 64;
  for (let i = 0; i < 12; i++) {
    const mid = (lo + hi) / 2;
    const baseline = loadBaseline(catalog, mid);
    const r = evaluate(baseline, name, conversations);
    baseline.close();
    if (r.falsePromotions / Math.max(1, r.none) <= rate) hi = mid;
    else lo = mid;
  }
  const baseline = loadBaseline(catalog, Math.round(hi * 100) / 100);
  const result = evaluate(baseline, name, conversations);
  baseline.close();
  return result;
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

const conversations = await loadConversations();
const catalogNames = readdirSync(join(ROOT, 'catalogs')).filter((f) => f.endsWith('.jsonl') && !f.endsWith('.labels.jsonl')).map((f) => f.slice(0, -6)).sort();
const only = arg('catalog');
const results: Result[] = [];
for (const name of only ? [only] : catalogNames) {
  const catalog = await readJsonl<Product>(join(ROOT, 'catalogs', `${name}.jsonl`));
  process.stderr.write(`${name}: loading ${catalog.length} products; ${conversations.length} ${split} conversations...\n`);
  const vexrail = await loadVexrail(catalog);
  evaluate(vexrail.ranker, name, conversations); // warm-up pass: latencies are measured on the second
  const ours = evaluate(vexrail.ranker, name, conversations);
  vexrail.close();
  const plain = loadBaseline(catalog, 0);
  results.push(ours, evaluate(plain, name, conversations));
  plain.close();
  results.push(matchedBaseline(catalog, name, conversations, ours.falsePromotions / Math.max(1, ours.none)));
}
if (process.argv.includes('--json')) console.log(JSON.stringify({ split, results }, null, 2));
else {
  const kinds = (k: string) => conversations.filter((c) => c.kind === k).length;
  console.log(`\nSplit "${split}": ${kinds('shopping')} shopping (${conversations.filter((c) => c.relevant).length} labelled against a catalog), ${kinds('none')} without shopping intent, ${kinds('sensitive')} sensitive conversations.\n`);
  console.log(table(results));
}
