import type { TestApp } from './test-app';

export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

export const CATALOG = [
  { name: 'Kanbanix Boards', description: 'Visual task boards that help small teams plan projects, track deadlines and share progress.', url: 'https://kanbanix.example/boards', keywords: ['project management', 'kanban', 'task tracking'], category: 'productivity_software' },
  { name: 'Trailfox Grip Runner', description: 'Trail running shoes with lugged soles for rocky and muddy paths.', url: 'https://trailfox.example/grip', keywords: ['trail running shoes', 'running', 'hiking'], category: 'running_shoes' },
  { name: 'Brewmaster Burr Grinder', description: 'A conical burr coffee grinder with forty grind settings for espresso and pour-over.', url: 'https://brewmaster.example/grinder', keywords: ['coffee grinder', 'espresso', 'burr'], category: 'coffee_equipment' },
];

/**
 * The hosts of a catalog's product URLs. Several fixture advertisers sell the same brands (the second-price
 * auctions need rivals), so the operator lists the brands' sites as their link_domains.
 */
export function catalogDomains(catalog: Array<{ url: string }>): string[] {
  return [...new Set(catalog.map((p) => new URL(p.url).hostname))];
}

/** An advertiser with verified domain, link domains (default: the catalog's), funds, products and an active campaign. */
export async function advertiser(
  t: TestApp,
  opts: { funds?: string; baseCpc?: string; budget?: string; budgetType?: string; name?: string; catalog?: typeof CATALOG; context?: string; linkDomains?: string[] } = {},
) {
  const name = opts.name ?? 'Acme Ads';
  const created = await t.admin('POST', '/projects', { name, domain: `${name.toLowerCase().replace(/\W+/g, '-')}.example.com`, kind: 'advertiser' });
  const id = created.body.id as string;
  await t.admin('POST', `/projects/${id}/domain/verify`, { method: 'manual' });
  const linked = await t.admin('PATCH', `/projects/${id}`, { link_domains: opts.linkDomains ?? catalogDomains(opts.catalog ?? CATALOG) });
  if (linked.status !== 200) throw new Error(`link_domains failed: ${JSON.stringify(linked.body)}`);
  if (opts.funds !== '0') await t.admin('POST', `/projects/${id}/credits`, { amount: opts.funds ?? '100.00' });
  const productIds: string[] = [];
  for (const p of opts.catalog ?? CATALOG) {
    const product = await t.admin('POST', `/projects/${id}/products`, p);
    if (product.status !== 201) throw new Error(`product failed: ${JSON.stringify(product.body)}`);
    productIds.push(product.body.id);
  }
  const campaign = await t.admin('POST', `/projects/${id}/campaigns`, {
    name: `${name} campaign`, context: opts.context ?? 'tools for teams and outdoor gear', base_cpc: opts.baseCpc ?? '0.40',
    budget: opts.budget ?? '50.00', budget_type: opts.budgetType ?? 'total', product_ids: productIds,
  });
  const activated = await t.admin('POST', `/projects/${id}/campaigns/${campaign.body.id}/activate`);
  if (activated.status !== 200) throw new Error(`activation failed: ${JSON.stringify(activated.body)}`);
  return { id, campaignId: campaign.body.id as string, productIds };
}

/** A publisher with monetization on. */
export async function publisher(t: TestApp, name = 'Pub App', credits = '10.00') {
  const p = await t.project(credits, name);
  const res = await t.admin('PATCH', `/projects/${p.id}`, { monetization: true });
  if (res.status !== 200) throw new Error(`monetization failed: ${JSON.stringify(res.body)}`);
  return p;
}

export function trackedLink(text: string): string | null {
  return /\]\((https?:\/\/[^)\s]+\/r\/[^)\s]+)\)/.exec(text)?.[1] ?? null;
}
