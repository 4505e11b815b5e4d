import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { advertiser, publisher, trackedLink } from '../helpers/market';
import { createTestApp, type TestApp } from '../helpers/test-app';

/** Tracked links never take their origin from an arbitrary Host header. */
const QUESTION = 'What project management tool can help my team track tasks and deadlines?';
let upstream: FakeUpstream;
const apps: TestApp[] = [];

beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  for (const app of apps) app.close();
  await upstream.close();
});

async function gateway(configFile: Record<string, unknown> = {}) {
  const t = await createTestApp({ upstreamUrl: upstream.baseUrl, configFile });
  apps.push(t);
  await advertiser(t);
  return { t, pub: await publisher(t, 'Links Pub') };
}

async function linkFor(g: Awaited<ReturnType<typeof gateway>>, host: string): Promise<string> {
  upstream.script({ kind: 'normal', content: 'Many teams use a shared board to plan their work.' });
  const res = await g.t.fetch(new Request(`http://${host}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...g.pub.headers, host, 'content-type': 'application/json', 'x-conversation-id': `c-${Math.random()}` },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: QUESTION }] }),
  }));
  expect(res.status).toBe(200);
  const link = trackedLink(((await res.json()) as any).choices[0].message.content);
  expect(link).not.toBeNull();
  return link!;
}

describe('origin of tracked links', () => {
  test('without a public URL or allowed hosts, links use the listen address whatever the Host header says', async () => {
    const g = await gateway();
    expect(await linkFor(g, 'evil.example')).toStartWith('http://127.0.0.1:8080/r/imp_');
    expect(await linkFor(g, '127.0.0.1:8080')).toStartWith('http://127.0.0.1:8080/r/imp_');
  });

  test('an allowed host named by the request is used, with its scheme; any other Host falls back to the listen address', async () => {
    const g = await gateway({ allowed_hosts: ['gw.example.com', 'https://ai.example.com'] });
    expect(await linkFor(g, 'gw.example.com')).toStartWith('http://gw.example.com/r/imp_');
    expect(await linkFor(g, 'AI.example.com')).toStartWith('https://ai.example.com/r/imp_');
    // Spellings of the same host: a trailing dot, the scheme's default port.
    expect(await linkFor(g, 'ai.example.com.')).toStartWith('https://ai.example.com/r/imp_');
    expect(await linkFor(g, 'ai.example.com:443')).toStartWith('https://ai.example.com/r/imp_');
    expect(await linkFor(g, 'gw.example.com:80')).toStartWith('http://gw.example.com/r/imp_');
    expect(await linkFor(g, 'evil.example')).toStartWith('http://127.0.0.1:8080/r/imp_');
  });

  test('the public URL wins over every Host header', async () => {
    const g = await gateway({ public_url: 'https://ads.example.org/', allowed_hosts: 'gw.example.com' });
    expect(await linkFor(g, 'gw.example.com')).toStartWith('https://ads.example.org/r/imp_');
    expect(await linkFor(g, 'evil.example')).toStartWith('https://ads.example.org/r/imp_');
  });
});
