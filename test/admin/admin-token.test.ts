import { afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { resetAdminToken, setUpAdminAuth } from '../../src/admin/admin-token';
import type { SqlStore } from '../../src/store/sql-store';
import { createTestStore } from '../helpers/test-app';

const storedHash = async (store: SqlStore) =>
  (await store.stmt<{ value: string }>("SELECT value FROM settings WHERE key = 'admin_token_hash'").get())?.value ?? null;

let opened: Array<{ close(): Promise<void> }> = [];
async function freshStore(): Promise<SqlStore> {
  const s = await createTestStore();
  opened.push(s);
  return s.store;
}
// On PostgreSQL the first store starts the throwaway server (several seconds): not inside a test's time limit.
beforeAll(async () => {
  opened.push(await createTestStore());
}, 60_000);
afterEach(async () => {
  await Promise.all(opened.map((s) => s.close()));
  opened = [];
});

describe('admin token', () => {
  test('a generated token is stored only when the server says it listens, and works before and after', async () => {
    const store = await freshStore();
    const auth = await setUpAdminAuth(store, null);
    const token = auth.generatedToken!;
    expect(token).toMatch(/^vxa_[0-9A-Za-z]{40}$/);
    expect(await storedHash(store)).toBeNull();
    expect(await auth.check(`Bearer ${token}`)).toBe(true);
    expect(await auth.persistGeneratedToken()).toBe(true);
    expect(await storedHash(store)).toBeString();
    expect(await auth.check(`Bearer ${token}`)).toBe(true);
    expect(await auth.check('Bearer vxa_wrong')).toBe(false);
    expect(await auth.check(null)).toBe(false);
    // The next start finds the stored hash: nothing new to print, same token valid.
    const next = await setUpAdminAuth(store, null);
    expect(next.generatedToken).toBeNull();
    expect(await next.persistGeneratedToken()).toBe(false);
    expect(await next.check(`Bearer ${token}`)).toBe(true);
  });

  test('a start that never listened leaves no token behind: the next start generates and prints a new one', async () => {
    const store = await freshStore();
    const failed = await setUpAdminAuth(store, null);
    expect(failed.generatedToken).toBeString();
    const retry = await setUpAdminAuth(store, null);
    expect(retry.generatedToken).toBeString();
    expect(retry.generatedToken).not.toBe(failed.generatedToken);
  });

  test('a token stored by someone else meanwhile wins, and the generated one is reported as not stored', async () => {
    const store = await freshStore();
    const auth = await setUpAdminAuth(store, null);
    const other = await resetAdminToken(store);
    expect(await auth.persistGeneratedToken()).toBe(false);
    expect(await auth.check(`Bearer ${auth.generatedToken}`)).toBe(false);
    expect(await auth.check(`Bearer ${other}`)).toBe(true);
  });

  test('instances starting together on one empty store: exactly one stores (and prints) its token, all accept it', async () => {
    const store = await freshStore();
    const starts = await Promise.all([1, 2, 3].map(() => setUpAdminAuth(store, null)));
    expect(starts.every((a) => a.generatedToken !== null)).toBe(true);
    const stored = await Promise.all(starts.map((a) => a.persistGeneratedToken()));
    expect(stored.filter(Boolean)).toHaveLength(1);
    const winner = starts[stored.indexOf(true)].generatedToken!;
    for (const a of starts) {
      expect(await a.check(`Bearer ${winner}`)).toBe(true);
      if (a.generatedToken !== winner) expect(await a.check(`Bearer ${a.generatedToken}`)).toBe(false);
    }
  });

  test('reset replaces the stored token and a running server accepts only the new one at once', async () => {
    const store = await freshStore();
    const auth = await setUpAdminAuth(store, null);
    await auth.persistGeneratedToken();
    const old = auth.generatedToken!;
    const fresh = await resetAdminToken(store);
    expect(fresh).not.toBe(old);
    expect(await auth.check(`Bearer ${old}`)).toBe(false);
    expect(await auth.check(`Bearer ${fresh}`)).toBe(true);
  });

  test('VEXRAIL_ADMIN_TOKEN beats the stored token and generates nothing', async () => {
    const store = await freshStore();
    const stored = await resetAdminToken(store);
    const auth = await setUpAdminAuth(store, 'env-token-123');
    expect(auth.generatedToken).toBeNull();
    expect(await auth.check('Bearer env-token-123')).toBe(true);
    expect(await auth.check(`Bearer ${stored}`)).toBe(false);
  });
});
