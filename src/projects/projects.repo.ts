import type { Awaitable, SqlStore } from '../store/sql-store';

export type ProjectRow = {
  id: string;
  name: string;
  kind: 'publisher' | 'advertiser';
  domain: string;
  domain_status: 'unverified' | 'pending' | 'verified' | 'failed';
  verification_token: string;
  domain_verified_at: number | null;
  domain_verify_method: 'dns' | 'manual' | null;
  monetization: number;
  /** JSON array of host names the operator allows product links on, besides the verified domain. */
  link_domains: string;
  created_at: number;
  updated_at: number;
  /** The dashboard account that owns the project; null until the operator assigns one. */
  owner_account_id: string | null;
};

export type DomainCheckRow = {
  id: number;
  method: 'dns' | 'manual';
  domain: string;
  result: 'verified' | 'failed';
  detail: string | null;
  created_at: number;
};

/** The columns of a project row, named (not `*`) so that both stores return the same fields. */
const PROJECT_COLUMNS = `id, name, kind, domain, domain_status, verification_token, domain_verified_at, domain_verify_method,
  monetization, link_domains, created_at, updated_at, owner_account_id`;
/** The columns `update` may set. */
const UPDATABLE = new Set(['name', 'kind', 'domain', 'domain_status', 'verification_token', 'domain_verified_at', 'domain_verify_method', 'monetization', 'link_domains', 'updated_at', 'owner_account_id']);

const INSERT = `INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at, owner_account_id)
     VALUES ($id, $name, $kind, $domain, $token, $now, $now, $owner)`;
const BY_ID = `SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $id`;
/** A project only when this account owns it: what the dashboard reads for anyone but the operator. */
const BY_ID_OWNED = `SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $id AND owner_account_id = $owner`;
const PAGE = `SELECT ${PROJECT_COLUMNS} FROM projects
     WHERE (CAST($after AS TEXT) IS NULL OR created_at < $afterTs OR (created_at = $afterTs AND id < CAST($after AS TEXT)))
     ORDER BY created_at DESC, id DESC LIMIT $limit`;
/** One owner's projects, newest first: the dashboard's account-scoped view (an account sees only its own). */
const OWNED_PAGE = `SELECT ${PROJECT_COLUMNS} FROM projects
     WHERE owner_account_id = $owner
       AND (CAST($after AS TEXT) IS NULL OR created_at < $afterTs OR (created_at = $afterTs AND id < CAST($after AS TEXT)))
     ORDER BY created_at DESC, id DESC LIMIT $limit`;
const INSERT_CHECK = `INSERT INTO domain_checks (project_id, domain, method, result, detail, created_at)
     VALUES ($projectId, $domain, $method, $result, $detail, $now)`;
const CHECKS = 'SELECT id, project_id, domain, method, result, detail, created_at FROM domain_checks WHERE project_id = $projectId ORDER BY id DESC LIMIT 50';
const ANY_MONETIZED = 'SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM projects WHERE monetization = 1 LIMIT 1) AS monetized';

/** Ids are generated, so one holding NUL (which PostgreSQL text cannot hold) matches nothing on either store. */
const impossibleId = (id: string) => id.includes('\0');

/** SQL for projects and their domain checks; nothing else touches these tables. */
export function createProjectsRepo(store: SqlStore) {
  const insert = store.stmt(INSERT);
  const byId = store.stmt<ProjectRow>(BY_ID);
  const byIdOwned = store.stmt<ProjectRow>(BY_ID_OWNED);
  const page = store.stmt<ProjectRow>(PAGE);
  const ownedPage = store.stmt<ProjectRow>(OWNED_PAGE);
  const insertCheck = store.stmt(INSERT_CHECK);
  const checks = store.stmt<DomainCheckRow>(CHECKS);
  const monetized = store.stmt<{ n: number }>(ANY_MONETIZED);
  return {
    async insert(p: { id: string; name: string; kind: string; domain: string; token: string; now: number; owner: string | null }): Promise<void> {
      await insert.run({ id: p.id, name: p.name, kind: p.kind, domain: p.domain, token: p.token, now: p.now, owner: p.owner });
    },
    /** Synchronous on the embedded store (the keys' authentication reads it on a cache miss). */
    get: (id: string): Awaitable<ProjectRow | null> => (impossibleId(id) ? null : byId.get({ id })),
    getOwned: (id: string, owner: string): Awaitable<ProjectRow | null> => (impossibleId(id) ? null : byIdOwned.get({ id, owner })),
    list: (limit: number, after: { id: string; createdAt: number } | null): Awaitable<ProjectRow[]> =>
      page.all({ after: after?.id ?? null, afterTs: after?.createdAt ?? 0, limit }),
    listOwnedBy: (owner: string, limit: number, after: { id: string; createdAt: number } | null): Awaitable<ProjectRow[]> =>
      ownedPage.all({ owner, after: after?.id ?? null, afterTs: after?.createdAt ?? 0, limit }),
    async update(id: string, fields: Partial<Omit<ProjectRow, 'id' | 'created_at'>>): Promise<void> {
      const names = Object.keys(fields);
      if (names.length === 0) return;
      for (const n of names) if (!UPDATABLE.has(n)) throw new Error(`projects has no updatable column ${n}`);
      // One statement text per set of columns (a handful in practice), prepared once by the store.
      const sets = names.sort().map((n) => `${n} = $${n}`).join(', ');
      await store.stmt(`UPDATE projects SET ${sets} WHERE id = $id`).run({ ...(fields as Record<string, unknown>), id });
    },
    async recordCheck(projectId: string, domain: string, method: string, result: string, detail: string | null, now: number): Promise<void> {
      await insertCheck.run({ projectId, domain, method, result, detail, now });
    },
    listChecks: (projectId: string): Awaitable<DomainCheckRow[]> => checks.all({ projectId }),
    async anyMonetized(): Promise<boolean> {
      return ((await monetized.get())?.n ?? 0) > 0;
    },
  };
}
export type ProjectsRepo = ReturnType<typeof createProjectsRepo>;
