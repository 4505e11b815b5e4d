import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCheckpointer } from '../../src/store/checkpointer';
import { openStore } from '../../src/store/database';

const dir = mkdtempSync(join(tmpdir(), 'vexrail-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A fixed amount of writes (ten times the WAL limit), not as many as fit in a time window, and every time
 * the WAL passes its limit the test waits for the checkpointer to bring it back under, instead of assuming
 * a worker thread keeps pace with a writer on a loaded machine. Without the truncating checkpoint the WAL
 * only grows (to tens of MB here) and the wait runs out.
 */
test('whenever the WAL passes its limit the checkpointer truncates it, and the data stays intact', async () => {
  const store = openStore(dir);
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  store.db.exec('CREATE TABLE t (x BLOB)');
  const limit = 2 * 1024 * 1024;
  const rowBytes = 2000;
  const batchRows = 50;
  const checkpointer = startCheckpointer(store.db, store.path, 20, limit);
  const insert = store.db.query(`INSERT INTO t VALUES (randomblob(${rowBytes}))`);
  const walBytes = () => statSync(`${store.path}-wal`).size;
  const totalRows = Math.ceil((10 * limit) / rowBytes);
  let rows = 0;
  let largest = 0;
  let truncations = 0;
  while (rows < totalRows) {
    for (let i = 0; i < batchRows; i++, rows++) insert.run();
    const bytes = walBytes();
    largest = Math.max(largest, bytes);
    if (bytes <= limit) {
      await Bun.sleep(1);
      continue;
    }
    const deadline = performance.now() + 10_000;
    while (walBytes() > limit && performance.now() < deadline) await Bun.sleep(5);
    if (walBytes() > limit) throw new Error(`after ${rows} rows the WAL stayed at ${walBytes()} bytes for 10 s (limit ${limit})`);
    truncations++;
  }
  await checkpointer.stop();
  // Each limit's worth of log was cut back: several times over ten limits of data (rows take a 4 KiB page each).
  expect(truncations).toBeGreaterThanOrEqual(5);
  expect(largest).toBeLessThan(2 * limit);
  expect((store.db.query('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(rows);
  store.close();
}, 60_000);
