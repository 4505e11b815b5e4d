/**
 * The exchange writer's thread (see exchange-writer.ts): its own connection to the data directory's database,
 * the conversations service over it, and the gate's shared words. Each batch is written in transactions sized to
 * take about TRANSACTION_BUDGET_MS, each begun only when the serving connection is not in a gated write and the
 * checkpointer holds nothing (Atomics.wait here, off the event loop), so the serving connection's group commit
 * waits at most about one such transaction.
 */
import type { Database } from 'bun:sqlite';
import { openDatabase } from '../store/database';
import { sqliteStore } from '../store/sql-store';
import { W_HOLD, W_MAIN, W_WAITING, W_WRITER } from '../store/write-gate';
import type { ExchangeRecord } from '../chat/chat.service';
import { createConversationsRepo } from './conversations.repo';
import { createConversationsService, type ConversationsService } from './conversations.service';

declare var self: Worker;

/** What one transaction is sized to take (ms): the longest the serving connection's group commit waits for it. */
const TRANSACTION_BUDGET_MS = 1;
const FIRST_CHUNK = 16;
const MAX_CHUNK = 256;

let db: Database | null = null;
let service: ConversationsService | null = null;
let words: Int32Array | null = null;
/** Measured cost of one exchange (ms), averaged over recent transactions. */
let exchangeMs: number | null = null;

function leave(w: Int32Array) {
  Atomics.store(w, W_WRITER, 0);
  if (Atomics.exchange(w, W_WAITING, 0) === 1) postMessage({ type: 'open' });
}

/** Marks this thread's transaction, once the serving connection is in no gated write and nothing is held. */
function enter(w: Int32Array) {
  for (;;) {
    Atomics.store(w, W_WRITER, 1);
    if (Atomics.load(w, W_MAIN) === 0 && Atomics.load(w, W_HOLD) === 0) return;
    leave(w);
    if (Atomics.load(w, W_HOLD) === 1) Atomics.wait(w, W_HOLD, 1, 50);
    else Atomics.wait(w, W_MAIN, 1, 5);
  }
}

const chunkSize = () => (exchangeMs === null ? FIRST_CHUNK : Math.max(1, Math.min(MAX_CHUNK, Math.floor(TRANSACTION_BUDGET_MS / Math.max(exchangeMs, 1e-3)))));

async function write(records: ExchangeRecord[]): Promise<{ failed: number; error: string | null }> {
  let failed = 0;
  let error: string | null = null;
  for (let start = 0; start < records.length; ) {
    const chunk = records.slice(start, start + chunkSize());
    start += chunk.length;
    enter(words!);
    const began = performance.now();
    try {
      await service!.writeBatch(chunk);
    } catch (err) {
      failed += chunk.length;
      error = String(err);
    } finally {
      leave(words!);
    }
    const perExchange = (performance.now() - began) / chunk.length;
    exchangeMs = exchangeMs === null ? perExchange : (exchangeMs + perExchange) / 2;
  }
  return { failed, error };
}

/** Messages are handled one after the other, whatever a handler awaits. */
let chain: Promise<void> = Promise.resolve();
self.onmessage = (event: MessageEvent) => {
  chain = chain.then(() => handle(event.data));
};

async function handle(msg: any): Promise<void> {
  try {
    if (msg.type === 'open') {
      words = msg.words as Int32Array;
      db = openDatabase(msg.path);
      // Only the checkpointer's thread checkpoints (src/store/checkpointer.ts).
      db.exec('PRAGMA wal_autocheckpoint = 0');
      service = createConversationsService({ repo: createConversationsRepo(sqliteStore(db)) });
    } else if (msg.type === 'write') {
      const { failed, error } = await write(msg.records);
      postMessage({ type: 'written', id: msg.id, failed, error });
    } else if (msg.type === 'close') {
      db?.close();
      db = null;
      postMessage({ type: 'closed' });
    }
  } catch (err) {
    if (msg.type === 'write') postMessage({ type: 'written', id: msg.id, failed: msg.records.length, error: String(err) });
    else postMessage({ type: 'failed', error: String(err) });
  }
}
