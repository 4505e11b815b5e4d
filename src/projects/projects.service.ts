import { badRequest, conflict, forbidden, notFound } from '../http/errors';
import { newId, randomBase62 } from '../store/ids';
import { expectedTxtValue, hasVerificationRecord, normalizeDomain, rootDomain, type TxtResolver } from './domain';
import type { ProjectRow, ProjectsRepo } from './projects.repo';

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
    created_at: new Date(p.created_at).toISOString(),
    updated_at: new Date(p.updated_at).toISOString(),
  };
}

type Deps = {
  repo: ProjectsRepo;
  resolver: TxtResolver;
  /** Told about every change so cached auth decisions never outlive the row they came from. */
  onChange: (projectId: string) => void;
  hasActiveKey: (projectId: string) => boolean;
  now?: () => number;
};

const MAX_NAME_CHARS = 200;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim().length === 0) throw badRequest('invalid_name', 'name is required', 'name');
  if (name.length > MAX_NAME_CHARS) throw badRequest('invalid_name', `name is longer than ${MAX_NAME_CHARS} characters`, 'name');
  return name.trim();
}

function checkDomain(domain: unknown): string {
  const normalized = typeof domain === 'string' ? normalizeDomain(domain) : null;
  if (!normalized) throw badRequest('invalid_domain', 'domain must be a host name such as example.com', 'domain');
  return normalized;
}

export function createProjectsService(deps: Deps) {
  const now = deps.now ?? Date.now;
  const newToken = () => randomBase62(32);

  function require(id: string): ProjectRow {
    const project = deps.repo.get(id);
    if (!project) throw notFound('project_not_found', `No project with id ${id}`);
    return project;
  }

  function create(input: { name: unknown; domain: unknown; kind?: unknown }): ProjectRow {
    const kind = input.kind ?? 'publisher';
    if (kind !== 'publisher' && kind !== 'advertiser')
      throw badRequest('invalid_kind', 'kind must be "publisher" or "advertiser"', 'kind');
    const id = newId('proj');
    deps.repo.insert({ id, name: checkName(input.name), kind, domain: checkDomain(input.domain), token: newToken(), now: now() });
    return require(id);
  }

  function update(id: string, input: { name?: unknown; domain?: unknown; monetization?: unknown }): ProjectRow {
    const project = require(id);
    const fields: Partial<ProjectRow> = {};
    if (input.name !== undefined) fields.name = checkName(input.name);
    if (input.domain !== undefined) {
      const domain = checkDomain(input.domain);
      if (domain !== project.domain) {
        // A new domain proves nothing yet: it must be verified again, with a fresh token.
        Object.assign(fields, { domain, domain_status: 'unverified', verification_token: newToken(), domain_verified_at: null, domain_verify_method: null });
      }
    }
    if (input.monetization !== undefined) {
      if (typeof input.monetization !== 'boolean') throw badRequest('invalid_value', 'monetization must be a boolean', 'monetization');
      if (input.monetization) assertCanMonetize(project, fields.domain_status ?? project.domain_status);
      fields.monetization = input.monetization ? 1 : 0;
    }
    if (fields.domain_status === 'unverified') fields.monetization = 0;
    if (Object.keys(fields).length > 0) {
      deps.repo.update(id, { ...fields, updated_at: now() });
      deps.onChange(id);
    }
    return require(id);
  }

  function assertCanMonetize(project: ProjectRow, domainStatus: string): void {
    if (project.kind !== 'publisher') throw conflict('not_a_publisher', 'Only publisher projects can enable monetization');
    if (domainStatus !== 'verified') throw forbidden('domain_not_verified', 'Verify the project domain before enabling monetization');
    if (!deps.hasActiveKey(project.id)) throw forbidden('no_active_key', 'Generate an active key pair before enabling monetization');
  }

  async function verifyDomain(id: string, method: unknown): Promise<{ project: ProjectRow; detail: string }> {
    const project = require(id);
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
    deps.repo.recordCheck(id, project.domain, method, status === 'verified' ? 'verified' : 'failed', detail, at);
    const verified = status === 'verified';
    deps.repo.update(id, {
      domain_status: status,
      domain_verified_at: verified ? at : null,
      domain_verify_method: verified ? method : null,
      ...(verified ? {} : { monetization: 0 }),
      updated_at: at,
    });
    deps.onChange(id);
    return { project: require(id), detail };
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
    get: require,
    find: (id: string) => deps.repo.get(id),
    list: (limit: number, after: { id: string; createdAt: number } | null) => deps.repo.list(limit, after),
    update,
    verifyDomain,
    listChecks: (id: string) => (require(id), deps.repo.listChecks(id)),
  };
}
export type ProjectsService = ReturnType<typeof createProjectsService>;
