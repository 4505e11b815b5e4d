import { randomBytes } from 'node:crypto';
import { thenOf, type Awaitable, type SqlStore } from './sql-store';

const READ = 'SELECT value FROM settings WHERE key = $key';
const WRITE = 'INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO UPDATE SET value = excluded.value';
const WRITE_IF_ABSENT = 'INSERT INTO settings (key, value) VALUES ($key, $value) ON CONFLICT (key) DO NOTHING';


/**
 * Small server-wide values (hashes, keys) in the settings table, shared by every instance on one store. On
 * the embedded store every call answers synchronously.
 */
export function createSettingsRepo(store: SqlStore) {
  const read = store.stmt<{ value: string }>(READ);
  const write = store.stmt(WRITE);
  const writeIfAbsent = store.stmt(WRITE_IF_ABSENT);
  const get = (key: string): Awaitable<string | null> => thenOf(read.get({ key }), (row) => row?.value ?? null);
  return {
    get,
    put: (key: string, value: string): Awaitable<void> => thenOf(write.run({ key, value }), () => undefined),
    /**
     * Stores `value` unless `key` already has one, and returns the value stored now: whichever instance wrote
     * first wins, and every instance gets the same answer.
     */
    putIfAbsent: (key: string, value: string): Awaitable<string> =>
      thenOf(writeIfAbsent.run({ key, value }), () =>
        thenOf(get(key), (stored) => {
          if (stored === null) throw new Error(`setting ${key} vanished right after it was stored`);
          return stored;
        })),
  };
}
export type SettingsRepo = ReturnType<typeof createSettingsRepo>;

/**
 * The server's signing key for tracked links: generated once, kept across restarts, and the same for every
 * instance on a shared store (the first one stored wins). Synchronous on the embedded store.
 */
export function linkSigningKey(settings: SettingsRepo): Awaitable<Buffer> {
  const proposed = randomBytes(32).toString('hex');
  return thenOf(settings.putIfAbsent('link_signing_key', proposed), (stored) => Buffer.from(stored, 'hex'));
}
