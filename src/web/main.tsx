/** The dashboard: session bootstrap, sign-in screens, the header with its role switch, and the hash router. */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrf } from './api';
import { ErrorBox, Field, useSubmit } from './ui';
import { PublisherOverview, ConversationsTab, EarningsTab } from './pages/publisher';
import { AdvertiserOverview, ProductsTab, CampaignsTab, AnalyticsTab } from './pages/advertiser';
import { ProjectsPage, ProjectHeader, SettingsTab, KeysTab, WalletTab } from './pages/projects';
import { OperatorAccounts, OperatorProjects, OperatorSettings, OperatorRevenue, OperatorClicks } from './pages/operator';
import { AccountPage } from './pages/account';
import 'uplot/dist/uPlot.min.css';
import './app.css';

export type Account = { id: string; email: string; name: string; operator: boolean; publisher: boolean; advertiser: boolean };
export type Role = 'publisher' | 'advertiser' | 'operator';

function useHash(): string[] {
  const read = () => (location.hash.replace(/^#\/?/, '') || '').split('/').filter(Boolean).map(decodeURIComponent);
  const [parts, setParts] = useState(read);
  useEffect(() => {
    const on = () => { setParts(read()); window.scrollTo(0, 0); };
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parts;
}

const rolesOf = (a: Account): Role[] => [...(a.publisher ? ['publisher' as const] : []), ...(a.advertiser ? ['advertiser' as const] : []), ...(a.operator ? ['operator' as const] : [])];

function App() {
  const [session, setSession] = useState<{ account: Account } | null | undefined>(undefined);
  const load = () => api('GET', '/auth/session').then((s) => { setCsrf(s.csrf_token); setSession(s); }, () => setSession(null));
  useEffect(() => {
    load();
    const out = () => setSession(null);
    addEventListener('vexrail:signed-out', out);
    return () => removeEventListener('vexrail:signed-out', out);
  }, []);
  if (session === undefined) return <main class="center"><p class="muted" role="status">Loading…</p></main>;
  if (session === null) return <SignIn onSignedIn={load} />;
  return <Shell account={session.account} onSignedOut={() => setSession(null)} />;
}

function Shell({ account, onSignedOut }: { account: Account; onSignedOut: () => void }) {
  const parts = useHash();
  const roles = rolesOf(account);
  const fromHash = parts[0] as Role | undefined;
  const saved = localStorage.getItem('vexrail.role') as Role | null;
  const role: Role = fromHash && roles.includes(fromHash) ? fromHash : saved && roles.includes(saved) ? saved : roles[0] ?? 'publisher';
  useEffect(() => { localStorage.setItem('vexrail.role', role); }, [role]);
  const [theme, setTheme] = useState(localStorage.getItem('vexrail.theme') ?? 'auto');
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('vexrail.theme', theme);
  }, [theme]);
  const signOut = async () => {
    await api('POST', '/auth/logout').catch(() => undefined);
    onSignedOut();
  };
  const nav: Array<[string, string]> = role === 'operator'
    ? [['#/operator', 'Projects'], ['#/operator/accounts', 'Accounts'], ['#/operator/revenue', 'Revenue'], ['#/operator/clicks', 'Clicks'], ['#/operator/settings', 'Settings']]
    : [[`#/${role}`, 'Overview'], [`#/${role}/projects`, role === 'publisher' ? 'Projects' : 'Advertiser projects']];
  const here = `#/${parts.join('/')}`;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href={`#/${role}`}>Vexrail</a>
        <nav aria-label="Main">
          {nav.map(([href, label]) => <a href={href} aria-current={here === href || (href !== `#/${role}` && href !== '#/operator' && here.startsWith(href)) ? 'page' : undefined}>{label}</a>)}
        </nav>
        <div class="top-right">
          {roles.length > 1 && (
            <label class="inline"><span class="sr-only">Role</span>
              <select aria-label="Role" value={role} onChange={(e) => { location.hash = `#/${(e.target as HTMLSelectElement).value}`; }}>
                {roles.map((r) => <option value={r}>{r[0].toUpperCase() + r.slice(1)}</option>)}
              </select>
            </label>
          )}
          <label class="inline"><span class="sr-only">Theme</span>
            <select aria-label="Theme" value={theme} onChange={(e) => setTheme((e.target as HTMLSelectElement).value)}>
              <option value="auto">Auto</option><option value="light">Light</option><option value="dark">Dark</option>
            </select>
          </label>
          <a href="#/account" title={account.email}>{account.name}</a>
          <button type="button" class="secondary small" onClick={signOut}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Page parts={parts} role={role} account={account} />
      </main>
    </>
  );
}

function Page({ parts, role, account }: { parts: string[]; role: Role; account: Account }) {
  const [section, sub, id, tab] = parts;
  if (section === 'account') return <AccountPage account={account} />;
  if (role === 'operator' && (section === 'operator' || !section)) {
    if (sub === 'accounts') return <OperatorAccounts />;
    if (sub === 'settings') return <OperatorSettings />;
    if (sub === 'revenue') return <OperatorRevenue />;
    if (sub === 'clicks') return <OperatorClicks />;
    return <OperatorProjects />;
  }
  const kind = role === 'advertiser' ? 'advertiser' : 'publisher';
  if (sub === 'projects' && id) {
    const tabs: Array<[string, string]> = kind === 'publisher'
      ? [['settings', 'Settings'], ['keys', 'API keys'], ['wallet', 'Credits'], ['earnings', 'Earnings'], ['conversations', 'Conversations']]
      : [['products', 'Products'], ['campaigns', 'Campaigns'], ['analytics', 'Analytics'], ['wallet', 'Funds'], ['settings', 'Settings']];
    const current = tab ?? tabs[0][0];
    return (
      <ProjectHeader id={id} kind={kind} tabs={tabs} current={current}>
        {(project, reload) => (
          current === 'keys' ? <KeysTab project={project} /> :
          current === 'wallet' ? <WalletTab project={project} /> :
          current === 'earnings' ? <EarningsTab project={project} /> :
          current === 'conversations' ? <ConversationsTab project={project} /> :
          current === 'products' ? <ProductsTab project={project} /> :
          current === 'campaigns' ? <CampaignsTab project={project} /> :
          current === 'analytics' ? <AnalyticsTab project={project} /> :
          <SettingsTab project={project} reload={reload} operator={account.operator} />
        )}
      </ProjectHeader>
    );
  }
  if (sub === 'projects') return <ProjectsPage kind={kind} />;
  return kind === 'publisher' ? <PublisherOverview /> : <AdvertiserOverview />;
}

/** Sign-in, the operator's first set-up, invite acceptance and (when the operator opened it) sign-up. */
function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const invite = /^#\/invite\/([^/]+)/.exec(location.hash)?.[1];
  const [setup, setSetup] = useState<{ needs_operator: boolean; signup: string } | null>(null);
  const [mode, setMode] = useState<'login' | 'signup'>('login');
  const [form, setForm] = useState({ email: '', password: '', name: '', admin_token: '', publisher: true, advertiser: false });
  const [notice, setNotice] = useState('');
  useEffect(() => { api('GET', '/auth/setup').then(setSetup, () => setSetup({ needs_operator: false, signup: 'invite' })); }, []);
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).type === 'checkbox' ? (e.target as HTMLInputElement).checked : (e.target as HTMLInputElement).value });
  const { busy, error, submit } = useSubmit(async () => {
    if (invite) await api('POST', '/auth/accept-invite', { token: decodeURIComponent(invite), name: form.name, password: form.password });
    else if (setup?.needs_operator) await api('POST', '/auth/setup', { admin_token: form.admin_token, email: form.email, name: form.name, password: form.password });
    else if (mode === 'signup') {
      await api('POST', '/auth/signup', { email: form.email, name: form.name, password: form.password, publisher: form.publisher, advertiser: form.advertiser });
      setNotice('If this email was free, the account is ready: sign in with it.');
      setMode('login');
      return;
    } else await api('POST', '/auth/login', { email: form.email, password: form.password });
    location.hash = '#/';
    onSignedIn();
  });
  if (!setup) return <main class="center"><p class="muted" role="status">Loading…</p></main>;
  const title = invite ? 'Accept your invitation' : setup.needs_operator ? 'Set up the operator account' : mode === 'signup' ? 'Create an account' : 'Sign in to Vexrail';
  const needsName = invite || setup.needs_operator || mode === 'signup';
  return (
    <main class="center" id="main">
      <form class="card auth" onSubmit={submit} aria-labelledby="auth-title">
        <h1 id="auth-title">{title}</h1>
        {setup.needs_operator && !invite && <p class="muted">First visit: prove you run this server with its admin token (printed by the first start, or VEXRAIL_ADMIN_TOKEN), then choose the operator's email and password.</p>}
        {notice && <p class="notice" role="status">{notice}</p>}
        {setup.needs_operator && !invite && <Field label="Admin token">{(id) => <input id={id} type="password" autoComplete="off" required value={form.admin_token} onInput={set('admin_token')} />}</Field>}
        {!invite && <Field label="Email">{(id) => <input id={id} type="email" autoComplete="username" required value={form.email} onInput={set('email')} />}</Field>}
        {needsName && <Field label="Name">{(id) => <input id={id} autoComplete="name" required value={form.name} onInput={set('name')} />}</Field>}
        <Field label="Password" hint={needsName ? 'At least 10 characters' : undefined}>{(id) => <input id={id} type="password" autoComplete={needsName ? 'new-password' : 'current-password'} required value={form.password} onInput={set('password')} />}</Field>
        {mode === 'signup' && !invite && (
          <fieldset><legend>I want to</legend>
            <label class="check"><input type="checkbox" checked={form.publisher} onChange={set('publisher')} /> publish an app (use the API)</label>
            <label class="check"><input type="checkbox" checked={form.advertiser} onChange={set('advertiser')} /> advertise products</label>
          </fieldset>
        )}
        {error && <ErrorBox message={error} />}
        <button type="submit" disabled={busy}>{busy ? 'Please wait…' : invite ? 'Create my account' : setup.needs_operator ? 'Create operator account' : mode === 'signup' ? 'Sign up' : 'Sign in'}</button>
        {!invite && !setup.needs_operator && setup.signup === 'open' && (
          <button type="button" class="link" onClick={() => setMode(mode === 'login' ? 'signup' : 'login')}>{mode === 'login' ? 'No account? Sign up' : 'Have an account? Sign in'}</button>
        )}
        {!invite && !setup.needs_operator && setup.signup !== 'open' && <p class="muted small">New here? Ask the operator of this server for an invitation link.</p>}
      </form>
    </main>
  );
}

/** Framed by another page (clickjacking: the operator's buttons move money), the dashboard does not render. */
function Framed() {
  return <main class="center"><p>The Vexrail dashboard does not run inside another page. <a href={location.href} target="_blank" rel="noopener">Open it in its own tab</a>.</p></main>;
}

render(window.top === window.self ? <App /> : <Framed />, document.getElementById('app')!);
