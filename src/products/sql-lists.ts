import type { Tx } from '../store/sql-store';

/**
 * A subquery listing the strings of a JSON array (a parameter or a column holding JSON text), for
 * `x IN (...)`: SQLite reads it with json_each, PostgreSQL with json_array_elements_text. The one place where
 * the catalog's SQL differs between the two stores.
 */
export function jsonStrings(kind: Tx['kind'], json: string): string {
  return kind === 'sqlite' ? `SELECT value FROM json_each(${json})` : `SELECT json_array_elements_text(CAST(${json} AS json))`;
}
