import type { UnitRow } from './ad-index.repo';

/**
 * The rows of an index's documents (src/ads/unit-index-store.ts), kept out of the garbage collector's way.
 *
 * A row object per unit, each with its own strings, is about eight heap cells a unit: at 100,000 products
 * 850,000 cells that every full collection marks again, though none of them changes (measured in-process with
 * `Bun.gc(true)`: 92 ms with the index of 100,000 units holding their rows, 9 ms without). Here a unit's own text
 * (product id, name, description, url, keywords) is appended to large shared strings (chunks of about CHUNK_CHARS
 * characters) and the document keeps only offsets into them in a typed array. A joined string takes two bytes per
 * character as soon as one of its parts does, and a string read from SQLite with a single accented letter may be
 * such a part, so units whose text is all ASCII and the others fill separate chunks: one curly quote or "é" does
 * not double a megabyte of plain text. The
 * campaign's strings and the category are kept once per campaign and per category. A row object is made again
 * when it is asked for (the candidates a search hands to `accept` and returns, a campaign being replaced): five
 * substrings and one object, well under a microsecond.
 *
 * Documents are numbered by the store (dense, from 0); a number is written once (`set`) and read any number of
 * times. Text of tombstoned documents stays in its chunk until the store is rebuilt.
 */
const CHUNK_CHARS = 1 << 20;
/** Per document: its chunk, then the start of its text and the end of each of its five text fields. */
const W = 7;
/** A character outside ASCII: its unit's text goes to the wide chunks. */
const WIDE = /[^\u0000-\u007f]/;

type CampaignStrings = { campaign_id: string; context: string; campaign_name: string; advertiser_project_id: string };

export function createRowTable() {
  let cap = 0;
  let text = new Int32Array(0);
  let campaignRef = new Int32Array(0);
  let categoryRef = new Int32Array(0);
  /** Joined chunks; a chunk being filled holds '' here until it is joined (when full, first read or sealed). */
  const chunks: string[] = [];
  type Filling = { id: number; parts: string[]; len: number };
  /** The chunks being filled: one for ASCII text, one for the rest. */
  let narrow: Filling | null = null;
  let wide: Filling | null = null;
  const campaigns: CampaignStrings[] = [];
  /** Campaign id -> its current strings' index in `campaigns` (an edited campaign gets a new entry). */
  const campaignAt = new Map<string, number>();
  const categories: string[] = [];
  const categoryAt = new Map<string, number>();

  function flush(f: Filling): void {
    chunks[f.id] = f.parts.join('');
    if (narrow === f) narrow = null;
    else wide = null;
  }

  function filling(isWide: boolean): Filling {
    let f = isWide ? wide : narrow;
    if (f === null) {
      f = { id: chunks.length, parts: [], len: 0 };
      chunks.push('');
      if (isWide) wide = f;
      else narrow = f;
    }
    return f;
  }

  function campaignIndex(u: UnitRow): number {
    const at = campaignAt.get(u.campaign_id);
    const c = at === undefined ? undefined : campaigns[at];
    if (c && c.context === u.context && c.campaign_name === u.campaign_name && c.advertiser_project_id === u.advertiser_project_id) return at!;
    campaigns.push({ campaign_id: u.campaign_id, context: u.context, campaign_name: u.campaign_name, advertiser_project_id: u.advertiser_project_id });
    campaignAt.set(u.campaign_id, campaigns.length - 1);
    return campaigns.length - 1;
  }

  function categoryIndex(category: string | null): number {
    if (category === null) return -1;
    let at = categoryAt.get(category);
    if (at === undefined) {
      at = categories.length;
      categories.push(category);
      categoryAt.set(category, at);
    }
    return at;
  }

  /** Where document `doc`'s text is, joining its chunk first if it is still being filled. */
  function chunkOf(doc: number): string {
    const ch = text[doc * W];
    if (narrow !== null && narrow.id === ch) flush(narrow);
    else if (wide !== null && wide.id === ch) flush(wide);
    return chunks[ch];
  }

  return {
    /** Makes room for documents 0 to n - 1. */
    ensure(n: number): void {
      if (n <= cap) return;
      const next = Math.max(n, Math.ceil(cap * 1.5), 64);
      const t = new Int32Array(next * W);
      t.set(text);
      text = t;
      const c = new Int32Array(next);
      c.set(campaignRef);
      campaignRef = c;
      const g = new Int32Array(next);
      g.set(categoryRef);
      categoryRef = g;
      cap = next;
    },
    /** Records document `doc`'s row (ensure() first). */
    set(doc: number, u: UnitRow): void {
      const b = doc * W;
      const parts = [u.product_id, u.name, u.description, u.url, u.keywords];
      const f = filling(parts.some((p) => WIDE.test(p)));
      text[b] = f.id;
      let at = f.len;
      text[b + 1] = at;
      for (let i = 0; i < parts.length; i++) {
        f.parts.push(parts[i]);
        at += parts[i].length;
        text[b + 2 + i] = at;
      }
      f.len = at;
      campaignRef[doc] = campaignIndex(u);
      categoryRef[doc] = categoryIndex(u.category);
      if (f.len >= CHUNK_CHARS) flush(f);
    },
    /** Document `doc`'s row, as it was set (a new object each time). */
    get(doc: number, seq: number): UnitRow {
      const s = chunkOf(doc);
      const b = doc * W;
      const c = campaigns[campaignRef[doc]];
      const g = categoryRef[doc];
      return {
        seq,
        campaign_id: c.campaign_id,
        product_id: s.slice(text[b + 1], text[b + 2]),
        name: s.slice(text[b + 2], text[b + 3]),
        description: s.slice(text[b + 3], text[b + 4]),
        url: s.slice(text[b + 4], text[b + 5]),
        keywords: s.slice(text[b + 5], text[b + 6]),
        category: g < 0 ? null : categories[g],
        context: c.context,
        campaign_name: c.campaign_name,
        advertiser_project_id: c.advertiser_project_id,
      };
    },
    /**
     * Joins the text added since the last chunk into one string now (the end of a build), so that the strings it
     * came from are not kept until the chunk fills or is first read.
     */
    seal(): void {
      if (narrow !== null) flush(narrow);
      if (wide !== null) flush(wide);
    },
    /** Document `doc`'s product id alone. */
    productId(doc: number): string {
      const s = chunkOf(doc);
      return s.slice(text[doc * W + 1], text[doc * W + 2]);
    },
    /** Characters held (tombstoned documents' included) and typed-array bytes, for the index's stats. */
    size(): { chars: number; bytes: number } {
      let chars = (narrow?.len ?? 0) + (wide?.len ?? 0);
      for (const c of chunks) chars += c.length;
      return { chars, bytes: text.byteLength + campaignRef.byteLength + categoryRef.byteLength };
    },
  };
}
export type RowTable = ReturnType<typeof createRowTable>;
