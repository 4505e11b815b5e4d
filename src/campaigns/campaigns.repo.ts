import type { Database } from 'bun:sqlite';

export type CampaignStatus = 'active' | 'paused_user' | 'paused_system' | 'archived';
export type PauseReason = 'budget_exhausted' | 'funds_short' | 'end_date_passed' | 'domain_unverified';

export type CampaignRow = {
  id: string;
  project_id: string;
  name: string;
  context: string;
  base_cpc_micros: number;
  budget_micros: number;
  budget_type: 'daily' | 'total';
  start_at: number | null;
  end_at: number | null;
  status: CampaignStatus;
  pause_reason: PauseReason | null;
  spent_total_micros: number;
  targeting: Targeting;
  /** JSON array of categories, for targeting 'categories'. */
  target_categories: string;
  created_at: number;
  updated_at: number;
};

/** Which products a campaign serves: its listed ones, all of the advertiser's, or those of some categories. */
export type Targeting = 'products' | 'all_products' | 'categories';

/** A rule-based campaign's products: live products of its advertiser that match its targeting. */
const MATCHES = `p.project_id = c.project_id AND p.deleted_at IS NULL
  AND (c.targeting = 'all_products' OR (c.targeting = 'categories' AND p.category IN (SELECT value FROM json_each(c.target_categories))))`;

export type HistoryRow = { id: number; event: string; actor: 'operator' | 'system'; detail: string | null; created_at: number };

/** A campaign with everything the matcher and the sweeper need to judge it, in one query. */
export type CampaignState = CampaignRow & {
  wallet_available_micros: number;
  spent_today_micros: number;
  domain_status: string;
  advertiser_name: string;
};

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function createCampaignsRepo(db: Database) {
  const insert = db.query(
    `INSERT INTO campaigns (id, project_id, name, context, base_cpc_micros, budget_micros, budget_type, start_at, end_at, targeting, target_categories, created_at, updated_at)
     VALUES ($id, $projectId, $name, $context, $baseCpc, $budget, $budgetType, $startAt, $endAt, $targeting, $targetCategories, $now, $now)`,
  );
  const byId = db.query('SELECT * FROM campaigns WHERE id = ? AND project_id = ?');
  const byIdAny = db.query('SELECT * FROM campaigns WHERE id = ?');
  const ofProject = db.query('SELECT * FROM campaigns WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ?');
  const productIds = db.query('SELECT product_id FROM campaign_products WHERE campaign_id = ? ORDER BY seq');
  const addHistory = db.query('INSERT INTO campaign_history (campaign_id, event, actor, detail, created_at) VALUES (?, ?, ?, ?, ?)');
  const history = db.query('SELECT id, event, actor, detail, created_at FROM campaign_history WHERE campaign_id = ? ORDER BY id DESC LIMIT ?');
  const setStatus = db.query('UPDATE campaigns SET status = ?, pause_reason = ?, updated_at = ? WHERE id = ?');
  const STATE_SELECT = `SELECT c.*, coalesce(w.balance_micros, 0) AS wallet_available_micros,
            coalesce(d.spent_micros, 0) AS spent_today_micros, p.domain_status, p.name AS advertiser_name
     FROM campaigns c JOIN projects p ON p.id = c.project_id
     LEFT JOIN wallets w ON w.project_id = c.project_id
     LEFT JOIN campaign_daily_spend d ON d.campaign_id = c.id AND d.day = $day`;
  const allStates = db.query(`${STATE_SELECT} WHERE c.status IN ('active', 'paused_system')`);
  // One query per case: "$project IS NULL OR c.project_id = $project" made SQLite scan every serving campaign.
  const projectStates = db.query(`${STATE_SELECT} WHERE c.project_id = $project AND c.status IN ('active', 'paused_system')`);
  // Key-set pages in id order; "+c.status" keeps SQLite on the primary key (no sort of every campaign per page).
  const pageStates = db.query(`${STATE_SELECT} WHERE c.id > $after AND +c.status IN ('active', 'paused_system') ORDER BY c.id LIMIT $limit`);
  const insertUnit = db.query('INSERT INTO campaign_products (campaign_id, product_id) VALUES (?, ?) ON CONFLICT DO NOTHING');
  const deleteUnits = db.query('DELETE FROM campaign_products WHERE campaign_id = ?');
  const fillByRule = db.query(
    `INSERT INTO campaign_products (campaign_id, product_id)
     SELECT c.id, p.id FROM campaigns c JOIN products p ON ${MATCHES} WHERE c.id = ? ORDER BY p.seq ON CONFLICT DO NOTHING`,
  );
  const campaignsOfProducts = db.query('SELECT DISTINCT campaign_id FROM campaign_products WHERE product_id IN (SELECT value FROM json_each(?))');
  const dropDeleted = db.query(
    `DELETE FROM campaign_products WHERE product_id IN (SELECT p.id FROM products p WHERE p.id IN (SELECT value FROM json_each(?)) AND p.deleted_at IS NOT NULL)`,
  );
  const dropUnmatched = db.query(
    `DELETE FROM campaign_products WHERE seq IN (
       SELECT cp.seq FROM campaign_products cp JOIN campaigns c ON c.id = cp.campaign_id
       WHERE cp.product_id IN (SELECT value FROM json_each($ids)) AND c.project_id = $project AND c.targeting != 'products' AND c.status != 'archived'
         AND NOT EXISTS (SELECT 1 FROM products p WHERE p.id = cp.product_id AND ${MATCHES}))`,
  );
  const addMatched = db.query(
    `INSERT INTO campaign_products (campaign_id, product_id)
     SELECT c.id, p.id FROM campaigns c JOIN products p ON ${MATCHES}
     WHERE c.project_id = $project AND c.targeting != 'products' AND c.status != 'archived' AND p.id IN (SELECT value FROM json_each($ids))
     ORDER BY p.seq ON CONFLICT DO NOTHING`,
  );
  const campaignIdsOf = (ids: string) => (campaignsOfProducts.all(ids) as Array<{ campaign_id: string }>).map((r) => r.campaign_id);

  /** Replaces a campaign's products (its ad units). */
  const replaceProducts = (campaignId: string, ids: string[]): void => {
    deleteUnits.run(campaignId);
    for (const id of ids) insertUnit.run(campaignId, id);
  };

  return {
    insert(
      c: { id: string; projectId: string; name: string; context: string; baseCpc: number; budget: number; budgetType: string; startAt: number | null; endAt: number | null; targeting: Targeting; targetCategories: string; now: number },
      products: string[],
    ) {
      insert.run(c);
      if (c.targeting === 'products') replaceProducts(c.id, products);
      else {
        deleteUnits.run(c.id);
        fillByRule.run(c.id);
      }
      const detail = c.targeting === 'products' ? { product_ids: products } : { targeting: c.targeting, categories: JSON.parse(c.targetCategories) };
      addHistory.run(c.id, 'created', 'operator', JSON.stringify({ status: 'paused_user', ...detail }), c.now);
    },
    get: (projectId: string, id: string) => byId.get(id, projectId) as CampaignRow | null,
    getAny: (id: string) => byIdAny.get(id) as CampaignRow | null,
    list: (projectId: string, limit: number) => ofProject.all(projectId, limit) as CampaignRow[],
    productIds: (id: string) => (productIds.all(id) as Array<{ product_id: string }>).map((r) => r.product_id),
    update(id: string, fields: Record<string, unknown>, now: number): void {
      const names = Object.keys(fields);
      if (names.length === 0) return;
      const sets = names.map((n) => `${n} = $${n}`).join(', ');
      db.query(`UPDATE campaigns SET ${sets}, updated_at = $now WHERE id = $id`).run({ ...(fields as any), now, id });
    },
    replaceProducts,
    /** Replaces a rule-based campaign's units with every product its targeting matches now. */
    fillByRule(campaignId: string): void {
      deleteUnits.run(campaignId);
      fillByRule.run(campaignId);
    },
    /**
     * After these products of the project changed (created, edited, deleted): deleted ones leave every
     * campaign, rule-based campaigns gain or lose them by their category. Returns the campaigns whose units
     * held or now hold any of them (their index entries must be re-read).
     */
    reconcileProducts(projectId: string, productIds: string[]): string[] {
      const ids = JSON.stringify(productIds);
      const touched = new Set(campaignIdsOf(ids));
      dropDeleted.run(ids);
      dropUnmatched.run({ ids, project: projectId });
      addMatched.run({ ids, project: projectId });
      for (const id of campaignIdsOf(ids)) touched.add(id);
      return [...touched];
    },
    /** Runs `fn` in one IMMEDIATE transaction (a campaign write and its index update commit together). */
    atomically: <T>(fn: () => T): T => db.transaction(fn).immediate(),
    setStatus: (id: string, status: CampaignStatus, reason: PauseReason | null, now: number) => void setStatus.run(status, reason, now, id),
    addHistory: (id: string, event: string, actor: 'operator' | 'system', detail: unknown, now: number) =>
      void addHistory.run(id, event, actor, detail === undefined ? null : JSON.stringify(detail), now),
    history: (id: string, limit: number) => history.all(id, limit) as HistoryRow[],
    /** Active and system-paused campaigns with wallet, today's spend and domain status. */
    states: (nowMs: number, projectId: string | null = null) =>
      (projectId === null ? allStates.all({ day: utcDay(nowMs) }) : projectStates.all({ day: utcDay(nowMs), project: projectId })) as CampaignState[],
    /** The same, at most `limit` campaigns with an id after `afterId` ('' for the first), in id order. */
    statesPage: (nowMs: number, afterId: string, limit: number) => pageStates.all({ day: utcDay(nowMs), after: afterId, limit }) as CampaignState[],
  };
}
export type CampaignsRepo = ReturnType<typeof createCampaignsRepo>;
