/**
 * The benchmark's child servers: spawned on 127.0.0.1 with stdout/stderr to files, found by the line that
 * names their port, and always stopped (SIGTERM, then SIGKILL; with setpriv they also die with this process).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Subprocess } from 'bun';

export type Child = { name: string; proc: Subprocess; stdoutPath: string; stderrPath: string };

const SETPRIV = Bun.which('setpriv');
const children: Child[] = [];

export function alive(c: Child): boolean {
  return c.proc.exitCode === null && c.proc.signalCode === null;
}

export function tail(path: string, chars = 2000): string {
  try {
    return readFileSync(path, 'utf8').slice(-chars).trim();
  } catch {
    return '';
  }
}

/**
 * Spawns a server whose stdout/stderr go to files in `dir`, then waits for the line that names its port.
 * `watchStdin`: the child holds a pipe from us and exits when it closes (scripts/bench-child.ts).
 */
export async function startChild(
  dir: string, name: string, cmd: string[], pattern: RegExp,
  options: { env?: Record<string, string>; watchStdin?: boolean; cwd: string; timeoutMs?: number },
): Promise<{ child: Child; port: number }> {
  const stdoutPath = join(dir, `${name}.stdout`);
  const stderrPath = join(dir, `${name}.stderr`);
  const proc = Bun.spawn(SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...cmd] : cmd, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: options.watchStdin ? 'pipe' : 'ignore',
    stdout: Bun.file(stdoutPath),
    stderr: Bun.file(stderrPath),
  });
  const child: Child = { name, proc, stdoutPath, stderrPath };
  children.push(child);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    const m = pattern.exec(tail(stdoutPath, 100_000));
    if (m) return { child, port: Number(m[1]) };
    if (!alive(child)) break;
    await Bun.sleep(20);
  }
  throw new Error(
    `${name} did not start (${alive(child) ? 'no listening line in time' : `exited with ${proc.exitCode ?? proc.signalCode}`})\n` +
      `--- stdout ---\n${tail(stdoutPath)}\n--- stderr ---\n${tail(stderrPath)}`,
  );
}

/** SIGTERM, up to `graceMs` to exit, then SIGKILL. */
export async function stopChild(c: Child, graceMs = 3000): Promise<void> {
  if (!alive(c)) return;
  try { c.proc.kill('SIGTERM'); } catch {}
  await Promise.race([c.proc.exited, Bun.sleep(graceMs)]);
  if (alive(c)) try { c.proc.kill('SIGKILL'); } catch {}
  await Promise.race([c.proc.exited, Bun.sleep(1000)]);
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all(children.map((c) => stopChild(c)));
}

/** Synchronous last resort (process 'exit'): SIGKILL whatever is still running. */
export function killAllChildrenNow(): void {
  for (const c of children) if (alive(c)) try { c.proc.kill('SIGKILL'); } catch {}
}

/** Throws when one of these children is no longer running (with the end of its stderr). */
export function assertAlive(cs: Child[]): void {
  for (const c of cs)
    if (!alive(c)) throw new Error(`${c.name} exited during the run (${c.proc.exitCode ?? c.proc.signalCode})\n${tail(c.stderrPath)}`);
}
