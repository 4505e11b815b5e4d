/**
 * The statement interface both stores share: the same SQL text, parameters and results on SQLite and on a
 * throwaway PostgreSQL, and transactions that nothing outside them can slip into.
 */
import { SQL } from 'bun';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { openStore } from '../../src/store/database';
import { postgresStore, rewritePlaceholders, sqliteStore, type SqlStore } from '../../src/store/sql-store';
import { createTestDatabase, useThrowawayPostgres } from '../helpers/postgres';

const pg = useThrowawayPostgres();

test('placeholders: named ones numbered once each, positional in order, literals and casts untouched', () => {
  expect(rewritePlaceholders('SELECT * FROM t WHERE a = $a AND b = :b OR a = $a')).toEqual({ text: 'SELECT * FROM t WHERE a = $1 AND b = $2 OR a = $1', names: ['a', 'b'], positional: 0 });
  expect(rewritePlaceholders("SELECT '$x ?', \"q?\" , x::bigint FROM t WHERE a = ? AND b = ? -- $c ?\n")).toEqual({
    text: "SELECT '$x ?', \"q?\" , x::bigint FROM t WHERE a = $1 AND b = $2 -- $c ?\n", names: [], positional: 2,
  });
  expect(rewritePlaceholders("SELECT 'it''s $no' WHERE a = @a").text).toBe("SELECT 'it''s $no' WHERE a = $1");
  expect(() => rewritePlaceholders('SELECT ? WHERE a = $a')).toThrow();
});

const SCHEMA = 'CREATE TABLE items (id TEXT PRIMARY KEY, amount BIGINT NOT NULL, note TEXT, flag INTEGER NOT NULL DEFAULT 0)';

const backends: Array<[string, () => Promise<{ store: SqlStore; close(): Promise<void> }>]> = [
  ['sqlite', async () => {
    const s = openStore(':memory:');
    s.db.exec(SCHEMA);
    return { store: sqliteStore(s.db), close: async () => s.close() };
  }],
  ['postgres', async () => {
    const database = await createTestDatabase(pg.server.url);
    const sql = new SQL(database.url, { max: 4, bigint: true });
    await sql.unsafe(SCHEMA);
    return { store: postgresStore(sql), close: async () => { await sql.close(); await database.drop(); } };
  }],
];

for (const [name, open] of backends) {
  describe(name, () => {
    let h: { store: SqlStore; close(): Promise<void> };
    beforeAll(async () => { h = await open(); });
    afterAll(async () => { await h.close(); });

    test('the same SQL text gets, lists and runs; int8 values come back as numbers; booleans are 0/1', async () => {
      const insert = h.store.stmt('INSERT INTO items (id, amount, note, flag) VALUES ($id, $amount, $note, $flag)');
      expect(await insert.run({ id: 'a', amount: 9_007_199_254_740_991, note: null, flag: true })).toEqual({ changes: 1 });
      await insert.run({ id: 'b', amount: 5, note: 'x', flag: false });
      const one = await h.store.stmt<{ id: string; amount: number; flag: number; note: string | null }>('SELECT * FROM items WHERE id = ?').get(['a']);
      expect(one).toEqual({ id: 'a', amount: 9_007_199_254_740_991, note: null, flag: 1 });
      expect(await h.store.stmt('SELECT * FROM items WHERE id = ?').get(['none'])).toBeNull();
      const sum = await h.store.stmt<{ total: number; n: number }>('SELECT CAST(SUM(amount) AS BIGINT) AS total, COUNT(*) AS n FROM items WHERE amount < $max').get({ max: 100 });
      expect(sum).toEqual({ total: 5, n: 1 });
      expect((await h.store.stmt('UPDATE items SET note = $note WHERE flag = $flag').run({ note: 'y', flag: 0 })).changes).toBe(1);
      expect(await h.store.stmt('SELECT id FROM items ORDER BY id').all()).toEqual([{ id: 'a' }, { id: 'b' }]);
    });

    test('a transaction commits when its body resolves and rolls back when it throws', async () => {
      await h.store.transaction(async (tx) => {
        await tx.stmt('INSERT INTO items (id, amount) VALUES ($id, $amount)').run({ id: 't1', amount: 1 });
      });
      await expect(h.store.transaction(async (tx) => {
        await tx.stmt('INSERT INTO items (id, amount) VALUES ($id, $amount)').run({ id: 't2', amount: 1 });
        throw new Error('changed my mind');
      })).rejects.toThrow('changed my mind');
      expect(await h.store.stmt('SELECT id FROM items WHERE id LIKE $p ORDER BY id').all({ p: 't%' })).toEqual([{ id: 't1' }]);
    });

    test('a write from outside an open transaction is not rolled back with it', async () => {
      let outside: Promise<unknown> = Promise.resolve();
      await expect(h.store.transaction(async (tx) => {
        await tx.stmt('INSERT INTO items (id, amount) VALUES ($id, $amount)').run({ id: 'in', amount: 1 });
        // Another request's write, issued while the transaction is open (between two awaits of its body).
        outside = Promise.resolve(h.store.stmt('INSERT INTO items (id, amount) VALUES ($id, $amount)').run({ id: 'out', amount: 2 }));
        await tx.stmt('SELECT 1 AS one').get();
        throw new Error('roll back');
      })).rejects.toThrow('roll back');
      await outside;
      expect(await h.store.stmt('SELECT id FROM items WHERE id IN ($a, $b) ORDER BY id').all({ a: 'in', b: 'out' })).toEqual([{ id: 'out' }]);
    });

    test('a missing named parameter is an error, never a silent NULL', async () => {
      const s = h.store.stmt('SELECT id FROM items WHERE id = $id');
      await expect(Promise.resolve().then(() => s.get({}))).rejects.toThrow();
    });
  });
}
