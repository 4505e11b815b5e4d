import type { ProviderConfig } from '../config/config';
import type { Fetcher } from '../upstream/upstream.client';
import type { ProviderApi } from '../upstream/providers/provider-api';
import type { ModelCatalog } from './catalog';

/** How often a provider with `"discover": true` is asked for its model list again. */
export const DISCOVERY_INTERVAL_MS = 10 * 60_000;
const DISCOVERY_TIMEOUT_MS = 10_000;

/** OpenAI's `GET /models`: `{"data": [{"id": ...}]}`. */
function openaiModels(provider: ProviderConfig) {
  const headers: Record<string, string> = provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {};
  return {
    request: { url: `${provider.baseUrl}/models`, headers },
    parse: (json: any): string[] => (Array.isArray(json?.data) ? json.data.map((m: any) => m?.id).filter((id: unknown) => typeof id === 'string') : []),
  };
}

/**
 * Asks every provider with `"discover": true` for the models it serves, at start and every 10 minutes, and narrows
 * the catalog to them (priced models only, as always). Until a provider's first answer its configured list stands;
 * a failed ask keeps the last answer and is logged.
 */
export function startModelDiscovery(deps: {
  providers: readonly ProviderConfig[];
  catalog: ModelCatalog;
  fetch: Fetcher;
  apis: Partial<Record<ProviderConfig['kind'], ProviderApi>>;
  log?: (line: Record<string, unknown>) => void;
  intervalMs?: number;
}) {
  const log = deps.log ?? ((line) => console.error(JSON.stringify(line)));
  const discovering = deps.providers.filter((p) => p.discover && p.kind !== 'demo');

  async function ask(provider: ProviderConfig): Promise<void> {
    const api = deps.apis[provider.kind];
    const how = api
      ? { request: api.modelsRequest({ baseUrl: provider.baseUrl, apiKey: provider.apiKey }), parse: (json: unknown) => api.parseModels(json) }
      : openaiModels(provider);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), DISCOVERY_TIMEOUT_MS);
    try {
      const response = await deps.fetch(how.request.url, { method: 'GET', headers: how.request.headers, signal: controller.signal });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const ids = how.parse(await response.json());
      const changed = deps.catalog.setDiscovered(provider.name, ids);
      if (changed) log({ level: 'info', msg: 'provider model list changed', provider: provider.name, models: ids.length });
    } catch (err) {
      log({ level: 'warn', msg: 'provider model list unavailable; keeping the last known list', provider: provider.name, error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
    }
  }

  const askAll = () => Promise.all(discovering.map(ask)).then(() => {});
  const first = askAll();
  const timer = discovering.length > 0 ? setInterval(() => void askAll(), deps.intervalMs ?? DISCOVERY_INTERVAL_MS) : null;
  timer?.unref?.();
  return {
    /** Resolves once every discovering provider was asked once (answered or not). */
    ready: () => first,
    refresh: askAll,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
