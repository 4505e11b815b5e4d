import type { WriteGate } from '../store/write-gate';

/**
 * A bounded in-memory queue drained on a timer into batch writes. Keeps analytics and conversation writes
 * off the request's critical path: a hard kill loses at most what was queued (about one interval of
 * records, unless the writer has fallen behind). Money never goes through here.
 *
 * The timer's drain is cut into slices so that it never holds the event loop for long: each slice is one
 * write (one transaction) of at most `sliceMaxRecords` records, sized from the measured cost of the
 * previous slices to take about `sliceBudgetMs`. The slices of one drain are spread over the interval
 * (PACE_SHARE of it) rather than run back to back: a request takes several turns of the event loop, and
 * back-to-back slices could meet it at every turn, so one request could wait for several of them (the
 * one-connection p99 did not move with this, see README Performance). When the queue holds more than fits in
 * the interval at that pace, the next slice runs on the next turn (setImmediate), after the I/O that waited.
 * `flush()` and `stop()` still write everything at once (in slices, all in the caller's turn): for shutdown
 * and for callers that need the records stored now.
 *
 * What happens when the queue is full is the caller's choice:
 * - 'drop_oldest' (default): the oldest record goes, so memory stays bounded when the disk stalls. Every
 *   drop is counted, and logged once per flush with the number dropped since the last log line.
 * - 'write_through': the queue and the new record are written at once, in the caller's turn, like a
 *   money record. For records that must never be lost (an impression is what a click is paid against).
 * A slice whose write throws is lost either way: counted as failed and reported through onError.
 *
 * A write may be asynchronous (a transaction on a networked store): then the next slice starts only once it
 * settled, so batches are stored in the order they were queued, and flush() and stop() return a promise that
 * resolves once everything queued is stored. Such a write that waited for I/O (it settled after a later turn of
 * the event loop) held the loop only in short pieces: it does not size the slices, which then take sliceMax.
 */
export type Overflow = 'drop_oldest' | 'write_through';

export type WriteBehindStats = {
  /** Records waiting for the next flush. */
  queued: number;
  /** Records dropped because the queue was full ('drop_oldest'). */
  dropped: number;
  /** Records lost because their batch write threw. */
  failed: number;
  /** Times a full queue was written in the caller's turn ('write_through'). */
  writtenThrough: number;
};

export type WriteBehind<T> = {
  push(item: T): void;
  /** Writes everything queued, now, in the caller's turn (after any write in flight, when writes are asynchronous). */
  flush(): void | Promise<void>;
  /** Stops the timer and writes everything queued. */
  stop(): void | Promise<void>;
  stats(): WriteBehindStats;
};

/** Most records one write (one transaction) takes by default. */
export const DEFAULT_SLICE_MAX_RECORDS = 512;
/** How long a timed slice is sized to take by default: well under the 5 ms a request should ever wait. */
export const DEFAULT_SLICE_BUDGET_MS = 1.5;
/** Records in the first slice, before any cost has been measured. */
const FIRST_SLICE_RECORDS = 16;
/** Share of the interval a drain spreads its slices over; the rest is slack before the next tick. */
const PACE_SHARE = 0.8;
/** A pause shorter than this between two slices is not worth a timer: the next slice runs on the next turn. */
const MIN_PAUSE_MS = 1;

export function createWriteBehind<T>(opts: {
  intervalMs: number;
  maxQueued: number;
  /** Stores one batch; returns a promise when it does so asynchronously (anything else returned is ignored). */
  write: (batch: T[]) => unknown;
  onError: (err: unknown, batchSize: number) => void;
  overflow?: Overflow;
  /** Names the queue in log lines. */
  name?: string;
  /** Where drop reports go (one JSON line each); stderr by default. */
  log?: (line: string) => void;
  /** Most records in one write. */
  sliceMaxRecords?: number;
  /** What a slice of the timer's drain is sized to take (ms). */
  sliceBudgetMs?: number;
  /** Clock for measuring slices (ms); performance.now by default. */
  now?: () => number;
  /** The store's write gate: timed slices wait while the checkpointer holds writes (flush() does not). */
  gate?: WriteGate;
}): WriteBehind<T> {
  const overflow = opts.overflow ?? 'drop_oldest';
  const log = opts.log ?? ((line: string) => console.error(line));
  const sliceMax = Math.max(1, Math.floor(opts.sliceMaxRecords ?? DEFAULT_SLICE_MAX_RECORDS));
  const budgetMs = opts.sliceBudgetMs ?? DEFAULT_SLICE_BUDGET_MS;
  const now = opts.now ?? (() => performance.now());
  let queue: T[] = [];
  const counts = { dropped: 0, failed: 0, writtenThrough: 0 };
  let droppedSinceLog = 0;
  // Measured cost of one record (ms), averaged over the recent slices: one slice slowed by a GC pause or by
  // the process being descheduled halves the next slices at most, it does not shrink them to one record.
  let recordMs: number | null = null;
  /** The next slice of the drain under way (a turn away, or a pause away); null when no drain is under way. */
  let next: { cancel(): void } | null = null;
  /** When the drain under way must be done by, at its pace (performance.now() time). */
  let drainDeadline = 0;
  let waitingForGate = false;
  let stopped = false;
  /** An asynchronous write not yet settled: the next one waits for it. */
  let inFlight: Promise<void> | null = null;
  /** An asynchronous write waited for I/O: its time was not the event loop's. */
  let waitsForIo = false;

  const reportDrops = () => {
    if (droppedSinceLog === 0) return;
    log(JSON.stringify({ level: 'error', msg: 'write-behind queue full: records dropped', queue: opts.name ?? 'write-behind', dropped: droppedSinceLog, dropped_total: counts.dropped, max_queued: opts.maxQueued }));
    droppedSinceLog = 0;
  };

  /** Writes the oldest `size` queued records in one write; returns the write's promise when it is asynchronous. */
  const writeSlice = (size: number): Promise<void> | null => {
    const batch = queue.length <= size ? queue : queue.splice(0, size);
    if (batch === queue) queue = [];
    const started = now();
    const failed = (err: unknown) => {
      counts.failed += batch.length;
      opts.onError(err, batch.length);
    };
    const measured = () => {
      const perRecordMs = (now() - started) / batch.length;
      recordMs = recordMs === null ? perRecordMs : (recordMs + perRecordMs) / 2;
    };
    let result: unknown;
    try {
      result = opts.write(batch);
    } catch (err) {
      failed(err);
    }
    if (!(result instanceof Promise)) {
      measured();
      return null;
    }
    let laterTurn = false;
    const probe = setImmediate(() => (laterTurn = true));
    const done = () => {
      clearImmediate(probe);
      if (laterTurn) waitsForIo = true;
      else measured();
    };
    const settled: Promise<void> = result.then(done, (err) => (failed(err), done())).finally(() => {
      if (inFlight === settled) inFlight = null;
    });
    inFlight = settled;
    return settled;
  };

  const sliceSize = () => {
    if (waitsForIo) return sliceMax;
    if (recordMs === null) return Math.min(FIRST_SLICE_RECORDS, sliceMax);
    if (recordMs <= 0) return sliceMax;
    return Math.max(1, Math.min(sliceMax, Math.floor(budgetMs / recordMs)));
  };

  /** Everything, now (in slices of at most sliceMax records), each asynchronous write after the one before. */
  const flush = (): void | Promise<void> => {
    reportDrops();
    if (inFlight) return inFlight.then(flush);
    while (queue.length > 0) {
      const pending = writeSlice(sliceMax);
      if (pending) return pending.then(flush);
    }
  };

  const onNextTurn = () => {
    const handle = setImmediate(drainSlice);
    next = { cancel: () => clearImmediate(handle) };
  };
  /**
   * After a slice: the next one on the next turn, or after a pause that spreads the slices still needed over what
   * is left of the drain's share of the interval (real time: the pace is about the event loop, not the test clock).
   */
  const scheduleNext = (sliceMs: number) => {
    const slicesLeft = Math.ceil(queue.length / sliceSize());
    const pauseMs = (drainDeadline - performance.now()) / slicesLeft - sliceMs;
    if (!(pauseMs >= MIN_PAUSE_MS)) return onNextTurn();
    const handle = setTimeout(drainSlice, pauseMs);
    handle.unref?.();
    next = { cancel: () => clearTimeout(handle) };
  };

  /** The timer's drain: budget-sized slices, spread over the interval, until the queue is empty. */
  const drainSlice = () => {
    next = null;
    reportDrops();
    if (queue.length === 0) return;
    if (opts.gate?.held) {
      waitingForGate = true;
      opts.gate.whenOpen(() => {
        waitingForGate = false;
        if (next === null && !stopped) drainSlice();
      });
      return;
    }
    if (inFlight) return; // the write in flight continues the drain when it settles
    const started = performance.now();
    const pending = writeSlice(sliceSize());
    if (pending) {
      void pending.then(() => {
        if (next === null && !stopped && !inFlight && queue.length > 0) onNextTurn();
      });
    } else if (queue.length > 0) scheduleNext(performance.now() - started);
  };

  const timer = setInterval(() => {
    if (next !== null || waitingForGate || inFlight) return;
    drainDeadline = performance.now() + opts.intervalMs * PACE_SHARE;
    drainSlice();
  }, opts.intervalMs);
  timer.unref?.();
  return {
    push(item) {
      if (queue.length < opts.maxQueued) {
        queue.push(item);
        return;
      }
      if (overflow === 'write_through') {
        queue.push(item);
        counts.writtenThrough++;
        flush();
        return;
      }
      queue.shift();
      queue.push(item);
      counts.dropped++;
      droppedSinceLog++;
    },
    flush,
    stop() {
      stopped = true;
      clearInterval(timer);
      next?.cancel();
      next = null;
      return flush();
    },
    stats: () => ({ queued: queue.length, ...counts }),
  };
}
