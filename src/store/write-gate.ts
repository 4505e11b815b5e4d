/**
 * Lets the checkpointer hold the serving connection's deferrable writes for a few milliseconds.
 *
 * SQLite starts its WAL over only when a write begins while every frame of the log has been copied into the
 * database file. Under steady load the serving connection commits every millisecond or so, so a checkpoint
 * on another thread never catches up and the log only grows, until a checkpoint that blocks the event loop
 * has to truncate it. With the gate, the checkpoint worker first catches up on its own, then asks for a
 * short hold: the group commit and the background write queues wait (their callers are already waiting on a
 * timer), the worker copies the last frames, and the next write starts the log over. Nothing depends on the
 * gate for correctness: a write that must happen now (a read that needs every charge committed, a queue
 * written through when full) goes ahead, and the worker simply tries again later.
 *
 * A second writer on its own thread (the exchange writer, src/conversations/exchange-writer.ts) shares the gate
 * through a few words of shared memory (WRITER_WORDS): it marks its transactions there, so the serving
 * connection's deferrable writes wait for the end of one (on a callback, never in SQLite's busy handler, which
 * would sleep on the event loop) instead of meeting its lock; the serving connection marks its own gated writes,
 * and the writer thread waits for those on its side (Atomics.wait, off the event loop). The two marks are set
 * before they are checked on both sides, so the two can never both go ahead. The checkpointer's holds hold the
 * writer thread too.
 */
import type { Database } from 'bun:sqlite';

/** The shared words of a gate with a writer thread (an Int32Array over a SharedArrayBuffer of this many words). */
export const WRITER_WORDS = 4;
/** 1 while the writer thread is in (or about to begin) a transaction. */
export const W_WRITER = 0;
/** 1 while the serving connection runs a gated write. */
export const W_MAIN = 1;
/** 1 when the event loop waits for the writer thread to finish: the writer then posts { type: 'open' }. */
export const W_WAITING = 2;
/** 1 while the checkpointer holds writes: the writer thread waits too. */
export const W_HOLD = 3;

export type WriteGate = {
  /** True while the checkpointer holds deferrable writes or the writer thread is in a transaction. */
  readonly held: boolean;
  /**
   * Marks a gated write of the serving connection as started; false (nothing marked) when the gate is held,
   * and then the caller waits (whenOpen). Every true is followed by leave() once the write is done.
   */
  enter(): boolean;
  leave(): void;
  /** Holds deferrable writes until open() or for at most maxMs. */
  hold(maxMs: number): void;
  open(): void;
  /** Runs fn (entered) now if the gate is open, else as soon as it opens. */
  whenOpen(fn: () => void): void;
  /** Runs fn once the writer thread is out of its transaction (at once without a writer thread). */
  whenWriterIdle(fn: () => void): void;
  /** Shares the gate with a writer thread through `words` (WRITER_WORDS); its { type: 'open' } messages go to wake(). */
  attachWriter(words: Int32Array): void;
  /** The writer thread left its transaction while the event loop waited for it. */
  wake(): void;
  /** Holds so far, the longest (ms) and the total time held (ms). */
  stats(): { holds: number; longestMs: number; heldMs: number };
  /** The longest hold since the previous call (ms), for the metrics' scrape. */
  takeLongestMs(): number;
};

export function createWriteGate(): WriteGate {
  let holding = false;
  let since = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let waiting: Array<() => void> = [];
  let idleWaiters: Array<() => void> = [];
  let words: Int32Array | null = null;
  const counts = { holds: 0, longestMs: 0, heldMs: 0 };
  let longestSinceTake = 0;

  const writerBusy = () => words !== null && Atomics.load(words, W_WRITER) === 1;
  /** Asks the writer thread to say when it leaves; true when it already has (nothing to wait for). */
  const askWriter = (): boolean => {
    if (!words) return true;
    Atomics.store(words, W_WAITING, 1);
    return Atomics.load(words, W_WRITER) === 0;
  };

  const enter = (): boolean => {
    if (holding) return false;
    if (!words) return true;
    Atomics.store(words, W_MAIN, 1);
    if (Atomics.load(words, W_WRITER) === 0) return true;
    leave();
    return false;
  };
  function leave() {
    if (!words) return;
    Atomics.store(words, W_MAIN, 0);
    Atomics.notify(words, W_MAIN);
  }

  /** Runs what waits, each entered; what still finds the gate held waits again. */
  const release = () => {
    const idle = idleWaiters;
    idleWaiters = [];
    for (const fn of idle) whenWriterIdle(fn);
    const run = waiting;
    waiting = [];
    // One failing callback must not keep the others (the group commit among them) from running.
    for (const fn of run) {
      try {
        whenOpen(fn);
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', msg: 'a write held by the WAL checkpointer failed when released', error: String(err) }));
      }
    }
  };

  function whenOpen(fn: () => void) {
    if (enter()) {
      try {
        fn();
      } finally {
        leave();
      }
      return;
    }
    waiting.push(fn);
    // Held by the writer thread: it says when it leaves; it may have left already.
    if (!holding && askWriter()) queueMicrotask(release);
  }
  function whenWriterIdle(fn: () => void) {
    if (!writerBusy()) return fn();
    idleWaiters.push(fn);
    if (askWriter()) queueMicrotask(release);
  }

  const open = () => {
    if (!holding) return;
    holding = false;
    if (words) {
      Atomics.store(words, W_HOLD, 0);
      Atomics.notify(words, W_HOLD);
    }
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const ms = performance.now() - since;
    counts.heldMs += ms;
    if (ms > counts.longestMs) counts.longestMs = ms;
    if (ms > longestSinceTake) longestSinceTake = ms;
    release();
  };

  return {
    get held() {
      return holding || writerBusy();
    },
    enter,
    leave,
    hold(maxMs) {
      if (holding) return;
      holding = true;
      if (words) Atomics.store(words, W_HOLD, 1);
      since = performance.now();
      counts.holds++;
      timer = setTimeout(open, maxMs);
    },
    open,
    whenOpen,
    whenWriterIdle,
    attachWriter(shared) {
      words = shared;
      if (holding) Atomics.store(words, W_HOLD, 1);
    },
    wake: release,
    stats: () => ({ ...counts }),
    takeLongestMs() {
      const ms = longestSinceTake;
      longestSinceTake = 0;
      return ms;
    },
  };
}

const gates = new WeakMap<Database, WriteGate>();

/** The gate of a database connection: one per connection, shared by every writer that uses it. */
export function writeGateOf(db: Database): WriteGate {
  let gate = gates.get(db);
  if (!gate) {
    gate = createWriteGate();
    gates.set(db, gate);
  }
  return gate;
}
