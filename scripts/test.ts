/**
 * `npm test`: builds the binary (the end-to-end tests run it), runs every test with bun test twice, once on each
 * store (the embedded SQLite database, then PostgreSQL on a throwaway server made from the machine's own packages:
 * initdb in a temporary directory, a loopback port, stopped at the end), type-checks with `tsc --noEmit` (bun runs
 * TypeScript without checking it), and ends with one line `N passed, N failed`, which bun test does not print
 * itself. A failed type check counts as one failure. Debian's chromium, which the dashboard's browser tests
 * drive, is installed with apt-get when missing.
 *
 *   npm test                      both stores
 *   npm test -- --store sqlite    one store only (also: --store postgres); other arguments go to bun test
 */
import { join } from 'node:path';
import { startThrowawayPostgres } from './pg-local';

const root = join(import.meta.dir, '..');
const bun = process.execPath;
const args = process.argv.slice(2);

const build = Bun.spawnSync([bun, join(root, 'scripts', 'build.ts')], { cwd: root, stdout: 'inherit', stderr: 'inherit' });
if (build.exitCode !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

/**
 * The dashboard's browser tests drive Debian's chromium (playwright-core downloads no browser). When it is
 * missing it is installed with apt-get (as root or with password-less sudo), so that `npm test` alone sets up
 * a fresh machine; when that is not possible the browser tests fail and say how to install it.
 */
function ensureChromium(): void {
  if (process.env.VEXRAIL_CHROMIUM || Bun.which('chromium') || Bun.which('chromium-browser')) return;
  const sudo = process.getuid?.() === 0 ? [] : Bun.which('sudo') ? ['sudo', '-n'] : null;
  if (!Bun.which('apt-get') || sudo === null) {
    console.log('chromium is not installed and cannot be installed from here: the browser tests will fail (apt-get install chromium, or set VEXRAIL_CHROMIUM)');
    return;
  }
  console.log('chromium is not installed: installing the Debian package with apt-get for the dashboard\'s browser tests ...');
  const run = (cmd: string[]) => Bun.spawnSync([...sudo, ...cmd], { stdout: 'inherit', stderr: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).exitCode === 0;
  if (!run(['apt-get', 'install', '-y', '-q', 'chromium'])) run(['apt-get', 'update', '-q']) && run(['apt-get', 'install', '-y', '-q', 'chromium']);
}
ensureChromium();

const storeArg = args.indexOf('--store');
const stores = storeArg >= 0 ? [args[storeArg + 1]] : ['sqlite', 'postgres'];
if (storeArg >= 0) args.splice(storeArg, 2);
for (const s of stores) if (s !== 'sqlite' && s !== 'postgres') throw new Error('--store must be sqlite or postgres');

/** One bun test run on one store; its pass and fail counts from bun's summary lines. */
async function runTests(store: string, env: Record<string, string>): Promise<{ passed: number; failed: number }> {
  console.log(`\n=== bun test on ${store} ===`);
  const proc = Bun.spawn([bun, 'test', ...args], {
    cwd: root,
    stdout: 'inherit',
    stderr: 'pipe',
    env: { ...process.env, VEXRAIL_BIN: join(root, 'dist', 'vexrail'), VEXRAIL_TEST_STORE: store, ...env },
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
  if ((exitCode !== 0 || passed === 0) && failed === 0) failed = 1;
  console.log(`=== ${store}: ${passed} passed, ${failed} failed ===`);
  return { passed, failed };
}

let passed = 0;
let failed = 0;
for (const store of stores) {
  let env: Record<string, string> = {};
  let stop = async () => {};
  if (store === 'postgres') {
    try {
      const server = await startThrowawayPostgres({ log: (line) => console.log(`  postgres: ${line}`) });
      env = { VEXRAIL_TEST_PG_URL: server.url };
      stop = () => server.stop();
    } catch (err) {
      console.log(`PostgreSQL could not start, so the PostgreSQL pass did not run: ${(err as Error).message}`);
      failed++;
      continue;
    }
  }
  try {
    const r = await runTests(store, env);
    passed += r.passed;
    failed += r.failed;
  } finally {
    await stop();
  }
}
const exitCode = failed === 0 ? 0 : 1;

// After the tests, not beside them: both are CPU-bound, and the timing-sensitive tests should not share it.
// The server and the dashboard (browser code: DOM types, Preact JSX) are checked with their own settings.
const tscOf = (project: string) => Bun.spawnSync([join(root, 'node_modules', '.bin', 'tsc'), '--noEmit', '-p', project], { cwd: root, stdout: 'pipe', stderr: 'pipe' });
const server = tscOf(root);
const tsc = server.exitCode === 0 ? tscOf(join(root, 'src', 'web')) : server;
if (tsc.exitCode === 0) {
  console.log('tsc --noEmit: no type errors');
} else {
  const output = `${tsc.stdout.toString()}${tsc.stderr.toString()}`.trim();
  console.log(`tsc --noEmit failed (exit ${tsc.exitCode ?? 'signal'}):\n${output || '(no output)'}`);
  failed++;
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode === 0 && failed === 0 && passed > 0 ? 0 : 1);
