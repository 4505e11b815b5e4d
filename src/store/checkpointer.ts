/**
 * Keeps SQLite's WAL bounded without ever checkpointing on the request thread.
 *
 * The serving connection never checkpoints (`wal_autocheckpoint = 0`): a worker thread with its own
 * connection runs PASSIVE checkpoints, which copy the log into the database file without blocking writers.
 * Copying alone never shortens the log under load, though: SQLite starts the log over only when a write
 * begins while every frame has been copied, and the serving connection commits every millisecond or so.
 * So once the log passes `restartBytes` and the worker has caught up to within `residualBytes`, the
 * worker syncs the database file (so that little is left to sync later), then asks the serving thread
 * for a short hold of its deferrable writes (src/store/write-gate.ts), copies the last frames while
 * nothing is written, and releases the hold; the next write starts the log over in place. The request
 * thread only answers two messages; the copying and the file syncs happen on the worker. A hold costs two
 * small syncs (a few milliseconds, at most MAX_HOLD_MS; MAX_LONG_HOLD_MS when a writer outpaces the copy);
 * commits waiting for it are delayed by that much, the event loop is not. A large restart size keeps holds rare: under the benchmark's full load a 128 MB
 * log starts over once in several seconds (`vexrail_store_write_holds_total` counts the holds).
 */
import type { Database } from 'bun:sqlite';
import { writeGateOf } from './write-gate';

/** Log size at which the worker works towards starting the log over. */
const RESTART_BYTES = 128 * 1024 * 1024;
/** How far behind the log the worker's copy may be when it asks for a hold. */
const RESIDUAL_BYTES = 512 * 1024;
/** Longest a hold lasts, whatever the worker does. */
export const MAX_HOLD_MS = 20;
/**
 * A writer faster than the copy (a bulk import writing thousands of pages per transaction) can keep the worker
 * from ever catching up. Past twice the restart size the worker asks for a hold anyway and copies the rest
 * while writes wait, for at most this long: the log stays bounded, and only commits wait, never the event loop.
 */
export const MAX_LONG_HOLD_MS = 250;
/** Least time between two holds, so that a log that did not start over (a write went ahead) is not held again at once. */
const HOLD_SPACING_MS = 250;

const WORKER_SOURCE = `
import { Database } from 'bun:sqlite';
import { closeSync, fsyncSync, openSync } from 'node:fs';
let db = null;
let dbFd = -1;
let restartFrames = Infinity;
let hardFrames = Infinity;
let residualFrames = 0;
let holdSpacingMs = 0;
let intervalMs = 100;
let timer = null;
let awaiting = false;
let lastHold = -Infinity;
const passive = () => db.query('PRAGMA wal_checkpoint(PASSIVE)').get();
const schedule = (ms) => { if (db && timer === null) timer = setTimeout(tick, ms); };
function tick() {
  timer = null;
  if (!db || awaiting) return;
  try {
    const r = passive();
    if (r.log >= restartFrames && performance.now() - lastHold >= holdSpacingMs) {
      const caughtUp = r.log - r.checkpointed <= residualFrames;
      if (caughtUp || r.log >= hardFrames) {
        // Write the copied pages out now, so that the sync inside the held checkpoint has little left to do.
        fsyncSync(dbFd);
        passive();
        awaiting = true;
        lastHold = performance.now();
        postMessage({ type: 'hold', long: !caughtUp });
        return;
      }
      schedule(0); // behind: copy again at once, the writer only adds what arrived meanwhile
      return;
    }
  } catch (err) {
    postMessage({ type: 'error', message: String(err) });
  }
  schedule(intervalMs);
}
self.onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.type === 'open') {
      db = new Database(msg.path);
      dbFd = openSync(msg.path, 'r');
      db.exec('PRAGMA busy_timeout = 5000');
      const pageSize = db.query('PRAGMA page_size').get().page_size;
      restartFrames = Math.max(1, Math.floor(msg.restartBytes / pageSize));
      hardFrames = 2 * restartFrames;
      residualFrames = Math.floor(msg.residualBytes / pageSize);
      holdSpacingMs = msg.holdSpacingMs;
      intervalMs = msg.intervalMs;
      schedule(intervalMs);
    } else if (msg.type === 'held' && db) {
      // -1/-1 is what SQLite reports for a checkpoint that could not run: not ready for a restart.
      let r = { busy: 1, log: -1, checkpointed: -1 };
      try {
        r = passive();
      } finally {
        awaiting = false;
        postMessage({ type: 'release', log: r.log, checkpointed: r.checkpointed });
        schedule(intervalMs);
      }
    } else if (msg.type === 'close' && db) {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      db.query('PRAGMA wal_checkpoint(TRUNCATE)').get();
      db.close();
      db = null;
      closeSync(dbFd);
      postMessage({ type: 'closed' });
    }
  } catch (err) {
    postMessage({ type: 'error', message: String(err) });
  }
};`;

/**
 * `restartsReady`: holds after which every frame had been copied, so that the next write could start the log
 * over (it does unless a write that does not wait for the gate came first, or a reader still used the log).
 */
export type CheckpointerStats = { holds: number; restartsReady: number; longestHoldMs: number };
export type Checkpointer = { stop(): Promise<void>; stats(): CheckpointerStats };

export function startCheckpointer(
  db: Database,
  dbPath: string,
  opts: { intervalMs?: number; restartBytes?: number; residualBytes?: number; holdSpacingMs?: number } = {},
): Checkpointer {
  const restartBytes = opts.restartBytes ?? RESTART_BYTES;
  const gate = writeGateOf(db);
  // The write that starts the log over cuts the file back to this size if it grew past it (the log is
  // reused in place otherwise: shrinking a file on every start-over costs the request thread milliseconds).
  db.exec(`PRAGMA journal_size_limit = ${2 * restartBytes}`);
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'application/javascript' }));
  const worker = new Worker(url);
  let restartsReady = 0;
  worker.onmessage = (event: MessageEvent) => {
    const msg = event.data;
    if (msg?.type === 'hold') {
      gate.hold(msg.long ? MAX_LONG_HOLD_MS : MAX_HOLD_MS);
      worker.postMessage({ type: 'held' });
    } else if (msg?.type === 'release') {
      if (msg.log >= 0 && msg.log === msg.checkpointed) restartsReady++;
      gate.open();
    } else if (msg?.type === 'error') console.error(JSON.stringify({ level: 'error', msg: 'checkpoint failed', error: msg.message }));
  };
  worker.postMessage({
    type: 'open', path: dbPath, restartBytes, residualBytes: opts.residualBytes ?? RESIDUAL_BYTES,
    holdSpacingMs: opts.holdSpacingMs ?? HOLD_SPACING_MS, intervalMs: opts.intervalMs ?? 100,
  });
  // A worker that dies stops the checkpoints, and the serving connection never checkpoints: say so loudly.
  worker.addEventListener('error', (event) => console.error(JSON.stringify({ level: 'error', msg: 'checkpoint worker failed; the WAL will grow until restart', error: String((event as ErrorEvent).message ?? event) })));
  worker.unref();
  return {
    stats() {
      const g = gate.stats();
      return { holds: g.holds, restartsReady, longestHoldMs: g.longestMs };
    },
    stop() {
      gate.open();
      return new Promise<void>((resolve) => {
        const done = () => {
          worker.terminate();
          resolve();
        };
        const fallback = setTimeout(done, 5000);
        worker.onmessage = (event: MessageEvent) => {
          if (event.data?.type === 'closed' || event.data?.type === 'error') {
            if (event.data.type === 'error') console.error(JSON.stringify({ level: 'error', msg: 'final checkpoint failed', error: event.data.message }));
            clearTimeout(fallback);
            done();
          }
        };
        worker.postMessage({ type: 'close' });
      });
    },
  };
}
