import type { ModelPrice, ProviderConfig } from '../config/config';

/** A served model: the providers that serve it, in the order they are tried (priority, then list order), and its price. */
export type ModelRoute = { id: string; providers: ProviderConfig[]; price: ModelPrice };

/**
 * Which providers serve which model, and at what price. Built from the config, and rebuilt when a provider with
 * `"discover": true` reports its model list: the hot path does a single Map lookup. A model is served only if it
 * has a price; an alias resolves to the route of the model it names.
 */
export function createModelCatalog(providers: ProviderConfig[], configPrices: Record<string, ModelPrice>, startedAtMs: number, aliases: Record<string, string> = {}) {
  let prices = configPrices;
  const ordered = providers.map((p, i) => ({ p, i })).sort((a, b) => a.p.priority - b.p.priority || a.i - b.i).map((x) => x.p);
  /** What each discovering provider last reported; absent until its first answer (the configured list stands until then). */
  const discovered = new Map<string, Set<string>>();
  const created = Math.floor(startedAtMs / 1000);
  let routes = new Map<string, ModelRoute>();
  let listBody = '';
  let list: { object: 'list'; data: Array<{ id: string; object: 'model'; created: number; owned_by: string }> } = { object: 'list', data: [] };

  function build() {
    const next = new Map<string, ModelRoute>();
    for (const provider of ordered) {
      const ids = provider.models.includes('*') ? Object.keys(prices).filter((m) => m !== 'vexrail-demo') : provider.models;
      const served = discovered.get(provider.name);
      for (const id of ids) {
        if (!prices[id] || (served && !served.has(id))) continue;
        const route = next.get(id);
        if (route) route.providers.push(provider);
        else next.set(id, { id, providers: [provider], price: prices[id] });
      }
    }
    for (const [alias, target] of Object.entries(aliases)) {
      const route = next.get(target);
      if (route) next.set(alias, route);
    }
    routes = next;
    list = {
      object: 'list',
      data: [...routes.entries()].map(([id, r]) => ({ id, object: 'model' as const, created, owned_by: r.providers[0].name })),
    };
    listBody = JSON.stringify(list);
  }
  build();

  return {
    resolve: (model: string) => routes.get(model) ?? null,
    list: () => list,
    /** Serialised once per change of the model set. */
    listBody: () => listBody,
    /** Served model ids, aliases included. */
    ids: () => [...routes.keys()],
    /** The price of each model (the operator changed some); requests in flight keep the price they started with. */
    setPrices(next: Record<string, ModelPrice>): void {
      prices = next;
      build();
    },
    /** A discovering provider's model list; returns whether the served set changed. */
    setDiscovered(providerName: string, ids: readonly string[]): boolean {
      const before = listBody;
      discovered.set(providerName, new Set(ids));
      build();
      return before !== listBody;
    },
  };
}
export type ModelCatalog = ReturnType<typeof createModelCatalog>;
