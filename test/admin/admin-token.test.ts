import { describe, expect, test } from 'bun:test';
import { resetAdminToken, setUpAdminAuth } from '../../src/admin/admin-token';
import { openStore } from '../../src/store/database';

const storedHash = (db: ReturnType<typeof openStore>['db']) =>
  (db.query("SELECT value FROM settings WHERE key = 'admin_token_hash'").get() as { value: string } | null)?.value ?? null;

describe('admin token', () => {
  test('a generated token is stored only when the server says it listens, and works before and after', () => {
    const { db } = openStore(':memory:');
    const auth = setUpAdminAuth(db, null);
    const token = auth.generatedToken!;
    expect(token).toMatch(/^vxa_[0-9A-Za-z]{40}$/);
    expect(storedHash(db)).toBeNull();
    expect(auth.check(`Bearer ${token}`)).toBe(true);
    expect(auth.persistGeneratedToken()).toBe(true);
    expect(storedHash(db)).toBeString();
    expect(auth.check(`Bearer ${token}`)).toBe(true);
    expect(auth.check('Bearer vxa_wrong')).toBe(false);
    expect(auth.check(null)).toBe(false);
    // The next start finds the stored hash: nothing new to print, same token valid.
    const next = setUpAdminAuth(db, null);
    expect(next.generatedToken).toBeNull();
    expect(next.persistGeneratedToken()).toBe(false);
    expect(next.check(`Bearer ${token}`)).toBe(true);
  });

  test('a start that never listened leaves no token behind: the next start generates and prints a new one', () => {
    const { db } = openStore(':memory:');
    const failed = setUpAdminAuth(db, null);
    expect(failed.generatedToken).toBeString();
    const retry = setUpAdminAuth(db, null);
    expect(retry.generatedToken).toBeString();
    expect(retry.generatedToken).not.toBe(failed.generatedToken);
  });

  test('a token stored by someone else meanwhile wins, and the generated one is reported as not stored', () => {
    const { db } = openStore(':memory:');
    const auth = setUpAdminAuth(db, null);
    const other = resetAdminToken(db);
    expect(auth.persistGeneratedToken()).toBe(false);
    expect(auth.check(`Bearer ${auth.generatedToken}`)).toBe(false);
    expect(auth.check(`Bearer ${other}`)).toBe(true);
  });

  test('reset replaces the stored token and a running server accepts only the new one at once', () => {
    const { db } = openStore(':memory:');
    const auth = setUpAdminAuth(db, null);
    auth.persistGeneratedToken();
    const old = auth.generatedToken!;
    const fresh = resetAdminToken(db);
    expect(fresh).not.toBe(old);
    expect(auth.check(`Bearer ${old}`)).toBe(false);
    expect(auth.check(`Bearer ${fresh}`)).toBe(true);
  });

  test('VEXRAIL_ADMIN_TOKEN beats the stored token and generates nothing', () => {
    const { db } = openStore(':memory:');
    const stored = resetAdminToken(db);
    const auth = setUpAdminAuth(db, 'env-token-123');
    expect(auth.generatedToken).toBeNull();
    expect(auth.check('Bearer env-token-123')).toBe(true);
    expect(auth.check(`Bearer ${stored}`)).toBe(false);
  });
});
