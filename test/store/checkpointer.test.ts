import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCheckpointer } from '../../src/store/checkpointer';
import { openStore } from '../../src/store/database';

const dir = mkdtempSync(join(tmpdir(), 'vexrail-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('under steady writes the WAL stays bounded and the data stays intact', async () => {
  const store = openStore(dir);
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  store.db.exec('CREATE TABLE t (x BLOB)');
  const limit = 2 * 1024 * 1024;
  const checkpointer = startCheckpointer(store.db, store.path, 20, limit);
  const insert = store.db.query('INSERT INTO t VALUES (randomblob(2000))');
  let largest = 0;
  const until = performance.now() + 1500;
  let rows = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 50; i++, rows++) insert.run();
    largest = Math.max(largest, statSync(`${store.path}-wal`).size);
    await Bun.sleep(1);
  }
  await checkpointer.stop();
  // Without the truncating checkpoint this grows to rows x ~4 KB (tens of MB).
  expect(rows * 2000).toBeGreaterThan(8 * limit);
  expect(largest).toBeLessThan(4 * limit);
  expect((store.db.query('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(rows);
  store.close();
});
