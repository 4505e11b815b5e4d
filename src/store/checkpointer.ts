/**
 * Moves SQLite's WAL checkpoints off the request path. By default SQLite checkpoints inside whichever
 * commit crosses the threshold, so every few dozen requests one of them stalls for milliseconds while the
 * database file is written and synced. Instead the serving connection never checkpoints and a worker
 * thread with its own connection runs a PASSIVE checkpoint once a second (it never blocks writers).
 * Under steady writes a passive checkpoint never finds the moment to start the log over, so once the log
 * passes WAL_LIMIT_BYTES the serving connection itself runs a TRUNCATE checkpoint between two requests:
 * short, because the passive runs already copied almost everything, and it cannot be starved by writers
 * the way a second connection can.
 */
import type { Database } from 'bun:sqlite';

const WAL_LIMIT_BYTES = 64 * 1024 * 1024;

const WORKER_SOURCE = `
import { Database } from 'bun:sqlite';
import { statSync } from 'node:fs';
let db = null;
let walPath = '';
let walLimit = Infinity;
const walBytes = () => { try { return statSync(walPath).size; } catch { return 0; } };
self.onmessage = (event) => {
  const { type, path, limit } = event.data;
  try {
    if (type === 'open') {
      db = new Database(path);
      walPath = path + '-wal';
      walLimit = limit;
      db.exec('PRAGMA busy_timeout = 5000');
      db.exec('PRAGMA journal_size_limit = ' + limit);
    } else if (type === 'checkpoint' && db) {
      db.query('PRAGMA wal_checkpoint(PASSIVE)').get();
      const bytes = walBytes();
      if (bytes > walLimit) postMessage({ type: 'wal_large', bytes });
    } else if (type === 'close' && db) {
      db.query('PRAGMA wal_checkpoint(TRUNCATE)').get();
      db.close();
      db = null;
      postMessage({ type: 'closed' });
    }
  } catch (err) {
    postMessage({ type: 'error', message: String(err) });
  }
};`;

export type Checkpointer = { stop(): Promise<void> };

export function startCheckpointer(db: Database, dbPath: string, intervalMs = 1000, walLimitBytes = WAL_LIMIT_BYTES): Checkpointer {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'application/javascript' }));
  const worker = new Worker(url);
  worker.onmessage = (event: MessageEvent) => {
    if (event.data?.type === 'wal_large') db.query('PRAGMA wal_checkpoint(TRUNCATE)').get();
    else if (event.data?.type === 'error') console.error(JSON.stringify({ level: 'error', msg: 'checkpoint failed', error: event.data.message }));
  };
  worker.postMessage({ type: 'open', path: dbPath, limit: walLimitBytes });
  const timer = setInterval(() => worker.postMessage({ type: 'checkpoint' }), intervalMs);
  timer.unref?.();
  worker.unref();
  return {
    stop() {
      clearInterval(timer);
      return new Promise<void>((resolve) => {
        const done = () => {
          worker.terminate();
          resolve();
        };
        const fallback = setTimeout(done, 5000);
        worker.onmessage = (event: MessageEvent) => {
          if (event.data?.type === 'closed') {
            clearTimeout(fallback);
            done();
          }
        };
        worker.postMessage({ type: 'close' });
      });
    },
  };
}
