import type { Awaitable } from '../../src/store/sql-store';

/** The value of an Awaitable that the embedded store answers synchronously; fails a test that got a promise. */
export function syncOf<T>(value: Awaitable<T>): T {
  if (value instanceof Promise) throw new Error('expected a synchronous result from the embedded store');
  return value;
}
