/**
 * Turns a hand-written source (test/fixtures/promotions/sources/<author>-<split>*.txt; held-out sets, and hand-written
 * training additions) into the split's JSON Lines, without reading any other split and without running any model:
 *
 *   bun scripts/convert-held-out-source.ts --source sources/d15-holdout6-none.txt --split holdout6 --author d15 [--check]
 *
 * Source format (one conversation per line, turns separated by " >> ", user first and last):
 *   # comment
 *   ## none <topic>                     conversations without shopping intent
 *   ## sensitive <topic> <category>     category: one of src/ads/sensitive.ts's categories
 *   ## shopping
 *   @retail <type>[,<type>] [attr=v1|v2 ...] :: text      relevant = every product of those types whose label
 *                                                         attributes match ("_" is a space in a value; a stated
 *                                                         gender also admits unisex where the type has any)
 *   @services <id>[,<id>...] :: text                      products picked by hand
 *   @open <topic> :: text                                 a request for something neither catalog sells (unlabelled
 *                                                         shopping: it counts for the intent gate, not for ranking)
 *
 * Computed fields: ids <author>-<kind>-NNN in writing order; sensitive: lexicon_free (no phrase of the
 * src/ads/sensitive.ts lexicon in any user turn); none: shares_words_with (catalog words the text contains:
 * retail type nouns and product lines, services product names); shopping: catalog, relevant, target, topic
 * (the retail department or the services domain). Writes conversations/<split>/<author>-<kind>.jsonl for each
 * kind present and prints counts only (never the text). --check validates without writing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifySensitivity, type SensitiveCategory } from '../src/ads/sensitive';

const ROOT = join(import.meta.dir, '..', 'test/fixtures/promotions');
const argv = process.argv.slice(2);
const flag = (name: string): string => {
  const i = argv.indexOf(name);
  if (i < 0 || !argv[i + 1]) throw new Error(`convert-held-out-source: ${name} is required`);
  return argv[i + 1];
};
const sourceArg = flag('--source');
const split = flag('--split');
const author = flag('--author');
const checkOnly = argv.includes('--check');
if (!/^holdout\d*$|^test\d*$|^train$|^dev$/.test(split)) throw new Error('convert-held-out-source: --split must be train, dev or a held-out split (holdoutN or testN)');
if (!/^d\d+$/.test(author)) throw new Error('convert-held-out-source: --author must look like d15');

type Label = { id: string; type: string; attributes: Record<string, string> };
type Message = { role: 'user' | 'assistant'; content: string };
type Row = Record<string, unknown> & { id: string; kind: string; messages: Message[] };
const CATEGORIES: SensitiveCategory[] = ['medical', 'self_harm', 'mental_health_crisis', 'addiction', 'sexual', 'minors', 'tragedy', 'violence_abuse'];

const readJsonl = <T>(file: string): T[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
const labels = {
  retail: readJsonl<Label>(join(ROOT, 'catalogs/retail.labels.jsonl')),
  services: readJsonl<Label>(join(ROOT, 'catalogs/services.labels.jsonl')),
};
const serviceNames = readJsonl<{ id: string; name: string }>(join(ROOT, 'catalogs/services.jsonl'));

/** Catalog words a "none" conversation may share with products: type nouns, product lines, product names. */
const SHARED_WORDS = (() => {
  const words = new Set<string>();
  for (const l of labels.retail) for (const w of l.type.split('_')) if (w.length > 2) words.add(w);
  for (const w of 'pro classic smart main prime plus essential project plan track run film regular everyday max ultra go lite studio flex series elite'.split(' ')) words.add(w);
  for (const p of serviceNames) for (const w of p.name.toLowerCase().split(/[^a-z]+/)) if (w.length > 3) words.add(w);
  for (const w of ['womens', 'mens', 'kids']) words.delete(w);
  return words;
})();

function relevantRetail(types: string[], attributes: Record<string, string[]>): string[] {
  return labels.retail.filter((l) => types.includes(l.type) && Object.entries(attributes).every(([k, vs]) => {
    const v = l.attributes[k] ?? '';
    if (vs.includes(v)) return true;
    return k === 'gender' && v === 'unisex';
  })).map((l) => l.id).sort();
}

const errors: string[] = [];
const rows: Row[] = [];
const counters = new Map<string, number>();
const sourcePath = sourceArg.startsWith('/') ? sourceArg : join(ROOT, sourceArg.replace(/^test\/fixtures\/promotions\//, ''));
if (!existsSync(sourcePath)) throw new Error(`convert-held-out-source: ${sourcePath} does not exist`);
type Head = { kind: 'none'; topic: string } | { kind: 'sensitive'; topic: string; category: SensitiveCategory } | { kind: 'shopping' };
let head: Head | null = null;

readFileSync(sourcePath, 'utf8').split('\n').forEach((raw, i) => {
  const line = raw.trim();
  const where = `line ${i + 1}`;
  if (!line || (line.startsWith('#') && !line.startsWith('## '))) return;
  if (line.startsWith('## ')) {
    const [kind, topic, category] = line.slice(3).trim().split(/\s+/);
    head = null;
    if (kind === 'none' && topic) head = { kind, topic };
    else if (kind === 'sensitive' && topic && CATEGORIES.includes(category as SensitiveCategory)) head = { kind, topic, category: category as SensitiveCategory };
    else if (kind === 'shopping') head = { kind };
    else errors.push(`${where}: bad block header (want "## none <topic>", "## sensitive <topic> <category>" or "## shopping")`);
    return;
  }
  if (!head) { errors.push(`${where}: conversation before any block header`); return; }
  const h: Head = head;
  let text = line;
  let label: string | null = null;
  if (h.kind === 'shopping') {
    const cut = line.indexOf(' :: ');
    if (!line.startsWith('@') || cut < 0) { errors.push(`${where}: a shopping line must start with "@retail ... :: " or "@services ... :: "`); return; }
    label = line.slice(1, cut).trim();
    text = line.slice(cut + 4).trim();
  }
  const turns = text.split(' >> ').map((t) => t.trim());
  if (turns.length % 2 === 0) { errors.push(`${where}: an even number of turns (the last turn must be the user's)`); return; }
  if (turns.some((t) => !t)) { errors.push(`${where}: an empty turn`); return; }
  const messages: Message[] = turns.map((content, k) => ({ role: k % 2 === 0 ? 'user' : 'assistant', content }));
  const n = (counters.get(h.kind) ?? 0) + 1;
  counters.set(h.kind, n);
  const id = `${author}-${h.kind}-${String(n).padStart(3, '0')}`;
  const userTexts = messages.filter((m) => m.role === 'user').map((m) => m.content);
  if (h.kind === 'none') {
    const words = new Set(userTexts.join(' ').toLowerCase().split(/[^a-z]+/).filter((w) => SHARED_WORDS.has(w)));
    const row: Row = { id, kind: 'none', topic: h.topic, messages };
    if (words.size) row.shares_words_with = [...words].sort();
    rows.push(row);
    return;
  }
  if (h.kind === 'sensitive') {
    rows.push({ id, kind: 'sensitive', topic: h.topic, category: h.category, messages, lexicon_free: !classifySensitivity(userTexts).sensitive });
    return;
  }
  const [catalog, spec, ...attrs] = label!.split(/\s+/);
  if (catalog === 'retail') {
    const types = (spec ?? '').split(',').filter(Boolean);
    const known = new Set(labels.retail.map((l) => l.type));
    const unknown = types.filter((t) => !known.has(t));
    if (!types.length || unknown.length) { errors.push(`${where}: unknown retail type ${unknown.join(', ') || '(none given)'}`); return; }
    const attributes: Record<string, string[]> = {};
    for (const a of attrs) {
      const [k, v] = a.split('=');
      if (!k || !v) { errors.push(`${where}: bad attribute ${a}`); return; }
      attributes[k] = v.split('|').map((x) => x.replace(/_/g, ' '));
    }
    const relevant = relevantRetail(types, attributes);
    if (!relevant.length) { errors.push(`${where}: no retail product matches ${label}`); return; }
    const first = labels.retail.find((l) => l.type === types[0])!;
    rows.push({ id, kind: 'shopping', topic: first.attributes.department, catalog: 'retail', relevant, target: { types, attributes }, messages });
  } else if (catalog === 'services') {
    const ids = (spec ?? '').split(',').filter(Boolean);
    const found = ids.map((x) => labels.services.find((l) => l.id === x));
    if (!ids.length || found.some((f) => !f)) { errors.push(`${where}: unknown services id in ${spec ?? '(none)'}`); return; }
    rows.push({ id, kind: 'shopping', topic: found[0]!.attributes.domain, catalog: 'services', relevant: [...ids].sort(),
      target: { types: [...new Set(found.map((f) => f!.type))], attributes: {}, picked_by_hand: true }, messages });
  } else if (catalog === 'open') {
    if (!spec || !/^[a-z][a-z0-9_]*$/.test(spec)) { errors.push(`${where}: @open needs a topic (lower case, "_" for spaces)`); return; }
    rows.push({ id, kind: 'shopping', topic: spec, messages });
  } else {
    errors.push(`${where}: unknown catalog ${catalog} (retail, services or open)`);
    return;
  }
  const flagged = classifySensitivity(userTexts);
  if (flagged.sensitive) rows[rows.length - 1].lexicon_hit = flagged.category;
});

const ids = new Set<string>();
for (const r of rows) { if (ids.has(r.id)) errors.push(`duplicate id ${r.id}`); ids.add(r.id); }
if (errors.length) {
  console.error(`convert-held-out-source: ${errors.length} error(s), nothing written:\n  ${errors.slice(0, 50).join('\n  ')}`);
  process.exit(1);
}

const byKind = new Map<string, Row[]>();
for (const r of rows) byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), r]);
for (const [kind, list] of byKind) {
  const multi = list.filter((r) => r.messages.length > 1).length;
  const topics = new Set(list.map((r) => String(r.topic))).size;
  let extra = '';
  if (kind === 'none') extra = `, ${list.filter((r) => r.shares_words_with).length} sharing a catalog word`;
  if (kind === 'sensitive') extra = `, ${list.filter((r) => r.lexicon_free).length} lexicon-free, categories: ${[...new Set(list.map((r) => String(r.category)))].sort().join(' ')}`;
  if (kind === 'shopping') {
    const retail = list.filter((r) => r.catalog === 'retail');
    const types = (cat: string) => new Set(list.filter((r) => r.catalog === cat).flatMap((r) => (r.target as { types: string[] }).types)).size;
    const services = list.filter((r) => r.catalog === 'services');
    extra = `, retail ${retail.length} over ${types('retail')} types, services ${services.length} over ${types('services')} types, open ${list.length - retail.length - services.length}, ${list.filter((r) => r.lexicon_hit).length} hit the lexicon`;
  }
  console.log(`${kind}: ${list.length} conversations, ${topics} topics, ${multi} multi-turn${extra}`);
  if (!checkOnly) {
    const dir = join(ROOT, 'conversations', split);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${author}-${kind}.jsonl`), list.map((r) => JSON.stringify(r) + '\n').join(''));
  }
}
if (!checkOnly) console.log(`written to test/fixtures/promotions/conversations/${split}/`);
