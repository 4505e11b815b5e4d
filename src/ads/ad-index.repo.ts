import type { Database } from 'bun:sqlite';

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

// A deleted product never serves, even before its campaign_products rows are gone.
const UNIT_SELECT = `SELECT cp.seq, cp.campaign_id, cp.product_id, p.name, p.description, p.url, p.keywords, p.category,
       c.context, c.name AS campaign_name, c.project_id AS advertiser_project_id
  FROM campaign_products cp JOIN products p ON p.id = cp.product_id AND p.deleted_at IS NULL JOIN campaigns c ON c.id = cp.campaign_id`;

/**
 * Ad units as stored: the rows the in-memory index (unit-index.ts) is built from, and the record of which
 * campaigns changed since the index last looked.
 */
export function createAdIndexRepo(db: Database) {
  const unitsOfCampaign = db.query(`${UNIT_SELECT} WHERE cp.campaign_id = ?`);

  const allUnits = db.query(`${UNIT_SELECT} ORDER BY cp.seq`);
  /** Campaigns whose units changed since the last `takeSynced()` (read by the in-memory matcher index). */
  const synced = new Set<string>();

  return {
    /** A campaign's units changed (products, context): the in-memory index re-reads it. */
    syncCampaign(campaignId: string): void {
      synced.add(campaignId);
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
  };
}
export type AdIndexRepo = ReturnType<typeof createAdIndexRepo>;
