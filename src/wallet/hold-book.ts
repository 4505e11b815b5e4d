/**
 * Credit holds of the requests in flight. They live in memory because they only exist while a request
 * runs: reserving costs no disk write, and a crash cannot leave one behind (no money moved yet). The
 * JavaScript thread makes check-and-reserve atomic. A gateway running as several processes would keep
 * holds in the shared database instead; the wallet service is the only user of this module.
 */
export type Hold = { id: string; projectId: string; amountMicros: number };

export function createHoldBook() {
  const holds = new Map<string, Hold>();
  // Holds never leave the process, so a counter is a sufficient id.
  let counter = 0;
  const heldByProject = new Map<string, number>();
  return {
    held: (projectId: string) => heldByProject.get(projectId) ?? 0,
    /** Holds open now: requests in flight. */
    count: () => holds.size,
    add(projectId: string, amountMicros: number): Hold {
      const hold = { id: `hold_${++counter}`, projectId, amountMicros };
      holds.set(hold.id, hold);
      heldByProject.set(projectId, (heldByProject.get(projectId) ?? 0) + amountMicros);
      return hold;
    },
    /** Removes a hold and returns it, exactly once; null if it was already taken. */
    take(id: string): Hold | null {
      const hold = holds.get(id);
      if (!hold) return null;
      holds.delete(id);
      const left = (heldByProject.get(hold.projectId) ?? 0) - hold.amountMicros;
      if (left === 0) heldByProject.delete(hold.projectId);
      else heldByProject.set(hold.projectId, left);
      return hold;
    },
  };
}
export type HoldBook = ReturnType<typeof createHoldBook>;
