/**
 * Text handling for matching: tokenizing, English stemming (Porter2), stopwords and a small lexicon of
 * shopping synonyms. Kept deliberately simple and fast: it runs on every monetized request.
 */
// wink-porter2-stemmer ships no type declarations: one function, lower-case word in, stem out.
// @ts-expect-error -- untyped CommonJS module (module.exports = stem)
import porter2Untyped from 'wink-porter2-stemmer';
import { headAndTail } from '../platform/text-ends';
import { createTextMemo } from '../platform/text-memo';

const porter2 = porter2Untyped as (word: string) => string;
const STOPWORDS = new Set(
  ('a about above after again against all also am an and any are as at be because been before being below between both but by can ' +
    'could did do does doing down during each few for from further get got had has have having he her here hers herself him himself his how ' +
    'i if in into is it its itself just let like me more most my myself no nor not now of off on once only or other our ours ourselves out ' +
    'over own please same she should so some such than thank thanks that the their theirs them themselves then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with would you your yours yourself ' +
    'yourselves hi hello hey ok okay yes yeah really maybe much many lot lots thing things something anything way ways want wanted need needs ' +
    'needed know think tell help use using used make making made one two three new good great best better well also still even every ' +
    'give go going look looking find finding try trying recommend recommendation recommendations suggest suggestion suggestions option options ' +
    'kind sort type day days time times year years people person someone anyone question answer sure right ' +
    // Words that say a product is wanted in place of another, never what it is: in "turbotax alternative" the
    // need is the named product's, and "alternative" alone matched any product whose keywords say "X alternative".
    'alternative alternatives instead replacement substitute equivalent similar else'
  ).split(' '),
);

/**
 * British spellings and words a product page spells the American way, as the stems the American spelling gives
 * ("tyres" -> tire, "colour" -> color, "moisturiser" -> moistur, "nappies" -> diaper, "pushchair" -> stroller), so
 * that both sides of a match meet at full weight. Only words with no other common shopping sense: not "torch" (a
 * blowtorch too), "cot" (a camping bed), "dummy", "jumper", "trainers" or "pants".
 */
const SPELLINGS: Record<string, string> = {
  colour: 'color', grey: 'gray', tyre: 'tire', aluminium: 'aluminum', centr: 'center', metr: 'meter', litr: 'liter',
  fibr: 'fiber', favourit: 'favorit', catalogu: 'catalog', jewelleri: 'jewelri', cosi: 'cozi', pyjama: 'pajama',
  organis: 'organ', moisturis: 'moistur', sanitis: 'sanit', mould: 'mold', nappi: 'diaper', pram: 'stroller',
  pushchair: 'stroller', windscreen: 'windshield', mum: 'mom',
};

const STEM_CACHE_MAX = 50_000;
const stemCache = new Map<string, string>();

/**
 * English Porter2 (Snowball) stem of a lower-case word, from wink-porter2-stemmer: "manage", "managing",
 * "management" and "manager" all become "manag"; "projects" becomes "project". Porter2 rather than the
 * original Porter: it keeps apart words Porter merges ("general"/"generous", "news"/"new", "gas"/"ga").
 * Memoized (a bounded cache, cleared when full): the stemmer costs about 2 us a word, a lookup far less.
 */
export function stem(word: string): string {
  if (word.length <= 2) return word;
  // Plurals of abbreviations, which Porter2 leaves alone: "tvs", "cds", "pcs".
  if (word.length <= 5 && /^[b-df-hj-np-tv-xz]+s$/.test(word)) return word.slice(0, -1);
  let s = stemCache.get(word);
  if (s === undefined) {
    if (stemCache.size >= STEM_CACHE_MAX) stemCache.clear();
    s = porter2(word) || word;
    s = SPELLINGS[s] ?? s;
    stemCache.set(word, s);
  }
  return s;
}

const WORD = /[a-z0-9][a-z0-9'+#-]*/g;

/**
 * Measures: a number and the unit or word after it ("14 inch", '14"', "14in", "12-cup", "1000+ pieces", "5.8 qt",
 * "two person", "1.5L"), a size, SPF or type ("size 10.5", "SPF 50", "type C"), a percentage ("20%", "35 percent") and a scale
 * ("1:10"). A number alone says nothing ("my 2 kids", "in 2024"), but with its unit it is often what tells products
 * of one type apart: a 14 inch sleeve from a 16 inch one, a 1000 piece puzzle from a 2000 piece one.
 */
const MEASURE = new RegExp(
  [
    // "52 x 84", "8 by 4", "52x84": dimensions (before the number-and-unit reading, which would take "52 x")
    String.raw`(?<![a-z\d./])(?<w>\d+(?:\.\d+)?)\s*(?:x|by|\u00d7|\*)\s*(?<h>\d+(?:\.\d+)?)(?![\d.])`,
    // "2-6 players", "3 to 8 people": a range, every whole number in it
    String.raw`(?<![a-z\d.:/])(?<lo>\d{1,2})\s*(?:-|\u2013|to)\s*(?<hi>\d{1,2})\s*(?<runit>[a-z][a-z0-9']*)`,
    // "1/10 scale": a scale, as "1:10"
    String.raw`(?<![\d./:])(?<sa>\d{1,2})\/(?<sb>\d{1,3})\s*scale\b`,
    // "16 in" with no number or determiner after it ("3 in 1", "2 in the house" are not inches)
    String.raw`(?<![a-z\d.:])(?<inches>\d+(?:\.\d+)?)\s+in\b(?!\s*(?:\d|(?:the|a|an|my|your|our|his|her|their|this|that|these|those|each|every|total|all|one|stock|case)\b))`,
    // "7 1/4", "7-1/4": whole and fraction
    String.raw`(?<![a-z\d./])(?<whole>\d+)(?:\s+|-)(?<num>\d)\/(?<den>\d{1,2})(?!\d)`,
    // "14 inch", "12-cup", "1000+ pieces", "two person", "25lbs"
    String.raw`(?<![a-z\d.:])(?<n>\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\+?(?<sep>\s*-\s*|\s+|)(?<unit>[a-z][a-z0-9']*)`,
    // "size 10.5", "SPF 50", "type C", "grip 2", "series 7"
    String.raw`\b(?<key>size|spf|factor|type|grip|gen|series|model|mk)\s+(?<value>\d+(?:\.\d+)?|xxs|xs|xl|xxl|xxxl|small|medium|large|[a-z])\b`,
    // "20%", "35 percent"
    String.raw`(?<![a-z\d.])(?<pct>\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)`,
    // "1:10"
    String.raw`(?<![\d.:])(?<a>\d{1,2}):(?<b>\d{1,3})(?![\d:])`,
    // '13"', "13''"
    String.raw`(?<![a-z\d.])(?<inch>\d+(?:\.\d+)?)\s?(?:"|''|\u201d|\u2033)`,
    // "XL" alone
    String.raw`(?<!size\s)\b(?<bare>xxs|xs|xl|xxl|xxxl)\b`,
  ].join('|'),
  'g',
);
const MAY_MEASURE = /\d|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|size|spf|type|xs|xl/;
const NUMBER_WORDS: Record<string, string> = { one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9', ten: '10', eleven: '11', twelve: '12' };
const SIZE_WORDS: Record<string, string> = { small: 's', medium: 'm', large: 'l' };
/** Units written in several ways, each as one spelling; and stopwords that can still follow a number ("2 person"). */
const UNITS: Record<string, string> = {};
for (const [unit, spellings] of Object.entries({
  l: 'l litre liter litres liters ltr', ml: 'ml millilitre milliliter millilitres milliliters', lb: 'lb lbs pound pounds',
  kg: 'kg kgs kilo kilos kilogram kilograms', g: 'g gram grams', oz: 'oz ounce ounces', ft: 'ft foot feet',
  inch: 'inch inches', mm: 'mm millimetre millimeter millimetres millimeters', cm: 'cm centimetre centimeter centimetres centimeters',
  qt: 'qt quart quarts', v: 'v volt volts', w: 'w watt watts', piec: 'piece pieces pc pcs', person: 'person persons people player players',
  gallon: 'gallon gallons gal gals', pack: 'pack packs pk pkt',
  day: 'day days', year: 'year years', pct: 'percent pct',
})) for (const spelling of spellings.split(' ')) UNITS[spelling] = unit;

/** A unit word without its possessive or trailing apostrophes ("inch's" -> inch, "players'" -> players). */
const bareUnit = (word: string) => word.replace(/'s$/, '').replace(/'+$/, '');

/**
 * The term a measure's unit word gives ("inches" -> inch, "people" -> person, "cups" -> cup), or null for a word
 * that is no unit (a stopword or a single letter that UNITS does not know: "3 in 1", "10 by the way").
 */
function unitTerm(word: string): string | null {
  const unit = bareUnit(word);
  const known = UNITS[unit];
  if (known !== undefined) return known;
  return unit.length < 2 || STOPWORDS.has(unit) ? null : stem(unit);
}

/** Appends the measure terms of lower-cased text: "14inch", "1000piec", "2person", "1.5l", "size10.5", "spf50", "20pct", "1:10". */
function measureTerms(lower: string, out: string[]): void {
  for (const m of lower.matchAll(MEASURE)) {
    const g = m.groups!;
    if (g.lo !== undefined) {
      const lo = Number(g.lo), hi = Number(g.hi);
      const unit = unitTerm(g.runit);
      if (hi <= lo || hi - lo > 12 || unit === null) continue;
      for (let k = lo; k <= hi; k++) out.push(`${k}${unit}`);
    } else if (g.sa !== undefined) out.push(`${g.sa}:${g.sb}`);
    else if (g.inches !== undefined) out.push(`${g.inches}inch`);
    else if (g.w !== undefined) {
      const dims = `${g.w}x${g.h}`;
      // Written as one word ("52x84"), the word is the term already.
      if (dims !== stem(m[0])) out.push(dims);
    }
    else if (g.whole !== undefined) out.push(`${g.whole}-${g.num}/${g.den}`);
    else if (g.key !== undefined) {
      const value = g.value;
      if (g.key !== 'size' && g.key !== 'type' && !/^\d/.test(value)) continue;
      if (g.key === 'type' && value.length > 1 && !/^\d/.test(value)) continue;
      out.push(`${g.key === 'factor' ? 'spf' : g.key}${SIZE_WORDS[value] ?? value}`);
    } else if (g.pct !== undefined) out.push(`${g.pct}pct`);
    else if (g.a !== undefined) out.push(`${g.a}:${g.b}`);
    else if (g.inch !== undefined) out.push(`${g.inch}inch`);
    else if (g.bare !== undefined) out.push(`size${g.bare}`);
    else {
      const number = NUMBER_WORDS[g.n] ?? g.n;
      if (g.sep === '') {
        // Written together ("25lbs", "1.5l", "14in"): a term only for a known unit the word itself does not already
        // spell ("14in" is inches; "3 in 1", apart, is not).
        const unit = bareUnit(g.unit);
        const known = unit === 'in' ? 'inch' : UNITS[unit];
        if (known === undefined || NUMBER_WORDS[g.n] !== undefined) continue;
        if (!g.n.includes('.') && `${number}${known}` === stem(m[0].replace(/\+/, ''))) continue;
        out.push(`${number}${known}`);
      } else {
        const unit = unitTerm(g.unit);
        if (unit !== null) out.push(`${number}${unit}`);
      }
    }
  }
}

/**
 * Lower-cased words without stopwords, numbers-only tokens or one-letter tokens, each stemmed; then the measures
 * (MEASURE), each one term.
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  const lower = text.toLowerCase();
  for (const match of lower.matchAll(WORD)) {
    const word = match[0].replace(/'s$/, '').replace(/['+#-]+$/, '');
    if (word.length < 2 || STOPWORDS.has(word) || /^\d+$/.test(word)) continue;
    for (const part of word.split('-')) if (part.length >= 2 && !STOPWORDS.has(part)) out.push(stem(part));
  }
  if (MAY_MEASURE.test(lower)) measureTerms(lower, out);
  return out;
}

/**
 * `terms()` of conversation text, memoized: chat clients resend the whole history every turn, so the earlier
 * turns of a conversation are tokenized and stemmed once, not once per request. Bounded by characters (see
 * text-memo.ts: texts up to 2,048 characters, at most a million characters in all). Callers must not modify the
 * array they get. Product text is not cached here: the index build reads each product once.
 */
const queryMemo = createTextMemo<readonly string[]>({ maxChars: 1_000_000, maxTextChars: 2048 });
/**
 * A turn longer than this is matched by its first and last QUERY_END_CHARS characters (headAndTail, as the
 * classifiers read a turn): tokenizing a megabyte of pasted text for matching would hold the event loop for
 * hundreds of milliseconds. The sensitivity lexicon reads a turn whole.
 */
export const QUERY_END_CHARS = 2000;
export function queryTerms(text: string): readonly string[] {
  if (text.length > 2 * QUERY_END_CHARS) return terms(headAndTail(text, 2 * QUERY_END_CHARS));
  return queryMemo.get(text, terms);
}

/**
 * Shopping vocabulary that users and product pages spell differently. Each group is symmetric: a query
 * word expands to the other words of its group (at a lower weight than the word itself).
 */
const SYNONYM_GROUPS: string[][] = [
  ['sneaker', 'trainer', 'shoe', 'footwear', 'runner'],
  ['laptop', 'notebook', 'ultrabook'],
  ['phone', 'smartphone', 'mobile', 'handset'],
  ['headphone', 'earphone', 'earbud', 'headset', 'earpiece'],
  ['speaker', 'soundbar'],
  ['kanban', 'board', 'taskboard'],
  ['todo', 'task', 'checklist'],
  ['project', 'initiative'],
  ['crm', 'pipeline', 'lead', 'prospect'],
  ['invoice', 'invoicing', 'billing', 'bill'],
  ['bookkeeping', 'accounting', 'ledger', 'accountant'],
  ['tax', 'taxes', 'vat'],
  ['budget', 'budgeting', 'spending', 'expense'],
  ['saving', 'savings', 'save'],
  ['vpn', 'privacy', 'anonymous', 'encrypted', 'encryption'],
  ['password', 'passphrase', 'credential', 'login'],
  ['hosting', 'host', 'server', 'vps', 'hosted'],
  ['website', 'site', 'webpage', 'blog'],
  ['domain', 'dns'],
  ['email', 'newsletter', 'mailing', 'campaign'],
  ['note', 'notebook', 'journal', 'notetaking'],
  ['camera', 'dslr', 'mirrorless', 'camcorder'],
  ['lens', 'lense', 'zoom', 'telephoto'],
  ['photo', 'photograph', 'photography', 'picture'],
  ['video', 'footage', 'film', 'clip'],
  ['edit', 'editor', 'editing'],
  ['coffee', 'espresso', 'latte', 'cappuccino', 'brew'],
  ['grinder', 'mill'],
  ['kettle', 'pour-over', 'pourover'],
  ['pan', 'skillet', 'wok', 'cookware', 'pot'],
  ['knife', 'knives', 'cutlery', 'blade'],
  ['meal', 'dinner', 'recipe', 'cooking', 'cook'],
  ['dog', 'puppy', 'canine'],
  ['cat', 'kitten', 'feline'],
  ['pet', 'dog', 'cat'],
  ['workout', 'exercise', 'fitness', 'training', 'gym'],
  ['dumbbell', 'weight', 'kettlebell', 'barbell'],
  ['yoga', 'pilates', 'stretching'],
  ['bike', 'bicycle', 'cycling', 'cyclist', 'ebike'],
  ['hike', 'hiking', 'trek', 'trekking', 'backpacking', 'trail'],
  ['tent', 'camping', 'campsite', 'shelter'],
  ['backpack', 'rucksack', 'pack', 'daypack'],
  ['flight', 'airfare', 'fly', 'plane', 'airline'],
  ['hotel', 'accommodation', 'lodging', 'stay', 'hostel'],
  ['trip', 'travel', 'vacation', 'holiday', 'getaway'],
  ['language', 'spanish', 'french', 'german', 'italian', 'japanese', 'vocabulary', 'fluent', 'fluency'],
  ['course', 'class', 'lesson', 'tutorial', 'bootcamp', 'curriculum'],
  ['coding', 'programming', 'developer', 'code', 'software'],
  ['garden', 'gardening', 'plant', 'seed', 'seedling'],
  ['lawn', 'grass', 'mower'],
  ['chair', 'seat', 'seating'],
  ['desk', 'workstation', 'table'],
  ['ergonomic', 'posture', 'lumbar', 'back'],
  ['mattress', 'bed', 'sleep', 'sleeping'],
  ['pillow', 'cushion'],
  ['game', 'boardgame', 'tabletop'],
  ['skincare', 'moisturizer', 'serum', 'cleanser', 'sunscreen', 'lotion'],
  ['print', 'printer', 'printing', 'filament', '3d'],
  ['music', 'audio', 'sound'],
  ['watch', 'smartwatch', 'wearable', 'tracker'],
  ['tv', 'television', 'monitor', 'display', 'screen'],
  ['keyboard', 'keycap', 'mechanical'],
  ['mouse', 'trackpad'],
  ['team', 'collaboration', 'collaborate', 'coworker', 'colleague'],
  ['meeting', 'call', 'conference', 'videoconference'],
  ['schedule', 'calendar', 'appointment', 'booking'],
  ['cheap', 'affordable', 'budget', 'inexpensive', 'value'],
  ['beginner', 'novice', 'starter', 'newbie'],
  ['kid', 'child', 'children', 'family'],
  ['insurance', 'coverage', 'policy'],
  ['loan', 'mortgage', 'credit', 'lending'],
  ['invest', 'investing', 'investment', 'stock', 'portfolio', 'etf'],
];

const SYNONYMS = new Map<string, Set<string>>();
for (const group of SYNONYM_GROUPS) {
  const stems = group.map(stem);
  for (const s of stems) {
    let set = SYNONYMS.get(s);
    if (!set) SYNONYMS.set(s, (set = new Set()));
    for (const other of stems) if (other !== s) set.add(other);
  }
}

export function synonymsOf(term: string): Iterable<string> {
  return SYNONYMS.get(term) ?? [];
}

// ------------------------------------------------------------------------------------ product type

/** Where a product title stops naming the product and starts listing variants, specs or uses. */
const TITLE_CUT = /\s[-–—|]\s|[,([{:;]|\s(?:with|for|by|from|featuring|including|includes|in|w\/)\s/;
/** Trailing title words that are not the product's type: sizes, colours, pack, fit and model-tier words ("Plug Pro" is a plug). */
const NOT_A_TYPE = new Set(
  ('pack set of pcs pc piece pieces count ct size sizes xs xl xxl small medium large mini regular petite tall plus slim ' +
    'black white grey gray silver gold blue navy red green pink purple beige brown tan ivory cream clear multi multicolor ' +
    'edition version model series gen generation new men mens women womens kids unisex ' +
    'pro plus max ultra lite mini premium deluxe classic original smart').split(' '),
);

/** The last word of a phrase that can name a product type (no number, code, size or colour), stemmed. */
function headOf(phrase: string): string | null {
  const words = phrase.toLowerCase().match(WORD) ?? [];
  for (let i = words.length - 1; i >= 0; i--) {
    const w = words[i].replace(/'s$/, '').replace(/['+#-]+$/, '');
    const last = w.split('-').pop() ?? w;
    if (last.length < 2 || /\d/.test(last) || STOPWORDS.has(last) || NOT_A_TYPE.has(last)) continue;
    return stem(last);
  }
  return null;
}

/**
 * The product's type, as stemmed head nouns: the head of the title (its last naming word before variants,
 * specs or "for ..." uses: "Women's Classic Pantsuit, Regular & Petite" -> pantsuit), of the category's
 * last level ("running_shoes" -> shoe) and of each keyword phrase of two or more words ("project
 * management" -> manag). A one-word keyword is a topic, not a type ("kanban", "espresso", "pro").
 * The matcher gives less to a product whose match has none of these words.
 */
export function productTypeTerms(name: string, keywords: string[], category: string | null): string[] {
  const out = new Set<string>();
  const title = headOf(name.split(TITLE_CUT)[0] ?? name);
  if (title) out.add(title);
  if (category) {
    const level = category.split(/>|\/|»/).pop() ?? category;
    const head = headOf(level.replace(/_/g, ' '));
    if (head) out.add(head);
  }
  for (const k of keywords) {
    if (!/\S\s+\S/.test(k.trim())) continue;
    const head = headOf(k);
    if (head) out.add(head);
  }
  return [...out];
}
