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
 */
import type { Database } from 'bun:sqlite';

export type WriteGate = {
  /** True while the checkpointer holds deferrable writes. */
  readonly held: boolean;
  /** Holds deferrable writes until open() or for at most maxMs. */
  hold(maxMs: number): void;
  open(): void;
  /** Runs fn now if the gate is open, else as soon as it opens. */
  whenOpen(fn: () => void): void;
  /** Holds so far, the longest (ms) and the total time held (ms). */
  stats(): { holds: number; longestMs: number; heldMs: number };
  /** The longest hold since the previous call (ms), for the metrics' scrape. */
  takeLongestMs(): number;
};

export function createWriteGate(): WriteGate {
  let held = false;
  let since = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let waiting: Array<() => void> = [];
  const counts = { holds: 0, longestMs: 0, heldMs: 0 };
  let longestSinceTake = 0;

  const open = () => {
    if (!held) return;
    held = false;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const ms = performance.now() - since;
    counts.heldMs += ms;
    if (ms > counts.longestMs) counts.longestMs = ms;
    if (ms > longestSinceTake) longestSinceTake = ms;
    const run = waiting;
    waiting = [];
    // One failing callback must not keep the others (the group commit among them) from running.
    for (const fn of run) {
      try {
        fn();
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', msg: 'a write held by the WAL checkpointer failed when released', error: String(err) }));
      }
    }
  };

  return {
    get held() {
      return held;
    },
    hold(maxMs) {
      if (held) return;
      held = true;
      since = performance.now();
      counts.holds++;
      timer = setTimeout(open, maxMs);
    },
    open,
    whenOpen(fn) {
      if (held) waiting.push(fn);
      else fn();
    },
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
