import { badRequest, conflict, forbidden, notFound } from '../http/errors';
import { newId, randomBase62 } from '../store/ids';
import { expectedTxtValue, hasVerificationRecord, normalizeDomain, rootDomain, type TxtResolver } from './domain';
import type { AdSettings, AdSettingsRepo } from './ad-settings.repo';
import type { ProjectRow, ProjectsRepo } from './projects.repo';
import { thenOf, type Awaitable } from '../store/sql-store';

export type ProjectView = ReturnType<typeof toProjectView>;

export function toProjectView(p: ProjectRow) {
  return {
    id: p.id,
    object: 'project' as const,
    name: p.name,
    kind: p.kind,
    domain: p.domain,
    domain_status: p.domain_status,
    verification_token: p.verification_token,
    verification_record: { type: 'TXT', host: '@', name: rootDomain(p.domain), value: expectedTxtValue(p.verification_token) },
    domain_verified_at: p.domain_verified_at ? new Date(p.domain_verified_at).toISOString() : null,
    domain_verify_method: p.domain_verify_method,
    monetization: p.monetization === 1,
    link_domains: JSON.parse(p.link_domains) as string[],
    owner_account_id: p.owner_account_id,
    created_at: new Date(p.created_at).toISOString(),
    updated_at: new Date(p.updated_at).toISOString(),
  };
}

type Deps = {
  repo: ProjectsRepo;
  adSettings: AdSettingsRepo;
  resolver: TxtResolver;
  /** Told about every change so cached auth decisions never outlive the row they came from. */
  onChange: (projectId: string) => unknown;
  hasActiveKey: (projectId: string) => Awaitable<boolean>;
  /** Why `accountId` may not own a project of `kind` (no such account, or it lacks the role); null when it may. */
  ownerProblem?: (accountId: string, kind: 'publisher' | 'advertiser') => Promise<string | null>;
  now?: () => number;
  /**
   * On a store other instances write too: how old cached ad settings may get before they are read again (the
   * request that finds them older is still answered from the cache while they are re-read). Unset: cached
   * until this instance changes them.
   */
  cacheTtlMs?: number;
};

const MAX_NAME_CHARS = 200;
const MAX_LABEL_CHARS = 40;
const MAX_BLOCKED_CATEGORIES = 100;
const MAX_LINK_DOMAINS = 20;

function adSettingsView(s: AdSettings) {
  return { disclosure_label: s.disclosureLabel, frequency_cap_turns: s.frequencyCapTurns, blocked_categories: s.blockedCategories, bridge_mode: s.bridgeMode };
}

/** Validates the ad-setting fields of a PATCH body; null when none is present. */
function parseAdSettings(input: Record<string, unknown>, current: AdSettings): AdSettings | null {
  const next = { ...current };
  let changed = false;
  if (input.disclosure_label !== undefined) {
    const label = input.disclosure_label;
    if (typeof label !== 'string' || label.trim() === '' || label.length > MAX_LABEL_CHARS || /[\[\]()*_`<>\n\0]/.test(label))
      throw badRequest('invalid_value', `disclosure_label must be 1-${MAX_LABEL_CHARS} characters of plain text`, 'disclosure_label');
    next.disclosureLabel = label.trim();
    changed = true;
  }
  if (input.frequency_cap_turns !== undefined) {
    const cap = input.frequency_cap_turns;
    if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 1 || cap > 1000)
      throw badRequest('invalid_value', 'frequency_cap_turns must be an integer from 1 to 1000', 'frequency_cap_turns');
    next.frequencyCapTurns = cap;
    changed = true;
  }
  if (input.blocked_categories !== undefined) {
    const list = input.blocked_categories;
    if (!Array.isArray(list) || list.length > MAX_BLOCKED_CATEGORIES || list.some((c) => typeof c !== 'string' || c.length === 0 || c.length > 64))
      throw badRequest('invalid_value', `blocked_categories must be up to ${MAX_BLOCKED_CATEGORIES} category names`, 'blocked_categories');
    next.blockedCategories = [...new Set(list.map((c: string) => c.trim().toLowerCase().replace(/\s+/g, '_')))];
    changed = true;
  }
  if (input.bridge_mode !== undefined) {
    if (input.bridge_mode !== 'template' && input.bridge_mode !== 'llm')
      throw badRequest('invalid_value', 'bridge_mode must be "template" or "llm"', 'bridge_mode');
    next.bridgeMode = input.bridge_mode;
    changed = true;
  }
  return changed ? next : null;
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw badRequest('invalid_name', 'name is required', 'name');
  if (name.length > MAX_NAME_CHARS) throw badRequest('invalid_name', `name is longer than ${MAX_NAME_CHARS} characters`, 'name');
  // Text the store can hold on both backends (PostgreSQL text has no NUL).
  if (name.includes('\0')) throw badRequest('invalid_name', 'name must not contain NUL characters', 'name');
  return name.trim();
}

function checkDomain(domain: unknown): string {
  const normalized = typeof domain === 'string' ? normalizeDomain(domain) : null;
  if (!normalized) throw badRequest('invalid_domain', 'domain must be a host name such as example.com', 'domain');
  return normalized;
}

/**
 * One operator-added link domain: a host name (its subdomains are included) or an IP literal, in the form
 * the URL parser gives it, so that it compares equal to the host of a product URL. Null when invalid.
 */
function normalizeLinkDomain(value: unknown): string | null {
  if (typeof value !== 'string' || !/^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])$/.test(value.trim())) return null;
  let host: string;
  try {
    host = new URL(`http://${value.trim()}/`).hostname.replace(/\.$/, '');
  } catch {
    return null;
  }
  if (host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host)) return host;
  return normalizeDomain(host) === host ? host : null;
}

function checkLinkDomains(value: unknown): string[] {
  const invalid = (detail: string) => badRequest('invalid_link_domains', `link_domains ${detail}`, 'link_domains');
  if (!Array.isArray(value) || value.length > MAX_LINK_DOMAINS) throw invalid(`must be an array of at most ${MAX_LINK_DOMAINS} host names`);
  const hosts = value.map((entry) => {
    const host = normalizeLinkDomain(entry);
    if (!host) throw invalid(`entry ${JSON.stringify(entry).slice(0, 80)} is not a host name such as shop.example.com (no scheme, path or port)`);
    return host;
  });
  return [...new Set(hosts)];
}

export function createProjectsService(deps: Deps) {
  const now = deps.now ?? Date.now;
  /**
   * Ad settings are read on every monetized request; they change only through update() below. A hit answers
   * synchronously; a read that was under way while they changed is not cached (`generation` moved on).
   */
  const adSettingsCache = new Map<string, { settings: AdSettings; atMs: number; refreshing: boolean }>();
  let generation = 0;
  const ttlMs = deps.cacheTtlMs ?? null;
  const remember = (id: string, settings: AdSettings, readAt: number) => {
    if (readAt !== generation) return settings;
    if (adSettingsCache.size >= 100_000) adSettingsCache.clear();
    adSettingsCache.set(id, { settings, atMs: now(), refreshing: false });
    return settings;
  };
  const adSettingsOf = (id: string): Awaitable<AdSettings> => {
    const cached = adSettingsCache.get(id);
    if (cached) {
      if (ttlMs !== null && !cached.refreshing && now() - cached.atMs >= ttlMs) {
        cached.refreshing = true;
        const readAt = generation;
        Promise.resolve()
          .then(() => deps.adSettings.get(id))
          .then(
            (settings) => void (adSettingsCache.get(id) === cached && remember(id, settings, readAt)),
            (err) => {
              cached.refreshing = false;
              console.error(JSON.stringify({ level: 'error', msg: 'ad settings refresh failed', project_id: id, error: String(err) }));
            },
          );
      }
      return cached.settings;
    }
    const readAt = generation;
    return thenOf(deps.adSettings.get(id), (s) => remember(id, s, readAt));
  };
  const newToken = () => randomBase62(32);

  async function require(id: string): Promise<ProjectRow> {
    const project = await deps.repo.get(id);
    if (!project) throw notFound('project_not_found', `No project with id ${id}`);
    return project;
  }

  /** The owner to store: null (unassigned), or an account that exists and holds the role of the project's kind. */
  async function checkOwner(owner: unknown, kind: 'publisher' | 'advertiser'): Promise<string | null> {
    if (owner === null || owner === undefined) return null;
    const problem = typeof owner === 'string' && deps.ownerProblem ? await deps.ownerProblem(owner, kind) : 'owner_account_id must be an account id';
    if (problem) throw badRequest('invalid_owner', problem, 'owner_account_id');
    return owner as string;
  }

  async function create(input: { name: unknown; domain: unknown; kind?: unknown; owner_account_id?: unknown }): Promise<ProjectRow> {
    const kind = input.kind ?? 'publisher';
    if (kind !== 'publisher' && kind !== 'advertiser')
      throw badRequest('invalid_kind', 'kind must be "publisher" or "advertiser"', 'kind');
    const id = newId('proj');
    const name = checkName(input.name);
    const domain = checkDomain(input.domain);
    const owner = await checkOwner(input.owner_account_id, kind);
    await deps.repo.insert({ id, name, kind, domain, token: newToken(), now: now(), owner });
    return require(id);
  }

  async function update(id: string, input: Record<string, unknown>): Promise<ProjectRow> {
    const project = await require(id);
    const fields: Partial<ProjectRow> = {};
    const settings = parseAdSettings(input, await adSettingsOf(id));
    if (input.name !== undefined) fields.name = checkName(input.name);
    if (input.owner_account_id !== undefined) fields.owner_account_id = await checkOwner(input.owner_account_id, project.kind);
    if (input.domain !== undefined) {
      const domain = checkDomain(input.domain);
      if (domain !== project.domain) {
        // A new domain proves nothing yet: it must be verified again, with a fresh token.
        Object.assign(fields, { domain, domain_status: 'unverified', verification_token: newToken(), domain_verified_at: null, domain_verify_method: null });
      }
    }
    if (input.link_domains !== undefined) {
      if (project.kind !== 'advertiser') throw conflict('not_an_advertiser', 'link_domains belong to advertiser projects');
      fields.link_domains = JSON.stringify(checkLinkDomains(input.link_domains));
    }
    if (input.monetization !== undefined) {
      if (typeof input.monetization !== 'boolean') throw badRequest('invalid_value', 'monetization must be a boolean', 'monetization');
      if (input.monetization) await assertCanMonetize(project, fields.domain_status ?? project.domain_status);
      fields.monetization = input.monetization ? 1 : 0;
    }
    if (fields.domain_status === 'unverified') fields.monetization = 0;
    if (settings) {
      await deps.adSettings.put(id, settings, now());
      generation++;
      adSettingsCache.delete(id);
    }
    if (Object.keys(fields).length > 0 || settings) {
      await deps.repo.update(id, { ...fields, updated_at: now() });
      await deps.onChange(id);
    }
    return require(id);
  }

  async function assertCanMonetize(project: ProjectRow, domainStatus: string): Promise<void> {
    if (project.kind !== 'publisher') throw conflict('not_a_publisher', 'Only publisher projects can enable monetization');
    if (domainStatus !== 'verified') throw forbidden('domain_not_verified', 'Verify the project domain before enabling monetization');
    if (!(await deps.hasActiveKey(project.id))) throw forbidden('no_active_key', 'Generate an active key pair before enabling monetization');
  }

  async function verifyDomain(id: string, method: unknown): Promise<{ project: ProjectRow; detail: string }> {
    const project = await require(id);
    if (method !== 'dns' && method !== 'manual') throw badRequest('invalid_method', 'method must be "dns" or "manual"', 'method');
    let status: ProjectRow['domain_status'];
    let detail: string;
    if (method === 'manual') {
      status = 'verified';
      detail = 'marked verified by the operator';
    } else {
      ({ status, detail } = await checkDns(project));
    }
    const at = now();
    await deps.repo.recordCheck(id, project.domain, method, status === 'verified' ? 'verified' : 'failed', detail, at);
    const verified = status === 'verified';
    await deps.repo.update(id, {
      domain_status: status,
      domain_verified_at: verified ? at : null,
      domain_verify_method: verified ? method : null,
      ...(verified ? {} : { monetization: 0 }),
      updated_at: at,
    });
    await deps.onChange(id);
    return { project: await require(id), detail };
  }

  async function checkDns(project: ProjectRow): Promise<{ status: ProjectRow['domain_status']; detail: string }> {
    const host = rootDomain(project.domain);
    try {
      if (await hasVerificationRecord(deps.resolver, project.domain, project.verification_token))
        return { status: 'verified', detail: `TXT record found on ${host}` };
      return { status: 'failed', detail: `no TXT record "${expectedTxtValue(project.verification_token)}" on ${host} yet (DNS changes can take up to 48 hours)` };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA')
        return { status: 'pending', detail: `no TXT records on ${host} yet (DNS changes can take up to 48 hours)` };
      return { status: 'failed', detail: `DNS lookup for ${host} failed (${code ?? 'error'})` };
    }
  }

  return {
    create,
    /** The admin view: the row plus the project's ad settings. */
    view: async (p: ProjectRow) => ({ ...toProjectView(p), ad_settings: adSettingsView(await adSettingsOf(p.id)) }),
    /** Read on every monetized request: synchronous when cached (and always on the embedded store). */
    adSettings: adSettingsOf,
    get: require,
    /** The row or null; synchronous on the embedded store. */
    find: (id: string): Awaitable<ProjectRow | null> => deps.repo.get(id),
    list: async (limit: number, after: { id: string; createdAt: number } | null): Promise<ProjectRow[]> => deps.repo.list(limit, after),
    /** A project this account owns; 404 otherwise, as for a project that does not exist (nothing tells them apart). */
    async getOwned(id: string, accountId: string): Promise<ProjectRow> {
      const project = await deps.repo.getOwned(id, accountId);
      if (!project) throw notFound('project_not_found', `No project with id ${id}`);
      return project;
    },
    /** The projects one account owns (the dashboard's scoped view), newest first. */
    listOwnedBy: async (accountId: string, limit: number, after: { id: string; createdAt: number } | null): Promise<ProjectRow[]> => deps.repo.listOwnedBy(accountId, limit, after),
    update,
    verifyDomain,
    listChecks: async (id: string) => (await require(id), deps.repo.listChecks(id)),
    anyMonetized: () => deps.repo.anyMonetized(),
    /** Forgets every cached ad setting (another instance changed some: the next requests read them again). */
    invalidateAll: () => {
      generation++;
      adSettingsCache.clear();
    },
  };
}
export type ProjectsService = ReturnType<typeof createProjectsService>;
