import type { Database } from 'bun:sqlite';

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
};

export type DomainCheckRow = {
  id: number;
  method: 'dns' | 'manual';
  domain: string;
  result: 'verified' | 'failed';
  detail: string | null;
  created_at: number;
};

/** SQL for projects and their domain checks; nothing else touches these tables. */
export function createProjectsRepo(db: Database) {
  const insert = db.query(
    `INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at)
     VALUES ($id, $name, $kind, $domain, $token, $now, $now)`,
  );
  const byId = db.query('SELECT * FROM projects WHERE id = ?');
  const page = db.query(
    `SELECT * FROM projects WHERE ($after IS NULL OR created_at < $afterTs OR (created_at = $afterTs AND id < $after))
     ORDER BY created_at DESC, id DESC LIMIT $limit`,
  );
  const insertCheck = db.query(
    `INSERT INTO domain_checks (project_id, domain, method, result, detail, created_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const checks = db.query('SELECT * FROM domain_checks WHERE project_id = ? ORDER BY id DESC LIMIT 50');
  const monetized = db.query('SELECT EXISTS (SELECT 1 FROM projects WHERE monetization = 1) AS any');
  return {
    insert(p: { id: string; name: string; kind: string; domain: string; token: string; now: number }) {
      insert.run({ id: p.id, name: p.name, kind: p.kind, domain: p.domain, token: p.token, now: p.now });
    },
    get(id: string): ProjectRow | null {
      return byId.get(id) as ProjectRow | null;
    },
    list(limit: number, after: { id: string; createdAt: number } | null): ProjectRow[] {
      return page.all({ after: after?.id ?? null, afterTs: after?.createdAt ?? 0, limit }) as ProjectRow[];
    },
    update(id: string, fields: Partial<Omit<ProjectRow, 'id' | 'created_at'>>): void {
      const names = Object.keys(fields);
      if (names.length === 0) return;
      const sets = names.map((n) => `${n} = $${n}`).join(', ');
      db.query(`UPDATE projects SET ${sets} WHERE id = $id`).run({ ...(fields as any), id });
    },
    recordCheck(projectId: string, domain: string, method: string, result: string, detail: string | null, now: number) {
      insertCheck.run(projectId, domain, method, result, detail, now);
    },
    listChecks(projectId: string): DomainCheckRow[] {
      return checks.all(projectId) as DomainCheckRow[];
    },
    anyMonetized(): boolean {
      return (monetized.get() as { any: number }).any === 1;
    },
  };
}
export type ProjectsRepo = ReturnType<typeof createProjectsRepo>;
