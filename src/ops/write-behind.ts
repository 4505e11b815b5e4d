/**
 * A bounded in-memory queue drained on a timer into one batch write. Keeps analytics and conversation
 * writes off the request's critical path: a hard kill loses at most one interval of them. Money never
 * goes through here.
 */
export type WriteBehind<T> = { push(item: T): void; flush(): void; stop(): void; size(): number; dropped(): number };

export function createWriteBehind<T>(opts: {
  intervalMs: number;
  maxQueued: number;
  write: (batch: T[]) => void;
  onError: (err: unknown, batchSize: number) => void;
}): WriteBehind<T> {
  let queue: T[] = [];
  let droppedCount = 0;
  const flush = () => {
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    try {
      opts.write(batch);
    } catch (err) {
      opts.onError(err, batch.length);
    }
  };
  const timer = setInterval(flush, opts.intervalMs);
  timer.unref?.();
  return {
    push(item) {
      if (queue.length >= opts.maxQueued) {
        // Over the bound the oldest item goes: memory stays bounded when the disk stalls.
        queue.shift();
        droppedCount++;
      }
      queue.push(item);
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
    size: () => queue.length,
    dropped: () => droppedCount,
  };
}
