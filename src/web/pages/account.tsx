/** The signed-in account: password change and signing out everywhere. */
import { useState } from 'preact/hooks';
import { api } from '../api';
import { Card, ErrorBox, Field, useSubmit } from '../ui';
import type { Account } from '../main';

export function AccountPage({ account }: { account: Account }) {
  const [f, setF] = useState({ current: '', next: '' });
  const [done, setDone] = useState('');
  const change = useSubmit(async () => {
    await api('POST', '/auth/password', { current_password: f.current, new_password: f.next });
    setF({ current: '', next: '' });
    setDone('Password changed. Your other sessions were signed out.');
  });
  const everywhere = useSubmit(async () => {
    await api('POST', '/auth/logout-everywhere');
    location.reload();
  });
  return (
    <>
      <div class="page-head"><h1>Your account</h1></div>
      <Card title={account.name}><p>{account.email} · {[account.operator && 'operator', account.publisher && 'publisher', account.advertiser && 'advertiser'].filter(Boolean).join(', ')}</p></Card>
      <Card title="Change password">
        <form onSubmit={change.submit}>
          <Field label="Current password">{(id) => <input id={id} type="password" autoComplete="current-password" required value={f.current} onInput={(e) => setF({ ...f, current: (e.target as HTMLInputElement).value })} />}</Field>
          <Field label="New password" hint="At least 10 characters">{(id) => <input id={id} type="password" autoComplete="new-password" required value={f.next} onInput={(e) => setF({ ...f, next: (e.target as HTMLInputElement).value })} />}</Field>
          {change.error && <ErrorBox message={change.error} />}
          {done && <p class="notice" role="status">{done}</p>}
          <div class="row end"><button type="submit" disabled={change.busy}>Change password</button></div>
        </form>
      </Card>
      <Card title="Sessions">
        <p>Signs out every browser where this account is signed in, this one included.</p>
        {everywhere.error && <ErrorBox message={everywhere.error} />}
        <button type="button" class="danger" onClick={() => everywhere.submit()}>Sign out everywhere</button>
      </Card>
    </>
  );
}
