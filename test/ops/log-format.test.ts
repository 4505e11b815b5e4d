import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { createTestApp, type TestApp } from '../helpers/test-app';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream.close();
});

async function logOf(format: string): Promise<string[]> {
  const t: TestApp = await createTestApp({ upstreamUrl: upstream.baseUrl, env: { VEXRAIL_LOG_FORMAT: format } });
  try {
    const p = await t.project('10.00');
    upstream.script({ kind: 'normal', content: 'Try a kanban board.' });
    await t.rt.flushAll();
    t.logLines.length = 0; // before the request: the background tick may write its line at any time after it
    expect((await t.chat(p.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Which tool?' }] })).status).toBe(200);
    await t.rt.flushAll();
    return t.logLines.join('').split('\n').filter((l) => l.includes('/v1/chat/completions'));
  } finally {
    await t.close();
  }
}

test('VEXRAIL_LOG_FORMAT chooses the request log format', async () => {
  const [json] = await logOf('json');
  expect(JSON.parse(json)).toMatchObject({ method: 'POST', path: '/v1/chat/completions', status: 200, model: 'gpt-4o-mini' });
  const [logfmt] = await logOf('logfmt');
  expect(logfmt).toMatch(/^ts=\S+ request_id=req_\S+ method=POST path=\/v1\/chat\/completions status=200 latency_ms=\d+ project_id=\S+ model=gpt-4o-mini /);
  const [pretty] = await logOf('pretty');
  expect(pretty).toMatch(/^\d\d:\d\d:\d\d\.\d{3} POST   \/v1\/chat\/completions 200 \d+\.\dms model=gpt-4o-mini tokens=\d+\+\d+ cost=\$\d\.\d{6} project=\S+ req=req_\S+$/);
});
