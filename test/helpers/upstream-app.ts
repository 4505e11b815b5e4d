import { afterAll, beforeAll } from 'bun:test';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream';
import { createTestApp, type TestApp } from './test-app';

/**
 * A scripted fake upstream and a test app in front of it, started before the enclosing file's (or describe
 * block's) tests and stopped after them. Read `env.t` and `env.upstream` inside the tests.
 */
export function useUpstreamApp(opts: Omit<Parameters<typeof createTestApp>[0] & {}, 'upstreamUrl'> = {}) {
  const env = {} as { upstream: FakeUpstream; t: TestApp };
  beforeAll(async () => {
    env.upstream = await startFakeUpstream();
    env.t = await createTestApp({ ...opts, upstreamUrl: env.upstream.baseUrl });
  });
  afterAll(async () => {
    env.t?.close();
    await env.upstream?.close();
  });
  return env;
}
