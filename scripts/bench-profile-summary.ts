/**
 * `bun scripts/bench-profile-summary.ts FILE.cpuprofile [--top 25]`: where a CPU profile (bun --cpu-prof,
 * e.g. from `npm run bench -- --profile`) spends its samples.
 *
 * Prints, as shares of the non-idle samples: the functions with the most self time, and the functions of
 * the project's own code (src/) with the most inclusive time (self + everything they call), each counted
 * once per sample even when recursive. "(idle)" samples, when the thread waited for I/O, are left out.
 * `--callers NAME` (repeatable) adds, for the samples whose innermost function is NAME (e.g. a native
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
const callersOf = args.flatMap((a, i) => (a === '--callers' && args[i + 1] ? [args[i + 1]] : []));
if (!file || !Number.isInteger(top) || top < 1) {
  console.error('usage: bun scripts/bench-profile-summary.ts FILE.cpuprofile [--top N] [--samples] [--callers NAME]...');
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
for (let i = 0; i < profile.samples.length; i++) {
  const leaf = byId.get(profile.samples[i]);
  if (!leaf) continue;
  const name = leaf.callFrame.functionName;
  if (name === '(idle)' || name === '(program)') continue;
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
console.log(`${file}\nnon-idle samples: ${busy} (${profile.timeDeltas && !bySamples ? 'µs' : 'samples'}), garbage collector ${pct(gc).trim()}\n`);
console.log(`Top ${top} by self time:\n${list(self).join('\n')}\n`);
console.log(`Top ${top} functions of src/ by inclusive time:\n${list(inclusive).join('\n')}`);
for (const [name, m] of callers) console.log(`\nSelf time in ${name} (${pct([...m.values()].reduce((a, b) => a + b, 0)).trim()}), by the nearest src/ function:\n${list(m).join('\n')}`);
