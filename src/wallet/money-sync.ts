import type { Database } from 'bun:sqlite';

/**
 * The wallet service commits consumption charges in groups and keeps committed balances in memory. The few
 * wallet writes made elsewhere (click charges and refunds, in one transaction with the click) go through
 * `writeWalletOutside`, which first commits the wallet service's pending group, so every guarded debit sees
 * every earlier charge, and afterwards drops the cached balance of the wallet it touched.
 */
type WalletSync = { commitPending(): void; balanceChanged(projectId: string): void };
const syncs = new WeakMap<Database, WalletSync>();

export function registerWalletSync(db: Database, sync: WalletSync): void {
  syncs.set(db, sync);
}

export function writeWalletOutside<T>(db: Database, projectId: string, write: () => T): T {
  const sync = syncs.get(db);
  sync?.commitPending();
  try {
    return write();
  } finally {
    sync?.balanceChanged(projectId);
  }
}
