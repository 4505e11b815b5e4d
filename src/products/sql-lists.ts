import type { Tx } from '../store/sql-store';

/**
 * A subquery listing the strings of a JSON array (a parameter or a column holding JSON text), for
 * `x IN (...)`: SQLite reads it with json_each, PostgreSQL with json_array_elements_text (with the sweep page's
 * planner hint in campaigns.repo.ts, the only difference in the catalog's SQL). On PostgreSQL the value is read as text first: a parameter
 * typed json would be sent as a JSON string holding the array, not as the array.
 */
export function jsonStrings(kind: Tx['kind'], json: string): string {
  return kind === 'sqlite' ? `SELECT value FROM json_each(${json})` : `SELECT json_array_elements_text(CAST(CAST(${json} AS TEXT) AS json))`;
}
