/**
 * Builds the `retail` promotion catalog from the vocabulary in retail-types.ts: hundreds of invented brands
 * (one advertiser and one campaign each), grouped by department, each selling a few product types with long
 * marketplace-style titles. Pure function of the random source it is given.
 */
import { RETAIL_TYPES, type RetailType } from './retail-types';

export type CatalogProduct = {
  id: string; advertiser: string; campaign: string; name: string; description: string; url: string;
  keywords: string[]; category: string; campaign_context: string;
};
export type ProductLabel = { id: string; type: string; attributes: Record<string, string> };
export type Rng = () => number;

const PRODUCTS_PER_TYPE = 40;
const BRANDS_PER_TYPE = 10;
const BRANDS_PER_TYPE_IN_DEPT = 3.2;

const L = (s: string): string[] => s.split('|').map((x) => x.trim()).filter(Boolean);

// Department: category shown to retrievers, audiences for campaign lines, a shared description sentence each.
const DEPTS: Record<string, { category: string; audiences: string[]; sentences: string[]; kw: string[] }> = {
  apparel: { category: 'Clothing', audiences: L('commuters who want clothes that last|people who dress for the weather, not the catwalk|professionals building a work wardrobe|weekend adventurers and dog walkers|shoppers who care about fit in every size'), sentences: L('Machine washable.|Sized true to fit; see the size chart.|Free returns on every size.'), kw: L('clothing|apparel|fashion') },
  footwear: { category: 'Shoes', audiences: L('runners from first 5K to ultra|walkers and hikers who are on their feet all day|families buying shoes for every season|people with hard-to-fit feet'), sentences: L('Half sizes available.|Free exchanges on sizes.|Comfortable from the first wear.'), kw: L('shoes|footwear') },
  outdoor: { category: 'Sports & Outdoors', audiences: L('backpackers who count every gram|families camping at weekends|hikers heading into the hills in any weather|first-time campers building a kit'), sentences: L('Field-tested on long trips.|Backed by a lifetime repair program.|Packs light.'), kw: L('outdoor gear|camping|hiking') },
  kitchen: { category: 'Home & Kitchen', audiences: L('home cooks who cook every night|coffee lovers brewing at home|busy families who meal-prep on Sundays|people setting up their first kitchen'), sentences: L('Dishwasher-safe parts.|Two-year warranty.|Designed by chefs, tested in home kitchens.'), kw: L('kitchen|cooking|home') },
  home: { category: 'Home & Kitchen', audiences: L('renters making a small place feel like home|people who want better sleep|homeowners upgrading room by room|pet owners with busy houses'), sentences: L('Ships free.|100-night trial on selected items.|Easy to set up.'), kw: L('home|bedroom|home decor') },
  electronics: { category: 'Electronics', audiences: L('commuters who live with headphones on|students and remote workers|travellers who need their devices charged|people who want tech that just works'), sentences: L('18-month warranty.|Works with iOS and Android.|Certified safe charging.'), kw: L('electronics|tech|gadgets') },
  office: { category: 'Office Products', audiences: L('people working from home|small businesses kitting out an office|students and planners who love paper|teams that print, file and plan'), sentences: L('Bulk discounts for businesses.|Ships in recyclable packaging.|Built for daily use.'), kw: L('office|office supplies|work from home') },
  beauty: { category: 'Beauty & Personal Care', audiences: L('people with sensitive skin|anyone keeping a simple daily routine|families stocking the bathroom cabinet|people who like salon results at home'), sentences: L('Dermatologist tested.|Cruelty free.|Recyclable packaging.'), kw: L('beauty|personal care|skincare') },
  pets: { category: 'Pet Supplies', audiences: L('dog owners who walk in all weather|cat people with indoor cats|new puppy and kitten owners|households with more than one pet'), sentences: L('Vet approved.|Made for pets of every size.|Satisfaction guaranteed or your money back.'), kw: L('pets|pet supplies') },
  toys: { category: 'Toys & Games', audiences: L('parents looking for screen-free play|families who love game night|gift givers shopping for kids|grown-ups who still like to build'), sentences: L('Safety tested.|Makes a great gift.|Ages shown on the box.'), kw: L('toys|games|gifts') },
  sports: { category: 'Sports & Fitness', audiences: L('home-workout regulars|cyclists who commute and ride on weekends|club players and beginners|swimmers and triathletes'), sentences: L('Used by coaches and clubs.|Built to take a beating.|30-day returns.'), kw: L('sports|fitness|exercise') },
  garden: { category: 'Patio, Lawn & Garden', audiences: L('weekend gardeners|people growing their own vegetables|homeowners who keep the lawn tidy|balcony and patio growers'), sentences: L('Weather resistant.|Made for years of seasons.|Garden-tested.'), kw: L('garden|gardening|outdoor') },
  automotive: { category: 'Automotive', audiences: L('drivers who do their own car care|commuters who live in the car|road-trippers|rideshare and delivery drivers'), sentences: L('Fits most vehicles: check the fitment guide.|Tested in heat and cold.|Ships in 24 hours.'), kw: L('car|automotive|car accessories') },
  baby: { category: 'Baby', audiences: L('new and expecting parents|parents of toddlers on the go|grandparents buying for a new arrival|families with more than one little one'), sentences: L('Safety certified.|Easy to clean.|Loved by parents.'), kw: L('baby|baby gear|parenting') },
  tools: { category: 'Tools & Home Improvement', audiences: L('DIYers tackling weekend projects|tradespeople on the job site|first-time homeowners|makers and woodworkers'), sentences: L('Three-year tool warranty.|Job-site tough.|Part of a whole battery platform.'), kw: L('tools|diy|home improvement') },
};

// Generic words that appear in many titles across types (the hard cases: they alone must not carry a match).
const LINES = L('Pro|Classic|Smart|Main|Prime|Plus|Essential|Project|Plan|Track|Run|Film|Regular|Everyday|Max|Ultra|Go|Lite|Studio|Flex|Series 2|Elite');
const GENERIC_SENTENCES = L('Part of our Classic range.|The smart plan for every project.|Pro performance, everyday price.|A main-stage favourite since launch.|Keeps you on track, run after run.|Shot for our latest brand film.|Available in regular and plus sizes of packaging.|Our Essential line, made simple.');

const BRAND_HEADS = L('Trail|Brook|Ember|Hollow|Lumen|Cedar|Kestrel|Nimbus|Quarry|Alder|Bright|Copper|Drift|Fern|Glen|Harbor|Iron|Juniper|Kindle|Larch|Marlow|North|Orchard|Pebble|Quill|Rowan|Sable|Tarn|Umber|Vale|Willow|Yarrow|Zephyr|Aster|Birch|Cobalt|Dune|Fable|Granite|Heron|Indigo|Jasper|Lark|Moss|Nova|Opal|Pine|Ridge|Saffron|Thistle');
const BRAND_TAILS = L('vex|ora|ly|wick|stone|field|craft|loom|nest|hive|worth|mere|dale|haven|tide|fold|spire|wise|io|ex|ara|well|line|ward|mark|by|ette|works');

const slug = (s: string): string => s.toLowerCase().replace(/&/g, 'and').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const pad = (n: number, w: number): string => String(n).padStart(w, '0');
const plural = (label: string): string => label.endsWith('knife') ? label.slice(0, -2) + 'ves'
  : /(ss|x|ch|sh)$/.test(label) ? label + 'es' : label.endsWith('s') ? label : label + 's';

export function generateRetail(rnd: Rng): { products: CatalogProduct[]; labels: ProductLabel[] } {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const shuffle = <T>(a: T[]): T[] => {
    const b = a.slice();
    for (let i = b.length - 1; i > 0; i--) { const j = Math.floor(rnd() * (i + 1)); [b[i], b[j]] = [b[j], b[i]]; }
    return b;
  };
  const brandPool = shuffle(BRAND_HEADS.flatMap((h) => BRAND_TAILS.map((t) => h + t)));
  let nextBrand = 0;
  const products: CatalogProduct[] = [];
  const labels: ProductLabel[] = [];
  const names = new Set<string>();
  let advN = 0;
  for (const dept of Object.keys(DEPTS)) {
    const types = RETAIL_TYPES.filter((t) => t.dept === dept);
    const brandCount = Math.round(types.length * BRANDS_PER_TYPE_IN_DEPT);
    const brands = brandPool.slice(nextBrand, nextBrand + brandCount);
    nextBrand += brandCount;
    const slots: string[] = [];
    while (slots.length < types.length * BRANDS_PER_TYPE) slots.push(...shuffle(brands));
    const brandTypes = new Map<string, RetailType[]>();
    types.forEach((t, j) => slots.slice(j * BRANDS_PER_TYPE, (j + 1) * BRANDS_PER_TYPE).forEach((b) => {
      const list = brandTypes.get(b) ?? [];
      if (!list.includes(t)) list.push(t);
      brandTypes.set(b, list);
    }));
    const adv = new Map<string, { advertiser: string; campaign: string; context: string }>();
    for (const b of brands) {
      advN++;
      const sold = (brandTypes.get(b) ?? []).map((t) => plural(t.label));
      const what = sold.length > 1 ? `${sold.slice(0, -1).join(', ')} and ${sold[sold.length - 1]}` : sold[0];
      adv.set(b, { advertiser: `ra${pad(advN, 3)}`, campaign: `rc${pad(advN, 3)}`, context: `${b} campaign for ${what}, aimed at ${pick(DEPTS[dept].audiences)}.` });
    }
    types.forEach((t, j) => {
      for (let k = 0; k < PRODUCTS_PER_TYPE; k++) {
        const brand = slots[j * BRANDS_PER_TYPE + Math.floor(k / (PRODUCTS_PER_TYPE / BRANDS_PER_TYPE))];
        const { name, attributes, use } = makeTitle(t, brand, pick, shuffle, names);
        const id = `r${pad(products.length + 1, 5)}`;
        const a = adv.get(brand)!;
        const desc = shuffle(t.desc).slice(0, 2).map((s) => s.replace('{use}', use.toLowerCase()));
        if (rnd() < 0.5) desc.push(pick(DEPTS[dept].sentences));
        if (rnd() < 0.2) desc.push(pick(GENERIC_SENTENCES));
        const kw = [...shuffle(t.kw).slice(0, 3), pick(DEPTS[dept].kw)];
        if (rnd() < 0.25) kw.push(pick(LINES).toLowerCase());
        products.push({
          id, advertiser: a.advertiser, campaign: a.campaign, name, description: desc.join(' '),
          url: `https://${slug(brand)}.example/p/${slug(t.label)}-${id}`, keywords: [...new Set(kw)],
          category: DEPTS[dept].category, campaign_context: a.context,
        });
        labels.push({ id, type: t.key, attributes: { department: dept, brand, ...attributes } });
      }
    });
  }
  return { products, labels };
}

function makeTitle(
  t: RetailType, brand: string, pick: <T>(a: T[]) => T, shuffle: <T>(a: T[]) => T[], names: Set<string>,
): { name: string; attributes: Record<string, string>; use: string } {
  for (let attempt = 0; ; attempt++) {
    const attributes: Record<string, string> = {};
    let gender = '', size = '', colour = '';
    const pre: string[] = [];
    for (const [axis, values] of t.axes) {
      const v = pick(values);
      attributes[axis] = axis === 'gender' ? v.toLowerCase() : v;
      if (axis === 'gender') gender = v === 'Unisex' ? 'Unisex' : `${v}'s`;
      else if (axis === 'size' && (t.axes.some(([a]) => a === 'gender') || /^(XS|S|M|L|XL|XXL|\d+(\.\d)?)$/.test(v))) size = v;
      else if (axis === 'colour') colour = v;
      else pre.push(v);
    }
    const [f1, f2, f3] = shuffle(t.feats);
    const use = pick(t.uses);
    const line = pick([true, false, false]) ? pick(LINES) + ' ' : '';
    const noun = [gender, ...pre, t.noun].filter(Boolean).join(' ');
    const tail = [colour, size && `Size ${size}`].filter(Boolean).join(', ');
    const pattern = attempt > 3 ? 4 : pick([0, 1, 2, 3]);
    const bodies = [
      `${brand} ${line}${noun} ${f1} ${f2} ${f3}`,
      `${brand} ${line}${noun} with ${f1}, ${f2} and ${f3} ${use}`,
      `${brand} ${noun} - ${f1}, ${f2}, ${f3} - ${use}`,
      `${brand} ${line}${noun}, ${f1}, ${f2} ${use}`,
      `${brand} ${line}${noun} ${f1} ${f2} ${f3} ${use} Model ${attempt}`,
    ];
    const name = tail ? `${bodies[pattern]}, ${tail}` : bodies[pattern];
    // Marketplaces cap titles at 200 characters, as the product API does.
    if (name.length <= 200 && !names.has(name)) { names.add(name); return { name, attributes, use }; }
  }
}
