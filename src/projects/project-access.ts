import type { ErrorSpec } from '../http/docs';
import type { ProjectRow } from './projects.repo';

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
  project(request: Request, id: string, opts: { write: boolean; operator?: boolean }): Promise<ProjectCaller>;
  /** For routes not under a project (a click by id): passes only for the operator. */
  operator(request: Request, opts: { write: boolean }): Promise<void>;
  /** Error statuses every route of this access adds (its 401; a write's 403). */
  errors(opts: { write: boolean; operator?: boolean }): ErrorSpec[];
};
