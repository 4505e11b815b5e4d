/**
 * `bun scripts/bench-profile-summary.ts FILE.cpuprofile [--top 25]`: where a CPU profile (bun --cpu-prof,
 * e.g. from `npm run bench -- --profile`) spends its samples.
 *
 * Prints, as shares of the non-idle samples: the functions with the most self time, and the functions of
 * the project's own code (src/) with the most inclusive time (self + everything they call), each counted
 * once per sample even when recursive. "(idle)" samples, when the thread waited for I/O, are left out.
 * `--window A:B` keeps only the samples taken between A and B seconds after the profile started (one phase
 * of a benchmark, such as its many-connections run); `--timeline` prints the non-idle samples per second, to
 * find the phases. `--callers NAME` (repeatable) adds, for the samples whose innermost function is NAME (e.g. a native
 * `run`, `get` or `postMessage`), the nearest function of src/ that led there.
 */
import { readFileSync } from 'node:fs';

type Frame = { functionName: string; url: string; lineNumber: number };
type Node = { id: number; callFrame: Frame; children?: number[] };
type Profile = { nodes: Node[]; samples: number[]; timeDeltas?: number[] };

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 25;
/** --samples: count samples instead of weighting them by the time since the previous one (a descheduled process makes long gaps). */
const bySamples = args.includes('--samples');
const windowIndex = args.indexOf('--window');
const window = windowIndex >= 0 ? (args[windowIndex + 1] ?? '').split(':').map(Number) : null;
const timeline = args.includes('--timeline');
const callersOf = args.flatMap((a, i) => (a === '--callers' && args[i + 1] ? [args[i + 1]] : []));
if (!file || !Number.isInteger(top) || top < 1 || (window && !(window.length === 2 && window[0] >= 0 && window[1] > window[0]))) {
  console.error('usage: bun scripts/bench-profile-summary.ts FILE.cpuprofile [--top N] [--samples] [--window A:B] [--timeline] [--callers NAME]...');
  process.exit(2);
}

const profile: Profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (f: Frame) => {
  const where = f.url ? f.url.replace(/^.*\/(src|node_modules)\//, '$1/').replace(/^file:\/\//, '') : '';
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}:${f.lineNumber + 1}` : ''}`;
};
const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

const self = new Map<string, number>();
const callers = new Map<string, Map<string, number>>(callersOf.map((n) => [n, new Map()]));
const inclusive = new Map<string, number>();
let busy = 0;
let gc = 0;
/** Microseconds since the profile started, per sample (timeDeltas are the gaps between samples). */
let clockUs = 0;
const perSecond: number[] = [];
for (let i = 0; i < profile.samples.length; i++) {
  clockUs += Math.max(0, profile.timeDeltas?.[i] ?? 0);
  const leaf = byId.get(profile.samples[i]);
  if (!leaf) continue;
  const name = leaf.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') continue;
  const second = Math.floor(clockUs / 1e6);
  perSecond[second] = (perSecond[second] ?? 0) + 1;
  if (window && (clockUs < window[0] * 1e6 || clockUs >= window[1] * 1e6)) continue;
  const weight = profile.timeDeltas && !bySamples ? Math.max(0, profile.timeDeltas[i] ?? 0) : 1;
  busy += weight;
  if (name === '(garbage collector)') gc += weight;
  self.set(label(leaf.callFrame), (self.get(label(leaf.callFrame)) ?? 0) + weight);
  const seen = new Set<string>();
  let nearest: string | null = null;
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id)!.callFrame;
    if (IDLE.has(f.functionName) || !/\/src\//.test(f.url)) continue;
    const key = label(f);
    nearest ??= key;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + weight);
  }
  const byCaller = callers.get(name);
  if (byCaller) byCaller.set(nearest ?? '(no src/ frame)', (byCaller.get(nearest ?? '(no src/ frame)') ?? 0) + weight);
}

const pct = (w: number) => `${((w / Math.max(1, busy)) * 100).toFixed(1).padStart(5)} %`;
const list = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, w]) => `${pct(w)}  ${k}`);
if (timeline) console.log(`Non-idle samples per second since the profile started:\n${Array.from(perSecond, (n, s) => `${String(s).padStart(4)} s  ${n ?? 0}`).join('\n')}\n`);
console.log(`${file}${window ? ` (${window[0]} s to ${window[1]} s)` : ''}\nnon-idle samples: ${busy} (${profile.timeDeltas && !bySamples ? 'µs' : 'samples'}), garbage collector ${pct(gc).trim()}\n`);
console.log(`Top ${top} by self time:\n${list(self).join('\n')}\n`);
console.log(`Top ${top} functions of src/ by inclusive time:\n${list(inclusive).join('\n')}`);
for (const [name, m] of callers) console.log(`\nSelf time in ${name} (${pct([...m.values()].reduce((a, b) => a + b, 0)).trim()}), by the nearest src/ function:\n${list(m).join('\n')}`);
