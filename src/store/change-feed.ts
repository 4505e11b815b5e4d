import type { SqlStore } from './sql-store';

/**
 * What changed, told to every instance that serves from the same store, so that the caches each one keeps
 * (projects and keys, the serving set of campaigns, the ad index, settings) follow a change made through any of
 * them within a second.
 *
 * - `announce(topic, id)`, after the change committed, sends a NOTIFY on the `vexrail_changes` channel (PostgreSQL);
 *   the other instances run their `subscribe` handlers when it arrives. The instance that made the change has
 *   already applied it to its own caches (as with one process). The embedded store has one process: announcing
 *   does nothing there.
 * - Notifications can be missed (a dropped listening connection, a NOTIFY sent while an instance was starting):
 *   `onCatchUp` handlers run every `catchUpMs` and after the listening connection comes back, and re-read what
 *   they cache. A change therefore reaches every instance within about 1 s through the channel, and within
 *   `catchUpMs` when the channel failed.
 */
export type ChangeTopic = 'project' | 'campaigns' | 'settings';
type Handler = (id: string | null) => void;

export const CHANGE_CHANNEL = 'vexrail_changes';
const DEFAULT_CATCH_UP_MS = 30_000;

export type ChangeFeed = {
  readonly instanceId: string;
  announce(topic: ChangeTopic, id: string | null): void;
  subscribe(topic: ChangeTopic, handler: Handler): void;
  onCatchUp(handler: () => void): void;
  /** Starts listening (PostgreSQL); resolves once the LISTEN is acknowledged. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Notifications received from other instances (for metrics and tests). */
  received(): number;
};

export function createChangeFeed(store: SqlStore, options: { catchUpMs?: number; instanceId?: string } = {}): ChangeFeed {
  const instanceId = options.instanceId ?? `inst_${crypto.randomUUID()}`;
  const handlers = new Map<ChangeTopic, Handler[]>();
  const catchUps: Array<() => void> = [];
  let receivedCount = 0;
  let unlisten: (() => Promise<void>) | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let listenedOnce = false;

  const run = (topic: ChangeTopic, id: string | null) => {
    for (const h of handlers.get(topic) ?? []) {
      try {
        h(id);
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', msg: 'change handler failed', topic, error: String(err) }));
      }
    }
  };
  const catchUp = () => {
    for (const h of catchUps) {
      try {
        h();
      } catch (err) {
        console.error(JSON.stringify({ level: 'error', msg: 'change catch-up failed', error: String(err) }));
      }
    }
  };

  return {
    instanceId,
    announce(topic, id) {
      const pg = store.postgres;
      if (!pg) return;
      const payload = JSON.stringify({ t: topic, id, o: instanceId });
      pg.notify(CHANGE_CHANNEL, payload).catch((err) =>
        console.error(JSON.stringify({ level: 'error', msg: 'change notification failed; other instances catch up within their catch-up interval', topic, error: String(err) })));
    },
    subscribe(topic, handler) {
      handlers.set(topic, [...(handlers.get(topic) ?? []), handler]);
    },
    onCatchUp(handler) {
      catchUps.push(handler);
    },
    async start() {
      const pg = store.postgres;
      if (!pg || unlisten) return;
      const subscription = await pg.listen(
        CHANGE_CHANNEL,
        (payload) => {
          let change: { t: ChangeTopic; id: string | null; o: string };
          try {
            change = JSON.parse(payload);
          } catch {
            return;
          }
          if (change.o === instanceId) return; // applied here when it was made
          receivedCount++;
          run(change.t, change.id ?? null);
        },
        () => {
          // After a reconnect, whatever was sent while the connection was down is caught up at once.
          if (listenedOnce) catchUp();
          listenedOnce = true;
        },
      );
      unlisten = () => subscription.unlisten();
      timer = setInterval(catchUp, options.catchUpMs ?? DEFAULT_CATCH_UP_MS);
      timer.unref?.();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      const u = unlisten;
      unlisten = null;
      await u?.().catch(() => {});
    },
    received: () => receivedCount,
  };
}
