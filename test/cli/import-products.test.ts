/**
 * `vexrail import-products`: the command runs in-process against the real app served on a real port,
 * and once as the compiled binary.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'bun';
import { runImportProducts, type ImportProductsOptions, progressLine } from '../../src/cli/import-products';
import { ConfigError, helpText, loadConfig } from '../../src/config/config';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../helpers/test-app';

const REPO_ROOT = join(import.meta.dir, '..', '..');
const BIN = join(REPO_ROOT, 'dist', 'vexrail');

let t: TestApp;
let server: Server<undefined>;
let url: string;
let dir: string;

beforeAll(async () => {
  t = await createTestApp();
  server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: t.fetch, maxRequestBodySize: 80 * 1024 * 1024 });
  url = `http://127.0.0.1:${server.port}`;
  dir = mkdtempSync(join(tmpdir(), 'vexrail-import-'));
}, 60_000); // on the PostgreSQL pass this may start the throwaway server

afterAll(async () => {
  await server?.stop(true);
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

let projects = 0;
async function newProject(kind: 'advertiser' | 'publisher' = 'advertiser'): Promise<string> {
  const n = ++projects;
  // Every import shop sells on its own verified shop.example.com, where the fixture lines' URLs point.
  const res = await t.admin('POST', '/projects', { name: `Import shop ${n}`, domain: 'shop.example.com', kind });
  expect(res.status).toBe(201);
  expect((await t.admin('POST', `/projects/${res.body.id}/domain/verify`, { method: 'manual' })).status).toBe(200);
  return res.body.id as string;
}

async function productCount(projectId: string): Promise<number> {
  const res = await fetch(`${url}/admin/v1/projects/${projectId}/products?limit=10000`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: unknown[]; has_more: boolean };
  expect(body.has_more).toBe(false);
  return body.data.length;
}

const good = (i: number) => JSON.stringify({ name: `Product ${i}`, description: `Description of product ${i}`, url: `https://shop.example.com/p/${i}`, keywords: ['shoe', `k${i % 7}`] });

/** Writes `count` product lines; `special` replaces given (1-based) line numbers. */
function writeJsonl(name: string, count: number, special: Record<number, string> = {}, ending = '\n'): string {
  const lines: string[] = [];
  for (let i = 1; i <= count; i++) lines.push(i in special ? special[i] : good(i));
  const path = join(dir, name);
  writeFileSync(path, lines.join(ending) + ending);
  return path;
}

type Run = { code: number; stdout: string; stderr: string };
async function run(config: { project: string; file: string; url?: string; token?: string | null }, opts: ImportProductsOptions = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runImportProducts(
    { importProject: config.project, importFile: config.file, importUrl: config.url ?? url, importToken: config.token === undefined ? ADMIN_TOKEN : config.token },
    { isTTY: false, stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), ...opts },
  );
  return { code, stdout, stderr };
}

const BAD: Record<number, [string, string]> = {
  17: ['{"name": "broken', 'not valid JSON'],
  2000: [JSON.stringify({ description: 'no name here', url: 'https://shop.example.com/x' }), 'name is required'],
  2001: [JSON.stringify({ name: 'Bad url', description: 'd', url: 'not a url' }), 'url must be an absolute http(s) URL'],
  4001: ['this is not json', 'not valid JSON'],
  5000: [JSON.stringify({ name: '', description: 'empty name', url: 'https://shop.example.com/y' }), 'name is required'],
};

describe('import-products against the in-process server', () => {
  test('5,000 lines in parts of 2,000: true line numbers, counts, progress, exit 1', async () => {
    const projectId = await newProject();
    const special: Record<number, string> = { 100: '' }; // a blank line: neither imported nor failed
    for (const [line, [text]] of Object.entries(BAD)) special[Number(line)] = text;
    const file = writeJsonl('mixed.jsonl', 5000, special);

    const parts: Array<{ firstLine: number; lines: number }> = [];
    const spy = async (input: string, init: RequestInit) => {
      if (init.method === 'POST') {
        const body = String(init.body);
        parts.push({ firstLine: Number(new URL(input).searchParams.get('first_line')), lines: body.split('\n').length });
        for (const line of body.split('\n')) if (line !== '') expect(line.startsWith('{') || line === 'this is not json').toBe(true); // whole lines only
      }
      return fetch(input, init);
    };
    const r = await run({ project: projectId, file }, { fetch: spy });

    expect(r.code).toBe(1);
    expect(parts).toEqual([
      { firstLine: 1, lines: 2000 },
      { firstLine: 2001, lines: 2000 },
      { firstLine: 4001, lines: 1000 },
    ]);
    const expectedImported = 5000 - Object.keys(BAD).length - 1;
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(`Imported ${expectedImported} products (${expectedImported} created, 0 updated, 0 unchanged), ${Object.keys(BAD).length} lines failed.`);
    const failedLines = out.filter((l) => l.startsWith('line ')).map((l) => /^line (\d+): (.*)$/.exec(l)!.slice(1));
    expect(failedLines).toEqual(Object.entries(BAD).map(([line, [, message]]) => [line, message]));
    expect(await productCount(projectId)).toBe(expectedImported);

    // Non-TTY progress: plain lines, one per ~10 %, no carriage returns.
    const progress = r.stderr.split('\n').filter((l) => /^\[[#-]{20}\]\s+\d+%/.test(l));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.map((l) => /(\d+)%/.exec(l)![1])).toEqual(['40', '80', '100']);
    expect(progress.at(-1)).toMatch(/^\[#{20}\] 100%  5,000\/5,000 lines  5 failed  \d+\.\d s$/);
    expect(r.stderr).toContain('Importing 5,000 lines');
    expect(r.stderr).not.toContain('\r');
    expect(r.stdout + r.stderr).not.toContain(ADMIN_TOKEN);
  });

  test('a re-import with skus updates instead of duplicating, across parts; the summary counts created, updated, unchanged', async () => {
    const projectId = await newProject();
    const line = (i: number, name = `Product ${i}`) => JSON.stringify({ sku: `SKU-${i}`, name, description: `Description of product ${i}`, url: `https://shop.example.com/p/${i}` });
    const write = (name: string, lines: string[]) => {
      const path = join(dir, name);
      writeFileSync(path, lines.join('\n') + '\n');
      return path;
    };
    const first = await run({ project: projectId, file: write('sku-1.jsonl', [1, 2, 3, 4, 5].map((i) => line(i))) }, { linesPerPart: 2 });
    expect(first.stdout).toBe('Imported 5 products (5 created, 0 updated, 0 unchanged), 0 lines failed.\n');
    const second = await run({ project: projectId, file: write('sku-2.jsonl', [line(1), line(2, 'Renamed'), line(3), line(6), '{']) }, { linesPerPart: 2 });
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('Imported 4 products (1 created, 1 updated, 2 unchanged), 1 lines failed.\nline 5: not valid JSON\n');
    expect(await productCount(projectId)).toBe(6);
  });

  test('a sku repeated in one file, in the same part or a later one: the first line is applied, later ones fail naming it', async () => {
    const projectId = await newProject();
    const line = (sku: string, name: string, url = 'https://shop.example.com/p/r') => JSON.stringify({ sku, name, description: `About ${name}`, url });
    const path = join(dir, 'sku-repeats.jsonl');
    // Parts of 2 lines: [1,2] [3,4] [5,6]. Line 2 repeats line 1 in its part; lines 4 and 6 repeat it in later parts.
    // Line 3's sku B fails on its url, so line 5 is B's first good line and is applied.
    writeFileSync(path, [line('A', 'First A'), line('A', 'Second A'), line('B', 'Bad B', 'not a url'), line('A', 'Third A'), line('B', 'Good B'), line('B', 'Again B')].join('\n') + '\n');
    const r = await run({ project: projectId, file: path }, { linesPerPart: 2 });
    expect(r.code).toBe(1);
    const repeats = (sku: string, first: number) => `sku "${sku}" repeats line ${first} of this import (the first line with a sku is kept; a later one is not applied)`;
    expect(r.stdout).toBe([
      'Imported 2 products (2 created, 0 updated, 0 unchanged), 4 lines failed.',
      `line 2: ${repeats('A', 1)}`,
      'line 3: url must be an absolute http(s) URL',
      `line 4: ${repeats('A', 1)}`,
      `line 6: ${repeats('B', 5)}`,
      '',
    ].join('\n'));
    const res = await fetch(`${url}/admin/v1/projects/${projectId}/products`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const names = ((await res.json()) as any).data.map((p: any) => `${p.sku}:${p.name}`).sort();
    expect(names).toEqual(['A:First A', 'B:Good B']);
  });

  test('all lines good: exit 0; TTY mode redraws one line', async () => {
    const projectId = await newProject();
    const file = writeJsonl('good.jsonl', 3000, {}, '\r\n');
    const r = await run({ project: projectId, file }, { isTTY: true, linesPerPart: 500 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Imported 3000 products (3000 created, 0 updated, 0 unchanged), 0 lines failed.\n');
    expect(await productCount(projectId)).toBe(3000);
    expect(r.stderr).toContain('\r[');
    expect(r.stderr).toContain('\x1b[K');
    expect(r.stderr.endsWith('\n')).toBe(true);
    const frames = r.stderr.split('\r').slice(1);
    expect(frames.at(-1)).toMatch(/^\[#{20}\] 100%  3,000\/3,000 lines  0 failed  \d+\.\d s\x1b\[K\n$/);
    // Redraws stay on one line: only the final frame ends it.
    expect(frames.slice(0, -1).every((f) => !f.includes('\n'))).toBe(true);
  });

  test('more than 20 failures: the first 20 are listed, then a count of the rest', async () => {
    const projectId = await newProject();
    const special: Record<number, string> = {};
    for (let i = 1; i <= 30; i++) special[i * 3] = 'nope';
    const file = writeJsonl('many-bad.jsonl', 100, special);
    // A file without a final newline, sent in parts of 7 lines.
    writeFileSync(file, readFileSync(file, 'utf8').replace(/\n$/, ''));
    const r = await run({ project: projectId, file }, { linesPerPart: 7 });
    expect(r.code).toBe(1);
    const out = r.stdout.trimEnd().split('\n');
    expect(out[0]).toBe('Imported 70 products (70 created, 0 updated, 0 unchanged), 30 lines failed.');
    expect(out.slice(1, 21)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${(i + 1) * 3}: not valid JSON`));
    expect(out[21]).toBe('... and 10 more failed lines');
    expect(out.length).toBe(22);
    expect(await productCount(projectId)).toBe(70);
  });

  test('a line longer than the import limit is reported without being sent; numbering stays true', async () => {
    const projectId = await newProject();
    const huge = JSON.stringify({ name: 'Huge', description: 'x'.repeat(5000), url: 'https://shop.example.com/h' });
    const file = writeJsonl('huge.jsonl', 50, { 10: huge, 25: huge });
    const r = await run({ project: projectId, file }, { maxLineBytes: 1000, maxPartBytes: 2000, linesPerPart: 20 });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('Imported 48 products (48 created, 0 updated, 0 unchanged), 2 lines failed.\nline 10: line is longer than 1,000 bytes (the import limit)\nline 25: line is longer than 1,000 bytes (the import limit)\n');
    expect(await productCount(projectId)).toBe(48);
  });

  test('100,000 lines are streamed in parts', async () => {
    const projectId = await newProject();
    const file = writeJsonl('big.jsonl', 100_000, { 99_999: '{' });
    let posts = 0;
    const r = await run({ project: projectId, file }, { fetch: (i, init) => (init.method === 'POST' && posts++, fetch(i, init)) });
    expect(r.code).toBe(1);
    expect(posts).toBe(50);
    expect(r.stdout).toBe('Imported 99999 products (99999 created, 0 updated, 0 unchanged), 1 lines failed.\nline 99999: not valid JSON\n');
    const progress = r.stderr.split('\n').filter((l) => /^\[[#-]{20}\]\s+\d+%/.test(l));
    expect(progress.length).toBe(10);
  }, 60_000);

  test('exit 3: wrong token (401), unknown project (404), publisher project, unreachable server', async () => {
    const projectId = await newProject();
    const file = writeJsonl('small.jsonl', 10);

    const wrong = await run({ project: projectId, file, token: 'wrong-token-s3cr3t' });
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain('401');
    expect(wrong.stderr).toContain('refused the admin token');
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-token-s3cr3t');
    expect(wrong.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const missing = await run({ project: 'proj_doesnotexist', file });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('project proj_doesnotexist was not found');
    expect(missing.stderr).toContain('404');

    const publisher = await run({ project: await newProject('publisher'), file });
    expect(publisher.code).toBe(3);
    expect(publisher.stderr).toContain('advertiser projects');

    // A port that was just freed: nothing listens there.
    const gone = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('') });
    const goneUrl = `http://127.0.0.1:${gone.port}`;
    await gone.stop(true);
    const unreachable = await run({ project: projectId, file, url: goneUrl });
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain(`cannot reach the gateway at ${goneUrl}`);
    expect(unreachable.stderr).not.toMatch(/\n\s+at /);
    expect(unreachable.stdout).toBe('');
    expect(await productCount(projectId)).toBe(0);
  });

  test('exit 3 mid-way: what was imported is summarised', async () => {
    const projectId = await newProject();
    const file = writeJsonl('midway.jsonl', 30);
    let posts = 0;
    const flaky = async (input: string, init: RequestInit) => {
      if (init.method === 'POST' && ++posts === 2) return new Response(JSON.stringify({ error: { message: 'boom' } }), { status: 500 });
      return fetch(input, init);
    };
    const r = await run({ project: projectId, file }, { fetch: flaky, linesPerPart: 10 });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('Imported 10 products (10 created, 0 updated, 0 unchanged), 0 lines failed.\n');
    expect(r.stderr).toContain('HTTP 500: boom');
    expect(r.stderr).toContain('stopped after line 10 of 30');
  });

  test('exit 2: missing file, directory, no token', async () => {
    const projectId = await newProject();
    const missing = await run({ project: projectId, file: join(dir, 'nope.jsonl') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    expect((await run({ project: projectId, file: dir })).code).toBe(2);
    const noToken = await run({ project: projectId, file: writeJsonl('t.jsonl', 1), token: null });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('VEXRAIL_ADMIN_TOKEN');
  });

  test('an empty file imports nothing and exits 0', async () => {
    const projectId = await newProject();
    const file = join(dir, 'empty.jsonl');
    writeFileSync(file, '');
    const r = await run({ project: projectId, file });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Imported 0 products, 0 lines failed.\n');
  });

  test('progressLine matches the documented shape', () => {
    expect(progressLine(22_500, 50_000, 1_234, 3.14)).toBe('[#########-----------]  45%  22,500/50,000 lines  1,234 failed  3.1 s');
    expect(progressLine(0, 0, 0, 0)).toBe('[####################] 100%  0/0 lines  0 failed  0.0 s');
  });
});

describe('loadConfig for import-products', () => {
  const load = (argv: string[], env: Record<string, string> = {}) => loadConfig({ argv, env, defaultDataParent: '/tmp' });

  test('positionals, --url, --token and their defaults', () => {
    const c = load(['import-products', 'proj_1', 'products.jsonl'], { VEXRAIL_ADMIN_TOKEN: 'env-token' });
    expect(c).toMatchObject({ command: 'import-products', importProject: 'proj_1', importFile: join(process.cwd(), 'products.jsonl'), importUrl: 'http://127.0.0.1:8080', importToken: 'env-token' });
    expect(load(['import-products', 'p', 'f', '--port', '9090']).importUrl).toBe('http://127.0.0.1:9090');
    expect(load(['import-products', 'p', 'f'], { VEXRAIL_PORT: '7070' }).importUrl).toBe('http://127.0.0.1:7070');
    expect(load(['import-products', 'p', 'f'], { VEXRAIL_URL: 'https://gw.example.com/' }).importUrl).toBe('https://gw.example.com');
    const flagged = load(['import-products', 'p', 'f', '--url=http://10.0.0.2:8000', '--token', 'flag-token'], { VEXRAIL_URL: 'http://x:1', VEXRAIL_ADMIN_TOKEN: 'env-token' });
    expect(flagged).toMatchObject({ importUrl: 'http://10.0.0.2:8000', importToken: 'flag-token' });
    expect(load(['import-products', 'p', 'f']).importToken).toBeNull();
    expect(load(['serve'])).toMatchObject({ importProject: null, importFile: null, importUrl: null, importToken: null });
  });

  test('usage errors', () => {
    expect(() => load(['import-products'])).toThrow(ConfigError);
    expect(() => load(['import-products', 'p'])).toThrow(/usage: vexrail import-products PROJECT_ID FILE/);
    expect(() => load(['import-products', 'p', 'f', 'extra'])).toThrow(/usage/);
    expect(() => load(['import-products', 'p', 'f', '--url'])).toThrow(/--url needs a value/);
    expect(() => load(['import-products', 'p', 'f', '--url', 'ftp://x'])).toThrow(/invalid URL/);
    expect(() => load(['serve', '--token', 'x'])).toThrow(/only apply to import-products/);
    expect(load(['import-products', '--help']).command).toBe('help');
    expect(helpText()).toContain('vexrail import-products PROJECT_ID FILE');
    expect(helpText()).toContain('--token TOKEN');
  });
});

/** The binary counts only when it was built after the last change to the files it is made of. */
function binaryIsFresh(): boolean {
  if (!existsSync(BIN)) return false;
  const built = statSync(BIN).mtimeMs;
  const sources = ['src/cli/import-products.ts', 'src/config/config.ts', 'src/main.ts'].map((p) => statSync(join(REPO_ROOT, p)).mtimeMs);
  return sources.every((m) => m <= built);
}

describe('the compiled binary', () => {
  test.skipIf(!binaryIsFresh())('dist/vexrail import-products against the in-process server', async () => {
    const projectId = await newProject();
    const file = writeJsonl('binary.jsonl', 4500, { 3: '{bad', 2500: JSON.stringify({ name: 'No url', description: 'd' }) });
    const proc = Bun.spawn([BIN, 'import-products', projectId, file, '--url', url], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, VEXRAIL_ADMIN_TOKEN: ADMIN_TOKEN },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(proc.exitCode).toBe(1);
    expect(stdout).toBe('Imported 4498 products (4498 created, 0 updated, 0 unchanged), 2 lines failed.\nline 3: not valid JSON\nline 2500: url is required\n');
    expect(stderr.split('\n').filter((l) => /^\[[#-]{20}\]\s+\d+%/.test(l)).length).toBe(3);
    expect(stdout + stderr).not.toContain(ADMIN_TOKEN);
    expect(await productCount(projectId)).toBe(4498);

    const wrong = Bun.spawn([BIN, 'import-products', projectId, file, '--url', url, '--token', 'nope-token-123'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdout: 'pipe', stderr: 'pipe' });
    const wrongErr = await new Response(wrong.stderr).text();
    expect(await wrong.exited).toBe(3);
    expect(wrongErr).toContain('401');
    expect(wrongErr).not.toContain('nope-token-123');

    const usage = Bun.spawn([BIN, 'import-products', projectId], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdout: 'pipe', stderr: 'pipe' });
    expect(await new Response(usage.stderr).text()).toContain('usage: vexrail import-products');
    expect(await usage.exited).toBe(2);
  }, 60_000);
});
