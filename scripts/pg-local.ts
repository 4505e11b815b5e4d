/**
 * A throwaway PostgreSQL server for tests, CI and local development, made from the machine's own packages:
 * initdb in a fresh temporary directory, trust authentication on loopback only, a free port on 127.0.0.1,
 * durability off (fsync, synchronous_commit, full_page_writes): a crash loses the data, which nobody keeps.
 *
 *   bun scripts/pg-local.ts     starts one, prints its URL, stops it and removes its files on Ctrl-C / SIGTERM
 *
 * initdb refuses to run as root; as root every PostgreSQL program runs as the `postgres` user (runuser) in a
 * directory owned by it. Never part of the binary.
 */
import { SQL } from 'bun';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ThrowawayPostgres = {
  /** postgres://postgres@127.0.0.1:PORT/DATABASE (trust authentication: no password). */
  url: string;
  port: number;
  /** The temporary directory (data, socket, log), removed by stop(). */
  dir: string;
  logFile: string;
  /** pg_ctl stop -m fast, then removes the directory. Safe to call more than once. */
  stop(): Promise<void>;
};

export type ThrowawayOptions = {
  /** Directory holding initdb, pg_ctl and postgres; found in /usr/lib/postgresql/<newest>/bin or PATH when absent. */
  binDir?: string;
  /** The database created for the caller. */
  database?: string;
  /** How long the server may take to accept connections. */
  startTimeoutMs?: number;
  /** Progress messages (default: stderr). */
  log?: (message: string) => void;
};

const SUPERUSER = 'postgres';
const START_ATTEMPTS = 3;

export class PostgresUnavailableError extends Error {}

export async function startThrowawayPostgres(options: ThrowawayOptions = {}): Promise<ThrowawayPostgres> {
  const log = options.log ?? ((message: string) => process.stderr.write(`pg-local: ${message}\n`));
  const database = options.database ?? 'vexrail';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`database name ${database} must be a lower-case SQL identifier`);
  const binDir = findBinDir(options.binDir);
  const runAs = postgresUser();
  const dir = mkdtempSync(join(tmpdir(), 'vexrail-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'socket');
  const logFile = join(dir, 'postgres.log');
  const exec: Exec = (program, args) => run(join(binDir, program), args, runAs, dir);
  let started = false;
  const cleanup = () => {
    // Synchronous: also runs from the 'exit' event, when the caller never reached stop().
    if (started) Bun.spawnSync(command(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-s', 'stop'], runAs), { cwd: dir, stdout: 'ignore', stderr: 'ignore' });
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    mkdirSync(socketDir);
    chmodSync(dir, 0o700);
    if (runAs) {
      chownSync(dir, runAs.uid, runAs.gid);
      chownSync(socketDir, runAs.uid, runAs.gid);
    }
    const t0 = performance.now();
    const init = await exec('initdb', ['-D', dataDir, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}): ${init.output.trim()}`);
    configure(dataDir, socketDir, runAs);
    watchOwner(dir, command(join(binDir, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', '-s', 'stop'], runAs));
    log(`initdb ${dir} in ${Math.round(performance.now() - t0)} ms`);

    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    const port = await startOnFreePort(exec, dataDir, logFile, startTimeoutMs, () => (started = true));
    const adminUrl = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    await waitForConnections(adminUrl, startTimeoutMs);
    const admin = new SQL(adminUrl, { max: 1 });
    try {
      await admin.unsafe(`CREATE DATABASE ${database}`);
    } finally {
      await admin.close();
    }
    log(`PostgreSQL ${port} accepting connections ${Math.round(performance.now() - t0)} ms after initdb began`);
    let stopping: Promise<void> | null = null;
    const stop = () => {
      stopping ??= (async () => {
        process.off('exit', cleanup);
        const t1 = performance.now();
        const result = await exec('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-s', 'stop']);
        if (result.code === 0) started = false;
        cleanup();
        log(`stopped and removed ${dir} in ${Math.round(performance.now() - t1)} ms`);
      })();
      return stopping;
    };
    return { url: `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`, port, dir, logFile, stop };
  } catch (err) {
    const kept = keepLog(logFile);
    process.off('exit', cleanup);
    cleanup();
    const where = kept ? ` Server log: ${kept}\n${tail(readLog(kept), 15)}` : '';
    throw new PostgresUnavailableError(`${(err as Error).message}.${where}`);
  }
}

type Exec = (program: string, args: string[]) => Promise<{ code: number; output: string }>;

/** pg_ctl start on a free loopback port; returns the port. `onLaunch` marks that a server may need stopping. */
async function startOnFreePort(exec: Exec, dataDir: string, logFile: string, timeoutMs: number, onLaunch: () => void): Promise<number> {
  const timeoutS = Math.ceil(timeoutMs / 1000);
  for (let attempt = 1; ; attempt++) {
    const port = await freeLoopbackPort();
    const start = await exec('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', String(timeoutS), '-s', '-o', `-p ${port}`, 'start']);
    onLaunch();
    if (start.code === 0) return port;
    // Another process may take the free port between our probe and the server's bind: try another one.
    const portTaken = /could not bind|address already in use/i.test(readLog(logFile));
    if (!portTaken || attempt === START_ATTEMPTS) {
      throw new Error(`PostgreSQL did not start (waited at most ${timeoutS} s; pg_ctl exit ${start.code}: ${start.output.trim()})`);
    }
    await exec('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-s', 'stop']);
  }
}

/** Where the PostgreSQL programs are; the error says how to install them. */
export function findBinDir(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  else {
    const debianRoot = '/usr/lib/postgresql';
    if (existsSync(debianRoot)) {
      const versions = readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
      candidates.push(...versions.map((v) => join(debianRoot, v, 'bin')));
    }
    const onPath = Bun.which('initdb');
    if (onPath) candidates.push(join(onPath, '..'));
  }
  const found = candidates.find((d) => ['initdb', 'pg_ctl', 'postgres'].every((p) => existsSync(join(d, p))));
  if (found) return found;
  throw new PostgresUnavailableError(
    explicit
      ? `no initdb, pg_ctl and postgres in ${explicit}`
      : 'PostgreSQL server programs (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin or PATH. ' +
        'Install them: `apt-get install postgresql` (Debian, Ubuntu), `brew install postgresql` (macOS)',
  );
}

type RunAs = { uid: number; gid: number } | null;

/** As root the programs run as the `postgres` user (initdb and postgres refuse root); otherwise as ourselves. */
function postgresUser(): RunAs {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${SUPERUSER}:`));
  if (!line) {
    throw new PostgresUnavailableError(
      'running as root, and PostgreSQL refuses root: no `postgres` user to run it as (`apt-get install postgresql` creates one)',
    );
  }
  const [, , uid, gid] = line.split(':');
  if (!Bun.which('runuser')) throw new PostgresUnavailableError('running as root needs runuser (util-linux) to start PostgreSQL as `postgres`');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * A caller killed by a signal (Ctrl-C on a test run, a CI timeout, kill -9) never reaches stop() nor the
 * 'exit' event. A small shell in its own session polls this process once a second and, once it is gone,
 * stops the server and removes the directory. It ends by itself when stop() has removed the directory.
 */
function watchOwner(dir: string, stopCommand: string[]): void {
  const script = [
    'owner=$1; dir=$2; shift 2',
    'while kill -0 "$owner" 2>/dev/null && [ -d "$dir" ]; do sleep 1; done',
    'if [ -d "$dir" ]; then "$@" >/dev/null 2>&1; rm -rf "$dir"; fi',
  ].join('\n');
  const watcher = Bun.spawn(['sh', '-c', script, 'vexrail-pg-watchdog', String(process.pid), dir, ...stopCommand], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  watcher.unref();
}

function command(program: string, args: string[], runAs: RunAs): string[] {
  return runAs ? ['runuser', '-u', SUPERUSER, '--', program, ...args] : [program, ...args];
}

async function run(program: string, args: string[], runAs: RunAs, cwd: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(command(program, args, runAs), { cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: `${stdout}${stderr}` };
}

/** Loopback only, trust authentication, and settings for a server whose data nobody keeps. */
function configure(dataDir: string, socketDir: string, runAs: RunAs): void {
  const hba = join(dataDir, 'pg_hba.conf');
  writeFileSync(hba, ['# throwaway server: trust on the unix socket and loopback only', 'local all all trust', 'host all all 127.0.0.1/32 trust', ''].join('\n'));
  const conf = join(dataDir, 'postgresql.auto.conf');
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '200',
    shared_buffers: '64MB',
    log_min_messages: 'warning',
  };
  const lines = Object.entries(settings).map(([k, v]) => `${k} = '${v.replaceAll("'", "''")}'`);
  writeFileSync(conf, `${readLog(conf)}${lines.join('\n')}\n`);
  if (runAs) for (const file of [hba, conf]) chownSync(file, runAs.uid, runAs.gid);
}

async function freeLoopbackPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** pg_ctl -w already waited for the server; connecting proves the TCP listener accepts clients. */
async function waitForConnections(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const probe = new SQL(url, { max: 1, connectionTimeout: 2 });
    try {
      await probe`SELECT 1`;
      return;
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`PostgreSQL does not accept connections at ${url}: ${(err as Error).message}`);
      await Bun.sleep(50);
    } finally {
      await probe.close();
    }
  }
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Copies the server log next to the removed directory, so that a failed start can be diagnosed. */
function keepLog(logFile: string): string | null {
  if (!existsSync(logFile)) return null;
  const kept = join(tmpdir(), `vexrail-pg-failed-${process.pid}-${Date.now()}.log`);
  copyFileSync(logFile, kept);
  return kept;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

if (import.meta.main) {
  const server = await startThrowawayPostgres().catch((err: Error) => {
    process.stderr.write(`pg-local: ${err.message}\n`);
    process.exit(1);
  });
  process.stdout.write(`${server.url}\nexport VEXRAIL_DATABASE_URL=${server.url}\n`);
  process.stderr.write('pg-local: running; Ctrl-C (or SIGTERM) stops it and removes its files\n');
  const shutdown = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Keeps the process alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}
