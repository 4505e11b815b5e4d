import type { Awaitable, SqlStore } from '../store/sql-store';

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
const UNITS_OF_CAMPAIGN = `${UNIT_SELECT} WHERE cp.campaign_id = $campaign`;
const ALL_UNITS = `${UNIT_SELECT} ORDER BY cp.seq`;
const UNITS_AFTER = `${UNIT_SELECT} WHERE cp.seq > $after ORDER BY cp.seq LIMIT $limit`;

/** Units per read of the full build on PostgreSQL: no result holds the whole catalog at once. */
export const UNIT_PAGE_ROWS = 2000;

/**
 * Ad units as stored: the rows the in-memory index (unit-index.ts) is built from, and the record of which
 * campaigns changed since the index last looked.
 */
export function createAdIndexRepo(store: SqlStore, opts: { pageRows?: number } = {}) {
  const unitsOfCampaign = store.stmt<UnitRow>(UNITS_OF_CAMPAIGN);
  const unitsAfter = store.stmt<UnitRow>(UNITS_AFTER);
  const pageRows = opts.pageRows ?? UNIT_PAGE_ROWS;
  const updatedSince = store.stmt<{ id: string }>('SELECT id FROM campaigns WHERE updated_at >= ?');
  /** Campaigns whose units changed since the last `takeSynced()` (read by the in-memory matcher index). */
  const synced = new Set<string>();

  /** PostgreSQL: the units in pages by seq (keyset), each page one short read. */
  async function* unitPages(): AsyncIterable<UnitRow> {
    let after = 0;
    for (;;) {
      const page = await unitsAfter.all({ after, limit: pageRows });
      for (const row of page) yield row;
      if (page.length < pageRows) return;
      after = page[page.length - 1].seq;
    }
  }

  return {
    /** A campaign's units changed (products, context): the in-memory index re-reads it. */
    /** Campaigns changed at or after `sinceMs` (the change feed's catch-up after missed notifications). */
    campaignsUpdatedSince: async (sinceMs: number): Promise<string[]> => (await updatedSince.all([sinceMs])).map((r) => r.id),
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
    /**
     * Every ad unit, for the matcher's full build at start-up: streamed row by row from one statement on
     * SQLite (synchronous), read in keyset pages of `pageRows` on PostgreSQL.
     */
    allUnits: (): Iterable<UnitRow> | AsyncIterable<UnitRow> =>
      store.sqlite ? (store.sqlite.query(ALL_UNITS).iterate() as IterableIterator<UnitRow>) : unitPages(),
    /** The current ad units of one campaign. */
    unitsOfCampaign: (campaignId: string): Awaitable<UnitRow[]> => unitsOfCampaign.all({ campaign: campaignId }),
  };
}
export type AdIndexRepo = ReturnType<typeof createAdIndexRepo>;
