/**
 * Helpers for the end-to-end tests: they run the COMPILED binary (`VEXRAIL_BIN`, default dist/vexrail)
 * as a child process on 127.0.0.1 with a throw-away data directory, and talk to it over real HTTP.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresServerUrl, TEST_STORE } from '../helpers/test-app';
import { createTestDatabase } from '../helpers/postgres';
import type { Subprocess } from 'bun';

export const REPO_ROOT = join(import.meta.dir, '..', '..');
export const BIN = process.env.VEXRAIL_BIN ?? join(REPO_ROOT, 'dist', 'vexrail');
export const ADMIN_TOKEN = 'e2e-admin-token-Q7w9Zr2LmX4p';
export const UPSTREAM_API_KEY = 'sk-upstream-secret-XYZ';
const BUN = join(REPO_ROOT, 'node_modules', '.bin', 'bun');
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

const BUILT_BIN = join(REPO_ROOT, 'dist', 'vexrail');
/** Everything the binary is built from, besides the files under src. */
const BUILD_INPUTS = ['package.json', 'package-lock.json', 'scripts/build.ts'].map((p) => join(REPO_ROOT, p));

/** The newest modification time (ms) among the build's inputs: every file under src, and BUILD_INPUTS. */
function newestSourceMs(): number {
  let newest = 0;
  const files = readdirSync(join(REPO_ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
  for (const file of [...files, ...BUILD_INPUTS.filter((p) => existsSync(p))]) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

let checked = false;

/**
 * Returns the binary to test, building dist/vexrail first when it is missing or older than any of its
 * sources, so a stale binary is never tested (one directory walk, once per test process, when it is fresh).
 * A binary named by VEXRAIL_BIN elsewhere is used as given.
 */
export function ensureBinary(): string {
  if (BIN !== BUILT_BIN) {
    if (!existsSync(BIN)) throw new Error(`VEXRAIL_BIN names a missing file: ${BIN}`);
    return BIN;
  }
  if (checked) return BIN;
  if (!existsSync(BIN) || statSync(BIN).mtimeMs < newestSourceMs()) {
    const build = Bun.spawnSync([BUN, join(REPO_ROOT, 'scripts', 'build.ts')], { cwd: REPO_ROOT, stdout: 'inherit', stderr: 'inherit' });
    if (build.exitCode !== 0 || !existsSync(BIN)) throw new Error(`cannot build ${BIN}`);
  }
  checked = true;
  return BIN;
}

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `vexrail-e2e-${label}-`));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value or the deadline passes; returns the last value. */
export async function eventually<T>(probe: () => Promise<T> | T, timeoutMs = 3_000, stepMs = 25): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let value = await probe();
  while (!value && performance.now() < deadline) {
    await sleep(stepMs);
    value = await probe();
  }
  return value;
}

/** Collects a child's stream into a string as it arrives (the pipe must be drained or the child blocks). */
function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }): Promise<void> {
  const decoder = new TextDecoder();
  return (async () => {
    for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
    sink.text += decoder.decode();
  })();
}

export type RunResult = { exitCode: number; stdout: string; stderr: string };

/** Runs the binary to completion (for --help, --version, backup, ...). */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const proc = Bun.spawn([ensureBinary(), ...args], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const out = { text: '' };
  const err = { text: '' };
  await Promise.all([collect(proc.stdout, out), collect(proc.stderr, err), proc.exited]);
  return { exitCode: proc.exitCode ?? -1, stdout: out.text, stderr: err.text };
}

export type GatewayOptions = {
  /** Fake upstream base URL (…/v1); without it the offline demo model answers. */
  upstreamUrl?: string;
  /** Provider fields merged over the defaults (first_byte_timeout_ms etc.). */
  provider?: Record<string, unknown>;
  /** Extra top-level config-file fields (prices, ...). */
  config?: Record<string, unknown>;
  /** null: start without VEXRAIL_ADMIN_TOKEN, so the binary generates one. */
  adminToken?: string | null;
  dataDir?: string;
  args?: string[];
};

export type Project = {
  id: string;
  keyId: string;
  pk: string;
  sk: string;
  headers: { 'x-publishable-key': string; 'x-secret-key': string };
};

export type StopResult = { exitCode: number | null; signalCode: string | number | null; ms: number };

export type Gateway = Awaited<ReturnType<typeof startGateway>>;

/**
 * Starts `vexrail serve --port 0` and resolves once it printed its URL. Keeps everything the process
 * writes (stdout and stderr) for the leak checks, and remembers every secret the tests handle.
 */
export async function startGateway(opts: GatewayOptions = {}) {
  const work = tempDir('run');
  const dataDir = opts.dataDir ?? join(work, 'data');
  const adminToken = opts.adminToken === undefined ? ADMIN_TOKEN : opts.adminToken;
  const file: Record<string, unknown> = { ...(opts.config ?? {}) };
  if (opts.upstreamUrl)
    file.providers = [
      { name: 'fake', base_url: opts.upstreamUrl, api_key: UPSTREAM_API_KEY, models: ['gpt-4o-mini'], first_byte_timeout_ms: 1500, ...(opts.provider ?? {}) },
    ];
  const configPath = join(work, 'config.json');
  writeFileSync(configPath, JSON.stringify(file));

  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };
  if (adminToken) env.VEXRAIL_ADMIN_TOKEN = adminToken;
  // On the PostgreSQL pass a gateway without a data directory of its own gets a fresh database (dropped at stop).
  const database = TEST_STORE === 'postgres' && opts.dataDir === undefined ? await createTestDatabase(await postgresServerUrl()) : null;
  const storeArgs = database ? ['--database', database.url] : [];
  const proc: Subprocess<'ignore', 'pipe', 'pipe'> = Bun.spawn(
    [ensureBinary(), 'serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, ...storeArgs, '--config', configPath, ...(opts.args ?? [])],
    { cwd: tmpdir(), env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
  );
  const out = { text: '' };
  const err = { text: '' };
  const drained = Promise.all([collect(proc.stdout, out), collect(proc.stderr, err)]);

  const firstLine = await eventually(() => /^Vexrail \S+ listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out.text) ?? (proc.exitCode !== null ? 'exited' : null), START_TIMEOUT_MS);
  if (!firstLine || firstLine === 'exited') {
    proc.kill('SIGKILL');
    await proc.exited;
    rmSync(work, { recursive: true, force: true });
    await database?.drop();
    throw new Error(`vexrail did not start.\nstdout:\n${out.text}\nstderr:\n${err.text}`);
  }
  const url = firstLine[1];
  // The banner is one console.log (one write, ending in a newline): let it arrive in full before anyone reads it.
  await eventually(() => out.text.includes('  Models:') && out.text.endsWith('\n'), 2_000);

  const secrets = new Set<string>([UPSTREAM_API_KEY]);
  if (adminToken) secrets.add(adminToken);

  async function request(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${url}${path}`, { method, headers, body });
    const text = await res.text();
    let json: any = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, text, body: json };
  }

  async function admin(method: string, path: string, body?: unknown, token = adminToken) {
    const res = await request(method, `/admin/v1${path}`, { body, headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.body?.secret_key) secrets.add(res.body.secret_key);
    return res;
  }

  /** A project with a verified domain, `credits` USD ('0' for none) and one active key pair. */
  async function createProject(credits = '10.00'): Promise<Project> {
    const slug = crypto.randomUUID().slice(0, 8);
    const created = await admin('POST', '/projects', { name: `E2E ${slug}`, domain: `e2e-${slug}.example.com` });
    if (created.status !== 201) throw new Error(`create project: ${created.status} ${created.text}`);
    const id = created.body.id as string;
    const verified = await admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' });
    if (verified.status !== 200) throw new Error(`verify: ${verified.status} ${verified.text}`);
    if (credits !== '0') {
      const topUp = await admin('POST', `/projects/${id}/credits`, { amount: credits });
      if (topUp.status !== 201) throw new Error(`credits: ${topUp.status} ${topUp.text}`);
    }
    const keys = await admin('POST', `/projects/${id}/keys`, { name: 'e2e' });
    if (keys.status !== 201) throw new Error(`keys: ${keys.status} ${keys.text}`);
    const pk = keys.body.publishable_key as string;
    const sk = keys.body.secret_key as string;
    return { id, keyId: keys.body.id, pk, sk, headers: { 'x-publishable-key': pk, 'x-secret-key': sk } };
  }

  async function wallet(projectId: string): Promise<{ balance_micros: number; held_micros: number; transactions: any[] }> {
    const res = await admin('GET', `/projects/${projectId}/wallet`);
    if (res.status !== 200) throw new Error(`wallet: ${res.status} ${res.text}`);
    return res.body;
  }

  /** A unique string for prompts and answers; it must never show up in the process output. */
  function marker(label: string): string {
    const value = `MARKER-${label}-${crypto.randomUUID()}`;
    secrets.add(value);
    return value;
  }

  /** SIGTERM, then wait for the exit (SIGKILL after a grace period so no test run leaves it behind). */
  async function terminate(): Promise<StopResult> {
    const started = performance.now();
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await proc.exited;
    clearTimeout(timer);
    await drained;
    rmSync(work, { recursive: true, force: true });
    await database?.drop();
    return { exitCode: proc.exitCode, signalCode: proc.signalCode, ms: performance.now() - started };
  }
  let stopped: Promise<StopResult> | undefined;
  /** Idempotent: every caller gets the same exit. */
  const stop = (): Promise<StopResult> => (stopped ??= terminate());

  return {
    url,
    apiBase: `${url}/v1`,
    dataDir,
    dbPath: join(dataDir, 'vexrail.db'),
    /** The PostgreSQL database this gateway serves from (PostgreSQL pass), or null for the embedded store. */
    databaseUrl: database?.url ?? null,
    proc,
    stdout: () => out.text,
    stderr: () => err.text,
    /** Everything stdout held before the first request-log line: the start-up banner. */
    banner: () => out.text.split(/^\{/m, 1)[0],
    /** Output a leak check should cover: stdout after the banner, and all of stderr. */
    outputAfterBanner: () => out.text.slice(out.text.split(/^\{/m, 1)[0].length) + '\n' + err.text,
    secrets: () => [...secrets],
    remember: (secret: string) => void secrets.add(secret),
    request,
    admin,
    createProject,
    wallet,
    marker,
    stop,
  };
}

/** Which of the remembered secrets appear in `text` (the test then prints exactly those). */
export function leakedSecrets(text: string, secrets: string[]): string[] {
  return secrets.filter((secret) => text.includes(secret));
}
