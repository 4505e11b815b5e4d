/**
 * What the promotion tools share (relevance-eval.ts, relevance-dev.ts, tune-promotion-gates.ts): reading the
 * labelled sets of test/fixtures/promotions, a catalog behind the real services, and plain BM25 over it.
 */
import { Database } from 'bun:sqlite';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_CONTEXT_TURNS } from '../src/ads/ads.service';
import { queryWeights, toRelevance } from '../src/ads/matcher';
import { scoreConversation } from '../src/ads/models';
import { classifySensitivity } from '../src/ads/sensitive';
import { productTypeTerms } from '../src/ads/text';
import { createUnitIndex } from '../src/ads/unit-index';
import { loadConfig } from '../src/config/config';
import { createRuntime } from '../src/runtime';
import { openStore } from '../src/store/database';
import { sqliteStore } from '../src/store/sql-store';

export type Message = { role: string; content: string };
export type Conversation = {
  id: string; kind: 'shopping' | 'none' | 'sensitive'; topic: string; messages: Message[];
  catalog?: string; relevant?: string[]; lexicon_free?: boolean;
};
export type Product = { id: string; advertiser: string; campaign: string; name: string; description: string; url: string; keywords: string[]; category: string; campaign_context: string };
/** Fixture product ids, best first, with the ranker's score (Vexrail: relevance 0..1; BM25: -bm25). */
export type Ranked = Array<{ id: string; score: number }>;

export const PROMOTIONS_DIR = join(import.meta.dir, '..', 'test', 'fixtures', 'promotions');

export function readJsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** Every conversation of a split, files in name order. */
export function readConversations(split: string): Conversation[] {
  const dir = join(PROMOTIONS_DIR, 'conversations', split);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) => readJsonl<Conversation>(join(dir, f)));
}

export function catalogNames(): string[] {
  return readdirSync(join(PROMOTIONS_DIR, 'catalogs')).filter((f) => f.endsWith('.jsonl') && !f.endsWith('.labels.jsonl')).map((f) => f.slice(0, -6)).sort();
}

export const readCatalog = (name: string) => readJsonl<Product>(join(PROMOTIONS_DIR, 'catalogs', `${name}.jsonl`));

/** The user turns a ranker sees. */
export const userTexts = (messages: Message[]) => messages.filter((m) => m.role === 'user').map((m) => m.content);

/** What the gates read of a conversation, as the service computes it: the lexicon verdict and both model scores over the latest MAX_CONTEXT_TURNS user turns. */
export function gateInputs(messages: Message[]): { lexicon: boolean; intent: number; safety: number } {
  const users = userTexts(messages).slice(-MAX_CONTEXT_TURNS);
  const current = users[users.length - 1] ?? '';
  const earlier = users.slice(0, -1).reverse();
  const scores = scoreConversation(current, earlier);
  return { lexicon: classifySensitivity([current, ...earlier]).sensitive, intent: scores.intent, safety: scores.safety };
}

/**
 * A catalog behind the real services: one advertiser project per advertiser (its first product's host as the
 * verified domain, other hosts as link domains), products imported as JSON Lines, one active campaign per
 * campaign id with equal bids, and a publisher with monetization on. `ads` overrides the config's ads settings.
 * `search` goes through the code path of POST /v1/promotions/search, every gate included.
 */
export async function loadCatalogRuntime(catalog: Product[], ads: Record<string, unknown> = {}) {
  const config = loadConfig({ argv: ['--quiet', '--config', 'eval.json'], env: { VEXRAIL_ADMIN_TOKEN: 'eval' }, defaultDataParent: '/tmp', readFile: () => JSON.stringify({ ads }) });
  const store = openStore(':memory:');
  const rt = await createRuntime(config, sqliteStore(store.db), { resolver: async () => [] });
  const fixtureIdOf = new Map<string, string>();
  const byAdvertiser = new Map<string, Product[]>();
  for (const p of catalog) byAdvertiser.set(p.advertiser, [...(byAdvertiser.get(p.advertiser) ?? []), p]);
  for (const [advertiser, products] of byAdvertiser) {
    const hosts = [...new Set(products.map((p) => new URL(p.url).hostname))];
    const project = await rt.projects.create({ name: advertiser, domain: hosts[0], kind: 'advertiser' });
    await rt.projects.verifyDomain(project.id, 'manual');
    if (hosts.length > 1) await rt.projects.update(project.id, { link_domains: hosts.slice(1, 21) });
    await rt.wallet.topUp(project.id, { amount: '100000.00' });
    const owner = await rt.projects.get(project.id);
    const lines = products.map((p) => JSON.stringify({ name: p.name, description: p.description, url: p.url, keywords: p.keywords, category: p.category }));
    const report = await rt.market.products.importLines(owner, lines.join('\n'));
    if (report.failed > 0) throw new Error(`import for ${advertiser}: ${JSON.stringify(report.errors.slice(0, 3))}`);
    report.product_ids.forEach((id, k) => fixtureIdOf.set(id, products[k].id));
    const ourIdOf = new Map(report.product_ids.map((id, k) => [products[k].id, id]));
    const byCampaign = new Map<string, Product[]>();
    for (const p of products) byCampaign.set(p.campaign, [...(byCampaign.get(p.campaign) ?? []), p]);
    for (const [name, items] of byCampaign) {
      const campaign = await rt.market.campaigns.create(owner, { name, context: items[0].campaign_context, base_cpc: '0.40', budget: '1000.00', product_ids: items.map((p) => ourIdOf.get(p.id)!) });
      await await rt.market.campaigns.activate(owner, campaign.id);
    }
  }
  const publisher = await rt.projects.create({ name: 'eval publisher', domain: 'eval-publisher.example.com' });
  return {
    search: async (messages: Message[], limit: number): Promise<Ranked> =>
      (await rt.market.ads.search(publisher.id, true, { messages: messages as any }, limit)).map((r) => ({ id: fixtureIdOf.get(r.product.id)!, score: r.relevance })),
    close: () => rt.stop(),
  };
}

const STOP = new Set('a an and are as at be but by can do for from have how i in is it me my of on or so that the this to was what when where which who why will with you your'.split(' '));

/** Plain BM25: SQLite FTS5 out of the box (porter tokenizer, unweighted bm25) over the retriever-visible fields, user words OR-ed. */
export function createBm25(catalog: Product[], limit: number) {
  const db = new Database(':memory:');
  db.exec(`CREATE VIRTUAL TABLE docs USING fts5 (pid UNINDEXED, name, description, keywords, category, context, tokenize = 'porter unicode61')`);
  const insert = db.query('INSERT INTO docs (pid, name, description, keywords, category, context) VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const p of catalog) insert.run(p.id, p.name, p.description, p.keywords.join(' '), p.category.replace(/_/g, ' '), p.campaign_context);
  })();
  const search = db.query(`SELECT pid, -bm25(docs) AS score FROM docs WHERE docs MATCH ? ORDER BY bm25(docs) LIMIT ${limit}`);
  return {
    search(messages: Message[]): Ranked {
      const words = userTexts(messages).flatMap((t) => t.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => w.length > 1 && !STOP.has(w));
      if (words.length === 0) return [];
      const rows = search.all([...new Set(words)].map((w) => `"${w}"`).join(' OR ')) as Array<{ pid: string; score: number }>;
      return rows.map((r) => ({ id: r.pid, score: r.score }));
    },
    close: () => db.close(),
  };
}

/**
 * The highest relevance any single word of a catalog reaches on a product whose type it does not name: every word
 * of the catalog's retriever-visible text is asked alone (with the synonyms the matcher adds), and each of its top
 * 20 products matched by exactly one word that is not among its product-type words (productTypeTerms) counts. (A
 * word whose synonyms match a product as well is a match of two words, which the ranking leaves alone.) This is
 * what one shared generic word ("regular", "pro", "6mm", "green") can carry on its own; the relevance floor must
 * stay above it.
 */
export function maxOneWordRelevance(catalog: Product[]): { relevance: number; word: string; product: string } {
  const index = createUnitIndex();
  index.build(catalog.map((p, i) => ({ seq: i + 1, campaign_id: p.campaign, product_id: p.id, name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category, context: p.campaign_context, campaign_name: p.campaign, advertiser_project_id: p.advertiser })));
  const words = new Set<string>();
  for (const p of catalog) for (const w of `${p.name} ${p.description} ${p.keywords.join(' ')} ${p.category} ${p.campaign_context}`.toLowerCase().split(/[^a-z0-9]+/)) if (w.length > 1) words.add(w);
  let best = { relevance: 0, word: '', product: '' };
  for (const w of words) {
    const weights = queryWeights({ current: w, earlier: [] });
    for (const r of index.search(weights, () => true, 20)) {
      const types = productTypeTerms(r.unit.name, JSON.parse(r.unit.keywords), r.unit.category);
      if (r.matched.length !== 1 || types.includes(r.matched[0])) continue;
      const relevance = toRelevance(r.score);
      if (relevance > best.relevance) best = { relevance, word: w, product: r.unit.name };
    }
  }
  return best;
}
