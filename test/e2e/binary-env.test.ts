/**
 * The binary runs on its own configuration: a `.env` or `bunfig.toml` in the directory it is started
 * from must not change it (Bun would otherwise load both).
 */
import { afterAll, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBinary } from './binary.helpers';

const dir = mkdtempSync(join(tmpdir(), 'vexrail-env-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a .env and a bunfig.toml in the working directory are ignored', async () => {
  writeFileSync(join(dir, '.env'), 'VEXRAIL_ADMIN_TOKEN=token-from-dotenv\nVEXRAIL_PORT=1\n');
  writeFileSync(join(dir, 'bunfig.toml'), 'preload = ["./boom.ts"]\n');
  writeFileSync(join(dir, 'boom.ts'), 'console.log("PRELOADED"); process.exit(42);\n');
  const env = { ...process.env };
  delete env.VEXRAIL_ADMIN_TOKEN;
  delete env.VEXRAIL_PORT;
  const proc = Bun.spawn([ensureBinary(), '--port', '0', '--data-dir', join(dir, 'data')], { cwd: dir, env, stdout: 'pipe', stderr: 'pipe' });
  const reader = proc.stdout.getReader();
  let out = '';
  const deadline = Date.now() + 10_000;
  while (!out.includes('Admin token') && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  proc.kill('SIGTERM');
  await proc.exited;
  expect(out).not.toContain('PRELOADED');
  // No token came from .env, so one was generated and printed; the port came from the flag, not .env.
  expect(out).toMatch(/Admin token[^\n]*\n\s+vxa_[0-9A-Za-z]{40}/);
  expect(out).toMatch(/listening on http:\/\/127\.0\.0\.1:\d{4,5}/);
});
