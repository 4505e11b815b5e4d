/**
 * A bounded in-memory queue drained on a timer into one batch write. Keeps analytics and conversation
 * writes off the request's critical path: a hard kill loses at most one interval of them. Money never
 * goes through here.
 *
 * What happens when the queue is full is the caller's choice:
 * - 'drop_oldest' (default): the oldest record goes, so memory stays bounded when the disk stalls. Every
 *   drop is counted, and logged once per flush with the number dropped since the last log line.
 * - 'write_through': the queue and the new record are written at once, in the caller's turn, like a
 *   money record. For records that must never be lost (an impression is what a click is paid against).
 * A batch whose write throws is lost either way: counted as failed and reported through onError.
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
  flush(): void;
  stop(): void;
  stats(): WriteBehindStats;
};

export function createWriteBehind<T>(opts: {
  intervalMs: number;
  maxQueued: number;
  write: (batch: T[]) => void;
  onError: (err: unknown, batchSize: number) => void;
  overflow?: Overflow;
  /** Names the queue in log lines. */
  name?: string;
  /** Where drop reports go (one JSON line each); stderr by default. */
  log?: (line: string) => void;
}): WriteBehind<T> {
  const overflow = opts.overflow ?? 'drop_oldest';
  const log = opts.log ?? ((line: string) => console.error(line));
  let queue: T[] = [];
  const counts = { dropped: 0, failed: 0, writtenThrough: 0 };
  let droppedSinceLog = 0;

  const reportDrops = () => {
    if (droppedSinceLog === 0) return;
    log(JSON.stringify({ level: 'error', msg: 'write-behind queue full: records dropped', queue: opts.name ?? 'write-behind', dropped: droppedSinceLog, dropped_total: counts.dropped, max_queued: opts.maxQueued }));
    droppedSinceLog = 0;
  };

  const flush = () => {
    reportDrops();
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    try {
      opts.write(batch);
    } catch (err) {
      counts.failed += batch.length;
      opts.onError(err, batch.length);
    }
  };
  const timer = setInterval(flush, opts.intervalMs);
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
      clearInterval(timer);
      flush();
    },
    stats: () => ({ queued: queue.length, ...counts }),
  };
}
