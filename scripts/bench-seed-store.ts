/**
 * `bun scripts/bench-seed-store.ts --dir DIR [--products 100000] [--campaigns 10000] [--advertisers 1000]`
 *
 * Seeds a Vexrail data directory with a large marketplace through the app's own services (createRuntime,
 * as the server builds it): advertiser projects (domain verified, funded) importing their products with
 * products.importLines (the JSON Lines import), campaigns created and activated with campaigns.create /
 * activate, and one publisher with monetization on, a promotion allowed on every turn (frequency_cap_turns
 * 1) and a key pair. Products are variants of test/fixtures/relevance/catalog.jsonl (1,680 products in 30
 * categories): each advertiser sells in one category, under its own brand and on its own domain.
 *
 * Prints one JSON line on stdout: { publisherId, publishableKey, secretKey, products, campaigns, seconds }.
 * Used by scripts/bench.ts for its large-store scenario (which keeps the result as a template and copies it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config';
import { createRuntime } from '../src/runtime';
import { openStore } from '../src/store/database';
import { syllableBrand } from './dev-lib';
import { sqliteStore } from '../src/store/sql-store';

const { values } = parseArgs({ options: { dir: { type: 'string' }, products: { type: 'string' }, campaigns: { type: 'string' }, advertisers: { type: 'string' } } });
if (!values.dir) {
  console.error('usage: bun scripts/bench-seed-store.ts --dir DIR [--products N] [--campaigns N] [--advertisers N]');
  process.exit(2);
}
const PRODUCTS = Number(values.products ?? 100_000);
const CAMPAIGNS = Number(values.campaigns ?? 10_000);
const ADVERTISERS = Number(values.advertisers ?? Math.max(1, Math.round(CAMPAIGNS / 10)));
if (![PRODUCTS, CAMPAIGNS, ADVERTISERS].every((n) => Number.isInteger(n) && n > 0) || CAMPAIGNS < ADVERTISERS || PRODUCTS < CAMPAIGNS) {
  console.error('bench-seed-store: need positive integers with products >= campaigns >= advertisers');
  process.exit(2);
}

type Fixture = { name: string; description: string; keywords: string[]; category: string; campaign_context: string };
const root = join(import.meta.dir, '..');
const catalog: Fixture[] = readFileSync(join(root, 'test', 'fixtures', 'relevance', 'catalog.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const byCategory = new Map<string, Fixture[]>();
for (const p of catalog) byCategory.set(p.category, [...(byCategory.get(p.category) ?? []), p]);
const categories = [...byCategory.keys()].sort();

const brandOf = (i: number) => syllableBrand(i, 'ly');
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

const started = performance.now();
const store = openStore(values.dir);
const config = loadConfig({ argv: ['--quiet', '--data-dir', values.dir, '--config', 'seed.json'], env: { VEXRAIL_ADMIN_TOKEN: 'bench-seed' }, defaultDataParent: values.dir, readFile: () => '{}' });
const rt = await createRuntime(config, sqliteStore(store.db), { resolver: async () => [], logSink: () => {} });
const progress = (text: string) => console.error(`  seed: ${text} (${((performance.now() - started) / 1000).toFixed(0)} s)`);

let products = 0;
let campaigns = 0;
for (let i = 0; i < ADVERTISERS; i++) {
  const brand = brandOf(i);
  const domain = `${slug(brand)}.example.com`;
  const category = categories[i % categories.length];
  const pool = byCategory.get(category)!;
  const project = await rt.projects.create({ name: `${brand} Inc.`, domain, kind: 'advertiser' });
  await rt.projects.verifyDomain(project.id, 'manual');
  await rt.wallet.topUp(project.id, { amount: '10000.00' });
  const owner = await rt.projects.get(project.id);
  const productCount = Math.floor(PRODUCTS / ADVERTISERS) + (i < PRODUCTS % ADVERTISERS ? 1 : 0);
  const lines = Array.from({ length: productCount }, (_, k) => {
    const p = pool[(i * 7 + k) % pool.length];
    const name = `${brand} ${p.name.split(' ').slice(1).join(' ')} ${k + 1}`;
    return JSON.stringify({ name, description: p.description, url: `https://${domain}/p/${slug(name)}`, keywords: p.keywords, category });
  });
  const report = await rt.market.products.importLines(owner, lines.join('\n'));
  if (report.failed > 0) throw new Error(`product import for ${brand} failed on ${report.failed} lines: ${JSON.stringify(report.errors.slice(0, 3))}`);
  products += report.imported;
  const campaignCount = Math.floor(CAMPAIGNS / ADVERTISERS) + (i < CAMPAIGNS % ADVERTISERS ? 1 : 0);
  for (let j = 0; j < campaignCount; j++) {
    const ids = report.product_ids.filter((_: string, k: number) => k % campaignCount === j);
    if (ids.length === 0) continue;
    const context = pool[(i + j) % pool.length].campaign_context.replace(/^\S+/, brand);
    const campaign = await rt.market.campaigns.create(owner, { name: `${brand} campaign ${j + 1}`, context, base_cpc: ((10 + ((i * 31 + j * 17) % 141)) / 100).toFixed(2), budget: '500.00', product_ids: ids });
    await rt.market.campaigns.activate(owner, campaign.id);
    campaigns++;
  }
  if (i % 50 === 49 || i === ADVERTISERS - 1) {
    progress(`${i + 1}/${ADVERTISERS} advertisers, ${products.toLocaleString('en-US')} products, ${campaigns.toLocaleString('en-US')} campaigns`);
    rt.flushAll();
    await Bun.sleep(0);
  }
}

const publisher = await rt.projects.create({ name: 'Bench publisher (large store)', domain: 'bench-large.example.com' });
await rt.projects.verifyDomain(publisher.id, 'manual');
await rt.wallet.topUp(publisher.id, { amount: '100000.00' });
const keys = await rt.keys.generatePair(await rt.projects.get(publisher.id), 'bench');
await rt.projects.update(publisher.id, { monetization: true, frequency_cap_turns: 1 });
rt.stop();
store.close();
console.log(JSON.stringify({
  publisherId: publisher.id, publishableKey: keys.publishable_key, secretKey: keys.secret_key,
  products, campaigns, seconds: Math.round((performance.now() - started) / 1000),
}));
process.exit(0);
