import { thenOf, type Awaitable, type SqlStore } from '../store/sql-store';

/**
 * On the embedded store the wallet's credit book commits consumption charges in groups and keeps committed
 * balances in memory. The few wallet writes made elsewhere (click charges and refunds, in one transaction with
 * the click) go through `writeWalletOutside`, which first commits the book's pending group, so every guarded
 * debit sees every earlier charge, and afterwards drops the cached balance of the wallet it touched. On
 * PostgreSQL nothing is pending or cached, and both steps do nothing.
 */
type WalletSync = { commitPending(): Awaitable<void>; balanceChanged(projectId: string): void };
const syncs = new WeakMap<SqlStore, WalletSync>();

export function registerWalletSync(store: SqlStore, sync: WalletSync): void {
  syncs.set(store, sync);
}

/** Synchronous on the embedded store when `write` is, so nothing can run between the group commit and the write. */
export function writeWalletOutside<T>(store: SqlStore, projectId: string, write: () => Awaitable<T>): Awaitable<T> {
  const sync = syncs.get(store);
  const forget = () => sync?.balanceChanged(projectId);
  return thenOf(sync ? sync.commitPending() : undefined, () => {
    let result: Awaitable<T>;
    try {
      result = write();
    } catch (err) {
      forget();
      throw err;
    }
    if (result instanceof Promise) return result.finally(forget);
    forget();
    return result;
  });
}
