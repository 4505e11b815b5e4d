import { badRequest } from './errors';

/**
 * One way to page every list: `limit` bounded per endpoint, an opaque cursor, and the query asks for
 * limit + 1 rows so that "is there more" needs no count.
 */
export function checkLimit(limit: number, max: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw badRequest('invalid_value', `limit must be an integer from 1 to ${max}`, 'limit');
  return limit;
}

/**
 * A cursor that is a row sequence number, written as the server writes one (digits, no sign, exponent, space or
 * leading zero: "1e3", " 5" and "0" are not cursors it issued); null means `whenAbsent`.
 */
export function seqCursor(cursor: string | null | undefined, whenAbsent: number): number {
  if (cursor === null || cursor === undefined || cursor === '') return whenAbsent;
  const seq = /^[1-9][0-9]{0,15}$/.test(cursor) ? Number(cursor) : NaN;
  if (!Number.isSafeInteger(seq)) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
  return seq;
}

/** The page out of limit + 1 fetched rows, with the cursor of its last row when more follow. */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string) {
  const page = rows.slice(0, limit);
  const hasMore = rows.length > limit;
  return { page, has_more: hasMore, next_cursor: hasMore ? cursorOf(page[page.length - 1]) : null };
}

/** Cursor of a list ordered by (created_at, id) descending: where the next page starts. */
export function createdCursorOf(last: { created_at: number; id: string }): string {
  return Buffer.from(`${last.created_at}:${last.id}`).toString('base64url');
}

export function createdCursor(cursor: string | null | undefined): { id: string; createdAt: number } | null {
  if (!cursor) return null;
  const [ts, id] = Buffer.from(cursor, 'base64url').toString('utf8').split(':', 2);
  if (!id || id.includes('\0') || !/^[0-9]{1,16}$/.test(ts) || !Number.isSafeInteger(Number(ts))) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
  return { id, createdAt: Number(ts) };
}
