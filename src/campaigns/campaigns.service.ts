import { badRequest, conflict, notFound } from '../http/errors';
import { formatMicros, parseUsdToMicros } from '../money/money';
import type { ProjectRow } from '../projects/projects.repo';
import { newId } from '../store/ids';
import { normalizeCategory, PRODUCT_LIMITS } from '../products/products.service';
import type { Awaitable, Tx } from '../store/sql-store';
import type { CampaignRow, CampaignsRepo, CampaignState, CampaignStatus, PauseReason, Targeting } from './campaigns.repo';

/** What judging a campaign decided: whether it serves, and the status change to record (if any). */
type Verdict = {
  state: CampaignState | null;
  write: { status: CampaignStatus; reason: PauseReason | null; event: 'paused' | 'resumed' | 'pause_reason_changed'; detail: unknown } | null;
};

/** A page of the sweep: the campaigns judged, those that serve, where the next page starts, whether it was the last. */
export type CampaignPage = { judged: string[]; serving: CampaignState[]; lastId: string | null; done: boolean };

/** `f` of a value that may still be coming: at once when it is there (the embedded store), else when it arrives. */
const thenOf = <T, U>(value: Awaitable<T>, f: (v: T) => Awaitable<U>): Awaitable<U> => (value instanceof Promise ? value.then(f) : f(value));

export const CAMPAIGN_LIMITS = { nameChars: 200, contextChars: 2000, products: 10_000, maxCpcMicros: 1_000_000_000, categories: 50 };

/** A campaign's targeting on the wire: null serves the listed product_ids. */
export type TargetingView = { all_products: true } | { categories: string[] } | null;

export function targetingView(c: Pick<CampaignRow, 'targeting' | 'target_categories'>): TargetingView {
  if (c.targeting === 'all_products') return { all_products: true };
  if (c.targeting === 'categories') return { categories: JSON.parse(c.target_categories) as string[] };
  return null;
}

/**
 * `targeting`: `{"all_products": true}` or `{"categories": ["running_shoes", ...]}` (normalized as product
 * categories are), or null for the listed product_ids. Not together with product_ids.
 */
export function parseTargeting(value: unknown): { targeting: Targeting; categories: string[] } {
  const bad = () =>
    badRequest('invalid_value', `targeting must be {"all_products": true}, {"categories": [up to ${CAMPAIGN_LIMITS.categories} category names]} or null`, 'targeting');
  if (value === null) return { targeting: 'products', categories: [] };
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad();
  const t = value as Record<string, unknown>;
  const keys = Object.keys(t);
  if (keys.length === 1 && t.all_products === true) return { targeting: 'all_products', categories: [] };
  const list = t.categories;
  if (keys.length !== 1 || !Array.isArray(list) || list.length === 0 || list.length > CAMPAIGN_LIMITS.categories) throw bad();
  if (list.some((c) => typeof c !== 'string' || c.trim() === '' || c.length > PRODUCT_LIMITS.categoryChars)) throw bad();
  return { targeting: 'categories', categories: [...new Set((list as string[]).map(normalizeCategory))] };
}

type Deps = {
  repo: CampaignsRepo;
  /** Which of the ids are products of the project. */
  productsOwnedBy: (projectId: string, ids: string[]) => Awaitable<string[]>;
  walletAvailable: (projectId: string) => Awaitable<number>;
  /** Lowest price a click can have; a campaign that cannot pay it does not serve. */
  minCpcMicros: number;
  /** Tells the search index that a campaign's ad units changed (called inside the same transaction; it only notes the id). */
  syncIndex: (campaignId: string) => void;
  /** Told about every change that can alter which campaigns serve or what they match. */
  onChange: (advertiserProjectId: string) => Awaitable<void>;
  now?: () => number;
};

export function toCampaignView(c: CampaignRow, productIds: string[], spentTodayMicros?: number) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: c.id,
    object: 'campaign' as const,
    project_id: c.project_id,
    name: c.name,
    context: c.context,
    base_cpc: formatMicros(c.base_cpc_micros),
    base_cpc_micros: c.base_cpc_micros,
    budget: formatMicros(c.budget_micros),
    budget_micros: c.budget_micros,
    budget_type: c.budget_type,
    start_at: iso(c.start_at),
    end_at: iso(c.end_at),
    status: c.status,
    pause_reason: c.pause_reason,
    spent_total: formatMicros(c.spent_total_micros),
    spent_total_micros: c.spent_total_micros,
    spent_today: spentTodayMicros === undefined ? undefined : formatMicros(spentTodayMicros),
    spent_today_micros: spentTodayMicros,
    targeting: targetingView(c),
    product_ids: productIds,
    created_at: iso(c.created_at),
    updated_at: iso(c.updated_at),
  };
}

/**
 * Why a campaign cannot serve right now, or null. A campaign serves only while its budget and its
 * wallet can each pay one click at its full base CPC, so a click is almost never left unbilled.
 * Order: the cause that needs the operator first.
 */
export function blockingReason(c: CampaignState, nowMs: number): PauseReason | null {
  if (c.domain_status !== 'verified') return 'domain_unverified';
  if (c.end_at !== null && nowMs >= c.end_at) return 'end_date_passed';
  const spent = c.budget_type === 'daily' ? c.spent_today_micros : c.spent_total_micros;
  if (c.budget_micros - spent < c.base_cpc_micros) return 'budget_exhausted';
  if (c.wallet_available_micros < c.base_cpc_micros) return 'funds_short';
  return null;
}

function money(input: Record<string, unknown>, field: string, min: number, max: number): number {
  const value = input[field];
  const micros = typeof value === 'string' ? parseUsdToMicros(value) : null;
  if (micros === null) {
    // A decimal the parser still refused is too precise or too large, not malformed: say which.
    const decimal = typeof value === 'string' ? /^\s*\d+(?:\.(\d+))?\s*$/.exec(value) : null;
    if (decimal && (decimal[1]?.length ?? 0) > 6) throw badRequest('invalid_value', `${field} has more than six decimals (money is counted in micro-USD)`, field);
    if (decimal) throw badRequest('invalid_value', `${field} must be between ${formatMicros(min)} and ${formatMicros(max)}`, field);
    throw badRequest('invalid_value', `${field} must be a decimal string in USD, e.g. "0.40"`, field);
  }
  if (micros < min || micros > max) throw badRequest('invalid_value', `${field} must be between ${formatMicros(min)} and ${formatMicros(max)}`, field);
  return micros;
}

function date(input: Record<string, unknown>, field: string): number | null {
  const value = input[field];
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw badRequest('invalid_value', `${field} must be an ISO 8601 date-time`, field);
  return ms;
}

function text(input: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const value = input[field];
  if (value === undefined) {
    if (required) throw badRequest('invalid_value', `${field} is required`, field);
    return undefined;
  }
  if (typeof value !== 'string' || (required && value.trim() === '') || value.length > max)
    throw badRequest('invalid_value', `${field} must be a string of at most ${max} characters`, field);
  return value.trim();
}

/** 409 no_products for an active campaign whose new targeting rule matches none of the advertiser's live products. */
function emptyRule(categoriesJson: string) {
  const categories = JSON.parse(categoriesJson) as string[];
  const what = categories.length > 0 ? `no live product of this advertiser is in the categories ${categories.join(', ')}` : 'this advertiser has no live product';
  return conflict('no_products', `An active campaign needs at least one product: ${what}. Pause it first, or add products in these categories`);
}

export function createCampaignsService(deps: Deps) {
  const now = deps.now ?? Date.now;
  const { minCpcMicros } = deps;

  async function require(projectId: string, id: string): Promise<CampaignRow> {
    const c = await deps.repo.get(projectId, id);
    if (!c) throw notFound('campaign_not_found', `No campaign with id ${id} in this project`);
    return c;
  }

  async function checkProducts(project: ProjectRow, value: unknown): Promise<string[]> {
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string') || value.length > CAMPAIGN_LIMITS.products)
      throw badRequest('invalid_value', `product_ids must be an array of at most ${CAMPAIGN_LIMITS.products} product ids`, 'product_ids');
    const ids = [...new Set(value as string[])];
    const owned = new Set(await deps.productsOwnedBy(project.id, ids));
    const foreign = ids.filter((id) => !owned.has(id));
    if (foreign.length > 0) throw badRequest('invalid_value', `unknown products for this advertiser: ${foreign.slice(0, 5).join(', ')}`, 'product_ids');
    return ids;
  }

  async function view(c: CampaignRow) {
    return toCampaignView(c, await deps.repo.productIds(c.id));
  }

  async function create(project: ProjectRow, input: Record<string, unknown>) {
    if (project.kind !== 'advertiser') throw conflict('not_an_advertiser', 'Campaigns belong to advertiser projects');
    const baseCpc = money(input, 'base_cpc', minCpcMicros, CAMPAIGN_LIMITS.maxCpcMicros);
    const budget = money(input, 'budget', baseCpc, Number.MAX_SAFE_INTEGER);
    const budgetType = input.budget_type ?? 'total';
    if (budgetType !== 'daily' && budgetType !== 'total') throw badRequest('invalid_value', 'budget_type must be "daily" or "total"', 'budget_type');
    const startAt = date(input, 'start_at');
    const endAt = date(input, 'end_at');
    if (startAt !== null && endAt !== null && endAt <= startAt) throw badRequest('invalid_value', 'end_at must be after start_at', 'end_at');
    const target = input.targeting === undefined ? null : parseTargeting(input.targeting);
    if (target && target.targeting !== 'products' && input.product_ids !== undefined)
      throw badRequest('invalid_value', 'send either targeting or product_ids, not both', 'targeting');
    const products = input.product_ids === undefined ? [] : await checkProducts(project, input.product_ids);
    const id = newId('camp');
    const name = text(input, 'name', CAMPAIGN_LIMITS.nameChars, true)!;
    const context = text(input, 'context', CAMPAIGN_LIMITS.contextChars, false) ?? '';
    const targeting = target?.targeting ?? 'products';
    const targetCategories = JSON.stringify(target?.categories ?? []);
    await deps.repo.atomically(async (repo) => {
      await repo.insert({ id, projectId: project.id, name, context, baseCpc, budget, budgetType, startAt, endAt, targeting, targetCategories, now: now() }, products);
      deps.syncIndex(id);
    });
    await deps.onChange(project.id);
    return view(await require(project.id, id));
  }

  async function update(project: ProjectRow, id: string, input: Record<string, unknown>) {
    const c = await require(project.id, id);
    if (c.status === 'archived') throw conflict('campaign_archived', 'An archived campaign cannot change');
    const fields: Record<string, unknown> = {};
    const changes: Record<string, unknown> = {};
    const name = text(input, 'name', CAMPAIGN_LIMITS.nameChars, false);
    if (name !== undefined) fields.name = name;
    const context = text(input, 'context', CAMPAIGN_LIMITS.contextChars, false);
    if (context !== undefined) fields.context = context;
    if (input.base_cpc !== undefined) fields.base_cpc_micros = money(input, 'base_cpc', minCpcMicros, CAMPAIGN_LIMITS.maxCpcMicros);
    if (input.budget !== undefined) fields.budget_micros = money(input, 'budget', minCpcMicros, Number.MAX_SAFE_INTEGER);
    if (input.budget_type !== undefined) {
      if (input.budget_type !== 'daily' && input.budget_type !== 'total') throw badRequest('invalid_value', 'budget_type must be "daily" or "total"', 'budget_type');
      fields.budget_type = input.budget_type;
    }
    if ('start_at' in input) fields.start_at = date(input, 'start_at');
    if ('end_at' in input) fields.end_at = date(input, 'end_at');
    const startAt = ('start_at' in fields ? fields.start_at : c.start_at) as number | null;
    const endAt = ('end_at' in fields ? fields.end_at : c.end_at) as number | null;
    const baseCpc = (fields.base_cpc_micros ?? c.base_cpc_micros) as number;
    if (((fields.budget_micros ?? c.budget_micros) as number) < baseCpc)
      throw badRequest('invalid_value', 'budget must be at least the base CPC', fields.budget_micros !== undefined ? 'budget' : 'base_cpc');
    if (startAt !== null && endAt !== null && endAt <= startAt) throw badRequest('invalid_value', 'end_at must be after start_at', 'end_at');
    const target = input.targeting === undefined ? null : parseTargeting(input.targeting);
    if (target && target.targeting !== 'products' && input.product_ids !== undefined)
      throw badRequest('invalid_value', 'send either targeting or product_ids, not both', 'targeting');
    const products = input.product_ids === undefined ? null : await checkProducts(project, input.product_ids);
    if (products && products.length === 0 && c.status === 'active') throw conflict('no_products', 'An active campaign needs at least one product');
    // product_ids turns a rule-based campaign back into a list; targeting null keeps its current products as the list.
    if (target || products) {
      fields.targeting = target?.targeting ?? 'products';
      fields.target_categories = JSON.stringify(target?.categories ?? []);
    }
    for (const [k, v] of Object.entries(fields)) if ((c as any)[k] !== v) changes[k] = v;
    const refill = fields.targeting !== undefined && fields.targeting !== 'products';
    const at = now();
    if (products) changes.product_ids = products;
    await deps.repo.atomically(async (repo) => {
      await repo.update(id, fields, at);
      if (products) await repo.replaceProducts(id, products);
      if (refill) await repo.fillByRule(id);
      // As with an empty product_ids: an active campaign may not switch to a rule that matches nothing (rolled back).
      if (refill && c.status === 'active' && (await repo.productIds(id)).length === 0) throw emptyRule(fields.target_categories as string);
      if (products || refill || changes.context !== undefined) deps.syncIndex(id);
      if (Object.keys(changes).length > 0) await repo.addHistory(id, 'updated', 'operator', changes, at);
    });
    await deps.onChange(project.id);
    return view(await require(project.id, id));
  }

  async function unmetForActivation(project: ProjectRow, c: CampaignRow): Promise<string[]> {
    const reasons: string[] = [];
    if (project.domain_status !== 'verified') reasons.push('domain_unverified');
    if ((await deps.repo.productIds(c.id)).length === 0) reasons.push('no_products');
    if ((await deps.walletAvailable(project.id)) < c.base_cpc_micros) reasons.push('no_funds');
    if (c.end_at !== null && now() >= c.end_at) reasons.push('end_date_passed');
    return reasons;
  }

  async function transition(project: ProjectRow, id: string, action: 'activate' | 'pause' | 'archive') {
    const c = await require(project.id, id);
    if (c.status === 'archived') throw conflict('campaign_archived', 'An archived campaign cannot change');
    const at = now();
    if (action === 'activate') {
      const reasons = await unmetForActivation(project, c);
      if (reasons.length > 0) throw conflict('activation_refused', `The campaign cannot be activated: ${reasons.join(', ')}`);
    }
    const status = action === 'activate' ? 'active' : action === 'pause' ? 'paused_user' : 'archived';
    // The status and its history entry commit together.
    await deps.repo.atomically(async (repo) => {
      await repo.setStatus(id, status, null, at);
      await repo.addHistory(id, action === 'activate' ? 'activated' : action === 'pause' ? 'paused' : 'archived', 'operator', { from: c.status }, at);
    });
    await deps.onChange(project.id);
    return view(await require(project.id, id));
  }

  /**
   * The system's own pauses and resumptions for one campaign: pauses an active campaign that cannot serve
   * (budget spent, funds short, end date passed, domain no longer verified) and resumes a system-paused one
   * whose cause has cleared (a new day for a daily budget, a top-up). `state` is the campaign if it can serve
   * now; `write` the status change and history entry the judgement needs, if any.
   */
  function verdict(c: CampaignState, at: number): Verdict {
    const reason = blockingReason(c, at);
    let state: CampaignState | null = null;
    let write: Verdict['write'] = null;
    if (c.status === 'active' && reason) {
      write = { status: 'paused_system', reason, event: 'paused', detail: { reason } };
    } else if (c.status === 'paused_system' && !reason) {
      write = { status: 'active', reason: null, event: 'resumed', detail: { previous_reason: c.pause_reason } };
      state = { ...c, status: 'active', pause_reason: null };
    } else if (c.status === 'paused_system' && reason !== c.pause_reason) {
      write = { status: 'paused_system', reason, event: 'pause_reason_changed', detail: { reason } };
    } else if (c.status === 'active') state = c;
    return { state: state && (state.start_at === null || at >= state.start_at) ? state : null, write };
  }

  /**
   * Writes the verdicts' status changes and history entries in one transaction. A campaign that changed since
   * it was read (an operator paused it, another instance judged it) keeps that change and is not served on
   * this judgement: its verdict loses its state.
   */
  async function record(rows: CampaignState[], verdicts: Verdict[], at: number): Promise<void> {
    await deps.repo.atomically(async (repo) => {
      for (let i = 0; i < verdicts.length; i++) {
        const w = verdicts[i].write;
        if (!w) continue;
        const c = rows[i];
        if (await repo.judgedStatus(c.id, { status: c.status, reason: c.pause_reason }, w.status, w.reason, at)) await repo.addHistory(c.id, w.event, 'system', w.detail, at);
        else verdicts[i] = { state: null, write: null };
      }
    });
  }

  /**
   * Judges the campaigns (all, or one advertiser's) and returns those that can serve now. Synchronous on the
   * embedded store when nothing needs writing (the usual case); a pause or resumption commits first.
   */
  function evaluate(advertiserProjectId: string | null = null): Awaitable<CampaignState[]> {
    const at = now();
    return thenOf(deps.repo.states(at, advertiserProjectId), (rows) => {
      const verdicts = rows.map((c) => verdict(c, at));
      const serving = () => verdicts.flatMap((v) => (v.state ? [v.state] : []));
      return verdicts.some((v) => v.write) ? record(rows, verdicts, at).then(serving) : serving();
    });
  }

  /**
   * Judges campaigns after `afterId` in id order ('' to start): at most `limit`, and no more once `budgetMs`
   * has passed (a sweep walks every campaign this way, a bounded slice at a time); the writes of one call go
   * in one transaction. `judged` lists the campaigns looked at, `lastId` the last of them; `done` says that
   * no campaign is left after it.
   */
  function evaluatePage(afterId: string, limit: number, budgetMs = Infinity): Awaitable<CampaignPage> {
    const started = performance.now();
    const at = now();
    return thenOf(deps.repo.statesPage(at, afterId, limit), (rows) => {
      const verdicts: Verdict[] = [];
      while (verdicts.length < rows.length) {
        verdicts.push(verdict(rows[verdicts.length], at));
        if (performance.now() - started > budgetMs) break;
      }
      const judgedRows = rows.slice(0, verdicts.length);
      const judged = judgedRows.map((c) => c.id);
      const page = (): CampaignPage => ({
        judged,
        serving: verdicts.flatMap((v) => (v.state ? [v.state] : [])),
        lastId: judged.at(-1) ?? null,
        done: verdicts.length === rows.length && rows.length < limit,
      });
      // Most sweeps change nothing: no write transaction (and no wait for the write lock) unless one is needed.
      return verdicts.some((v) => v.write) ? record(judgedRows, verdicts, at).then(page) : page();
    });
  }

  /**
   * Runs a catalog write of this advertiser and brings campaigns up to date in the same transaction: deleted
   * products leave every campaign, rule-based campaigns gain or lose the changed products, and the index
   * re-reads every campaign that held or now holds one of them (edited text included).
   */
  async function applyCatalogChange<T>(advertiserProjectId: string, change: (tx: Tx) => Promise<T>, productIdsOf: (result: T) => string[]): Promise<T> {
    const result = await deps.repo.atomically(async (repo) => {
      const value = await change(repo.tx);
      const ids = productIdsOf(value);
      if (ids.length > 0) for (const campaignId of await repo.reconcileProducts(advertiserProjectId, ids)) deps.syncIndex(campaignId);
      return value;
    });
    await deps.onChange(advertiserProjectId);
    return result;
  }

  return {
    create,
    update,
    applyCatalogChange,
    activate: (p: ProjectRow, id: string) => transition(p, id, 'activate'),
    pause: (p: ProjectRow, id: string) => transition(p, id, 'pause'),
    archive: (p: ProjectRow, id: string) => transition(p, id, 'archive'),
    get: async (projectId: string, id: string) => view(await require(projectId, id)),
    list: async (projectId: string, limit: number) => {
      const rows = await deps.repo.list(projectId, limit);
      const data = [];
      for (const c of rows) data.push(await view(c));
      return { object: 'list' as const, data };
    },
    history: async (projectId: string, id: string, limit = 500) => {
      await require(projectId, id);
      return {
        object: 'list' as const,
        data: (await deps.repo.history(id, limit)).map((h) => ({ id: h.id, event: h.event, actor: h.actor, detail: h.detail ? JSON.parse(h.detail) : null, created_at: new Date(h.created_at).toISOString() })),
      };
    },
    evaluate,
    evaluatePage,
  };
}
export type CampaignsService = ReturnType<typeof createCampaignsService>;
