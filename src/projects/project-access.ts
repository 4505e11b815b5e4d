import { describe, type ErrorSpec } from '../http/docs';
import type { ProjectRow } from './projects.repo';

/** What a route does, for its access check and its documented errors. */
export type AccessNeed = { write: boolean; operator?: boolean };

/** Who is acting on a project, once the route's access check has passed. */
export type ProjectCaller = { project: ProjectRow; operator: boolean };

/**
 * How one family of project routes (under /admin/v1, or the dashboard's /dashboard/api/v1) decides who may act.
 * The same route definitions serve both; each check runs in the route before its body is read.
 */
export type ProjectAccess = {
  /** Distinguishes the two mounts of one route group (Elysia plugin names must differ). */
  name: string;
  prefix: string;
  security: Array<Record<string, string[]>>;
  /** Tag of a route group in the OpenAPI document, e.g. `Admin: products` or `Dashboard: products`. */
  tag: (group: string) => string;
  /**
   * The project when the caller may act on it; otherwise throws (401 no caller, 403 a write without its CSRF token
   * or an operator action by another account, 404 a project that is not the caller's, exactly as for no project).
   */
  project(request: Request, id: string, need: AccessNeed): Promise<ProjectCaller>;
  /** For routes not under a project (a click by id): passes only for the operator. */
  operator(request: Request, need: AccessNeed): Promise<void>;
  /** Error statuses every route of this access adds (its 401; a write's 403). */
  errors(need: AccessNeed): ErrorSpec[];
};

export const READ: AccessNeed = { write: false };
export const WRITE: AccessNeed = { write: true };
export const OPERATOR_READ: AccessNeed = { write: false, operator: true };
export const OPERATOR_WRITE: AccessNeed = { write: true, operator: true };

/** Adds the access's own errors (its 401, a write's 403) to a route's, merging the codes of a status both name. */
export function withAccessErrors(errors: readonly ErrorSpec[], extra: readonly ErrorSpec[]): ErrorSpec[] {
  const out = [...errors];
  for (const spec of extra) {
    const [status, ...codes] = typeof spec === 'number' ? [spec] : spec;
    const at = out.findIndex((e) => (typeof e === 'number' ? e : e[0]) === status);
    if (at < 0) { out.push(spec); continue; }
    const have = out[at];
    if (typeof have !== 'number' && codes.length > 0) out[at] = [status, ...new Set([...have.slice(1) as string[], ...codes])];
  }
  return out.sort((a, b) => (typeof a === 'number' ? a : a[0]) - (typeof b === 'number' ? b : b[0]));
}

/** describe() for a route of this access: its security scheme, and its own errors added to the route's. */
export function describeFor(access: ProjectAccess) {
  return (opts: Omit<Parameters<typeof describe>[0], 'security'>, need: AccessNeed) =>
    describe({ ...opts, security: access.security, errors: withAccessErrors(opts.errors, access.errors(need)) });
}
