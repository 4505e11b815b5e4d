import type { Database } from 'bun:sqlite';
import { terms } from './text';

/** One ad unit (a product inside a campaign) as the matcher sees it. */
export type UnitRow = {
  seq: number;
  campaign_id: string;
  product_id: string;
  name: string;
  description: string;
  url: string;
  keywords: string;
  category: string | null;
  context: string;
  campaign_name: string;
  advertiser_project_id: string;
};

const UNIT_SELECT = `SELECT cp.seq, cp.campaign_id, cp.product_id, p.name, p.description, p.url, p.keywords, p.category,
       c.context, c.name AS campaign_name, c.project_id AS advertiser_project_id
  FROM campaign_products cp JOIN products p ON p.id = cp.product_id JOIN campaigns c ON c.id = cp.campaign_id`;

/** Column weights for bm25(): name, description, keywords, category, context. */
export const COLUMN_WEIGHTS = [3, 1, 2.5, 1.5, 1] as const;

const stemmed = (text: string) => terms(text).join(' ');

/**
 * The full-text index of ad units. Text goes in already tokenized and stemmed by `terms()`, so the same
 * function prepares documents and queries, and the vocabulary table gives document frequencies directly.
 */
export function createAdIndexRepo(db: Database) {
  const unitsBySeq = db.query(`${UNIT_SELECT} WHERE cp.seq IN (SELECT value FROM json_each(?))`);
  const unitsOfCampaign = db.query(`${UNIT_SELECT} WHERE cp.campaign_id = ?`);
  const insert = db.query('INSERT INTO ad_units_fts (rowid, name, description, keywords, category, context) VALUES (?, ?, ?, ?, ?, ?)');
  const remove = db.query('DELETE FROM ad_units_fts WHERE rowid = ?');
  const docFrequency = db.query('SELECT doc FROM ad_units_vocab WHERE term = ?');
  const count = db.query('SELECT count(*) AS n FROM campaign_products');
  const search = db.query(
    `SELECT rowid AS seq, bm25(ad_units_fts, ${COLUMN_WEIGHTS.join(', ')}) AS score
     FROM ad_units_fts WHERE ad_units_fts MATCH ? ORDER BY score LIMIT ?`,
  );

  const allUnits = db.query(`${UNIT_SELECT} ORDER BY cp.seq`);
  /** Campaigns whose units changed since the last `takeSynced()` (read by the in-memory matcher index). */
  const synced = new Set<string>();

  function indexUnit(u: UnitRow): void {
    const keywords = (JSON.parse(u.keywords) as string[]).join(' ');
    insert.run(u.seq, stemmed(u.name), stemmed(u.description), stemmed(keywords), stemmed((u.category ?? '').replace(/_/g, ' ')), stemmed(u.context));
  }

  return {
    /** Removes the given units from the index and (re-)adds every current unit of the campaign. */
    syncCampaign(campaignId: string, removedSeqs: number[]): void {
      synced.add(campaignId);
      for (const seq of removedSeqs) remove.run(seq);
      for (const unit of unitsOfCampaign.all(campaignId) as UnitRow[]) {
        if (!removedSeqs.includes(unit.seq)) remove.run(unit.seq);
        indexUnit(unit);
      }
    },
    /**
     * The campaigns passed to `syncCampaign` since the last call, and forgets them. Read after the change
     * committed (the matcher does it on `invalidate()` and before ranking), so a rolled-back change only
     * costs a re-read of the campaign as it is.
     */
    takeSynced(): string[] {
      const ids = [...synced];
      synced.clear();
      return ids;
    },
    /** Every ad unit, streamed row by row (the matcher's full build at start-up). */
    allUnits: () => allUnits.iterate() as IterableIterator<UnitRow>,
    /** The current ad units of one campaign. */
    unitsOfCampaign: (campaignId: string) => unitsOfCampaign.all(campaignId) as UnitRow[],
    units: (seqs: number[]) => unitsBySeq.all(JSON.stringify(seqs)) as UnitRow[],
    search: (matchExpression: string, limit: number) => search.all(matchExpression, limit) as Array<{ seq: number; score: number }>,
    docFrequency: (term: string) => (docFrequency.get(term) as { doc: number } | null)?.doc ?? 0,
    unitCount: () => (count.get() as { n: number }).n,
  };
}
export type AdIndexRepo = ReturnType<typeof createAdIndexRepo>;
