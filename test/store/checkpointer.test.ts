import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_HOLD_MS, MAX_LONG_HOLD_MS, startCheckpointer } from '../../src/store/checkpointer';
import { openStore } from '../../src/store/database';
import { writeGateOf } from '../../src/store/write-gate';

const dir = mkdtempSync(join(tmpdir(), 'vexrail-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = (db: ReturnType<typeof openStore>['db']) => (db.query('SELECT count(*) AS n FROM t').get() as { n: number }).n;

/**
 * A writer that never stops (a small transaction every turn, as the group commit does under load) and
 * honours the write gate, as the serving connection's deferrable writes do. A fixed amount of data, twenty
 * times the restart size. Where the worker falls behind the writer, only a hold lets the log start over; where
 * it keeps up between two writes (a faster machine), SQLite starts the log over by itself and few or no holds
 * are needed. So the test checks the outcome, a bounded log and every row, not how many holds it took (it
 * asked for at least three restarts at holds, which failed on a machine where the worker kept up).
 */
test('under writes that never pause, the log starts over at its restart size, and no row is lost', async () => {
  const store = openStore(join(dir, 'steady'));
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  store.db.exec('CREATE TABLE t (x BLOB)');
  const restartBytes = 2 * 1024 * 1024;
  const checkpointer = startCheckpointer(store.db, store.path, { intervalMs: 10, restartBytes, residualBytes: 256 * 1024, holdSpacingMs: 20 });
  const gate = writeGateOf(store.db);
  const insert = store.db.query('INSERT INTO t VALUES (randomblob(2000))');
  const writeBatch = store.db.transaction(() => {
    for (let i = 0; i < 8; i++) insert.run();
  });
  const walBytes = () => statSync(`${store.path}-wal`).size;
  const totalRows = Math.ceil((20 * restartBytes) / 2000);
  let rows = 0;
  let largest = 0;
  const deadline = performance.now() + 40_000;
  while (rows < totalRows && performance.now() < deadline) {
    if (gate.held) await new Promise<void>((resolve) => gate.whenOpen(resolve));
    writeBatch();
    rows += 8;
    largest = Math.max(largest, walBytes());
    await Bun.sleep(1);
  }
  const stats = checkpointer.stats();
  await checkpointer.stop();
  expect(rows).toBeGreaterThanOrEqual(totalRows);
  expect(stats.longestHoldMs).toBeLessThanOrEqual(MAX_HOLD_MS + 50); // the hold's own timer, on a loaded machine
  // Rows take a 4 KiB page each, so twenty restart sizes of rows are forty of log: it was started over.
  expect(largest).toBeLessThan(4 * restartBytes);
  expect(count(store.db)).toBe(rows);
  store.close();
}, 60_000);

test('bulk transactions that never let the copy count as caught up: the log still starts over and stays bounded', async () => {
  const store = openStore(join(dir, 'bulk'));
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  store.db.exec('CREATE TABLE t (x BLOB)');
  const restartBytes = 1024 * 1024;
  // A residual allowance of one page: the worker never counts as caught up, only the size limit triggers.
  const checkpointer = startCheckpointer(store.db, store.path, { intervalMs: 5, restartBytes, residualBytes: 0, holdSpacingMs: 10 });
  const gate = writeGateOf(store.db);
  const insert = store.db.query('INSERT INTO t VALUES (randomblob(3000))');
  const bulk = store.db.transaction(() => {
    for (let i = 0; i < 100; i++) insert.run();
  });
  let rows = 0;
  let largest = 0;
  const totalRows = Math.ceil((60 * restartBytes) / 4096);
  const deadline = performance.now() + 40_000;
  while (rows < totalRows && performance.now() < deadline) {
    if (gate.held) await new Promise<void>((resolve) => gate.whenOpen(resolve));
    bulk();
    rows += 100;
    largest = Math.max(largest, statSync(`${store.path}-wal`).size);
    await Bun.sleep(8); // about 50 MB/s of log, faster than a bulk import through the admin API writes
  }
  const stats = checkpointer.stats();
  await checkpointer.stop();
  expect(rows).toBeGreaterThanOrEqual(totalRows);
  // Holds are needed only where the worker cannot keep up (none on a fast enough machine); when they happen
  // they end within the long-hold bound.
  expect(stats.longestHoldMs).toBeLessThanOrEqual(MAX_LONG_HOLD_MS + 50);
  // Sixty restart sizes written; the log never grew far past its hard limit (twice the restart size).
  expect(largest).toBeLessThan(6 * restartBytes);
  expect(count(store.db)).toBe(rows);
  store.close();
}, 60_000);

test('a writer that ignores the gate loses nothing: the hold ends by itself and the log is copied later', async () => {
  const store = openStore(join(dir, 'rude'));
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  store.db.exec('CREATE TABLE t (x BLOB)');
  const checkpointer = startCheckpointer(store.db, store.path, { intervalMs: 5, restartBytes: 256 * 1024, residualBytes: 1024 * 1024, holdSpacingMs: 0 });
  const gate = writeGateOf(store.db);
  const insert = store.db.query('INSERT INTO t VALUES (randomblob(1000))');
  let rows = 0;
  let sawHold = false;
  const until = performance.now() + 1500;
  while (performance.now() < until) {
    sawHold ||= gate.held;
    insert.run();
    rows++;
    await Bun.sleep(0);
  }
  await checkpointer.stop();
  expect(sawHold).toBe(true);
  expect(gate.held).toBe(false);
  expect(count(store.db)).toBe(rows);
  // The closing TRUNCATE checkpoint leaves an empty log.
  expect(statSync(`${store.path}-wal`).size).toBe(0);
  store.close();
}, 30_000);
