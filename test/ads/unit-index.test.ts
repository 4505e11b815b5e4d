import { describe, expect, test } from 'bun:test';
import type { UnitRow } from '../../src/ads/ad-index.repo';
import { queryWeights } from '../../src/ads/matcher';
import { stem, terms } from '../../src/ads/text';
import { heapStats } from 'bun:jsc';
import { createUnitIndex, idfWeight } from '../../src/ads/unit-index';
import { createUnitStore } from '../../src/ads/unit-index-store';
import { kthLargestKey } from '../../src/ads/unit-index-query';

let nextSeq = 1;
function unit(campaign: string, product: string, fields: Partial<UnitRow> & { keywordList?: string[] } = {}): UnitRow {
  const { keywordList, ...rest } = fields;
  return {
    seq: nextSeq++,
    campaign_id: campaign,
    product_id: product,
    name: product,
    description: '',
    url: `https://example.com/${product}`,
    keywords: JSON.stringify(keywordList ?? []),
    category: null,
    context: '',
    campaign_name: `campaign ${campaign}`,
    advertiser_project_id: `adv-${campaign}`,
    ...rest,
  };
}

const ask = (current: string, earlier: string[] = []) => queryWeights({ current, earlier });
const all = () => true;
const products = (xs: Array<{ unit: UnitRow }>) => xs.map((x) => x.unit.product_id);

function smallCatalog(): UnitRow[] {
  return [
    unit('c1', 'Kanbanix Boards', { description: 'Kanban boards for teams to track tasks and deadlines.', keywordList: ['kanban', 'project management'], category: 'productivity' }),
    unit('c1', 'Taskly Lists', { description: 'Simple to-do lists and reminders.', keywordList: ['todo', 'reminders'], category: 'productivity' }),
    unit('c2', 'BrewMaster Grinder', { description: 'A burr grinder for espresso and pour-over coffee.', keywordList: ['coffee', 'grinder'], category: 'kitchen' }),
    unit('c2', 'BrewMaster Kettle', { description: 'A gooseneck kettle for pour-over coffee.', keywordList: ['kettle', 'coffee'], category: 'kitchen' }),
    unit('c3', 'TrailRunner Shoes', { description: 'Trail running shoes with grip for hiking.', keywordList: ['running shoes', 'trail'], category: 'sports', context: 'outdoor gear' }),
  ];
}

describe('unit index', () => {
  test('build and rank: name and keyword matches first, only units with a query word, stable order', () => {
    const ix = createUnitIndex();
    ix.build(smallCatalog());
    expect(ix.size()).toBe(5);
    const coffee = ix.search(ask('which coffee grinder should I buy for espresso?'), all, 10);
    expect(products(coffee)).toEqual(['BrewMaster Grinder', 'BrewMaster Kettle']);
    expect(coffee[0].score).toBeGreaterThan(coffee[1].score);
    expect(coffee[0].matched).toEqual(expect.arrayContaining(['coffee', 'grinder', 'espresso'].map(stem)));
    expect(coffee[1].matched).not.toContain('grinder');
    expect(products(ix.search(ask('kanban board for my team'), all, 10))[0]).toBe('Kanbanix Boards');
    expect(ix.search(ask('quantum chromodynamics lecture'), all, 10)).toEqual([]);
    // The latest turn outweighs an earlier one.
    const mixed = ix.search(ask('a kettle please', ['coffee grinder']), all, 10);
    expect(products(mixed)[0]).toBe('BrewMaster Kettle');
  });

  test('accept() filters from the best down until the limit is reached', () => {
    const ix = createUnitIndex();
    // 'lamp' in three units out of four (a word in every unit carries no information and scores 0).
    const rows = Array.from({ length: 400 }, (_, i) => unit(`c${i % 40}`, `Widget ${i}`, { description: i % 2 ? 'blue widget' : 'widget', keywordList: i % 4 ? ['lamp'] : [] }));
    ix.build(rows);
    const onlyCampaign7 = (u: UnitRow) => u.campaign_id === 'c7';
    const got = ix.search(ask('lamp'), onlyCampaign7, 5);
    expect(ix.search(ask('lamp'), all, 1000)).toHaveLength(300);
    expect(got).toHaveLength(5);
    expect(got.every((g) => g.unit.campaign_id === 'c7')).toBe(true);
    // More than one round of candidates (150 per round) is walked when needed.
    const rare = (u: UnitRow) => u.campaign_id === 'c39' && u.product_id.endsWith('9');
    expect(ix.search(ask('lamp'), rare, 50).length).toBe(rows.filter(rare).length);
    expect(rows.filter(rare).length).toBe(10);
  });

  test('replaceCampaign: added, removed and edited units; other campaigns untouched', () => {
    const ix = createUnitIndex();
    const rows = smallCatalog();
    ix.build(rows);
    const before = ix.search(ask('trail running shoes'), all, 10);
    const c2 = rows.filter((r) => r.campaign_id === 'c2');
    // Edit one unit (new text), drop the other, add a new product.
    ix.replaceCampaign('c2', [
      { ...c2[0], description: 'A hand mill for trail camping coffee.' },
      unit('c2', 'BrewMaster Dripper', { description: 'A ceramic dripper for pour-over coffee.', keywordList: ['coffee', 'dripper'], category: 'kitchen' }),
    ]);
    expect(ix.size()).toBe(5);
    expect(ix.docFrequency('kettle')).toBe(0);
    expect(ix.docFrequency('dripper')).toBe(1);
    expect(ix.docFrequency(stem('coffee'))).toBe(2);
    expect(products(ix.search(ask('kettle'), all, 10))).toEqual([]);
    expect(products(ix.search(ask('coffee dripper'), all, 10))[0]).toBe('BrewMaster Dripper');
    expect(products(ix.search(ask('camping mill'), all, 10))).toEqual(['BrewMaster Grinder']);
    // c3 still ranks first for its query.
    expect(products(ix.search(ask('trail running shoes'), all, 10))[0]).toBe(products(before)[0]);
    // A campaign emptied, then a new one.
    ix.removeCampaign('c1');
    expect(ix.search(ask('kanban board'), all, 10)).toEqual([]);
    ix.replaceCampaign('c9', [unit('c9', 'Boardly', { description: 'Kanban for freelancers', keywordList: ['kanban'] })]);
    expect(products(ix.search(ask('kanban board'), all, 10))).toEqual(['Boardly']);
    expect(ix.size()).toBe(4);
  });

  test('replaceCampaign re-indexes only the units that changed (a big campaign with one edit stays cheap)', () => {
    const ix = createUnitIndex();
    const rows = Array.from({ length: 2000 }, (_, i) => unit('big', `Lamp ${i}`, { description: `desk lamp number ${i}`, keywordList: ['lamp'] }));
    ix.build([...rows, ...smallCatalog()]);
    // The same units again: nothing is tombstoned or added.
    ix.replaceCampaign('big', rows.map((u) => ({ ...u })));
    expect(ix.stats()).toEqual(expect.objectContaining({ units: 2005, tombstones: 0 }));
    // One edited, one removed, one added: three documents change, the other 1,998 keep theirs.
    const edited = { ...rows[7], description: 'a heliotrope reading lamp' };
    const next = [...rows.slice(0, 7), edited, ...rows.slice(8, 1999), unit('big', 'Lamp new', { description: 'a zinnia lamp', keywordList: ['lamp'] })];
    ix.replaceCampaign('big', next);
    expect(ix.stats()).toEqual(expect.objectContaining({ units: 2005, tombstones: 2 }));
    expect(products(ix.search(ask('heliotrope'), all, 10))).toEqual(['Lamp 7']);
    expect(products(ix.search(ask('zinnia'), all, 10))).toEqual(['Lamp new']);
    expect(ix.docFrequency('lamp')).toBe(2000);
    expect(products(ix.search(ask('desk lamp number 1999'), all, 3))).not.toContain('Lamp 1999');
    // Campaign-level text (context) is in every unit: a change re-indexes them all.
    ix.replaceCampaign('big', next.map((u) => ({ ...u, context: 'study room' })));
    expect(ix.stats().units).toBe(2005);
    expect(ix.search(ask('study room'), all, 3000)).toHaveLength(2000);
  });

  test('tombstones are compacted (automatically and on demand) without changing results', () => {
    const ix = createUnitIndex();
    const make = (round: number) =>
      Array.from({ length: 30 }, (_, i) => unit(`c${i % 3}`, `Lamp ${i}`, { description: `desk lamp ${i % 2 ? 'warm' : 'cool'} light round${round}`, keywordList: ['lamp', 'light'] }));
    let rows = make(0);
    ix.build(rows);
    const query = ask('warm desk lamp');
    // Replace campaign c0 a few times: tombstones accumulate (below the automatic threshold).
    for (let r = 1; r <= 3; r++) {
      rows = [...rows.filter((u) => u.campaign_id !== 'c0'), ...make(r).filter((u) => u.campaign_id === 'c0')];
      ix.replaceCampaign('c0', rows.filter((u) => u.campaign_id === 'c0'));
    }
    expect(ix.stats().tombstones).toBe(30);
    const withTombstones = ix.search(query, all, 30).map((x) => [x.unit.seq, x.score.toFixed(6)]);
    ix.compact();
    expect(ix.stats().tombstones).toBe(0);
    expect(ix.stats().units).toBe(30);
    expect(ix.stats().postings).toBe(createUnitIndexPostings(rows));
    expect(ix.search(query, all, 30).map((x) => [x.unit.seq, x.score.toFixed(6)])).toEqual(withTombstones);
    // Many more changes: compaction runs on its own and the index does not grow without bound.
    for (let r = 4; r < 40; r++) {
      const fresh = make(r).filter((u) => u.campaign_id === `c${r % 3}`);
      rows = [...rows.filter((u) => u.campaign_id !== `c${r % 3}`), ...fresh];
      ix.replaceCampaign(`c${r % 3}`, fresh);
    }
    expect(ix.stats().tombstones).toBeLessThanOrEqual(64);
    expect(ix.size()).toBe(30);
    const fresh = createUnitIndex();
    fresh.build(rows);
    const score = (x: { unit: UnitRow; score: number }) => [x.unit.seq, x.score.toFixed(6)];
    expect(ix.search(query, all, 30).map(score)).toEqual(fresh.search(query, all, 30).map(score));
  });

  test('a large index is compacted in steps between events, not inside the update that calls for it', async () => {
    const ix = createUnitIndex();
    const make = (campaign: number, round: number) =>
      Array.from({ length: 100 }, (_, i) => unit(`c${campaign}`, `Lamp ${campaign}-${i}`, { description: `desk lamp ${i % 2 ? 'warm' : 'cool'} light r${round}`, keywordList: ['lamp'] }));
    const current = new Map(Array.from({ length: 40 }, (_, c) => [c, make(c, 0)]));
    const rows = () => [...current.values()].flat();
    ix.build(rows());
    const query = ask('warm desk lamp');
    // Each replacement tombstones 100 units; the 11th passes a quarter of the 4,000 documents.
    let c = 0;
    while (!ix.stats().rebuilding) {
      current.set(c, make(c, 1));
      ix.replaceCampaign(`c${c}`, current.get(c)!);
      c++;
      expect(c).toBeLessThan(40);
    }
    expect(ix.stats().tombstones).toBeGreaterThan(1000);
    // Searches still read the current store meanwhile; a change made during the rebuild is kept.
    expect(ix.search(query, all, 5000)).toHaveLength(2000);
    current.set(39, make(39, 2).map((u) => ({ ...u, description: 'a verdigris lamp' })));
    ix.replaceCampaign('c39', current.get(39)!);
    current.set(0, make(0, 3).slice(0, 50));
    ix.replaceCampaign('c0', current.get(0)!);
    const score = (x: { unit: UnitRow; score: number }) => [x.unit.product_id, x.score.toFixed(6)];
    const before = ix.search(query, all, 200).map(score);
    await ix.settled();
    expect(ix.stats()).toEqual(expect.objectContaining({ rebuilding: false, units: 3950 }));
    expect(ix.stats().tombstones).toBeLessThanOrEqual(150);
    expect(products(ix.search(ask('verdigris'), all, 200)).length).toBe(100);
    // Compaction keeps the length averages: the same ranking and scores as before it, changes included.
    expect(ix.search(query, all, 200).map(score)).toEqual(before);
    // ("lamp" is in every unit: no weight; the edited c39 units lost "desk" and match no more.)
    expect(products(ix.search(query, all, 5000)).sort()).toEqual(rows().filter((u) => u.description.includes('desk')).map((u) => u.product_id).sort());
  });

  test('when field lengths drift, new averages are taken in steps and scores match a fresh build', async () => {
    const ix = createUnitIndex();
    const short = Array.from({ length: 600 }, (_, i) => unit(`c${i % 6}`, `Kettle ${i}`, { description: 'kettle', keywordList: ['kettle'] }));
    ix.build(short);
    const long = (u: UnitRow) => ({ ...u, description: `a gooseneck kettle ${'for slow pour-over brewing at home '.repeat(4)}` });
    const now = short.map((u) => (u.campaign_id === 'c0' || u.campaign_id === 'c1' ? long(u) : u));
    ix.replaceCampaign('c0', now.filter((u) => u.campaign_id === 'c0'));
    ix.replaceCampaign('c1', now.filter((u) => u.campaign_id === 'c1'));
    expect(ix.stats().rebuilding).toBe(true);
    await ix.settled();
    const fresh = createUnitIndex();
    fresh.build(now);
    const score = (x: { unit: UnitRow; score: number }) => [x.unit.product_id, x.score.toFixed(6)];
    const q = ask('gooseneck kettle for pour-over');
    expect(ix.search(q, all, 20).map(score)).toEqual(fresh.search(q, all, 20).map(score));
  });

  test('idf is catalog-size stable: a matching unit gets the same relevance in 100 and 10,000 units', () => {
    const letters = (n: number) => {
      let s = '';
      do {
        s += String.fromCharCode(97 + (n % 26));
        n = Math.floor(n / 26);
      } while (n > 0);
      return s;
    };
    const word = (prefix: string, n: number) => `${prefix}${letters(n)}x`;
    const catalog = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        unit(`c${i % 10}`, `p${i}`, {
          name: `${word('nam', i % 50)} ${word('mod', i % 7)}`,
          description: `${word('des', i % 20)} ${word('eva', i % 3)} gadget`,
          keywordList: [word('key', i % 100)],
          category: `cat_${word('cat', i % 5)}`,
          context: `context ${word('ctx', i % 10)}`,
        }),
      );
    const relevance = (n: number, query: string) => {
      const ix = createUnitIndex();
      ix.build(catalog(n));
      const top = ix.search(ask(query), all, 1)[0];
      return top.score / (top.score + 2.5);
    };
    for (const query of [`${word('key', 0)} ${word('nam', 0)}`, `${word('des', 3)} ${word('eva', 0)}`, `${word('cat', 2)} ${word('ctx', 2)}`]) {
      const small = relevance(100, query);
      const large = relevance(10_000, query);
      expect(small).toBeGreaterThan(0.1);
      expect(Math.abs(large - small) / small).toBeLessThan(0.03);
    }
    // The weight itself depends on the share of units, not on the catalog size.
    expect(idfWeight(10, 1_000)).toBeCloseTo(idfWeight(1_000, 100_000), 2);
    expect(idfWeight(1, 100)).toBeCloseTo(idfWeight(100, 10_000), 2);
  });

  test('matched lists exactly the query words a unit contains: rare and common words, past 32 words, over several rounds', () => {
    const vocab = Array.from({ length: 60 }, (_, i) => `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}x`);
    let state = 7;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const rows = Array.from({ length: 600 }, (_, i) => {
      // The first five words are in about half of the units (common: scored for candidates only), the rest rare.
      const words = vocab.filter((_, k) => rand() < (k < 5 ? 0.5 : 0.04));
      return unit(`c${i % 50}`, `Item ${i}`, { description: words.join(' '), keywordList: words.slice(0, 2) });
    });
    const ix = createUnitIndex();
    ix.build(rows);
    const contained = (u: UnitRow) => new Set([...terms(u.name), ...terms((JSON.parse(u.keywords) as string[]).join(' ')), ...terms(u.description)]);
    // 40 query words (the mask holds 32; the rest are looked up one by one), every one in the index.
    const weights = new Map(vocab.slice(0, 40).map((w, k) => [stem(w), 1 - k / 100] as [string, number]));
    let seen = 0;
    // Rejecting two units in three forces more than one round of candidates.
    const found = ix.search(weights, () => seen++ % 3 === 0, 120);
    expect(found.length).toBe(120);
    expect(seen).toBeGreaterThan(150);
    for (const f of found) {
      const has = contained(f.unit);
      expect(new Set(f.matched)).toEqual(new Set([...weights.keys()].filter((t) => has.has(t))));
    }
    // Best first.
    for (let i = 1; i < found.length; i++) expect(found[i - 1].score).toBeGreaterThanOrEqual(found[i].score);
  });

  test('a round\'s threshold: the k-th largest of the keys not yet taken, repeats counted, as a sort finds it', () => {
    let state = 5;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 300; trial++) {
      const count = 1 + Math.floor(rand() * 400);
      const keys = new Float64Array(count + 5).fill(99); // past `count`: never read
      // Few distinct values (many repeats at the threshold), some taken (-1), some tiny.
      const distinct = 1 + Math.floor(rand() * 20);
      for (let i = 0; i < count; i++) keys[i] = rand() < 0.2 ? -1 : rand() < 0.05 ? 1e-9 : Math.floor(rand() * distinct) / 7;
      const open = Array.from(keys.subarray(0, count)).filter((v) => v >= 0).sort((a, b) => b - a);
      if (open.length === 0) continue;
      const k = 1 + Math.floor(rand() * open.length);
      expect(kthLargestKey(keys, count, k, new Float64Array(k))).toBe(open[k - 1]);
    }
  });

  test('within a round, accept() sees the units best first (ties by seq), whatever the limit and whichever it turns down', () => {
    let state = 11;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    // 3,000 units: "alpha" in 2,400 of them (a common word whose postings are searched per candidate), "beta" in
    // 500 (common, but read straight through), and 12 rare words in about 35 units each; one unit in four is a
    // copy of the previous one (same text, so the same score: the tie goes to the lower seq).
    const rare = Array.from({ length: 12 }, (_, k) => `rare${String.fromCharCode(97 + k)}q`);
    const rows: UnitRow[] = [];
    for (let i = 0; i < 3000; i++) {
      const previous = rows[rows.length - 1];
      if (previous && i % 4 === 3) {
        rows.push(unit(`c${i % 30}`, `Copy ${i}`, { name: previous.name, description: previous.description, keywords: previous.keywords }));
        continue;
      }
      const words = [...(rand() < 0.8 ? ['alpha'] : []), ...(rand() < 0.17 ? ['beta'] : []), ...rare.filter(() => rand() < 0.012)];
      rows.push(unit(`c${i % 30}`, `Thing ${i}`, { description: words.join(' '), keywordList: words.slice(0, 1) }));
    }
    const ix = createUnitIndex();
    ix.build(rows);
    const seqOf = new Map(rows.map((r) => [r.product_id, r.seq]));
    const key = (x: { unit: UnitRow; score: number }) => `${x.unit.product_id}:${x.score}`;
    for (let q = 0; q < 40; q++) {
      // One or two rare words (at most 150 units: one round) with both common words.
      const picked = rare.filter(() => rand() < 0.15).slice(0, 2);
      if (picked.length === 0) picked.push(rare[q % rare.length]);
      const weights = new Map([...picked.map((w) => [stem(w), 1] as [string, number]), [stem('alpha'), 0.8], [stem('beta'), 0.7]]);
      const everything = ix.search(weights, all, 100_000);
      expect(everything.length).toBeLessThanOrEqual(150);
      for (let i = 1; i < everything.length; i++) {
        const [a, b] = [everything[i - 1], everything[i]];
        expect(a.score > b.score || (a.score === b.score && seqOf.get(a.unit.product_id)! < seqOf.get(b.unit.product_id)!)).toBe(true);
      }
      for (const limit of [1, 3, 10, 40, 60]) {
        const reject = (u: UnitRow) => (u.seq * 7 + q + limit) % 5 < 2;
        const asked: string[] = [];
        const found = ix.search(weights, (u) => (asked.push(u.product_id), !reject(u)), limit);
        const expected = everything.filter((x) => !reject(x.unit)).slice(0, limit);
        expect(found.map(key)).toEqual(expected.map(key));
        // accept() was asked in ranking order, and never past the last unit returned.
        const order = everything.map((x) => x.unit.product_id);
        expect(asked).toEqual(order.slice(0, asked.length));
        if (found.length === limit) expect(asked[asked.length - 1]).toBe(found[found.length - 1].unit.product_id);
      }
    }
  });

  test('rows come back exactly as indexed: odd text, null categories, edited campaigns, chunks full and being filled', () => {
    const store = createUnitStore();
    const texts = ['', 'Kaffeemühle “Größe” – 500 g', '🚲 bike lock ⚡ fast', 'tabs\tand\nnewlines', 'x'.repeat(3000), 'مرحبا بالعالم', 'emoji at end 👍🏽'];
    const make = (campaign: number, i: number, context: string): UnitRow => ({
      seq: campaign * 10_000 + i,
      campaign_id: `camp-${campaign}`,
      product_id: `prod-${campaign}-${i}`,
      name: `${texts[i % texts.length]} item ${i}`,
      description: texts[(i + 3) % texts.length] + ' description '.repeat(i % 40),
      url: `https://example.com/${campaign}/${i}?q=${encodeURIComponent(texts[i % texts.length])}`,
      keywords: JSON.stringify([texts[(i + 1) % texts.length], 'kw']),
      category: i % 3 === 0 ? null : `cat-${i % 5}`,
      context,
      campaign_name: `Campaign ${campaign}`,
      advertiser_project_id: `adv-${campaign % 7}`,
    });
    // About 4 MB of text: several chunks, the last one still being filled.
    const campaigns = Array.from({ length: 40 }, (_, c) => Array.from({ length: 150 }, (_, i) => make(c, i, `context ${c}`)));
    store.build(campaigns.flat());
    const byProduct = (xs: UnitRow[]) => [...xs].sort((a, b) => a.seq - b.seq);
    for (let c = 0; c < campaigns.length; c++) expect(byProduct(store.unitsOf(`camp-${c}`))).toEqual(campaigns[c]);
    expect(store.stats().rowTextChars).toBeGreaterThan(1 << 21);
    // Edits: campaign strings changed for one campaign, a unit's text for another, then rows read in between.
    const edited = campaigns[3].map((u) => ({ ...u, context: 'new context 😀', campaign_name: 'Renamed' }));
    store.replaceCampaign('camp-3', edited);
    expect(byProduct(store.unitsOf('camp-3'))).toEqual(edited);
    const one = campaigns[5].map((u, i) => (i === 7 ? { ...u, name: 'Größere Mühle', category: null } : u));
    store.replaceCampaign('camp-5', one);
    expect(byProduct(store.unitsOf('camp-5'))).toEqual(one);
    expect(byProduct(store.unitsOf('camp-4'))).toEqual(campaigns[4]);
    const added = [make(99, 1, 'late'), make(99, 2, 'late')];
    store.replaceCampaign('camp-99', added);
    expect(byProduct(store.unitsOf('camp-99'))).toEqual(added);
    expect(store.unitsOf('camp-0').length).toBe(150);
    // Every live document reads back as one of the current rows; tombstoned ones read as null.
    const current = new Map([...campaigns.flat(), ...edited, ...one, ...added].map((u) => [u.product_id + '|' + u.campaign_id + '|' + u.context + '|' + u.name, u]));
    let liveRows = 0;
    for (let doc = 0; doc < store.docCount(); doc++) {
      const row = store.liveRow(doc);
      if (row === null) continue;
      liveRows++;
      expect(row).toEqual(current.get(row.product_id + '|' + row.campaign_id + '|' + row.context + '|' + row.name)!);
    }
    expect(liveRows).toBe(store.size());
    expect(store.docCount() - liveRows).toBe(150 + 1);
  });

  test('the rows are kept off the heap\'s object graph: 20,000 units add a few objects per campaign, not per unit', () => {
    const counts = () => {
      // Twice: garbage another test file left (run in the same process before this one) can survive one collection.
      Bun.gc(true);
      Bun.gc(true);
      const c = heapStats().objectTypeCounts as Record<string, number>;
      return { objects: c.Object ?? 0, strings: c.string ?? 0 };
    };
    const before = counts();
    const ix = createUnitIndex();
    // The input rows are made and dropped inside this call; only what the index keeps stays reachable.
    ((n: number) => {
      ix.build(Array.from({ length: n }, (_, i) => unit(`c${i % 100}`, `Product ${i} ${'model'.repeat(i % 4)}`, { description: `A thing number ${i} for people who need it`, keywordList: ['thing', `k${i % 50}`], category: `cat${i % 30}`, context: `campaign ${i % 100}` })));
    })(20_000);
    const after = counts();
    expect(ix.size()).toBe(20_000);
    // One row object per unit used to stay alive (20,000 objects and about 100,000 strings). What stays: the
    // vocabulary (a string per term, here mostly the product numbers) and a few per campaign and category.
    expect(after.objects - before.objects).toBeLessThan(1_000);
    expect(after.strings - before.strings - ix.stats().terms).toBeLessThan(2_000);
    const found = ix.search(ask('model thing'), all, 5);
    expect(found).toHaveLength(5);
    for (const { unit: u } of found) expect(u.description).toBe(`A thing number ${u.product_id.split(' ')[1]} for people who need it`);
  });
});

/** Postings a fresh build of the rows has (one per distinct term per unit). */
function createUnitIndexPostings(rows: UnitRow[]): number {
  const ix = createUnitIndex();
  ix.build(rows);
  return ix.stats().postings;
}
