/** Advertiser pages: overview, products (with JSON Lines import), campaigns, analytics with CSV export. */
import { useState } from 'preact/hooks';
import { api, allPages } from '../api';
import { dayOffset, money, num, pct, when } from '../format';
import { Badge, CHART_COLORS as COLORS, Card, Chart, Confirm, Dialog, Empty, ErrorBox, Field, RangePicker, Stat, View, daysBetween, useAsync, useSubmit } from '../ui';
import { useProjectsOverview, type Project } from './projects';


export function AdvertiserOverview() {
  const [range, setRange] = useState(30);
  const data = useProjectsOverview('advertiser', range, async (p, from, to) => ({
    campaigns: (await api('GET', `/projects/${p.id}/campaigns`)).data as any[],
    products: await allPages<any>(`/projects/${p.id}/products?limit=1000`, 100_000),
    analytics: await api('GET', `/projects/${p.id}/analytics?from=${from}&to=${to}`),
  }));
  return (
    <>
      <div class="page-head"><h1>Advertiser overview</h1><RangePicker value={range} onChange={setRange} /></div>
      <View of={data} empty={(d) => (d.per.length === 0 ? <Empty title="No advertiser projects yet"><a href="#/advertiser/projects">Create one</a> for your shop, then import products and start a campaign.</Empty> : null)}>
        {({ per, days }) => {
          const sum = (f: (x: (typeof per)[number]) => number) => per.reduce((n, x) => n + f(x), 0);
          const daily = per.flatMap((x) => x.analytics.daily);
          const at = (key: string) => days.map((d) => daily.filter((r: any) => r.date === d).reduce((n: number, r: any) => n + r[key], 0));
          // Where the promotions ran in the range: per publisher project (its domain), from the analytics report.
          const byPublisher = new Map<string, { domain: string; impressions: number; clicks: number; cost: number }>();
          for (const x of per) for (const p of x.analytics.publishers ?? []) {
            const row = byPublisher.get(p.publisher_project_id) ?? { domain: p.domain ?? p.publisher_project_id, impressions: 0, clicks: 0, cost: 0 };
            row.impressions += p.impressions; row.clicks += p.valid_clicks; row.cost += p.cost_micros;
            byPublisher.set(p.publisher_project_id, row);
          }
          return (
            <>
              <div class="stats">
                <Stat label="Available funds" value={money(sum((x) => x.wallet.available_micros))} />
                <Stat label="Campaigns serving" value={num(sum((x) => x.campaigns.filter((c) => c.status === 'active').length))} />
                <Stat label="Products" value={num(sum((x) => x.products.length))} />
                <Stat label="Publishers reached" value={num(byPublisher.size)} hint="showed a promotion in this range" />
              </div>
              <Card title="Performance per day">
                <Chart label="Impressions and clicks per day" days={days} bars series={[{ label: 'Impressions', color: COLORS[0], values: at('impressions') }, { label: 'Clicks', color: COLORS[2], values: at('valid_clicks') }]} />
                <Chart label="Cost per day" days={days} series={[{ label: 'Cost', color: COLORS[3], format: (v) => money(v), values: at('cost_micros') }]} />
              </Card>
              <Card title="Cost by publisher">
                {byPublisher.size === 0 ? <p class="muted">No promotion shown in this range yet.</p> : (
                  <div class="table-wrap"><table><thead><tr><th>Publisher (domain)</th><th class="num">Impressions</th><th class="num">Clicks</th><th class="num">Cost</th></tr></thead>
                    <tbody>{[...byPublisher.values()].sort((a, b) => b.cost - a.cost).map((r) => <tr><td>{r.domain}</td><td class="num">{num(r.impressions)}</td><td class="num">{num(r.clicks)}</td><td class="num">{money(r.cost)}</td></tr>)}</tbody></table></div>
                )}
              </Card>
            </>
          );
        }}
      </View>
    </>
  );
}

type Product = { id: string; name: string; description: string; url: string; keywords: string[]; category: string | null; sku: string | null; created_at: string };

export function ProductsTab({ project }: { project: Project }) {
  const products = useAsync(() => allPages<Product>(`/projects/${project.id}/products?limit=1000`, 100_000), [project.id]);
  const [q, setQ] = useState('');
  const [editing, setEditing] = useState<Product | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Product | null>(null);
  const [importing, setImporting] = useState(false);
  const shown = (products.data ?? []).filter((p) => !q || `${p.name} ${p.sku ?? ''} ${p.category ?? ''} ${p.keywords.join(' ')}`.toLowerCase().includes(q.toLowerCase()));
  return (
    <>
      <div class="row">
        <label class="inline grow"><span class="sr-only">Search products</span><input type="search" placeholder="Search products" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} /></label>
        <button type="button" class="secondary" onClick={() => setImporting(true)}>Import JSON Lines</button>
        <button type="button" onClick={() => setEditing('new')}>Add product</button>
      </div>
      <View of={products} empty={(l) => (l.length === 0 ? <Empty title="No products yet">Add a product, or import a JSON Lines file (one product per line: name, description, url, keywords, category, sku).</Empty> : null)}>
        {() => (
          <div class="table-wrap"><table>
            <thead><tr><th>Name</th><th>SKU</th><th>Category</th><th>URL</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>{shown.slice(0, 500).map((p) => (
              <tr><td>{p.name}</td><td>{p.sku ?? '—'}</td><td>{p.category ?? '—'}</td><td class="clip"><a href={p.url} rel="noreferrer noopener" target="_blank">{p.url}</a></td>
                <td class="actions"><button type="button" class="secondary small" onClick={() => setEditing(p)}>Edit</button><button type="button" class="danger small" onClick={() => setDeleting(p)}>Delete</button></td></tr>
            ))}</tbody>
          </table>{shown.length > 500 && <p class="muted small">Showing 500 of {shown.length}: search to narrow.</p>}</div>
        )}
      </View>
      <Dialog open={editing !== null} title={editing === 'new' ? 'Add product' : 'Edit product'} onClose={() => setEditing(null)}>
        {editing !== null && <ProductForm project={project} product={editing === 'new' ? null : editing} done={() => { setEditing(null); products.reload(); }} />}
      </Dialog>
      <Dialog open={importing} title="Import products (JSON Lines)" onClose={() => { setImporting(false); products.reload(); }}>
        <ImportForm project={project} />
      </Dialog>
      <Confirm open={deleting !== null} text={`Delete "${deleting?.name}"? It stops serving at once and leaves every campaign.`} confirmLabel="Delete product"
        onConfirm={async () => { await api('DELETE', `/projects/${project.id}/products/${deleting!.id}`); products.reload(); }} onClose={() => setDeleting(null)} />
    </>
  );
}

function ProductForm({ project, product, done }: { project: Project; product: Product | null; done: () => void }) {
  const [f, setF] = useState({ name: product?.name ?? '', description: product?.description ?? '', url: product?.url ?? `https://${project.domain}/`, keywords: product?.keywords.join(', ') ?? '', category: product?.category ?? '', sku: product?.sku ?? '' });
  const on = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const save = useSubmit(async () => {
    const body: any = { name: f.name, description: f.description, url: f.url, keywords: f.keywords.split(',').map((k) => k.trim()).filter(Boolean), category: f.category || null, sku: f.sku || null };
    if (!product) { if (body.category === null) delete body.category; if (body.sku === null) delete body.sku; }
    await (product ? api('PATCH', `/projects/${project.id}/products/${product.id}`, body) : api('POST', `/projects/${project.id}/products`, body));
    done();
  });
  return (
    <form onSubmit={save.submit}>
      <Field label="Name">{(id) => <input id={id} required value={f.name} onInput={on('name')} />}</Field>
      <Field label="Description">{(id) => <textarea id={id} required rows={3} value={f.description} onInput={on('description')} />}</Field>
      <Field label="URL" hint={`On ${project.domain} (or an allowed link domain)`}>{(id) => <input id={id} type="url" required value={f.url} onInput={on('url')} />}</Field>
      <Field label="Keywords" hint="Comma-separated">{(id) => <input id={id} value={f.keywords} onInput={on('keywords')} />}</Field>
      <div class="grid2">
        <Field label="Category">{(id) => <input id={id} value={f.category} onInput={on('category')} />}</Field>
        <Field label="SKU">{(id) => <input id={id} value={f.sku} onInput={on('sku')} />}</Field>
      </div>
      {save.error && <ErrorBox message={save.error} />}
      <div class="row end"><button type="submit" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save product'}</button></div>
    </form>
  );
}

/** Sends the file in parts of LINES_PER_PART lines (numbered with first_line), so the bar moves and a large file never hits the body limit. */
const LINES_PER_PART = 500;
function ImportForm({ project }: { project: Project }) {
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [report, setReport] = useState<{ created: number; updated: number; unchanged: number; failed: number; errors: Array<{ line: number; message: string }> } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const run = useSubmit(async () => {
    if (!file) throw new Error('Choose a .jsonl file first');
    const lines = (await file.text()).split(/\r?\n/);
    const total = lines.length;
    const sum = { created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] as Array<{ line: number; message: string }> };
    setReport(null);
    for (let start = 0; start < total; start += LINES_PER_PART) {
      setProgress({ done: start, total });
      const part = lines.slice(start, start + LINES_PER_PART).join('\n');
      const r = await api('POST', `/projects/${project.id}/products/import?first_line=${start + 1}`, undefined, { raw: part, contentType: 'application/x-ndjson' });
      sum.created += r.created; sum.updated += r.updated; sum.unchanged += r.unchanged; sum.failed += r.failed;
      sum.errors.push(...r.errors);
    }
    setProgress({ done: total, total });
    setReport(sum);
  });
  return (
    <form onSubmit={run.submit}>
      <p class="muted">One JSON object per line with <code>name</code>, <code>description</code>, <code>url</code> and optionally <code>keywords</code>, <code>category</code>, <code>sku</code>. A line whose sku exists updates that product.</p>
      <Field label="JSON Lines file">{(id) => <input id={id} type="file" accept=".jsonl,.ndjson,.json,.txt,application/x-ndjson" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)} />}</Field>
      {progress && <div class="field"><label>Progress</label><progress max={progress.total} value={progress.done} aria-label="Import progress" /> <span class="small">{num(progress.done)} of {num(progress.total)} lines</span></div>}
      {run.error && <ErrorBox message={run.error} />}
      {report && (
        <div role="status" data-testid="import-report">
          <p><strong>{num(report.created)}</strong> created, <strong>{num(report.updated)}</strong> updated, {num(report.unchanged)} unchanged, <strong>{num(report.failed)}</strong> failed.</p>
          {report.errors.length > 0 && <div class="table-wrap"><table><thead><tr><th class="num">Line</th><th>Problem</th></tr></thead><tbody>{report.errors.slice(0, 200).map((e) => <tr><td class="num">{e.line}</td><td>{e.message}</td></tr>)}</tbody></table></div>}
        </div>
      )}
      <div class="row end"><button type="submit" disabled={run.busy}>{run.busy ? 'Importing…' : 'Import'}</button></div>
    </form>
  );
}

type Campaign = any;
const STATUS_TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = { active: 'ok', paused_user: 'info', paused_system: 'warn', archived: 'bad' };

export function CampaignsTab({ project }: { project: Project }) {
  const campaigns = useAsync(() => api('GET', `/projects/${project.id}/campaigns`), [project.id]);
  const [editing, setEditing] = useState<Campaign | 'new' | null>(null);
  const [history, setHistory] = useState<Campaign | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [archiving, setArchiving] = useState<Campaign | null>(null);
  const act = async (c: Campaign, action: string) => {
    setActionError(null);
    try {
      await api('POST', `/projects/${project.id}/campaigns/${c.id}/${action}`);
      campaigns.reload();
    } catch (e) {
      // A refused activation names every unmet reason (domain_unverified, no_products, no_funds, ...): shown in words.
      setActionError((e as Error).message.replace(/\b([a-z]+(?:_[a-z]+)+)\b/g, (code) => code.replace(/_/g, ' ')));
    }
  };
  return (
    <>
      <div class="row end"><button type="button" onClick={() => setEditing('new')}>New campaign</button></div>
      {actionError && <ErrorBox message={actionError} />}
      <View of={campaigns} empty={(l: any) => (l.data.length === 0 ? <Empty title="No campaigns yet">Create a campaign: it starts paused; activate it once the domain is verified, products exist and funds are available.</Empty> : null)}>
        {(l: any) => (
          <div class="cards">{l.data.map((c: Campaign) => {
            const spent = c.budget_type === 'daily' ? c.spent_today_micros : c.spent_total_micros;
            return (
              <section class="card campaign" aria-label={c.name}>
                <header class="card-head"><h2>{c.name}</h2><Badge tone={STATUS_TONE[c.status] ?? 'info'}>{c.status.replace('_', ' ')}{c.pause_reason ? `: ${c.pause_reason.replace(/_/g, ' ')}` : ''}</Badge></header>
                <p class="muted small">Bid up to {money(c.base_cpc_micros)} per click · {c.product_ids.length} products · {c.start_at ? `from ${when(c.start_at)}` : 'no start date'}{c.end_at ? ` to ${when(c.end_at)}` : ''}</p>
                <div class="field"><label>{c.budget_type === 'daily' ? 'Spent today' : 'Spent'}: {money(spent)} of {money(c.budget_micros)}</label><progress max={c.budget_micros} value={Math.min(spent, c.budget_micros)} aria-label="Budget used" /></div>
                <div class="row">
                  {c.status !== 'archived' && c.status !== 'active' && <button type="button" onClick={() => act(c, 'activate')}>Activate</button>}
                  {c.status === 'active' && <button type="button" class="secondary" onClick={() => act(c, 'pause')}>Pause</button>}
                  {c.status !== 'archived' && <button type="button" class="secondary" onClick={() => setEditing(c)}>Edit</button>}
                  {c.status !== 'archived' && <button type="button" class="danger" onClick={() => setArchiving(c)}>Archive</button>}
                  <button type="button" class="link" onClick={() => setHistory(c)}>History</button>
                </div>
              </section>
            );
          })}</div>
        )}
      </View>
      <Dialog open={editing !== null} title={editing === 'new' ? 'New campaign' : 'Edit campaign'} onClose={() => setEditing(null)}>
        {editing !== null && <CampaignForm project={project} campaign={editing === 'new' ? null : editing} done={() => { setEditing(null); campaigns.reload(); }} />}
      </Dialog>
      <Confirm open={archiving !== null} text={`Archive "${archiving?.name}"? It stops serving for good; an archived campaign cannot be activated again.`} confirmLabel="Archive campaign"
        onConfirm={async () => { await act(archiving, 'archive'); }} onClose={() => setArchiving(null)} />
      <Dialog open={history !== null} title="Campaign history" onClose={() => setHistory(null)}>
        {history && <CampaignHistory project={project} id={history.id} />}
      </Dialog>
    </>
  );
}

function CampaignHistory({ project, id }: { project: Project; id: string }) {
  const h = useAsync(() => api('GET', `/projects/${project.id}/campaigns/${id}/history`), [id]);
  return <View of={h}>{(x: any) => <ul class="timeline">{x.data.map((e: any) => <li><time>{when(e.created_at)}</time> <strong>{e.event.replace(/_/g, ' ')}</strong> by {e.actor}{e.detail && Object.keys(e.detail).length > 0 && <span class="muted small"> — {JSON.stringify(e.detail)}</span>}</li>)}</ul>}</View>;
}

const localInput = (iso: string | null) => (iso ? new Date(new Date(iso).getTime() - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '');

function CampaignForm({ project, campaign, done }: { project: Project; campaign: Campaign | null; done: () => void }) {
  const products = useAsync(() => allPages<Product>(`/projects/${project.id}/products?limit=1000`, 5000), [project.id]);
  const t = campaign?.targeting;
  const [f, setF] = useState({
    name: campaign?.name ?? '', context: campaign?.context ?? '', base_cpc: campaign?.base_cpc ?? '0.50', budget: campaign?.budget ?? '50.00', budget_type: campaign?.budget_type ?? 'total',
    start_at: localInput(campaign?.start_at ?? new Date().toISOString()), end_at: localInput(campaign?.end_at ?? null),
    mode: t?.all_products ? 'all' : t?.categories ? 'categories' : campaign ? 'products' : 'all', categories: t?.categories?.join(', ') ?? '', product_ids: new Set<string>(campaign?.targeting ? [] : campaign?.product_ids ?? []),
  });
  const on = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  const save = useSubmit(async () => {
    const body: any = { name: f.name, context: f.context, base_cpc: f.base_cpc, budget: f.budget, budget_type: f.budget_type, start_at: f.start_at ? new Date(f.start_at).toISOString() : null, end_at: f.end_at ? new Date(f.end_at).toISOString() : null };
    if (f.mode === 'all') body.targeting = { all_products: true };
    else if (f.mode === 'categories') body.targeting = { categories: f.categories.split(',').map((c: string) => c.trim()).filter(Boolean) };
    else { body.targeting = null; body.product_ids = [...f.product_ids]; }
    await (campaign ? api('PATCH', `/projects/${project.id}/campaigns/${campaign.id}`, body) : api('POST', `/projects/${project.id}/campaigns`, body));
    done();
  });
  return (
    <form onSubmit={save.submit}>
      <Field label="Campaign name">{(id) => <input id={id} required value={f.name} onInput={on('name')} />}</Field>
      <Field label="Context" hint="Who the products are for; helps matching">{(id) => <input id={id} value={f.context} onInput={on('context')} />}</Field>
      <div class="grid2">
        <Field label="Maximum bid per click (USD)">{(id) => <input id={id} required inputMode="decimal" value={f.base_cpc} onInput={on('base_cpc')} />}</Field>
        <Field label="Budget (USD)">{(id) => <input id={id} required inputMode="decimal" value={f.budget} onInput={on('budget')} />}</Field>
        <Field label="Budget type">{(id) => <select id={id} value={f.budget_type} onChange={on('budget_type')}><option value="total">Total</option><option value="daily">Daily</option></select>}</Field>
        <Field label="Products">{(id) => <select id={id} value={f.mode} onChange={on('mode')}><option value="all">All products</option><option value="categories">Categories</option><option value="products">Chosen products</option></select>}</Field>
        <Field label="Start">{(id) => <input id={id} type="datetime-local" value={f.start_at} onInput={on('start_at')} />}</Field>
        <Field label="End (optional)">{(id) => <input id={id} type="datetime-local" value={f.end_at} onInput={on('end_at')} />}</Field>
      </div>
      {f.mode === 'categories' && <Field label="Categories" hint="Comma-separated">{(id) => <input id={id} value={f.categories} onInput={on('categories')} />}</Field>}
      {f.mode === 'products' && (
        <fieldset class="pick"><legend>Products</legend>
          <View of={products}>{(list) => <>{list.slice(0, 300).map((p) => (
            <label class="check"><input type="checkbox" checked={f.product_ids.has(p.id)} onChange={(e) => { const s = new Set(f.product_ids); (e.target as HTMLInputElement).checked ? s.add(p.id) : s.delete(p.id); setF({ ...f, product_ids: s }); }} /> {p.name}</label>
          ))}</>}</View>
        </fieldset>
      )}
      {save.error && <ErrorBox message={save.error} />}
      <div class="row end"><button type="submit" disabled={save.busy}>{save.busy ? 'Saving…' : 'Save campaign'}</button></div>
    </form>
  );
}

export function AnalyticsTab({ project }: { project: Project }) {
  const [range, setRange] = useState(30);
  const [campaign, setCampaign] = useState('');
  const [publisher, setPublisher] = useState('');
  const campaigns = useAsync(() => api('GET', `/projects/${project.id}/campaigns`), [project.id]);
  const span = `from=${dayOffset(range - 1)}&to=${dayOffset(0)}`;
  // The publishers to filter by: every one that showed a promotion in the range (unfiltered report).
  const reached = useAsync(() => api('GET', `/projects/${project.id}/analytics?${span}`), [project.id, range]);
  const report = useAsync(() => api('GET', `/projects/${project.id}/analytics?${span}${campaign ? `&campaign_id=${campaign}` : ''}${publisher ? `&publisher_project_id=${publisher}` : ''}`), [project.id, range, campaign, publisher]);
  const csv = (r: any) => {
    const rows = [['date', 'impressions', 'clicks', 'valid_clicks', 'invalid_clicks', 'ctr', 'cost_usd', 'avg_cpc_usd'], ...r.daily.map((d: any) => [d.date, d.impressions, d.clicks, d.valid_clicks, d.invalid_clicks, d.ctr, d.cost, d.avg_cpc])];
    const blob = new Blob([rows.map((x) => x.join(',')).join('\n') + '\n'], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `vexrail-analytics-${project.id}-${r.from}-${r.to}.csv`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  return (
    <>
      <div class="row">
        <RangePicker value={range} onChange={setRange} />
        <label class="inline">Campaign{' '}
          <select value={campaign} onChange={(e) => setCampaign((e.target as HTMLSelectElement).value)}>
            <option value="">All campaigns</option>
            {(campaigns.data?.data ?? []).map((c: any) => <option value={c.id}>{c.name}</option>)}
          </select>
        </label>
        <label class="inline">Publisher{' '}
          <select value={publisher} onChange={(e) => setPublisher((e.target as HTMLSelectElement).value)}>
            <option value="">All publishers</option>
            {(reached.data?.publishers ?? []).map((p: any) => <option value={p.publisher_project_id}>{p.domain ?? p.publisher_project_id}</option>)}
          </select>
        </label>
        {report.data && <button type="button" class="secondary" onClick={() => csv(report.data)}>Export CSV</button>}
      </div>
      <View of={report}>
        {(r: any) => {
          const days = daysBetween(r.from, r.to);
          const at = (k: string) => days.map((d) => r.daily.find((x: any) => x.date === d)?.[k] ?? 0);
          return (
            <>
              <div class="stats">
                <Stat label="Impressions" value={<span data-testid="impressions">{num(r.totals.impressions)}</span>} />
                <Stat label="Clicks" value={<span data-testid="clicks">{num(r.totals.valid_clicks)}</span>} hint={`${num(r.totals.invalid_clicks)} invalid`} />
                <Stat label="CTR" value={pct(r.totals.ctr)} />
                <Stat label="Cost" value={money(r.totals.cost_micros)} />
                <Stat label="Average CPC" value={money(r.totals.avg_cpc_micros)} />
              </div>
              <Card title="Impressions and clicks"><Chart label="Impressions and clicks per day" days={days} series={[{ label: 'Impressions', color: COLORS[0], values: at('impressions') }, { label: 'Clicks', color: COLORS[2], values: at('valid_clicks') }]} /></Card>
              <Card title="Cost"><Chart label="Cost per day" bars days={days} series={[{ label: 'Cost', color: COLORS[3], format: (v) => money(v), values: at('cost_micros') }]} /></Card>
              <Card title="By campaign">
                {r.campaigns.length === 0 ? <p class="muted">No impressions in this range.</p> : (
                  <div class="table-wrap"><table><thead><tr><th>Campaign</th><th class="num">Impressions</th><th class="num">Clicks</th><th class="num">CTR</th><th class="num">Cost</th><th class="num">Avg CPC</th></tr></thead>
                    <tbody>{r.campaigns.map((c: any) => <tr><td>{c.name ?? c.campaign_id}</td><td class="num">{num(c.impressions)}</td><td class="num">{num(c.valid_clicks)}</td><td class="num">{pct(c.ctr)}</td><td class="num">{money(c.cost_micros)}</td><td class="num">{money(c.avg_cpc_micros)}</td></tr>)}</tbody></table></div>
                )}
              </Card>
              <Card title="By publisher">
                {(r.publishers ?? []).length === 0 ? <p class="muted">No impressions in this range.</p> : (
                  <div class="table-wrap"><table><thead><tr><th>Publisher (domain)</th><th class="num">Impressions</th><th class="num">Clicks</th><th class="num">CTR</th><th class="num">Cost</th></tr></thead>
                    <tbody>{r.publishers.map((p: any) => <tr><td>{p.domain ?? p.publisher_project_id}</td><td class="num">{num(p.impressions)}</td><td class="num">{num(p.valid_clicks)}</td><td class="num">{pct(p.ctr)}</td><td class="num">{money(p.cost_micros)}</td></tr>)}</tbody></table></div>
                )}
              </Card>
            </>
          );
        }}
      </View>
    </>
  );
}
