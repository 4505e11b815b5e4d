import { afterAll, beforeAll } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { createTestApp, type TestApp } from './test-app';

/**
 * A scripted fake upstream and a test app in front of it, started before the enclosing file's (or describe
 * block's) tests and stopped after them; `setUp` runs once the app is up (an advertiser, say). Read `env.t`
 * and `env.upstream` inside the tests.
 */
export function useUpstreamApp(
  opts: Omit<Parameters<typeof createTestApp>[0] & {}, 'upstreamUrl'> & { setUp?: (t: TestApp) => Promise<unknown> } = {},
) {
  const { setUp, ...appOpts } = opts;
  const env = {} as { upstream: FakeUpstream; t: TestApp };
  beforeAll(async () => {
    env.upstream = await startFakeUpstream();
    env.t = await createTestApp({ ...appOpts, upstreamUrl: env.upstream.baseUrl });
    await setUp?.(env.t);
  });
  afterAll(async () => {
    env.t?.close();
    await env.upstream?.close();
  });
  return env;
}
