import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config/config';
import { createModelCatalog } from '../../src/models/catalog';
import { startModelDiscovery } from '../../src/models/discovery';
import { providerApis } from '../../src/upstream/providers/registry';

function setUp(listing: { ids: string[] | null }) {
  const config = loadConfig({
    argv: ['--config', 'c.json'], env: {}, defaultDataParent: '/tmp',
    readFile: () => JSON.stringify({
      providers: [
        { name: 'listing', base_url: 'http://listing.test/v1', api_key: 'k', models: ['*'], discover: true },
        { name: 'fixed', base_url: 'http://fixed.test/v1', models: ['gpt-4o'] },
      ],
      aliases: { mini: 'gpt-4o-mini' },
    }),
  });
  const catalog = createModelCatalog(config.providers, config.prices, 0, config.aliases);
  const asked: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const discovery = startModelDiscovery({
    providers: config.providers, catalog, apis: providerApis, intervalMs: 60_000, log: (l) => logs.push(l),
    fetch: async (url, init) => {
      asked.push(`${url} ${(init.headers as Record<string, string>).authorization}`);
      if (listing.ids === null) return new Response('down', { status: 503 });
      return Response.json({ object: 'list', data: listing.ids.map((id) => ({ id, object: 'model' })) });
    },
  });
  return { catalog, discovery, asked, logs };
}

describe('model discovery', () => {
  test('narrows a provider to the priced models it lists, follows changes, keeps the last list when an ask fails', async () => {
    const listing = { ids: ['gpt-4o-mini', 'gpt-4o', 'unpriced-model'] as string[] | null };
    const { catalog, discovery, asked, logs } = setUp(listing);
    try {
      // Before the first answer, the configured list (every priced model) stands.
      expect(catalog.resolve('gpt-4.1')?.providers.map((p) => p.name)).toEqual(['listing']);
      await discovery.ready();
      expect(asked).toEqual(['http://listing.test/v1/models Bearer k']);
      expect(catalog.ids().sort()).toEqual(['gpt-4o', 'gpt-4o-mini', 'mini']);
      expect(catalog.resolve('gpt-4o')?.providers.map((p) => p.name)).toEqual(['listing', 'fixed']);
      expect(catalog.resolve('gpt-4.1')).toBeNull();
      expect(catalog.resolve('unpriced-model')).toBeNull();
      listing.ids = ['gpt-4o'];
      await discovery.refresh();
      expect(catalog.resolve('gpt-4o-mini')).toBeNull();
      expect(catalog.resolve('mini')).toBeNull();
      expect(catalog.resolve('gpt-4o')?.providers.map((p) => p.name)).toEqual(['listing', 'fixed']);
      expect(JSON.parse(catalog.listBody()).data.map((m: any) => m.id)).toEqual(['gpt-4o']);
      listing.ids = null;
      await discovery.refresh();
      expect(catalog.ids()).toEqual(['gpt-4o']);
      expect(logs.at(-1)).toMatchObject({ level: 'warn', provider: 'listing' });
      expect(JSON.stringify(logs)).not.toContain('Bearer');
    } finally {
      discovery.stop();
    }
  });
});
