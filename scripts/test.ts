/**
 * `npm test`: builds the binary (the end-to-end tests run it), runs every test with bun test, type-checks
 * with `tsc --noEmit` (bun runs TypeScript without checking it), and ends with one line
 * `N passed, N failed`, which bun test does not print itself. A failed type check counts as one failure.
 */
import { join } from 'node:path';

const root = join(import.meta.dir, '..');
const bun = process.execPath;
const args = process.argv.slice(2);

const build = Bun.spawnSync([bun, join(root, 'scripts', 'build.ts')], { cwd: root, stdout: 'inherit', stderr: 'inherit' });
if (build.exitCode !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const proc = Bun.spawn([bun, 'test', ...args], {
  cwd: root,
  stdout: 'inherit',
  stderr: 'pipe',
  env: { ...process.env, VEXRAIL_BIN: join(root, 'dist', 'vexrail') },
});
// bun test writes its report to stderr: pass it through while counting the summary lines.
let tail = '';
const decoder = new TextDecoder();
for await (const chunk of proc.stderr) {
  const text = decoder.decode(chunk, { stream: true });
  process.stderr.write(text);
  tail = (tail + text).slice(-4000);
}
const exitCode = await proc.exited;
const passed = Number(/^\s*(\d+) pass$/m.exec(tail)?.[1] ?? 0);
let failed = Number(/^\s*(\d+) fail$/m.exec(tail)?.[1] ?? 0);
if (exitCode !== 0 && failed === 0) failed = 1;

// After the tests, not beside them: both are CPU-bound, and the timing-sensitive tests should not share it.
const tsc = Bun.spawnSync([join(root, 'node_modules', '.bin', 'tsc'), '--noEmit', '-p', root], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
if (tsc.exitCode === 0) {
  console.log('tsc --noEmit: no type errors');
} else {
  const output = `${tsc.stdout.toString()}${tsc.stderr.toString()}`.trim();
  console.log(`tsc --noEmit failed (exit ${tsc.exitCode ?? 'signal'}):\n${output || '(no output)'}`);
  failed++;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode === 0 && failed === 0 && passed > 0 ? 0 : 1);
