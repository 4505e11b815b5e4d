/**
 * Second-price auction among eligible candidates. Rank is bid x relevance; the winner pays what it needed
 * to keep its rank against the runner-up (plus one micro-unit), never above its own bid and never below
 * the floor price.
 */
export type Bid = { key: string; bidMicros: number; relevance: number };
export type AuctionResult<T extends Bid> = { winner: T; priceMicros: number; runnerUp: T | null };

export function runAuction<T extends Bid>(bids: T[], floorMicros: number): AuctionResult<T> | null {
  const ranked = bids
    .filter((b) => b.bidMicros >= floorMicros && b.relevance > 0)
    .sort((a, b) => b.bidMicros * b.relevance - a.bidMicros * a.relevance || b.relevance - a.relevance || (a.key < b.key ? -1 : 1));
  const winner = ranked[0];
  if (!winner) return null;
  const runnerUp = ranked[1] ?? null;
  let price = floorMicros;
  if (runnerUp) price = Math.max(floorMicros, Math.floor((runnerUp.bidMicros * runnerUp.relevance) / winner.relevance) + 1);
  return { winner, priceMicros: Math.min(price, winner.bidMicros), runnerUp };
}
