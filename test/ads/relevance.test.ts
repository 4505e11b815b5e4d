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
    // Each text holds the measure term beside it.
    const holds: Array<[string, string]> = [
      ['padded sleeve for a 14 inch laptop', '14inch'],
      ['14-inch laptop sleeve', '14inch'],
      ['Kindlely 12-Cup Drip Coffee Maker', '12cup'],
      ['12 cups of coffee', '12cup'],
      ['two person tent', '2person'],
      ['tent for 2 people', '2person'],
      ["Men's Trail Running Shoes, Navy, Size 10.5", 'size10.5'],
      ['205/55 R16 all season tyres', '55r16'],
      ['Larchcraft 205/55R16 Touring All Season Tire', '55r16'],
      ['1000+ pieces', '1000piec'],
      ['blackout curtains 52 x 84', '52x84'],
      ['raised bed 8 by 4 feet', '8x4'],
      ['Raised Garden Bed 8x4 ft', '8x4'],
      ['7 1/4 circular saw', '7-1/4'],
      ['7-1/4 Inch Corded Circular Saw', '7-1/4'],
      ['tennis racquet grip 2', 'grip2'],
      ['Grip 2 Tennis Racket', 'grip2'],
      ['bike helmet xl', 'sizexl'],
      ['party game for 4 people', '4person'],
      ['rc truck 1/10 scale', '1:10'],
      ['red plastic toolbox 16 in', '16inch'],
      ['75 Gallon Canister Filter', '75gallon'],
      ['canister filter 75 gal', '75gallon'],
      ['gel pens 24 pk', '24pack'],
      ['sun cream factor 50', 'spf50'],
      ['a 1 litre bottle', '1l'],
      ['Quillloom 1L Shampoo', '1l'],
      ['1.5L kettle', '1.5l'],
      ['25lbs', '25lb'],
      ['25 pound dumbbells', '25lb'],
      ['spray sunscreen spf 50', 'spf50'],
      ['vacuum bags, the type C ones', 'typec'],
      ['20% Dark Car Window Tint', '20pct'],
      ['35 percent tint', '35pct'],
      ['1:10 scale rc truck', '1:10'],
      ['harness, size large', 'sizel'],
      ['Dog Harness, Orange, Size L', 'sizel'],
      ['13" laptop sleeve', '13inch'],
      ["13'' laptop sleeve", '13inch'],
      ['13\u201d laptop sleeve', '13inch'],
      ['13in laptop sleeve', '13inch'],
    ];
    for (const [text, term] of holds) expect(terms(text)).toContain(term);
    // A number inside a code, before a function word or a determiner, is not a measure ("205/55R16 Touring" is not
    // "16 touring", "3 in 1" not inches, "what type of" no type).
    const lacks: Array<[string, string]> = [
      ['3 in 1 charger', '3inch'],
      ['I have 2 in the house', '2inch'],
      ['what type of bag', 'typeof'],
      ['205/55R16 Touring', '16tour'],
      ['3 in 1 charger', '3in'],
    ];
    for (const [text, term] of lacks) expect(terms(text)).not.toContain(term);
    expect(terms('Strategy Board Game, 2-6 Players')).toEqual(expect.arrayContaining(['2person', '4person', '6person']));
    expect(terms('Bike Helmet, Size XL').filter((t) => t === 'sizexl')).toHaveLength(1);
    expect(terms('10 by the way')).toEqual([]);
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
