import type { Awaitable, SqlStore, Tx } from '../store/sql-store';
import { jsonStrings } from '../products/sql-lists';

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
const matches = (kind: Tx['kind']) => `p.project_id = c.project_id AND p.deleted_at IS NULL
  AND (c.targeting = 'all_products' OR (c.targeting = 'categories' AND p.category IN (${jsonStrings(kind, 'c.target_categories')})))`;

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

const INSERT = `INSERT INTO campaigns (id, project_id, name, context, base_cpc_micros, budget_micros, budget_type, start_at, end_at, targeting, target_categories, created_at, updated_at)
  VALUES ($id, $projectId, $name, $context, $baseCpc, $budget, $budgetType, $startAt, $endAt, $targeting, $targetCategories, $now, $now)`;
const BY_ID = 'SELECT * FROM campaigns WHERE id = ? AND project_id = ?';
const BY_ID_ANY = 'SELECT * FROM campaigns WHERE id = ?';
const OF_PROJECT = 'SELECT * FROM campaigns WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ?';
const PRODUCT_IDS = 'SELECT product_id FROM campaign_products WHERE campaign_id = ? ORDER BY seq';
const ADD_HISTORY = 'INSERT INTO campaign_history (campaign_id, event, actor, detail, created_at) VALUES (?, ?, ?, ?, ?)';
const HISTORY = 'SELECT id, event, actor, detail, created_at FROM campaign_history WHERE campaign_id = ? ORDER BY id DESC LIMIT ?';
const SET_STATUS = 'UPDATE campaigns SET status = ?, pause_reason = ?, updated_at = ? WHERE id = ?';
// A system judgement applies only to the campaign as it was judged: an operator's change (or another
// instance's judgement) made since the read wins.
const JUDGED_STATUS = `UPDATE campaigns SET status = $status, pause_reason = $reason, updated_at = $now
  WHERE id = $id AND status = $was AND COALESCE(pause_reason, '') = COALESCE($wasReason, '')`;
// Available money: the balance less the holds of answers in flight (always 0 in SQLite, where holds live in memory).
const STATE_SELECT = `SELECT c.*, COALESCE(w.balance_micros - w.held_micros, 0) AS wallet_available_micros,
    COALESCE(d.spent_micros, 0) AS spent_today_micros, p.domain_status, p.name AS advertiser_name
  FROM campaigns c JOIN projects p ON p.id = c.project_id
  LEFT JOIN wallets w ON w.project_id = c.project_id
  LEFT JOIN campaign_daily_spend d ON d.campaign_id = c.id AND d.day = $day`;
const ALL_STATES = `${STATE_SELECT} WHERE c.status IN ('active', 'paused_system')`;
// One query per case: "$project IS NULL OR c.project_id = $project" made SQLite scan every serving campaign.
const PROJECT_STATES = `${STATE_SELECT} WHERE c.project_id = $project AND c.status IN ('active', 'paused_system')`;
// Key-set pages in id order. On SQLite "+c.status" keeps the planner on the primary key (no sort of every
// campaign per page); PostgreSQL has no unary plus for text and plans this on its own.
const pageStates = (kind: Tx['kind']) =>
  `${STATE_SELECT} WHERE c.id > $after AND ${kind === 'sqlite' ? '+c.status' : 'c.status'} IN ('active', 'paused_system') ORDER BY c.id LIMIT $limit`;
const INSERT_UNIT = 'INSERT INTO campaign_products (campaign_id, product_id) VALUES (?, ?) ON CONFLICT (campaign_id, product_id) DO NOTHING';
const DELETE_UNITS = 'DELETE FROM campaign_products WHERE campaign_id = ?';
const fillByRuleSql = (kind: Tx['kind']) => `INSERT INTO campaign_products (campaign_id, product_id)
  SELECT c.id, p.id FROM campaigns c JOIN products p ON ${matches(kind)} WHERE c.id = ? ORDER BY p.seq
  ON CONFLICT (campaign_id, product_id) DO NOTHING`;
const campaignsOfProductsSql = (kind: Tx['kind']) =>
  `SELECT DISTINCT campaign_id FROM campaign_products WHERE product_id IN (${jsonStrings(kind, '?')})`;
const dropDeletedSql = (kind: Tx['kind']) => `DELETE FROM campaign_products WHERE product_id IN (
  SELECT p.id FROM products p WHERE p.id IN (${jsonStrings(kind, '?')}) AND p.deleted_at IS NOT NULL)`;
const dropUnmatchedSql = (kind: Tx['kind']) => `DELETE FROM campaign_products WHERE seq IN (
  SELECT cp.seq FROM campaign_products cp JOIN campaigns c ON c.id = cp.campaign_id
  WHERE cp.product_id IN (${jsonStrings(kind, '$ids')}) AND c.project_id = $project AND c.targeting != 'products' AND c.status != 'archived'
    AND NOT EXISTS (SELECT 1 FROM products p WHERE p.id = cp.product_id AND ${matches(kind)}))`;
const addMatchedSql = (kind: Tx['kind']) => `INSERT INTO campaign_products (campaign_id, product_id)
  SELECT c.id, p.id FROM campaigns c JOIN products p ON ${matches(kind)}
  WHERE c.project_id = $project AND c.targeting != 'products' AND c.status != 'archived' AND p.id IN (${jsonStrings(kind, '$ids')})
  ORDER BY p.seq ON CONFLICT (campaign_id, product_id) DO NOTHING`;

/** The columns `update` may set (names are put into the SQL text, so only these). */
const UPDATABLE = new Set(['name', 'context', 'base_cpc_micros', 'budget_micros', 'budget_type', 'start_at', 'end_at', 'targeting', 'target_categories']);

/** The campaign statements on one handle: the store, or an open transaction. */
function bind(q: Tx) {
  const insert = q.stmt(INSERT);
  const byId = q.stmt<CampaignRow>(BY_ID);
  const byIdAny = q.stmt<CampaignRow>(BY_ID_ANY);
  const ofProject = q.stmt<CampaignRow>(OF_PROJECT);
  const productIds = q.stmt<{ product_id: string }>(PRODUCT_IDS);
  const addHistory = q.stmt(ADD_HISTORY);
  const history = q.stmt<HistoryRow>(HISTORY);
  const setStatus = q.stmt(SET_STATUS);
  const judgedStatus = q.stmt(JUDGED_STATUS);
  const allStates = q.stmt<CampaignState>(ALL_STATES);
  const projectStates = q.stmt<CampaignState>(PROJECT_STATES);
  const pageStatesStmt = q.stmt<CampaignState>(pageStates(q.kind));
  const insertUnit = q.stmt(INSERT_UNIT);
  const deleteUnits = q.stmt(DELETE_UNITS);
  const fillByRule = q.stmt(fillByRuleSql(q.kind));
  const campaignsOfProducts = q.stmt<{ campaign_id: string }>(campaignsOfProductsSql(q.kind));
  const dropDeleted = q.stmt(dropDeletedSql(q.kind));
  const dropUnmatched = q.stmt(dropUnmatchedSql(q.kind));
  const addMatched = q.stmt(addMatchedSql(q.kind));
  const campaignIdsOf = async (ids: string) => (await campaignsOfProducts.all([ids])).map((r) => r.campaign_id);

  /** Replaces a campaign's products (its ad units). */
  const replaceProducts = async (campaignId: string, ids: string[]): Promise<void> => {
    await deleteUnits.run([campaignId]);
    for (const id of ids) await insertUnit.run([campaignId, id]);
  };

  return {
    /** The handle these statements run on (the store, or the open transaction). */
    tx: q,
    async insert(
      c: { id: string; projectId: string; name: string; context: string; baseCpc: number; budget: number; budgetType: string; startAt: number | null; endAt: number | null; targeting: Targeting; targetCategories: string; now: number },
      products: string[],
    ): Promise<void> {
      await insert.run(c);
      if (c.targeting === 'products') await replaceProducts(c.id, products);
      else {
        await deleteUnits.run([c.id]);
        await fillByRule.run([c.id]);
      }
      const detail = c.targeting === 'products' ? { product_ids: products } : { targeting: c.targeting, categories: JSON.parse(c.targetCategories) };
      await addHistory.run([c.id, 'created', 'operator', JSON.stringify({ status: 'paused_user', ...detail }), c.now]);
    },
    get: (projectId: string, id: string): Awaitable<CampaignRow | null> => byId.get([id, projectId]),
    getAny: (id: string): Awaitable<CampaignRow | null> => byIdAny.get([id]),
    list: (projectId: string, limit: number): Awaitable<CampaignRow[]> => ofProject.all([projectId, limit]),
    productIds: async (id: string): Promise<string[]> => (await productIds.all([id])).map((r) => r.product_id),
    async update(id: string, fields: Record<string, unknown>, now: number): Promise<void> {
      const names = Object.keys(fields);
      if (names.length === 0) return;
      for (const n of names) if (!UPDATABLE.has(n)) throw new Error(`campaigns: ${n} is not an updatable column`);
      const sets = names.map((n) => `${n} = $${n}`).join(', ');
      await q.stmt(`UPDATE campaigns SET ${sets}, updated_at = $now WHERE id = $id`).run({ ...fields, now, id });
    },
    replaceProducts,
    /** Replaces a rule-based campaign's units with every product its targeting matches now. */
    async fillByRule(campaignId: string): Promise<void> {
      await deleteUnits.run([campaignId]);
      await fillByRule.run([campaignId]);
    },
    /**
     * After these products of the project changed (created, edited, deleted): deleted ones leave every
     * campaign, rule-based campaigns gain or lose them by their category. Returns the campaigns whose units
     * held or now hold any of them (their index entries must be re-read).
     */
    async reconcileProducts(projectId: string, productIds: string[]): Promise<string[]> {
      const ids = JSON.stringify(productIds);
      const touched = new Set(await campaignIdsOf(ids));
      await dropDeleted.run([ids]);
      await dropUnmatched.run({ ids, project: projectId });
      await addMatched.run({ ids, project: projectId });
      for (const id of await campaignIdsOf(ids)) touched.add(id);
      return [...touched];
    },
    setStatus: async (id: string, status: CampaignStatus, reason: PauseReason | null, now: number): Promise<void> => void (await setStatus.run([status, reason, now, id])),
    /** Moves a campaign from the status and reason it was judged in to new ones; false when it is no longer in them. */
    judgedStatus: async (id: string, was: { status: CampaignStatus; reason: PauseReason | null }, status: CampaignStatus, reason: PauseReason | null, now: number): Promise<boolean> =>
      (await judgedStatus.run({ id, was: was.status, wasReason: was.reason, status, reason, now })).changes === 1,
    addHistory: async (id: string, event: string, actor: 'operator' | 'system', detail: unknown, now: number): Promise<void> =>
      void (await addHistory.run([id, event, actor, detail === undefined ? null : JSON.stringify(detail), now])),
    history: (id: string, limit: number): Awaitable<HistoryRow[]> => history.all([id, limit]),
    /** Active and system-paused campaigns with wallet, today's spend and domain status. */
    states: (nowMs: number, projectId: string | null = null): Awaitable<CampaignState[]> =>
      projectId === null ? allStates.all({ day: utcDay(nowMs) }) : projectStates.all({ day: utcDay(nowMs), project: projectId }),
    /** The same, at most `limit` campaigns with an id after `afterId` ('' for the first), in id order. */
    statesPage: (nowMs: number, afterId: string, limit: number): Awaitable<CampaignState[]> => pageStatesStmt.all({ day: utcDay(nowMs), after: afterId, limit }),
  };
}

/** The campaign statements on the store or inside a transaction. */
export type CampaignsOn = ReturnType<typeof bind>;

export function createCampaignsRepo(store: SqlStore) {
  return {
    ...bind(store),
    /**
     * Runs `body` in one transaction with the statements bound to it (a campaign write and its index update
     * commit together, or not at all).
     */
    atomically: <T>(body: (repo: CampaignsOn) => Promise<T>): Promise<T> => store.transaction((tx) => body(bind(tx))),
  };
}
export type CampaignsRepo = ReturnType<typeof createCampaignsRepo>;
