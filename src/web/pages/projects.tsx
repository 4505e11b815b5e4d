/** Projects of either kind: list and create, the project header with its tabs, settings (domain, monetization, ads), keys and wallet. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, allPages } from '../api';
import { dayOffset, money, when } from '../format';
import { Badge, Card, Confirm, CopyButton, Dialog, Empty, ErrorBox, Field, Stat, Tabs, View, daysBetween, useAsync, PageButtons, useCursorPages, useSubmit } from '../ui';

export type Project = {
  id: string; name: string; kind: 'publisher' | 'advertiser'; domain: string; domain_status: string; monetization: boolean;
  verification_record: { type: string; host: string; name: string; value: string }; domain_verified_at: string | null; domain_verify_method: string | null;
  link_domains: string[]; owner_account_id: string | null; created_at: string;
  ad_settings?: { disclosure_label: string; frequency_cap_turns: number; blocked_categories: string[]; bridge_mode: string };
};

/** The account's projects of one kind, each with its wallet and what `load` adds, over the last `range` days (overviews). */
export function useProjectsOverview<T extends object>(kind: Project['kind'], range: number, load: (p: Project, from: string, to: string) => Promise<T>) {
  return useAsync(async () => {
    const projects = (await allPages<Project>('/projects?limit=100')).filter((p) => p.kind === kind);
    const from = dayOffset(range - 1);
    const to = dayOffset(0);
    const per = await Promise.all(projects.map(async (p) => ({ project: p, wallet: await api('GET', `/projects/${p.id}/wallet?limit=1`), ...(await load(p, from, to)) })));
    return { per, days: daysBetween(from, to) };
  }, [kind, range]);
}

export function DomainBadge({ status }: { status: string }) {
  return <Badge tone={status === 'verified' ? 'ok' : status === 'failed' ? 'bad' : 'warn'}>{status === 'verified' ? 'Domain verified' : `Domain ${status}`}</Badge>;
}

export function ProjectsPage({ kind }: { kind: 'publisher' | 'advertiser' }) {
  const list = useAsync(() => allPages<Project>('/projects?limit=100'), []);
  const [open, setOpen] = useState(false);
  const [form, setForm] = useState({ name: '', domain: '' });
  const { busy, error, submit } = useSubmit(async () => {
    const p = await api<Project>('POST', '/projects', { ...form, kind });
    setOpen(false);
    location.hash = `#/${kind}/projects/${p.id}/settings`;
  });
  const mine = (list.data ?? []).filter((p) => p.kind === kind);
  return (
    <>
      <div class="page-head">
        <h1>{kind === 'publisher' ? 'Projects' : 'Advertiser projects'}</h1>
        <button type="button" onClick={() => setOpen(true)}>New project</button>
      </div>
      <View of={list} empty={() => (mine.length === 0 ? <Empty title="No projects yet">{kind === 'publisher' ? 'Create a project for your app: you get API keys once its domain is verified.' : 'Create an advertiser project for your shop: then import products and start a campaign.'}</Empty> : null)}>
        {() => (
          <div class="table-wrap"><table>
            <thead><tr><th>Name</th><th>Domain</th><th>Status</th>{kind === 'publisher' && <th>Monetization</th>}<th>Created</th></tr></thead>
            <tbody>{mine.map((p) => (
              <tr><td><a href={`#/${kind}/projects/${p.id}`}>{p.name}</a></td><td>{p.domain}</td><td><DomainBadge status={p.domain_status} /></td>
                {kind === 'publisher' && <td>{p.monetization ? <Badge tone="ok">On</Badge> : <Badge tone="info">Off</Badge>}</td>}<td>{when(p.created_at)}</td></tr>
            ))}</tbody>
          </table></div>
        )}
      </View>
      <Dialog open={open} title="New project" onClose={() => setOpen(false)}>
        <form onSubmit={submit}>
          <Field label="Name">{(id) => <input id={id} required maxLength={200} value={form.name} onInput={(e) => setForm({ ...form, name: (e.target as HTMLInputElement).value })} />}</Field>
          <Field label="Domain" hint={kind === 'publisher' ? 'Where your app runs, e.g. example.com' : 'Your shop\'s domain: product links must point at it'}>{(id) => <input id={id} required placeholder="example.com" value={form.domain} onInput={(e) => setForm({ ...form, domain: (e.target as HTMLInputElement).value })} />}</Field>
          {error && <ErrorBox message={error} />}
          <div class="row end"><button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create project'}</button></div>
        </form>
      </Dialog>
    </>
  );
}

export function ProjectHeader({ id, kind, tabs, current, children }: { id: string; kind: string; tabs: Array<[string, string]>; current: string; children: (p: Project, reload: () => void) => ComponentChildren }) {
  // Read again on every tab change: another account (the operator) may have changed it meanwhile.
  const project = useAsync(() => api<Project>('GET', `/projects/${encodeURIComponent(id)}`), [id, current]);
  return (
    <View of={project}>
      {(p) => (
        <>
          <p class="crumbs"><a href={`#/${kind}/projects`}>Projects</a> / {p.name}</p>
          <div class="page-head"><h1>{p.name}</h1><DomainBadge status={p.domain_status} /></div>
          <Tabs tabs={tabs} current={current} hrefOf={(t) => `#/${kind}/projects/${p.id}/${t}`} />
          {children(p, project.reload)}
        </>
      )}
    </View>
  );
}

export function SettingsTab({ project, reload, operator }: { project: Project; reload: () => void; operator: boolean }) {
  const checks = useAsync(() => api('GET', `/projects/${project.id}/domain/checks`), [project.id, project.domain_status]);
  const keys = useAsync(() => api('GET', `/projects/${project.id}/keys`), [project.id]);
  const [detail, setDetail] = useState('');
  const verify = (method: 'dns' | 'manual') => useSubmit(async () => {
    const r = await api('POST', `/projects/${project.id}/domain/verify`, { method });
    setDetail(r.detail ?? '');
    reload();
    checks.reload();
  });
  const dns = verify('dns');
  const manual = verify('manual');
  const hasActiveKey = (keys.data?.data ?? []).some((k: any) => k.status === 'active');
  const blockers = [
    ...(project.domain_status !== 'verified' ? ['the domain is not verified yet'] : []),
    ...(keys.data && !hasActiveKey ? ['the project has no active API key'] : []),
  ];
  const toggle = useSubmit(async () => {
    await api('PATCH', `/projects/${project.id}`, { monetization: !project.monetization });
    reload();
  });
  const rec = project.verification_record;
  return (
    <>
      <Card title="Domain verification">
        {project.domain_status === 'verified'
          ? <p><Badge tone="ok">Verified</Badge> {project.domain} — {project.domain_verify_method === 'manual' ? 'marked verified by the operator' : 'DNS record found'} on {when(project.domain_verified_at)}.</p>
          : (<>
            <p>Add this DNS record at your DNS provider, then press Verify. It can take a few minutes to be visible.</p>
            <dl class="kv">
              <dt>Type</dt><dd><code>{rec.type}</code></dd>
              <dt>Host</dt><dd><code>{rec.host}</code> <span class="muted small">({rec.name})</span></dd>
              <dt>Value</dt><dd><code class="break">{rec.value}</code> <CopyButton text={rec.value} /></dd>
            </dl>
            <div class="row">
              <button type="button" disabled={dns.busy} onClick={() => dns.submit()}>{dns.busy ? 'Checking…' : 'Verify'}</button>
              {operator && <button type="button" class="secondary" disabled={manual.busy} onClick={() => manual.submit()}>Mark verified (operator)</button>}
            </div>
          </>)}
        {detail && <p class="notice" role="status">{detail}</p>}
        {(dns.error || manual.error) && <ErrorBox message={(dns.error ?? manual.error)!} />}
        <h3>Status history</h3>
        <View of={checks} empty={(c: any) => (c.data.length === 0 ? <p class="muted">No checks yet.</p> : null)}>
          {(c: any) => <ul class="timeline">{c.data.map((x: any) => <li><time>{when(x.created_at)}</time> {x.method} · <strong>{x.result ?? x.status}</strong> {x.detail && <span class="muted">— {x.detail}</span>}</li>)}</ul>}
        </View>
      </Card>
      {project.kind === 'publisher' && (
        <Card title="Monetization">
          <p>When on, relevant sponsored products are added to answers with a disclosure label, and you earn a share of each valid click.</p>
          <div class="row">
            <span>Monetization is <strong>{project.monetization ? 'on' : 'off'}</strong>.</span>
            <button type="button" role="switch" aria-checked={project.monetization} disabled={toggle.busy || (!project.monetization && blockers.length > 0)} onClick={() => toggle.submit()}>
              {project.monetization ? 'Turn off' : 'Turn on'}
            </button>
          </div>
          {!project.monetization && blockers.length > 0 && <p class="muted">It can be switched on once {blockers.join(' and ')}.</p>}
          {toggle.error && <ErrorBox message={toggle.error} />}
        </Card>
      )}
      {project.kind === 'publisher' && project.ad_settings && <AdSettings project={project} reload={reload} />}
    </>
  );
}

function AdSettings({ project, reload }: { project: Project; reload: () => void }) {
  const s = project.ad_settings!;
  const [form, setForm] = useState({ disclosure_label: s.disclosure_label, frequency_cap_turns: String(s.frequency_cap_turns), blocked_categories: s.blocked_categories.join(', '), bridge_mode: s.bridge_mode });
  const [saved, setSaved] = useState(false);
  const save = useSubmit(async () => {
    await api('PATCH', `/projects/${project.id}`, {
      disclosure_label: form.disclosure_label, frequency_cap_turns: Number(form.frequency_cap_turns), bridge_mode: form.bridge_mode,
      blocked_categories: form.blocked_categories.split(',').map((c) => c.trim()).filter(Boolean),
    });
    setSaved(true);
    reload();
  });
  const on = (k: keyof typeof form) => (e: Event) => { setSaved(false); setForm({ ...form, [k]: (e.target as HTMLInputElement).value }); };
  return (
    <Card title="Ad settings">
      <form onSubmit={save.submit} class="grid2">
        <Field label="Disclosure label" hint="Shown with every promotion">{(id) => <input id={id} maxLength={40} value={form.disclosure_label} onInput={on('disclosure_label')} />}</Field>
        <Field label="Frequency cap (turns)" hint="At most one promotion every this many turns">{(id) => <input id={id} type="number" min={1} max={1000} value={form.frequency_cap_turns} onInput={on('frequency_cap_turns')} />}</Field>
        <Field label="Blocked categories" hint="Comma-separated">{(id) => <input id={id} value={form.blocked_categories} onInput={on('blocked_categories')} />}</Field>
        <Field label="Bridge sentence">{(id) => <select id={id} value={form.bridge_mode} onChange={on('bridge_mode')}><option value="template">Template</option><option value="llm">Written by the model</option></select>}</Field>
        {save.error && <ErrorBox message={save.error} />}
        <div class="row end full">{saved && <span class="muted" role="status">Saved.</span>}<button type="submit" disabled={save.busy}>Save ad settings</button></div>
      </form>
    </Card>
  );
}

export function KeysTab({ project }: { project: Project }) {
  const keys = useAsync(() => api('GET', `/projects/${project.id}/keys`), [project.id]);
  const [name, setName] = useState('');
  const [created, setCreated] = useState<any>(null);
  const [confirm, setConfirm] = useState<any>(null);
  const create = useSubmit(async () => {
    setCreated(await api('POST', `/projects/${project.id}/keys`, { name: name || 'Key' }));
    setName('');
    keys.reload();
  });
  return (
    <>
      <Card title="Create an API key pair">
        {project.domain_status !== 'verified' && <p class="muted">Keys can be created once the domain is verified (see Settings).</p>}
        <form class="row" onSubmit={create.submit}>
          <Field label="Key name">{(id) => <input id={id} maxLength={200} placeholder="Production" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />}</Field>
          <button type="submit" disabled={create.busy || project.domain_status !== 'verified'}>Create key pair</button>
        </form>
        {create.error && <ErrorBox message={create.error} />}
        {created && (
          <div class="secret" role="status">
            <p><strong>Copy the secret key now: it is shown only once.</strong></p>
            <dl class="kv">
              <dt>Publishable key</dt><dd><code class="break" data-testid="publishable-key">{created.publishable_key}</code> <CopyButton text={created.publishable_key} /></dd>
              <dt>Secret key</dt><dd><code class="break" data-testid="secret-key">{created.secret_key}</code> <CopyButton text={created.secret_key} /></dd>
            </dl>
            <button type="button" class="secondary small" onClick={() => setCreated(null)}>I have stored it</button>
          </div>
        )}
      </Card>
      <Card title="Key pairs">
        <View of={keys} empty={(k: any) => (k.data.length === 0 ? <Empty title="No keys yet">Create a key pair above; your app sends both keys as headers.</Empty> : null)}>
          {(k: any) => (
            <div class="table-wrap"><table>
              <thead><tr><th>Name</th><th>Publishable key</th><th>Secret</th><th>Status</th><th>Last used</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>{k.data.map((x: any) => (
                <tr><td>{x.name}</td><td><code class="break">{x.publishable_key}</code></td><td><code>{x.secret_prefix}…</code></td>
                  <td>{x.status === 'active' ? <Badge tone="ok">Active</Badge> : <Badge tone="bad">Inactive</Badge>}</td><td>{when(x.last_used_at)}</td>
                  <td>{x.status === 'active' && <button type="button" class="danger small" onClick={() => setConfirm(x)}>Deactivate</button>}</td></tr>
              ))}</tbody>
            </table></div>
          )}
        </View>
      </Card>
      <Confirm open={confirm !== null} text={`Deactivate "${confirm?.name}"? Requests with this key pair fail from the next request on. This cannot be undone.`} confirmLabel="Deactivate"
        onConfirm={async () => { await api('POST', `/projects/${project.id}/keys/${confirm.id}/deactivate`); keys.reload(); }} onClose={() => setConfirm(null)} />
    </>
  );
}

export function WalletTab({ project }: { project: Project }) {
  const pages = useCursorPages();
  const wallet = useAsync(() => api('GET', `/projects/${project.id}/wallet?limit=25${pages.cursor ? `&cursor=${encodeURIComponent(pages.cursor)}` : ''}`), [project.id, pages.cursor]);
  return (
    <View of={wallet}>
      {(w: any) => (
        <>
          <div class="stats">
            <Stat label="Balance" value={<span data-testid="balance">{money(w.balance_micros)}</span>} />
            <Stat label="Held by requests in flight" value={money(w.held_micros)} />
            <Stat label="Available" value={money(w.available_micros)} />
          </div>
          <Card title="Transactions">
            {w.transactions.length === 0 ? <Empty title="No transactions yet">{project.kind === 'publisher' ? 'Credits are added by the operator; each request then appears here.' : 'Funds are added by the operator; clicks on your promotions are charged here.'}</Empty> : (
              <div class="table-wrap"><table>
                <thead><tr><th>When</th><th>Type</th><th class="num">Amount</th><th class="num">Balance after</th></tr></thead>
                <tbody>{w.transactions.map((t: any) => <tr><td>{when(t.created_at)}</td><td>{t.type.replace('_', ' ')}</td><td class="num">{money(t.amount_micros)}</td><td class="num">{money(t.balance_after_micros)}</td></tr>)}</tbody>
              </table></div>
            )}
            <PageButtons pages={pages} page={w} />
          </Card>
        </>
      )}
    </View>
  );
}
