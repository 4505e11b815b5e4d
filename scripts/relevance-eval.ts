/**
 * Relevance evaluation on the labeled set in test/fixtures/relevance (see its README): precision at 1,
 * mean reciprocal rank and fill rate on commercial conversations, and the rate at which unrelated
 * conversations wrongly get a promotion. Compares Vexrail's matcher with a plain SQLite FTS5 BM25
 * ranking over the same catalog. Run: bun scripts/relevance-eval.ts [--json]
 */
import { Database } from 'bun:sqlite';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { createRuntime } from '../src/runtime';
import { openStore } from '../src/store/database';

type Product = { id: string; advertiser: string; campaign: string; name: string; description: string; url: string; keywords: string[]; category: string; campaign_context: string };
type Query = { id: string; messages: Array<{ role: string; content: string }>; relevant: string[]; kind: 'commercial' | 'unrelated' };

const dir = join(import.meta.dir, '..', 'test', 'fixtures', 'relevance');
const catalog: Product[] = (await Bun.file(join(dir, 'catalog.jsonl')).text()).trim().split('\n').map((l) => JSON.parse(l));
const queries: Query[] = await Bun.file(join(dir, 'queries.json')).json();

/** Loads the catalog through the real services: one advertiser project per advertiser, one campaign per campaign id. */
async function loadVexrail() {
  const floorFlag = process.argv.indexOf('--floor');
  const file = floorFlag > 0 ? { ads: { relevanceFloor: Number(process.argv[floorFlag + 1]) } } : {};
  const config = loadConfig({ argv: ['--quiet', '--config', 'eval.json'], env: { VEXRAIL_ADMIN_TOKEN: 'eval' }, defaultDataParent: '/tmp', readFile: () => JSON.stringify(file) });
  const store = openStore(':memory:');
  const rt = createRuntime(config, store.db, { resolver: async () => [] });
  const advertisers = new Map<string, string>();
  const productIds = new Map<string, string>();
  // Each fixture advertiser sells on one site: that site is its verified domain, where product URLs must be.
  const siteOf = new Map(catalog.map((p) => [p.advertiser, new URL(p.url).hostname]));
  for (const [adv, site] of siteOf) {
    const project = rt.projects.create({ name: adv, domain: site, kind: 'advertiser' });
    await rt.projects.verifyDomain(project.id, 'manual');
    rt.wallet.topUp(project.id, { amount: '1000.00' });
    advertisers.set(adv, project.id);
  }
  for (const p of catalog) {
    const created = rt.market.products.create(rt.projects.get(advertisers.get(p.advertiser)!), { name: p.name, description: p.description, url: p.url, keywords: p.keywords, category: p.category });
    productIds.set(created.id, p.id);
  }
  const byCampaign = new Map<string, Product[]>();
  for (const p of catalog) byCampaign.set(p.campaign, [...(byCampaign.get(p.campaign) ?? []), p]);
  const reverse = new Map([...productIds].map(([ours, theirs]) => [theirs, ours]));
  for (const [, products] of byCampaign) {
    const owner = rt.projects.get(advertisers.get(products[0].advertiser)!);
    const campaign = rt.market.campaigns.create(owner, { name: products[0].campaign, context: products[0].campaign_context, base_cpc: '0.40', budget: '100.00', product_ids: products.map((p) => reverse.get(p.id)!) });
    rt.market.campaigns.activate(owner, campaign.id);
  }
  const publisher = rt.projects.create({ name: 'eval publisher', domain: 'eval-publisher.example.com' });
  return {
    name: 'Vexrail matcher',
    rank(q: Query): string[] {
      const results = rt.market.ads.search(publisher.id, true, { messages: q.messages as any }, 20);
      return results.map((r) => productIds.get(r.product.id)!);
    },
    close: () => rt.stop(),
  };
}

const STOP = new Set('a an and are as at be but by can do for from have how i in is it me my of on or so that the this to was what when where which who why will with you your'.split(' '));

/** The baseline: SQLite FTS5 out of the box (porter tokenizer, unweighted bm25), user words OR-ed. */
function loadBaseline(floor: number) {
  const db = new Database(':memory:');
  db.exec(`CREATE VIRTUAL TABLE docs USING fts5 (pid UNINDEXED, name, description, keywords, category, context, tokenize = 'porter unicode61')`);
  const insert = db.query('INSERT INTO docs (pid, name, description, keywords, category, context) VALUES (?, ?, ?, ?, ?, ?)');
  for (const p of catalog) insert.run(p.id, p.name, p.description, p.keywords.join(' '), p.category.replace(/_/g, ' '), p.campaign_context);
  const search = db.query('SELECT pid, -bm25(docs) AS score FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT 20');
  return {
    name: floor > 0 ? `Plain BM25 (score floor ${floor})` : 'Plain BM25 (no floor)',
    rank(q: Query): string[] {
      const words = q.messages.filter((m) => m.role === 'user').flatMap((m) => m.content.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 1 && !STOP.has(w));
      if (words.length === 0) return [];
      const rows = search.all([...new Set(words)].map((w) => `"${w}"`).join(' OR ')) as Array<{ pid: string; score: number }>;
      return rows.filter((r) => r.score >= floor).map((r) => r.pid);
    },
    close: () => db.close(),
  };
}

function evaluate(ranker: { name: string; rank(q: Query): string[] }) {
  let p1 = 0, rr = 0, filled = 0, commercial = 0, unrelated = 0, falsePromos = 0;
  const latencies: number[] = [];
  for (const q of queries) {
    const started = performance.now();
    const ranked = ranker.rank(q);
    latencies.push(performance.now() - started);
    if (q.kind === 'unrelated') {
      unrelated++;
      if (ranked.length > 0) falsePromos++;
      continue;
    }
    commercial++;
    const relevant = new Set(q.relevant);
    if (ranked.length > 0) filled++;
    if (ranked[0] && relevant.has(ranked[0])) p1++;
    const firstHit = ranked.findIndex((id) => relevant.has(id));
    if (firstHit >= 0) rr += 1 / (firstHit + 1);
  }
  latencies.sort((a, b) => a - b);
  return {
    ranker: ranker.name,
    precisionAt1: p1 / commercial,
    mrr: rr / commercial,
    fillRate: filled / commercial,
    falsePromotionRate: falsePromos / unrelated,
    p50Ms: latencies[Math.floor(latencies.length * 0.5)],
    p99Ms: latencies[Math.floor(latencies.length * 0.99)],
  };
}

/** The lowest baseline score floor whose false-promotion rate is no worse than Vexrail's: a like-for-like comparison. */
function matchedFloor(targetRate: number): number {
  for (let floor = 0; floor <= 40; floor += 0.25) {
    const baseline = loadBaseline(floor);
    const r = evaluate(baseline);
    baseline.close();
    if (r.falsePromotionRate <= targetRate) return floor;
  }
  return 40;
}

process.stderr.write(`Loading ${catalog.length} products and ${queries.length} labeled conversations...\n`);
const vexrail = await loadVexrail();
const ours = evaluate(vexrail);
vexrail.close();
const plain = evaluate(loadBaseline(0));
const floor = matchedFloor(ours.falsePromotionRate);
const plainFloored = evaluate(loadBaseline(floor));
const results = [ours, plain, plainFloored];
if (process.argv.includes('--json')) console.log(JSON.stringify(results, null, 2));
else {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(`\nCatalog: ${catalog.length} products; ${queries.filter((q) => q.kind === 'commercial').length} commercial and ${queries.filter((q) => q.kind === 'unrelated').length} unrelated conversations.\n`);
  console.log('| Ranker | Precision@1 | MRR | Fill rate (commercial) | False promotions (unrelated) | p50 / p99 per query |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results)
    console.log(`| ${r.ranker} | ${pct(r.precisionAt1)} | ${r.mrr.toFixed(3)} | ${pct(r.fillRate)} | ${pct(r.falsePromotionRate)} | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} ms |`);
}
