import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanErrorCodes } from '../helpers/error-codes';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** The README's error table and order of checks are the code's, not a memory of it. */
const ROOT = join(import.meta.dir, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** `| 400 | \`a\`, \`b\` ... |` rows of the Errors section; a status such as `4xx` stands for the upstream's own. */
function codesInReadme(): Set<string> {
  const section = README.slice(README.indexOf('\n## Errors'), README.indexOf('\n## ', README.indexOf('\n## Errors') + 5));
  const pairs = new Set<string>();
  for (const row of section.matchAll(/^\| (\d{3}|4xx) \|(.*)\|$/gm))
    for (const code of row[2].matchAll(/`([a-z0-9_]+)`/g)) pairs.add(`${row[1]} ${code[1]}`);
  return pairs;
}

describe('README: errors', () => {
  test('every dynamic error site is accounted for', () => {
    const scan = scanErrorCodes();
    expect(scan.dynamicFiles).toEqual(scan.dynamicSites);
  });

  test('the error table lists exactly the codes the code can return, under their status', () => {
    const source = scanErrorCodes().pairs;
    const readme = codesInReadme();
    const undocumented = [...source].filter((p) => !readme.has(p)).sort();
    const stale = [...readme].filter((p) => !source.has(p)).sort();
    expect({ undocumented, stale }).toEqual({ undocumented: [], stale: [] });
  });
});

describe('README: order of checks', () => {
  let upstream: FakeUpstream;
  let t: TestApp;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    t = await createTestApp({ upstreamUrl: upstream.baseUrl });
  });
  afterAll(async () => {
    t.close();
    await upstream.close();
  });

  test('a request failing every check gets the error of the first check the README names, and so on down the list', async () => {
    const sentence = /Checks run in this order: ([a-z ,]+)\./.exec(README)?.[1];
    expect(sentence).toBeDefined();
    const order = sentence!.split(',').map((s) => s.trim());
    const STAGES: Record<string, { code: string }> = {
      authentication: { code: 'missing_api_key' },
      'project domain': { code: 'domain_not_verified' },
      body: { code: 'invalid_json' },
      'key limits': { code: 'model_not_allowed' },
      credits: { code: 'insufficient_credits' },
      upstream: { code: 'upstream_error' },
    };
    expect([...order].sort()).toEqual(Object.keys(STAGES).sort());
    // Every request below fails at the upstream too, if it gets that far.
    for (let i = 0; i < order.length; i++) {
      const failing = new Set(order.slice(i));
      const p = await t.project(failing.has('credits') ? '0' : '1.00', `Order ${i}`);
      if (failing.has('key limits')) await t.admin('PATCH', `/projects/${p.id}/keys/${p.keyId}`, { allowed_models: ['gpt-4o-mini'] });
      if (failing.has('project domain')) await t.admin('PATCH', `/projects/${p.id}`, { domain: `moved-${i}.example.com` });
      const headers: Record<string, string> = failing.has('authentication') ? {} : { ...p.headers };
      const body = failing.has('body') ? '{' : JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] });
      upstream.script({ kind: 'status', status: 500, body: { error: { message: 'down' } } });
      const res = await t.call('POST', '/v1/chat/completions', { raw: body, headers: { ...headers, 'content-type': 'application/json' } });
      expect({ stage: order[i], code: ((await res.json()) as any).error.code }).toEqual({ stage: order[i], code: STAGES[order[i]].code });
    }
  });
});
