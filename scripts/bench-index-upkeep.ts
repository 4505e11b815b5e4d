/**
 * `bun scripts/bench-index-upkeep.ts`: does the ad-unit index's upkeep make searches wait?
 *
 * Builds the in-memory index (src/ads/unit-index.ts) from --units synthetic ad units in --campaigns
 * campaigns (seeded PRNG), then edits campaigns one at a time, the way product edits reach it (each edit
 * changes the description of every unit of one campaign), with a turn of the event loop between edits and
 * a search after each, until --rebuilds upkeep rebuilds (compaction when a quarter of the documents are
 * tombstones) have completed. A heartbeat re-arms itself on the event loop throughout. It prints the
 * slowest campaign updates, the slowest searches, the longest heartbeat wait, and how long each rebuild
 * ran in steps between events. On a shared machine the heartbeat also measures other processes: compare
 * with the load average printed.
 *
 * Options: --units N (100000) --campaigns N (10000) --rebuilds N (1) --seed N (7)
 */
import type { UnitRow } from '../src/ads/ad-index.repo';
import { queryWeights } from '../src/ads/matcher';
import { createUnitIndex } from '../src/ads/unit-index';
import { loadAverage, mulberry32 } from './dev-lib';

const opts = { units: 100_000, campaigns: 10_000, rebuilds: 1, seed: 7 };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const key = flag.replace(/^--/, '') as keyof typeof opts;
    const value = Number(inline ?? argv[++i]);
    if (!(key in opts) || !Number.isFinite(value) || value < 1) {
      console.error(`bench-index-upkeep: bad option ${argv[i]} (see the comment at the top of scripts/bench-index-upkeep.ts)`);
      process.exit(2);
    }
    opts[key] = Math.floor(value);
  }
}

const rand = mulberry32(opts.seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const NOUNS = ['trail running shoes', 'burr grinder', 'espresso machine', 'kanban board', 'chef knife', 'cast iron skillet', 'bluetooth speaker', 'yoga mat', 'carry-on suitcase', 'hose reel', 'rice cooker', 'studio monitors'];
const TRAITS = ['lightweight', 'cushioned', 'waterproof', 'stainless', 'quiet', 'compact', 'forged', 'wireless', 'foldable', 'ergonomic'];
const USES = ['marathon training', 'espresso', 'small teams', 'meal prep', 'parties', 'home workouts', 'long flights', 'lawn care'];

let seq = 0;
function unitOf(campaign: number, k: number, version: number): UnitRow {
  const noun = pick(NOUNS);
  return {
    seq: ++seq, campaign_id: `camp_${campaign}`, product_id: `prod_${campaign}_${k}`, name: `Brand${campaign % 997} ${pick(TRAITS)} ${noun} ${k}`,
    description: `A ${pick(TRAITS)} ${noun} made for ${pick(USES)}, edition ${version}.`, url: `https://brand${campaign % 997}.example/p/${k}`,
    keywords: JSON.stringify([noun, pick(USES)]), category: 'gear', context: `${pick(USES)} gear`, campaign_name: `Campaign ${campaign}`, advertiser_project_id: `adv_${campaign % 2000}`,
  };
}
const perCampaign = Math.max(1, Math.round(opts.units / opts.campaigns));
const unitsOf = (campaign: number, version: number) => Array.from({ length: perCampaign }, (_, k) => unitOf(campaign, k, version));

const ix = createUnitIndex();
const built = performance.now();
ix.build(Array.from({ length: opts.campaigns }, (_, c) => unitsOf(c, 0)).flat());
console.error(`Built ${ix.size()} units in ${((performance.now() - built) / 1000).toFixed(1)} s`);
Bun.gc(true); // the build's garbage is collected now, not during the measurement
const queries = Array.from({ length: 200 }, () => queryWeights({ current: `${pick(TRAITS)} ${pick(NOUNS)} for ${pick(USES)}`, earlier: [] }));

let last = performance.now();
let longestGapMs = 0;
let beating = true;
const beat = () => {
  const now = performance.now();
  longestGapMs = Math.max(longestGapMs, now - last);
  last = now;
  if (beating) setImmediate(beat);
};
setImmediate(beat);

const updates: number[] = [];
const searches: number[] = [];
const rebuildsMs: number[] = [];
let rebuildStarted: number | null = null;
let edits = 0;
while (rebuildsMs.length < opts.rebuilds) {
  const campaign = edits % opts.campaigns;
  const fresh = unitsOf(campaign, ++edits);
  const t0 = performance.now();
  ix.replaceCampaign(`camp_${campaign}`, fresh);
  updates.push(performance.now() - t0);
  const t1 = performance.now();
  ix.search(queries[edits % queries.length], () => true, 30);
  searches.push(performance.now() - t1);
  const rebuilding = ix.stats().rebuilding;
  if (rebuilding && rebuildStarted === null) rebuildStarted = performance.now();
  if (!rebuilding && rebuildStarted !== null) rebuildsMs.push(performance.now() - rebuildStarted), (rebuildStarted = null);
  await new Promise((resolve) => setImmediate(resolve));
}
beating = false;

const worst = (xs: number[]) => [...xs].sort((a, b) => b - a).slice(0, 3).map((x) => x.toFixed(2)).join(', ');
const p = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)].toFixed(2);
console.log(`${opts.units} units in ${opts.campaigns} campaigns; ${edits} campaign edits (${perCampaign} units each) until ${opts.rebuilds} rebuild(s) completed; load average ${loadAverage()}`);
console.log(`campaign update: p50 ${p(updates, 0.5)} ms, p99 ${p(updates, 0.99)} ms, slowest ${worst(updates)} ms`);
console.log(`search:          p50 ${p(searches, 0.5)} ms, p99 ${p(searches, 0.99)} ms, slowest ${worst(searches)} ms`);
console.log(`longest heartbeat wait ${longestGapMs.toFixed(2)} ms; rebuild(s) ran in steps for ${rebuildsMs.map((x) => (x / 1000).toFixed(1)).join(', ')} s; ${JSON.stringify(ix.stats())}`);
process.exit(0);
