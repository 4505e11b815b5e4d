/**
 * `bun scripts/make-promotion-catalogs.ts [--draft]`: writes the promotion catalogs and the labelled shopping
 * conversations to test/fixtures/promotions/ (see its README, section "Catalogs and shopping conversations").
 * Deterministic (seeded, no network): two runs write byte-identical files.
 *
 *   catalogs/fixture.jsonl    test/fixtures/relevance/catalog.jsonl in the shared format (+ .labels.jsonl)
 *   catalogs/retail.jsonl     generated from scripts/promotion-data/retail-types.ts (+ .labels.jsonl)
 *   catalogs/services.jsonl   hand-written in scripts/promotion-data/services.ts (+ .labels.jsonl)
 *   conversations/{train,dev}/fx-*.jsonl        test/fixtures/relevance/queries.json, 70/30, never test
 *   conversations/{train,dev,test}/d1-shopping.jsonl  scripts/promotion-data/shopping-queries.txt, 50/20/30
 *   conversations/holdout/d6-*.jsonl            test/fixtures/promotions/sources/d6-holdout.txt (all held out)
 *
 * A shopping conversation carries a target (product types plus attribute constraints); `relevant` is computed
 * from the labels, so it stays right when a catalog is regenerated. Every check failure stops the script before
 * anything is written; --draft only turns the minimum counts into warnings.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifySensitivity } from '../src/ads/sensitive';
import { generateRetail, type CatalogProduct, type ProductLabel } from './promotion-data/retail-catalog';
import { buildServices } from './promotion-data/services';
import { splitmix32 as seeded } from './dev-lib';

const ROOT = join(import.meta.dir, '..');
const OUT = join(ROOT, 'test', 'fixtures', 'promotions');
const SEED = 0xd1ca7a10;
const DRAFT = process.argv.includes('--draft');
const MIN = { retailProducts: 3000, retailAdvertisers: 300, retailTypes: 60, servicesProducts: 150, servicesAdvertisers: 40, shopping: 600, shoppingRetail: 350, shoppingServices: 150 };

type Message = { role: 'user' | 'assistant' | 'system'; content: string };
type Conversation = {
  id: string; kind: 'shopping' | 'none' | 'sensitive'; topic: string; lexicon_free?: boolean; messages: Message[]; catalog?: string; relevant?: string[];
  target?: { types: string[]; attributes: Record<string, string[]> }; shares_words_with?: string;
};
type Catalog = { name: string; products: CatalogProduct[]; labels: ProductLabel[] };

/** FNV-1a over the seed and a string: fixed split assignment by id, independent of file order. */
function hash01(text: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  return ((h ^ (h >>> 12)) >>> 0) / 4294967296;
}
const hex8 = (text: string): string => Math.floor(hash01(text) * 4294967296).toString(16).padStart(8, '0');

function loadFixture(): { catalog: Catalog; conversations: Conversation[] } {
  const dir = join(ROOT, 'test', 'fixtures', 'relevance');
  const products = readFileSync(join(dir, 'catalog.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
    const p = JSON.parse(l) as CatalogProduct;
    const { id, advertiser, campaign, name, description, url, keywords, category, campaign_context } = p;
    return { id, advertiser, campaign, name, description, url, keywords, category, campaign_context };
  });
  const raw = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as Record<string, { category: string; subniche: string; distractor: boolean }>;
  const labels = products.map((p) => {
    const l = raw[p.id];
    return { id: p.id, type: `${l.category}/${l.subniche}`, attributes: { category: l.category, subniche: l.subniche, distractor: String(l.distractor) } };
  });
  type Q = { id: string; messages: Message[]; relevant: string[]; category: string; kind: string; subniches?: string[]; topic?: string; trap?: string };
  const queries = JSON.parse(readFileSync(join(dir, 'queries.json'), 'utf8')) as Q[];
  const conversations = queries.map((q): Conversation => q.kind === 'commercial'
    ? { id: `fx-${q.id}`, kind: 'shopping', topic: q.category, messages: q.messages, catalog: 'fixture', relevant: q.relevant.slice().sort(),
      target: { types: (q.subniches ?? ['*']).map((s) => `${q.category}/${s}`), attributes: {} } }
    : { id: `fx-${q.id}`, kind: 'none', topic: q.topic ?? 'other', messages: q.messages, ...(q.trap ? { shares_words_with: q.trap } : {}) });
  return { catalog: { name: 'fixture', products, labels }, conversations };
}

/**
 * shopping-queries.txt: '@<catalog> <type>[,<type>...] [attr=v1|v2 ...]' starts a block; each following line is
 * one conversation, turns separated by ' >> ' (user, assistant, user, ...); '#' starts a comment line.
 */
function loadShopping(catalogs: Map<string, Catalog>, errors: string[]): Conversation[] {
  const text = readFileSync(join(import.meta.dir, 'promotion-data', 'shopping-queries.txt'), 'utf8');
  const out: Conversation[] = [];
  let head: { catalog: Catalog; types: string[]; attributes: Record<string, string[]> } | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('@')) {
      const [cat, types, ...constraints] = line.slice(1).split(/\s+/);
      const catalog = catalogs.get(cat);
      if (!catalog) { errors.push(`line ${i + 1}: unknown catalog ${cat}`); head = null; return; }
      const attributes: Record<string, string[]> = {};
      for (const c of constraints) { const [k, v] = c.split('='); attributes[k] = v.split('|').map((x) => x.replace(/_/g, ' ')); }
      head = { catalog, types: types.split(','), attributes };
      const known = new Set(catalog.labels.map((l) => l.type));
      for (const t of head.types) if (!known.has(t)) errors.push(`line ${i + 1}: unknown type ${t} in ${cat}`);
      return;
    }
    if (!head) { errors.push(`line ${i + 1}: conversation before any @ header`); return; }
    const h: { catalog: Catalog; types: string[]; attributes: Record<string, string[]> } = head;
    const messages = line.split(' >> ').map((content, k): Message => ({ role: k % 2 === 0 ? 'user' : 'assistant', content: content.trim() }));
    const relevant = h.catalog.labels.filter((l) => h.types.includes(l.type) &&
      Object.entries(h.attributes).every(([k, vs]) => vs.includes(l.attributes[k] ?? ''))).map((l) => l.id).sort();
    const first = h.catalog.labels.find((l) => l.type === h.types[0]);
    out.push({ id: `d1-${h.catalog.name}-${hex8(line)}`, kind: 'shopping', topic: first?.attributes.department ?? first?.attributes.domain ?? 'shopping',
      messages, catalog: h.catalog.name, relevant, target: { types: h.types, attributes: h.attributes } });
  });
  return out;
}

/**
 * The fresh held-out set (author d6), test/fixtures/promotions/sources/d6-holdout.txt: '@none <topic>' and
 * '@sensitive <topic>' start blocks of unlabelled conversations, '@shopping <catalog> <type>[,<type>] [attr=v]'
 * a block labelled against a catalog (as in shopping-queries.txt). Turns are separated by ' >> '.
 */
function loadHoldout(catalogs: Map<string, Catalog>, errors: string[], file = 'd6-holdout.txt', author = 'd6'): Conversation[] {
  const text = readFileSync(join(OUT, 'sources', file), 'utf8');
  const out: Conversation[] = [];
  type Head = { kind: 'none' | 'sensitive'; topic: string } | { kind: 'shopping'; catalog: Catalog; types: string[]; attributes: Record<string, string[]> };
  let head: Head | null = null;
  text.split('\n').forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (!line || line.startsWith('#')) return;
    if (line.startsWith('@')) {
      const [kind, first, second, ...rest] = line.slice(1).split(/\s+/);
      head = null;
      if (kind === 'none' || kind === 'sensitive') { head = { kind, topic: first }; return; }
      const catalog = kind === 'shopping' ? catalogs.get(first) : undefined;
      if (!catalog || !second) { errors.push(`${file} line ${i + 1}: bad header ${line}`); return; }
      const attributes: Record<string, string[]> = {};
      for (const c of rest) { const [k, v] = c.split('='); attributes[k] = v.split('|').map((x) => x.replace(/_/g, ' ')); }
      const types = second.split(',');
      const known = new Set(catalog.labels.map((l) => l.type));
      for (const t of types) if (!known.has(t)) errors.push(`${file} line ${i + 1}: unknown type ${t} in ${first}`);
      head = { kind: 'shopping', catalog, types, attributes };
      return;
    }
    if (!head) { errors.push(`${file} line ${i + 1}: conversation before any @ header`); return; }
    const h: Head = head;
    const messages = line.split(' >> ').map((content, k): Message => ({ role: k % 2 === 0 ? 'user' : 'assistant', content: content.trim() }));
    const id = `${author}-${h.kind}-${hex8(line)}`;
    if (h.kind !== 'shopping') {
      const c: Conversation = { id, kind: h.kind, topic: h.topic, messages };
      if (h.kind === 'sensitive') c.lexicon_free = !classifySensitivity(messages.filter((m) => m.role === 'user').map((m) => m.content)).sensitive;
      out.push(c);
      return;
    }
    const relevant = h.catalog.labels.filter((l) => h.types.includes(l.type) &&
      Object.entries(h.attributes).every(([k, vs]) => vs.includes(l.attributes[k] ?? ''))).map((l) => l.id).sort();
    const first = h.catalog.labels.find((l) => l.type === h.types[0]);
    out.push({ id, kind: 'shopping', topic: first?.attributes.department ?? first?.attributes.domain ?? 'shopping', messages, catalog: h.catalog.name, relevant, target: { types: h.types, attributes: h.attributes } });
  });
  return out;
}

function checkCatalog(c: Catalog, errors: string[]): void {
  const ids = new Set<string>(), names = new Set<string>(), urls = new Set<string>();
  for (const p of c.products) {
    if (ids.has(p.id)) errors.push(`${c.name}: duplicate id ${p.id}`);
    if (c.name !== 'fixture' && names.has(p.name)) errors.push(`${c.name}: duplicate name ${p.name}`);
    if (urls.has(p.url)) errors.push(`${c.name}: duplicate url ${p.url}`);
    ids.add(p.id); names.add(p.name); urls.add(p.url);
    if (!/^https:\/\/[a-z0-9-]+\.example\//.test(p.url)) errors.push(`${c.name}: ${p.id} url not on an advertiser .example domain`);
    if (!p.name || !p.description || p.keywords.length === 0 || !p.campaign_context) errors.push(`${c.name}: ${p.id} has an empty field`);
  }
  const labelled = new Set(c.labels.map((l) => l.id));
  if (labelled.size !== c.labels.length || c.labels.some((l) => !ids.has(l.id)) || labelled.size !== ids.size) errors.push(`${c.name}: labels do not match products one to one`);
}

function checkConversation(c: Conversation, catalogs: Map<string, Catalog>, errors: string[]): void {
  const m = c.messages;
  if (m.length === 0 || m[m.length - 1].role !== 'user') errors.push(`${c.id}: does not end with a user turn`);
  if (m.some((x) => !x.content)) errors.push(`${c.id}: empty turn`);
  if (c.kind !== 'shopping') return;
  const ids = new Set(catalogs.get(c.catalog ?? '')?.products.map((p) => p.id) ?? []);
  if (!c.relevant || c.relevant.length === 0) errors.push(`${c.id}: shopping conversation without a relevant product: ${m[m.length - 1].content}`);
  for (const r of c.relevant ?? []) if (!ids.has(r)) errors.push(`${c.id}: relevant id ${r} not in catalog ${c.catalog}`);
  const s = classifySensitivity(m.filter((x) => x.role === 'user').map((x) => x.content));
  if (c.id.startsWith('d1-') && s.sensitive) errors.push(`${c.id}: flagged sensitive by the lexicon (${s.matched}): ${m[m.length - 1].content}`);
}

function splitOf(id: string, shares: [string, number][]): string {
  const x = hash01(`split:${id}`);
  let acc = 0;
  for (const [name, share] of shares) { acc += share; if (x < acc) return name; }
  return shares[shares.length - 1][0];
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r) + '\n').join('');

function main(): void {
  const errors: string[] = [];
  const fixture = loadFixture();
  const retail = { name: 'retail', ...generateRetail(seeded(SEED)) };
  const services = { name: 'services', ...buildServices() };
  const catalogs = new Map<string, Catalog>([[fixture.catalog.name, fixture.catalog], ['retail', retail], ['services', services]]);
  for (const c of catalogs.values()) checkCatalog(c, errors);
  const shopping = loadShopping(catalogs, errors);
  const holdout = loadHoldout(catalogs, errors);
  const holdout2 = loadHoldout(catalogs, errors, 'd7-holdout2.txt', 'd7');
  const all = [...fixture.conversations, ...shopping, ...holdout, ...holdout2];
  const seen = new Set<string>();
  for (const c of all) {
    if (seen.has(c.id)) errors.push(`duplicate conversation id ${c.id} (${c.messages[c.messages.length - 1].content})`);
    seen.add(c.id);
    checkConversation(c, catalogs, errors);
  }
  const count = (c: Catalog, f: (l: ProductLabel) => string): number => new Set(c.labels.map(f)).size;
  const byCatalog = (name: string): number => shopping.filter((c) => c.catalog === name).length;
  const shortfalls = [
    ['retail products', retail.products.length, MIN.retailProducts],
    ['retail advertisers', new Set(retail.products.map((p) => p.advertiser)).size, MIN.retailAdvertisers],
    ['retail types', count(retail, (l) => l.type), MIN.retailTypes],
    ['services products', services.products.length, MIN.servicesProducts],
    ['services advertisers', new Set(services.products.map((p) => p.advertiser)).size, MIN.servicesAdvertisers],
    ['d1 shopping conversations', shopping.length, MIN.shopping],
    ['d1 shopping on retail', byCatalog('retail'), MIN.shoppingRetail],
    ['d1 shopping on services', byCatalog('services'), MIN.shoppingServices],
  ] as [string, number, number][];
  for (const [what, got, min] of shortfalls) {
    const line = `${what}: ${got} (minimum ${min})`;
    if (got < min) (DRAFT ? console.warn(`warning: ${line}`) : errors.push(line));
    else console.log(line);
  }
  if (errors.length > 0) {
    console.error(`${errors.length} check(s) failed, nothing written:\n  ${errors.slice(0, 40).join('\n  ')}`);
    process.exit(1);
  }
  write(catalogs, fixture.conversations, shopping, holdout, holdout2);
}

function write(catalogs: Map<string, Catalog>, fx: Conversation[], shopping: Conversation[], holdout: Conversation[], holdout2: Conversation[]): void {
  mkdirSync(join(OUT, 'catalogs'), { recursive: true });
  for (const c of catalogs.values()) {
    writeFileSync(join(OUT, 'catalogs', `${c.name}.jsonl`), jsonl(c.products));
    writeFileSync(join(OUT, 'catalogs', `${c.name}.labels.jsonl`), jsonl(c.labels));
  }
  const files = new Map<string, Conversation[]>();
  // Every file this script owns is rewritten, empty or not, so a conversation that moved never stays behind.
  for (const split of ['train', 'dev']) for (const kind of ['shopping', 'none']) files.set(`${split}/fx-${kind}.jsonl`, []);
  for (const split of ['train', 'dev', 'test']) files.set(`${split}/d1-shopping.jsonl`, []);
  const add = (split: string, file: string, c: Conversation): void => {
    const key = `${split}/${file}`;
    files.set(key, [...(files.get(key) ?? []), c]);
  };
  for (const c of fx) add(splitOf(c.id, [['train', 0.7], ['dev', 0.3]]), `fx-${c.kind}.jsonl`, c);
  for (const c of shopping) add(splitOf(c.id, [['train', 0.5], ['dev', 0.2], ['test', 0.3]]), 'd1-shopping.jsonl', c);
  for (const kind of ['none', 'sensitive', 'shopping']) files.set(`holdout/d6-${kind}.jsonl`, []);
  for (const c of holdout) add('holdout', `d6-${c.kind}.jsonl`, c);
  for (const kind of ['none', 'sensitive', 'shopping']) files.set(`holdout2/d7-${kind}.jsonl`, []);
  for (const c of holdout2) add('holdout2', `d7-${c.kind}.jsonl`, c);
  for (const split of ['train', 'dev', 'test', 'holdout', 'holdout2']) mkdirSync(join(OUT, 'conversations', split), { recursive: true });
  const summary: string[] = [];
  for (const [key, rows] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    rows.sort((a, b) => a.id.localeCompare(b.id));
    writeFileSync(join(OUT, 'conversations', key), jsonl(rows));
    summary.push(`${key}: ${rows.length}`);
  }
  for (const c of catalogs.values()) summary.push(`catalog ${c.name}: ${c.products.length} products, ${new Set(c.products.map((p) => p.advertiser)).size} advertisers, ${new Set(c.labels.map((l) => l.type)).size} types`);
  console.log(summary.join('\n'));
}

main();
