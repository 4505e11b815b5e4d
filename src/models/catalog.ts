import type { ModelPrice, ProviderConfig } from '../config/config';

export type ModelRoute = { id: string; provider: ProviderConfig; price: ModelPrice };

/**
 * Which provider serves which model, and at what price. Built once from the config: the hot path does a
 * single Map lookup. A model is served only if it has a price.
 */
export function createModelCatalog(providers: ProviderConfig[], prices: Record<string, ModelPrice>, startedAtMs: number) {
  const routes = new Map<string, ModelRoute>();
  for (const provider of providers) {
    const ids = provider.models.includes('*') ? Object.keys(prices).filter((m) => m !== 'vexrail-demo') : provider.models;
    for (const id of ids) if (!routes.has(id) && prices[id]) routes.set(id, { id, provider, price: prices[id] });
  }
  const created = Math.floor(startedAtMs / 1000);
  const list = {
    object: 'list' as const,
    data: [...routes.values()].map((r) => ({ id: r.id, object: 'model' as const, created, owned_by: r.provider.name })),
  };
  const listBody = JSON.stringify(list);
  return {
    resolve: (model: string) => routes.get(model) ?? null,
    list: () => list,
    /** Serialised once: the model list only changes with the config. */
    listBody: () => listBody,
    ids: () => [...routes.keys()],
  };
}
export type ModelCatalog = ReturnType<typeof createModelCatalog>;
