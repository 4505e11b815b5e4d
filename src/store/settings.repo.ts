import type { Database } from 'bun:sqlite';
import { randomBytes } from 'node:crypto';

/** Small server-wide values (hashes, keys) in the settings table. */
export function createSettingsRepo(db: Database) {
  const read = db.query('SELECT value FROM settings WHERE key = ?');
  const write = db.query('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  return {
    get: (key: string) => (read.get(key) as { value: string } | null)?.value ?? null,
    put: (key: string, value: string) => void write.run(key, value),
  };
}
export type SettingsRepo = ReturnType<typeof createSettingsRepo>;

/** The server's signing key for tracked links: generated once, kept across restarts. */
export function linkSigningKey(settings: SettingsRepo): Buffer {
  const stored = settings.get('link_signing_key');
  if (stored) return Buffer.from(stored, 'hex');
  const key = randomBytes(32);
  settings.put('link_signing_key', key.toString('hex'));
  return key;
}
