/** Operator pages: every project (owner, manual verification, top-ups), accounts and invites, revenue, clicks, settings. */
import { useState } from 'preact/hooks';
import { api, allPages } from '../api';
import { dayOffset, money, num, when } from '../format';
import { Badge, Card, Chart, Dialog, Empty, ErrorBox, Field, RangePicker, Stat, View, daysBetween, useAsync, useSubmit, CopyButton } from '../ui';
import { DomainBadge, type Project } from './projects';

export function OperatorProjects() {
  const data = useAsync(async () => ({ projects: await allPages<Project>('/projects?limit=100', 10_000), accounts: (await api('GET', '/operator/accounts')).data as any[] }), []);
  const [topUp, setTopUp] = useState<Project | null>(null);
  const [owner, setOwner] = useState<Project | null>(null);
  const [error, setError] = useState<string | null>(null);
  const verify = async (p: Project) => {
    setError(null);
    try { await api('POST', `/projects/${p.id}/domain/verify`, { method: 'manual' }); data.reload(); } catch (e) { setError((e as Error).message); }
  };
  return (
    <>
      <div class="page-head"><h1>All projects</h1></div>
      {error && <ErrorBox message={error} />}
      <View of={data} empty={(d) => (d.projects.length === 0 ? <Empty title="No projects yet">Invite publishers and advertisers (Accounts); their projects appear here.</Empty> : null)}>
        {({ projects, accounts }) => {
          const names = new Map(accounts.map((a) => [a.id, a.email]));
          return (
            <div class="table-wrap"><table>
              <thead><tr><th>Project</th><th>Kind</th><th>Owner</th><th>Domain</th><th>Status</th><th><span class="sr-only">Actions</span></th></tr></thead>
              <tbody>{projects.map((p) => (
                <tr><td><a href={`#/${p.kind}/projects/${p.id}`}>{p.name}</a><div class="muted small"><code>{p.id}</code></div></td><td>{p.kind}</td>
                  <td>{p.owner_account_id ? names.get(p.owner_account_id) ?? p.owner_account_id : <span class="muted">none</span>}</td>
                  <td>{p.domain}</td><td><DomainBadge status={p.domain_status} />{p.monetization && <> <Badge tone="ok">monetized</Badge></>}</td>
                  <td class="actions">
                    {p.domain_status !== 'verified' && <button type="button" class="secondary small" onClick={() => verify(p)}>Mark verified</button>}
                    <button type="button" class="secondary small" onClick={() => setTopUp(p)}>{p.kind === 'publisher' ? 'Add credits' : 'Add funds'}</button>
                    <button type="button" class="secondary small" onClick={() => setOwner(p)}>Owner</button>
                  </td></tr>
              ))}</tbody>
            </table></div>
          );
        }}
      </View>
      <Dialog open={topUp !== null} title={`Top up ${topUp?.name ?? ''}`} onClose={() => setTopUp(null)}>
        {topUp && <TopUpForm project={topUp} done={() => { setTopUp(null); data.reload(); }} />}
      </Dialog>
      <Dialog open={owner !== null} title={`Owner of ${owner?.name ?? ''}`} onClose={() => setOwner(null)}>
        {owner && <OwnerForm project={owner} accounts={data.data?.accounts ?? []} done={() => { setOwner(null); data.reload(); }} />}
      </Dialog>
    </>
  );
}

function TopUpForm({ project, done }: { project: Project; done: () => void }) {
  const [amount, setAmount] = useState('10.00');
  const key = useState(() => `dash-${crypto.randomUUID()}`)[0];
  const save = useSubmit(async () => { await api('POST', `/projects/${project.id}/credits`, { amount, idempotency_key: key }); done(); });
  return (
    <form onSubmit={save.submit}>
      <Field label="Amount (USD)" hint="Recorded in the project's ledger; sent twice, it is added once">{(id) => <input id={id} required inputMode="decimal" value={amount} onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />}</Field>
      {save.error && <ErrorBox message={save.error} />}
      <div class="row end"><button type="submit" disabled={save.busy}>Add {amount ? `$${amount}` : ''}</button></div>
    </form>
  );
}

function OwnerForm({ project, accounts, done }: { project: Project; accounts: any[]; done: () => void }) {
  const fit = accounts.filter((a) => a[project.kind]);
  const [owner, setOwner] = useState(project.owner_account_id ?? '');
  const save = useSubmit(async () => { await api('PATCH', `/projects/${project.id}`, { owner_account_id: owner || null }); done(); });
  return (
    <form onSubmit={save.submit}>
      <Field label="Owner" hint={`Accounts with the ${project.kind} role`}>{(id) => (
        <select id={id} value={owner} onChange={(e) => setOwner((e.target as HTMLSelectElement).value)}>
          <option value="">No owner</option>{fit.map((a) => <option value={a.id}>{a.name} ({a.email})</option>)}
        </select>
      )}</Field>
      {save.error && <ErrorBox message={save.error} />}
      <div class="row end"><button type="submit" disabled={save.busy}>Save owner</button></div>
    </form>
  );
}

export function OperatorAccounts() {
  const accounts = useAsync(() => api('GET', '/operator/accounts'), []);
  const invites = useAsync(() => api('GET', '/operator/invites'), []);
  const [form, setForm] = useState({ email: '', publisher: true, advertiser: false });
  const [link, setLink] = useState<string | null>(null);
  const invite = useSubmit(async () => {
    const r = await api('POST', '/operator/invites', { email: form.email, roles: { publisher: form.publisher, advertiser: form.advertiser } });
    setLink(`${location.origin}${location.pathname}#/invite/${encodeURIComponent(r.token)}`);
    setForm({ ...form, email: '' });
    invites.reload();
  });
  return (
    <>
      <div class="page-head"><h1>Accounts</h1></div>
      <Card title="Invite someone">
        <form class="row wrap" onSubmit={invite.submit}>
          <Field label="Email">{(id) => <input id={id} type="email" required value={form.email} onInput={(e) => setForm({ ...form, email: (e.target as HTMLInputElement).value })} />}</Field>
          <label class="check"><input type="checkbox" checked={form.publisher} onChange={(e) => setForm({ ...form, publisher: (e.target as HTMLInputElement).checked })} /> Publisher</label>
          <label class="check"><input type="checkbox" checked={form.advertiser} onChange={(e) => setForm({ ...form, advertiser: (e.target as HTMLInputElement).checked })} /> Advertiser</label>
          <button type="submit" disabled={invite.busy}>Create invitation</button>
        </form>
        {invite.error && <ErrorBox message={invite.error} />}
        {link && <div class="secret" role="status"><p><strong>Hand this one-time link to the person (valid 7 days, shown once):</strong></p><p><code class="break" data-testid="invite-link">{link}</code> <CopyButton text={link} /></p></div>}
      </Card>
      <Card title="Accounts">
        <View of={accounts}>
          {(a: any) => (
            <div class="table-wrap"><table><thead><tr><th>Name</th><th>Email</th><th>Roles</th><th class="num">Projects</th><th>Created</th></tr></thead>
              <tbody>{a.data.map((x: any) => <tr><td>{x.name}</td><td>{x.email}</td><td>{[x.operator && 'operator', x.publisher && 'publisher', x.advertiser && 'advertiser'].filter(Boolean).join(', ')}</td><td class="num">{x.projects}</td><td>{when(x.created_at)}</td></tr>)}</tbody></table></div>
          )}
        </View>
      </Card>
      <Card title="Invitations">
        <View of={invites} empty={(i: any) => (i.data.length === 0 ? <p class="muted">No invitations yet.</p> : null)}>
          {(i: any) => (
            <div class="table-wrap"><table><thead><tr><th>Email</th><th>Roles</th><th>Created</th><th>Expires</th><th>Used</th></tr></thead>
              <tbody>{i.data.map((x: any) => <tr><td>{x.email}</td><td>{[x.roles.publisher && 'publisher', x.roles.advertiser && 'advertiser'].filter(Boolean).join(', ')}</td><td>{when(x.created_at)}</td><td>{when(x.expires_at)}</td><td>{x.used_at ? when(x.used_at) : <span class="muted">not yet</span>}</td></tr>)}</tbody></table></div>
          )}
        </View>
      </Card>
    </>
  );
}

export function OperatorRevenue() {
  const [range, setRange] = useState(30);
  const r = useAsync(() => api('GET', `/operator/revenue?from=${dayOffset(range - 1)}&to=${dayOffset(0)}`), [range]);
  return (
    <>
      <div class="page-head"><h1>Platform revenue</h1><RangePicker value={range} onChange={setRange} /></div>
      <View of={r}>
        {(x: any) => {
          const days = daysBetween(x.from, x.to);
          const by = new Map(x.daily.map((d: any) => [d.date, d.revenue_micros]));
          return (
            <>
              <div class="stats"><Stat label="Revenue in range" value={money(x.total_micros)} hint="the platform's share of charged clicks, less refunds" /></div>
              <Card title="Revenue per day"><Chart label="Platform revenue per day" bars days={days} series={[{ label: 'Revenue', color: '#16a34a', format: (v) => money(v), values: days.map((d) => (by.get(d) as number) ?? 0) }]} /></Card>
            </>
          );
        }}
      </View>
    </>
  );
}

export function OperatorClicks() {
  const [id, setId] = useState('');
  const [click, setClick] = useState<any>(null);
  const [reason, setReason] = useState('invalidated by the operator');
  const find = useSubmit(async () => { setClick(await api('GET', `/clicks/${encodeURIComponent(id.trim())}`)); });
  const invalidate = useSubmit(async () => { setClick(await api('POST', `/clicks/${encodeURIComponent(click.id)}/invalidate`, { reason })); });
  return (
    <>
      <div class="page-head"><h1>Click invalidation</h1></div>
      <Card title="Find a click">
        <p class="muted">Click ids are listed in each project's clicks (admin API) and in advertisers' complaints. Invalidating a charged click refunds the advertiser and reverses the publisher's pending earning.</p>
        <form class="row" onSubmit={find.submit}>
          <Field label="Click id">{(fid) => <input id={fid} required value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />}</Field>
          <button type="submit" disabled={find.busy}>Find</button>
        </form>
        {find.error && <ErrorBox message={find.error} />}
      </Card>
      {click && (
        <Card title={`Click ${click.id}`}>
          <dl class="kv">
            <dt>Status</dt><dd><Badge tone={click.status === 'charged' ? 'ok' : 'warn'}>{click.status}</Badge> {click.reason && <span class="muted">{click.reason}</span>}</dd>
            <dt>Charged</dt><dd>{money(click.charged_micros)} (publisher {money(click.publisher_micros)})</dd>
            <dt>Campaign</dt><dd><code>{click.campaign_id}</code></dd>
            <dt>When</dt><dd>{when(click.created_at)}</dd>
          </dl>
          {click.status === 'charged' && (
            <form class="row" onSubmit={invalidate.submit}>
              <Field label="Reason">{(rid) => <input id={rid} value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />}</Field>
              <button type="submit" class="danger" disabled={invalidate.busy}>Invalidate and refund</button>
            </form>
          )}
          {invalidate.error && <ErrorBox message={invalidate.error} />}
        </Card>
      )}
    </>
  );
}

export function OperatorSettings() {
  const s = useAsync(() => api('GET', '/operator/settings'), []);
  return (
    <>
      <div class="page-head"><h1>Platform settings</h1></div>
      <View of={s}>{(x: any) => <SettingsForm settings={x} saved={s.reload} />}</View>
    </>
  );
}

/** Share, hold and prices: applied at once (and within a second on other instances); "Use config value" restores the config file's. */
function SettingsForm({ settings, saved }: { settings: any; saved: () => void }) {
  const [share, setShare] = useState(String(settings.publisher_share_percent));
  const [hold, setHold] = useState(String(settings.earnings_hold_days));
  const [prices, setPrices] = useState<Record<string, { input: string; output: string }>>(
    Object.fromEntries(settings.models.map((m: any) => [m.id, { input: m.input_per_mtok ?? '', output: m.output_per_mtok ?? '' }])),
  );
  const [done, setDone] = useState('');
  const send = (body: unknown) => useSubmit(async () => { await api('PATCH', '/operator/settings', body); setDone('Saved: new clicks and requests use these values.'); saved(); });
  const splitSave = send({ publisher_share_percent: Number(share), earnings_hold_days: Number(hold) });
  const changed = Object.fromEntries(settings.models.filter((m: any) => prices[m.id] && (prices[m.id].input !== m.input_per_mtok || prices[m.id].output !== m.output_per_mtok)).map((m: any) => [m.id, prices[m.id]]));
  const priceSave = send({ prices: changed });
  const resetShare = send({ publisher_share_percent: null, earnings_hold_days: null });
  return (
    <>
      {done && <p class="notice" role="status">{done}</p>}
      <Card title="Revenue share and hold period">
        <p class="muted">A click is split with the share in force when it is charged; an earning keeps the hold it was given. Sources: share from the {settings.publisher_share_source}, hold from the {settings.earnings_hold_source}.</p>
        <form class="grid2" onSubmit={splitSave.submit}>
          <Field label="Publisher share (%)" hint="The rest is the platform's">{(id) => <input id={id} type="number" min={0} max={100} step={0.01} required value={share} onInput={(e) => setShare((e.target as HTMLInputElement).value)} />}</Field>
          <Field label="Earnings hold (days)">{(id) => <input id={id} type="number" min={0} max={3650} step="any" required value={hold} onInput={(e) => setHold((e.target as HTMLInputElement).value)} />}</Field>
          {(splitSave.error || resetShare.error) && <ErrorBox message={(splitSave.error ?? resetShare.error)!} />}
          <div class="row end full">
            <button type="button" class="secondary" onClick={() => resetShare.submit()}>Use config values</button>
            <button type="submit" disabled={splitSave.busy}>Save share and hold</button>
          </div>
        </form>
      </Card>
      <Card title="Model prices (USD per million tokens)">
        <form onSubmit={priceSave.submit}>
          <div class="table-wrap"><table><thead><tr><th>Model</th><th>Providers</th><th>Input</th><th>Output</th><th>Source</th></tr></thead>
            <tbody>{settings.models.map((m: any) => (
              <tr><td>{m.id}</td><td>{m.providers.join(', ')}</td>
                <td><input aria-label={`${m.id} input price`} inputMode="decimal" size={10} value={prices[m.id]?.input} onInput={(e) => setPrices({ ...prices, [m.id]: { ...prices[m.id], input: (e.target as HTMLInputElement).value } })} /></td>
                <td><input aria-label={`${m.id} output price`} inputMode="decimal" size={10} value={prices[m.id]?.output} onInput={(e) => setPrices({ ...prices, [m.id]: { ...prices[m.id], output: (e.target as HTMLInputElement).value } })} /></td>
                <td>{m.price_source}</td></tr>
            ))}</tbody></table></div>
          {priceSave.error && <ErrorBox message={priceSave.error} />}
          <div class="row end"><button type="submit" disabled={priceSave.busy || Object.keys(changed).length === 0}>Save prices</button></div>
        </form>
      </Card>
      <div class="stats">
        <Stat label="Minimum CPC" value={money(settings.min_cpc_micros)} hint="config file" />
        <Stat label="Sign-up" value={settings.signup === 'open' ? 'Open' : 'By invitation'} hint="config file" />
      </div>
    </>
  );
}
