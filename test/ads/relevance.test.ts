import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { UnitRow } from '../../src/ads/ad-index.repo';
import { queryWeights, toRelevance } from '../../src/ads/matcher';
import { productTypeTerms, stem, terms } from '../../src/ads/text';
import { createUnitIndex } from '../../src/ads/unit-index';
import { DEFAULT_ADS } from '../../src/config/defaults';
import { scoreConversation } from '../../src/ads/models';
import { maxOneWordRelevance, readCatalog } from '../../scripts/promotion-eval-lib';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, CATALOG, publisher } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

const FLOOR = DEFAULT_ADS.relevanceFloor;

let nextSeq = 1;
function unit(product: string, fields: { description?: string; keywords?: string[]; category?: string; context?: string; campaign?: string } = {}): UnitRow {
  const campaign = fields.campaign ?? `c-${product}`;
  return {
    seq: nextSeq++, campaign_id: campaign, product_id: product, name: product, description: fields.description ?? '', url: `https://shop.example/${nextSeq}`,
    keywords: JSON.stringify(fields.keywords ?? []), category: fields.category ?? null, context: fields.context ?? '', campaign_name: campaign, advertiser_project_id: `adv-${campaign}`,
  };
}

/** A retail-style catalog: long titles with variant words ("Regular & Petite", "Pro", "Smart") beside the product's type. */
function retailCatalog(): UnitRow[] {
  const rows = [
    unit("Women's Classic Stretch Pantsuit, Regular & Petite, Navy", { description: 'A two-piece suit with a tailored jacket and straight trousers for the office.', keywords: ['womens suit', 'office wear'], category: 'womens_suits' }),
    unit('Roadgrip All-Season Radial Car Tire for Passenger Cars 205/55R16', { description: 'A quiet touring tyre with long tread life.', keywords: ['car tires', 'all season tires'], category: 'tires' }),
    unit('Oakline Extendable Dining Buffet with Wine Rack, Walnut', { description: 'A sideboard with drawers and a wine rack for the dining room.', keywords: ['sideboard', 'dining furniture'], category: 'furniture' }),
    unit('Privashade Frosted Window Film, Static Cling, 17.5 x 78 in', { description: 'Privacy film for bathroom and office windows.', keywords: ['window film', 'privacy film'], category: 'home_improvement' }),
    unit('Lumen 55-Inch 4K Smart TV with HDR (2024 Model)', { description: 'A 4K television with built-in streaming apps.', keywords: ['4k tv', 'smart tv'], category: 'televisions' }),
    unit('Plugwise Smart Plug Pro, 2-Pack', { description: 'Wi-Fi outlets you can switch from your phone.', keywords: ['smart home', 'wifi plug'], category: 'smart_home' }),
    unit('Kanbanix Boards', { description: 'Visual task boards that help small teams plan projects, track deadlines and share progress.', keywords: ['project management', 'kanban', 'task tracking'], category: 'productivity_software', context: 'teams planning projects' }),
  ];
  // Filler products so that word weights look like a catalog's, not like seven documents'.
  const kinds = ['lamp', 'kettle', 'backpack', 'blender', 'mattress', 'jacket', 'drill', 'monitor', 'notebook', 'candle'];
  for (let i = 0; i < 200; i++) {
    const kind = kinds[i % kinds.length];
    rows.push(unit(`Brand${i} ${['Compact', 'Deluxe', 'Classic', 'Travel'][i % 4]} ${kind[0].toUpperCase()}${kind.slice(1)} ${i}`, { description: `A ${kind} for everyday use.`, keywords: [`${kind}s`], category: `${kind}s` }));
  }
  return rows;
}

function ranked(index: ReturnType<typeof createUnitIndex>, question: string) {
  return index.search(queryWeights({ current: question, earlier: [] }), () => true, 5).map((r) => ({ name: r.unit.name, relevance: toRelevance(r.score) }));
}

describe('relevance: morphology and product type', () => {
  test('stemming merges inflections (manage / managing / management; project / projects)', () => {
    expect(new Set(terms('manage managing managed management manager')).size).toBe(1);
    expect(terms('projects')).toEqual(terms('project'));
    expect(terms('running shoes')).toEqual(terms('run shoe'));
    // Porter2 keeps apart what the original Porter merges.
    expect(stem('general')).not.toBe(stem('generous'));
    expect(stem('news')).not.toBe(stem('new'));
  });

  test("a product's type comes from its title head, category and keyword phrases, not from variant words", () => {
    const pantsuit = productTypeTerms("Women's Classic Stretch Pantsuit, Regular & Petite, Navy", ['womens suit'], 'womens_suits');
    expect(pantsuit).toContain(stem('pantsuit'));
    expect(pantsuit).not.toContain(stem('regular'));
    expect(pantsuit).not.toContain(stem('petite'));
    expect(productTypeTerms('Roadgrip All-Season Radial Car Tire for Passenger Cars 205/55R16', [], 'tires')).toEqual([stem('tire')]);
    expect(productTypeTerms('Lumen 55-Inch 4K Smart TV with HDR (2024 Model)', [], null)).toEqual(['tv']);
    // One-word keywords are topics, not types.
    expect(productTypeTerms('Plugwise Smart Plug Pro, 2-Pack', ['smart', 'pro'], null)).not.toContain('pro');
  });

  test('a shared generic word alone does not reach the floor', () => {
    const index = createUnitIndex();
    index.build(retailCatalog());
    for (const question of ['explain the regular expression \\d+', 'is a pro licence worth it for a student', 'what is the main course at a classic french dinner']) {
      for (const r of ranked(index, question)) expect(r.relevance).toBeLessThan(FLOOR);
    }
  });

  test('a word that is a product type in another sense ("film": a movie, window film) is stopped by the intent gate, not by relevance', () => {
    const index = createUnitIndex();
    index.build(retailCatalog());
    const question = 'what is the main film of the festival';
    expect(ranked(index, question)[0].name).toStartWith('Privashade Frosted Window Film');
    expect(scoreConversation(question, []).intent).toBeLessThan(DEFAULT_ADS.intentThreshold);
  });

  test('on the labelled catalogs, no single word that is not a product\'s type reaches the floor, whatever the word', () => {
    // Every word of the retail and services catalogs asked alone (maxOneWordRelevance in scripts/promotion-eval-lib.ts).
    for (const name of ['retail', 'services']) {
      const worst = maxOneWordRelevance(readCatalog(name));
      expect(worst.relevance).toBeGreaterThan(0.1); // the probe does find one-word matches
      expect(worst.relevance).toBeLessThan(FLOOR);
    }
  });

  test('the product type carries a match, and outranks a product that only shares a generic word', () => {
    const index = createUnitIndex();
    index.build(retailCatalog());
    const suit = ranked(index, 'I need a pantsuit for the office');
    expect(suit[0].name).toStartWith("Women's Classic Stretch Pantsuit");
    expect(suit[0].relevance).toBeGreaterThanOrEqual(FLOOR);
    const tv = ranked(index, 'which smart tv should I buy for a small living room');
    expect(tv[0].name).toStartWith('Lumen 55-Inch 4K Smart TV');
    expect(tv[0].relevance).toBeGreaterThanOrEqual(FLOOR);
    const tires = ranked(index, 'new tires for my car before winter');
    expect(tires[0].name).toStartWith('Roadgrip');
    expect(tires[0].relevance).toBeGreaterThanOrEqual(FLOOR);
  });

  test('a number with its unit is one term ("14 inch", "12-cup", "two person", "size 10.5"); a number alone is none', () => {
    expect(terms('padded sleeve for a 14 inch laptop')).toContain('14inch');
    expect(terms('14-inch laptop sleeve')).toContain('14inch');
    expect(terms('Kindlely 12-Cup Drip Coffee Maker')).toContain('12cup');
    expect(terms('12 cups of coffee')).toContain('12cup');
    expect(terms('two person tent')).toContain('2person');
    expect(terms('tent for 2 people')).toContain('2person');
    expect(terms("Men's Trail Running Shoes, Navy, Size 10.5")).toContain('size10.5');
    expect(terms('205/55 R16 all season tyres')).toContain('55r16');
    expect(terms('Larchcraft 205/55R16 Touring All Season Tire')).toContain('55r16');
    expect(terms('1000+ pieces')).toContain('1000piec');
    for (const inches of ['13" laptop sleeve', "13'' laptop sleeve", '13\u201d laptop sleeve', '13in laptop sleeve']) expect(terms(inches)).toContain('13inch');
    expect(terms('3 in 1 charger')).not.toContain('3inch');
    // Dimensions, fractions, model-like numbers and bare XS / XL sizes.
    expect(terms('blackout curtains 52 x 84')).toContain('52x84');
    expect(terms('raised bed 8 by 4 feet')).toContain('8x4');
    expect(terms('Raised Garden Bed 8x4 ft')).toContain('8x4');
    expect(terms('7 1/4 circular saw')).toContain('7-1/4');
    expect(terms('7-1/4 Inch Corded Circular Saw')).toContain('7-1/4');
    expect(terms('tennis racquet grip 2')).toContain('grip2');
    expect(terms('Grip 2 Tennis Racket')).toContain('grip2');
    expect(terms('bike helmet xl')).toContain('sizexl');
    expect(terms('Bike Helmet, Size XL').filter((t) => t === 'sizexl')).toHaveLength(1);
    expect(terms('10 by the way')).toEqual([]);
    // Ranges ("2-6 players" suits 4), players and people as one unit, "1/10 scale", "16 in", "gal", "pk", "factor 50".
    expect(terms('Strategy Board Game, 2-6 Players')).toEqual(expect.arrayContaining(['2person', '4person', '6person']));
    expect(terms('party game for 4 people')).toContain('4person');
    expect(terms('rc truck 1/10 scale')).toContain('1:10');
    expect(terms('red plastic toolbox 16 in')).toContain('16inch');
    expect(terms('I have 2 in the house')).not.toContain('2inch');
    expect(terms('75 Gallon Canister Filter')).toContain('75gallon');
    expect(terms('canister filter 75 gal')).toContain('75gallon');
    expect(terms('gel pens 24 pk')).toContain('24pack');
    expect(terms('sun cream factor 50')).toContain('spf50');
    expect(terms('a 1 litre bottle')).toContain('1l');
    expect(terms('Quillloom 1L Shampoo')).toContain('1l');
    expect(terms('1.5L kettle')).toContain('1.5l');
    expect(terms('25lbs')).toContain('25lb');
    expect(terms('25 pound dumbbells')).toContain('25lb');
    expect(terms('spray sunscreen spf 50')).toContain('spf50');
    expect(terms('vacuum bags, the type C ones')).toContain('typec');
    expect(terms('what type of bag')).not.toContain('typeof');
    expect(terms('20% Dark Car Window Tint')).toContain('20pct');
    expect(terms('35 percent tint')).toContain('35pct');
    expect(terms('1:10 scale rc truck')).toContain('1:10');
    expect(terms('harness, size large')).toContain('sizel');
    expect(terms('Dog Harness, Orange, Size L')).toContain('sizel');
    // The number inside a code is not a measure ("205/55R16 Touring" is not "16 touring"), nor is one before a function word.
    expect(terms('205/55R16 Touring')).not.toContain('16tour');
    expect(terms('3 in 1 charger')).not.toContain('3in');
    expect(terms('my 2 kids were born in 2024').filter((t) => /^\d+$/.test(t))).toEqual([]);
  });

  test('British spellings and words meet the American ones a product page uses (tyres / tire, colour / color, nappies / diapers)', () => {
    for (const [uk, us] of [['tyres', 'tires'], ['colour', 'color'], ['grey', 'gray'], ['moisturiser', 'moisturizer'], ['nappies', 'diapers'], ['pushchair', 'stroller'], ['aluminium', 'aluminum']])
      expect(terms(uk)).toEqual(terms(us));
    // Words with another shopping sense are left alone: a torch may be a blowtorch, a cot a camping bed.
    expect(terms('torch')).not.toEqual(terms('flashlight'));
    expect(terms('cot')).not.toEqual(terms('crib'));
    const index = createUnitIndex();
    index.build(retailCatalog());
    expect(ranked(index, 'new tyres for my car before winter')[0]?.name).toStartWith('Roadgrip');
  });

  test('a very long turn is matched by its two ends only, so a pasted megabyte costs what 4,000 characters do', () => {
    const filler = 'lorem ipsum dolor sit amet blender kettle toaster '.repeat(20_000);
    const weights = queryWeights({ current: `padded sleeve for a 14 inch laptop ${filler} which one would you pick?`, earlier: [] });
    expect(weights.has('14inch')).toBe(true);
    expect(weights.has(stem('pick'))).toBe(true);
    expect(weights.has(stem('toaster'))).toBe(true); // the filler at both ends
    const started = performance.now();
    for (let i = 0; i < 20; i++) queryWeights({ current: `${i} ${filler}`, earlier: [] });
    // 20 turns of a megabyte each: well under the 2-3 s the whole text would take to tokenize.
    expect(performance.now() - started).toBeLessThan(500);
  });

  test('measures tell products of one type apart: a 14 inch sleeve from a 16 inch one, 1000 pieces from 2000', () => {
    const rows = retailCatalog();
    rows.push(
      unit('Fernwise 16 Inch Laptop Sleeve Case, Padded, Grey', { keywords: ['laptop sleeve'], category: 'laptop_sleeves' }),
      unit('Umberwick 14 Inch Laptop Sleeve Case, Padded, White', { keywords: ['laptop sleeve'], category: 'laptop_sleeves' }),
      unit('Marlowdale 2000 Piece Art Jigsaw Puzzle, Thick Pieces', { keywords: ['jigsaw puzzle'], category: 'puzzles' }),
      unit('Larchloom 1000 Piece Landscape Jigsaw Puzzle, Thick Pieces', { keywords: ['jigsaw puzzle'], category: 'puzzles' }),
      unit('Opalline 1 Person Backpacking Tent, Lightweight', { keywords: ['backpacking tent'], category: 'tents' }),
      unit('Jasperspire 2 Person Backpacking Tent, Lightweight', { keywords: ['backpacking tent'], category: 'tents' }),
    );
    const index = createUnitIndex();
    index.build(rows);
    expect(ranked(index, 'padded sleeve for a 14 inch laptop')[0].name).toStartWith('Umberwick 14 Inch');
    expect(ranked(index, 'padded sleeve for a 16-inch laptop')[0].name).toStartWith('Fernwise 16 Inch');
    expect(ranked(index, '1000 piece jigsaw for my nan')[0].name).toStartWith('Larchloom 1000 Piece');
    expect(ranked(index, 'lightweight two person tent for wild camping')[0].name).toStartWith('Jasperspire 2 Person');
  });

  test('the seed question "What tools can help me manage my projects?" reaches Kanbanix Boards in the index', () => {
    const index = createUnitIndex();
    index.build(retailCatalog());
    const top = ranked(index, 'What tools can help me manage my projects?');
    expect(top[0].name).toBe('Kanbanix Boards');
    expect(top[0].relevance).toBeGreaterThanOrEqual(FLOOR);
  });
});

describe('relevance through POST /v1/promotions/search', () => {
  let upstream: FakeUpstream;
  let t: TestApp;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    t = await createTestApp({ upstreamUrl: upstream.baseUrl });
    await advertiser(t, { name: 'Kanbanix', catalog: CATALOG, context: 'teams planning projects' });
  });
  afterAll(async () => {
    t.close();
    await upstream.close();
  });

  test('the seed example: "What tools can help me manage my projects?" gets Kanbanix Boards above the floor', async () => {
    const pub = await publisher(t, 'Pub Relevance');
    const res = await t.call('POST', '/v1/promotions/search', { headers: pub.headers, body: { query: 'What tools can help me manage my projects?', limit: 3 } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: Array<{ product: { name: string }; relevance: number }> };
    expect(body.data[0]?.product.name).toBe('Kanbanix Boards');
    expect(body.data[0].relevance).toBeGreaterThanOrEqual(FLOOR);
  });
});

describe('relevance: needs named by a product the catalog does not carry', () => {
  function servicesCatalog(): UnitRow[] {
    const rows = [
      unit('Tunnelbright VPN', { description: 'Connects in a second on public Wi-Fi and keeps no activity logs.', keywords: ['vpn', 'privacy', 'public wifi'], category: 'security' }),
      unit('Taxcompass', { description: 'Guided self-assessment filed straight to the tax office.', keywords: ['tax return', 'self assessment', 'filing'], category: 'finance' }),
      unit('Sendmellow Creator', { description: 'Paid newsletters for writers.', keywords: ['paid newsletter', 'creators', 'substack alternative'], category: 'marketing' }),
    ];
    const kinds = ['lamp', 'kettle', 'backpack', 'blender', 'mattress', 'jacket', 'drill', 'monitor', 'notebook', 'candle'];
    for (let i = 0; i < 200; i++) rows.push(unit(`Brand${i} ${kinds[i % kinds.length]}`, { description: `A ${kinds[i % kinds.length]} for everyday use.`, category: 'home' }));
    return rows;
  }

  test('"alternative", "instead" and the like are not product words: they no longer match a product whose keywords say "X alternative"', () => {
    expect(terms('turbotax alternative instead of a replacement')).toEqual(terms('turbotax'));
    const index = createUnitIndex();
    index.build(servicesCatalog());
    expect(ranked(index, 'hubspot alternative').map((r) => r.name)).not.toContain('Sendmellow Creator');
  });

  test('an unknown compound word is read through its longest indexed part ("nordvpn" -> vpn, "turbotax" -> tax), below the whole word', () => {
    const index = createUnitIndex();
    index.build(servicesCatalog());
    expect(ranked(index, 'nordvpn alternative')[0]?.name).toBe('Tunnelbright VPN');
    expect(ranked(index, 'turbotax alternative')[0]?.name).toBe('Taxcompass');
    const viaPart = ranked(index, 'nordvpn')[0].relevance;
    const direct = ranked(index, 'vpn')[0].relevance;
    expect(viaPart).toBeLessThan(direct);
    // Words the index knows are never cut, and words of no indexed part add nothing.
    expect(ranked(index, 'xyzzyq plugh')).toEqual([]);
  });
});
