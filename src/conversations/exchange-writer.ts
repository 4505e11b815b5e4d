/**
 * Conversation writes on their own thread (embedded SQLite). Storing every finished exchange (the conversation
 * row and its messages) was about a quarter of the serving thread's CPU under load; here a worker thread with its
 * own connection to the same database file does it (exchange-writer.worker.ts), so the event loop only queues the
 * records and posts each batch. The two connections never wait for each other's lock on the event loop: they
 * share the store's write gate (src/store/write-gate.ts), whose shared words let the serving connection's
 * deferrable writes (the group commit of charges among them) wait on a callback while the thread is in a
 * transaction, and let the thread wait (off the event loop) while the serving connection writes.
 *
 * Batches come from the write-behind queue (src/ops/write-behind.ts) as before; `write` resolves once the batch
 * is stored (rejects when some of it could not be). If the thread dies, later batches are written on the event
 * loop (`fallback`), as without the thread, and the failure is logged once.
 */
import type { ExchangeRecord } from '../chat/chat.service';
import { W_WRITER, WRITER_WORDS, type WriteGate } from '../store/write-gate';

export type ExchangeWriter = {
  write(records: ExchangeRecord[]): Promise<void>;
  /** Writes what was posted, then closes the thread's connection and ends the thread. */
  stop(): Promise<void>;
};

/** What the thread needs of a record: the request's messages and end user, not the rest of its body. */
function slim(r: ExchangeRecord): ExchangeRecord {
  const { body, endUser, metadata, stream, wantsUsage, maxTokens, maxTokensField } = r.request;
  return { ...r, request: { body: { model: body.model, messages: body.messages }, endUser, metadata, stream, wantsUsage, maxTokens, maxTokensField } };
}

export function startExchangeWriter(opts: { dbPath: string; gate: WriteGate; fallback: (records: ExchangeRecord[]) => Promise<void> }): ExchangeWriter {
  const words = new Int32Array(new SharedArrayBuffer(WRITER_WORDS * 4));
  const worker = new Worker(new URL('./exchange-writer.worker.ts', import.meta.url).href);
  const pending = new Map<number, { resolve: () => void; reject: (err: Error) => void; n: number }>();
  let nextId = 1;
  let dead = false;
  let closed: (() => void) | null = null;

  const fail = (why: string) => {
    if (dead) return;
    dead = true;
    // The thread cannot be in a transaction any more: nothing should wait for it.
    Atomics.store(words, W_WRITER, 0);
    console.error(JSON.stringify({ level: 'error', msg: 'exchange writer thread failed; conversations are written on the main thread from now on', error: why }));
    for (const [, p] of pending) p.reject(new Error(`exchange writer thread failed: ${why}`));
    pending.clear();
    opts.gate.wake();
    closed?.();
  };

  worker.onmessage = (event: MessageEvent) => {
    const msg = event.data;
    if (msg.type === 'open') opts.gate.wake();
    else if (msg.type === 'written') {
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.failed > 0) p.reject(new Error(`${msg.failed} of ${p.n} exchanges not stored: ${msg.error}`));
      else p.resolve();
    } else if (msg.type === 'closed') closed?.();
    else if (msg.type === 'failed') fail(String(msg.error));
  };
  worker.addEventListener('error', (event) => fail(String((event as ErrorEvent).message ?? event)));
  worker.postMessage({ type: 'open', path: opts.dbPath, words });
  opts.gate.attachWriter(words);
  worker.unref();

  return {
    write(records) {
      if (dead) return opts.fallback(records);
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        pending.set(id, { resolve, reject, n: records.length });
        worker.postMessage({ type: 'write', id, records: records.map(slim) });
      });
    },
    stop() {
      if (dead) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const fallbackTimer = setTimeout(() => fail('did not close within 10 s'), 10_000);
        closed = () => {
          clearTimeout(fallbackTimer);
          dead = true;
          worker.terminate();
          resolve();
        };
        // Messages are handled in order: every write posted before this one is done when it answers.
        worker.postMessage({ type: 'close' });
      });
    },
  };
}
