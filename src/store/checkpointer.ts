/**
 * Moves SQLite's WAL checkpoints off the request path. By default SQLite checkpoints inside whichever
 * commit crosses the threshold, so every few dozen requests one of them stalls for milliseconds while the
 * database file is written and synced. Instead the serving connection never checkpoints and a worker
 * thread with its own connection runs a PASSIVE checkpoint once a second (it never blocks writers).
 */
const WORKER_SOURCE = `
import { Database } from 'bun:sqlite';
let db = null;
self.onmessage = (event) => {
  const { type, path } = event.data;
  try {
    if (type === 'open') {
      db = new Database(path);
      db.exec('PRAGMA busy_timeout = 5000');
    } else if (type === 'checkpoint' && db) {
      db.query('PRAGMA wal_checkpoint(PASSIVE)').get();
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

export function startCheckpointer(dbPath: string, intervalMs = 1000): Checkpointer {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'application/javascript' }));
  const worker = new Worker(url);
  worker.onmessage = (event: MessageEvent) => {
    if (event.data?.type === 'error') console.error(JSON.stringify({ level: 'error', msg: 'checkpoint failed', error: event.data.message }));
  };
  worker.postMessage({ type: 'open', path: dbPath });
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
