import type { Awaitable, SqlStore } from '../store/sql-store';

export type AccountRow = {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  is_operator: number;
  is_publisher: number;
  is_advertiser: number;
  created_at: number;
  updated_at: number;
};

export type SessionRow = { token_hash: string; account_id: string; created_at: number; last_seen_at: number; ended_at: number | null };

export type InviteRow = {
  token_hash: string;
  email: string;
  is_publisher: number;
  is_advertiser: number;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
};

const ACCOUNT_COLUMNS = 'id, email, name, password_hash, is_operator, is_publisher, is_advertiser, created_at, updated_at';
const INVITE_COLUMNS = 'token_hash, email, is_publisher, is_advertiser, created_by, created_at, expires_at, used_at';

/** SQL for dashboard accounts, their sessions and invites; nothing else touches these tables. */
export function createAccountsRepo(store: SqlStore) {
  const insertAccount = store.stmt(`INSERT INTO accounts (${ACCOUNT_COLUMNS})
     VALUES ($id, $email, $name, $passwordHash, $isOperator, $isPublisher, $isAdvertiser, $now, $now)
     ON CONFLICT (email) DO NOTHING`);
  const byEmail = store.stmt<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = $email`);
  const byId = store.stmt<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $id`);
  const operators = store.stmt<{ n: number }>('SELECT COUNT(*) AS n FROM accounts WHERE is_operator = 1');
  const setPassword = store.stmt('UPDATE accounts SET password_hash = $passwordHash, updated_at = $now WHERE id = $id');
  const insertSession = store.stmt('INSERT INTO account_sessions (token_hash, account_id, created_at, last_seen_at) VALUES ($tokenHash, $accountId, $now, $now)');
  const session = store.stmt<SessionRow>('SELECT token_hash, account_id, created_at, last_seen_at, ended_at FROM account_sessions WHERE token_hash = $tokenHash');
  const touchSession = store.stmt('UPDATE account_sessions SET last_seen_at = $now WHERE token_hash = $tokenHash AND ended_at IS NULL');
  const endSession = store.stmt('UPDATE account_sessions SET ended_at = $now WHERE token_hash = $tokenHash AND ended_at IS NULL');
  const endAll = store.stmt('UPDATE account_sessions SET ended_at = $now WHERE account_id = $accountId AND ended_at IS NULL AND token_hash <> $keep');
  const insertInvite = store.stmt(`INSERT INTO account_invites (${INVITE_COLUMNS})
     VALUES ($tokenHash, $email, $isPublisher, $isAdvertiser, $createdBy, $now, $expiresAt, NULL)`);
  const invite = store.stmt<InviteRow>(`SELECT ${INVITE_COLUMNS} FROM account_invites WHERE token_hash = $tokenHash`);
  const useInvite = store.stmt('UPDATE account_invites SET used_at = $now WHERE token_hash = $tokenHash AND used_at IS NULL AND expires_at > $now');
  const accounts = store.stmt<AccountRow & { projects: number }>(`SELECT ${ACCOUNT_COLUMNS.split(', ').map((c) => `a.${c}`).join(', ')},
       (SELECT COUNT(*) FROM projects p WHERE p.owner_account_id = a.id) AS projects
     FROM accounts a ORDER BY a.created_at DESC, a.id DESC LIMIT $limit`);
  const invites = store.stmt<InviteRow>(`SELECT ${INVITE_COLUMNS} FROM account_invites ORDER BY created_at DESC LIMIT $limit`);
  return {
    /** False when an account with this (lower-cased) email exists already. */
    async insertAccount(a: { id: string; email: string; name: string; passwordHash: string; isOperator: boolean; isPublisher: boolean; isAdvertiser: boolean; now: number }): Promise<boolean> {
      const { changes } = await insertAccount.run({
        id: a.id, email: a.email, name: a.name, passwordHash: a.passwordHash,
        isOperator: a.isOperator ? 1 : 0, isPublisher: a.isPublisher ? 1 : 0, isAdvertiser: a.isAdvertiser ? 1 : 0, now: a.now,
      });
      return changes === 1;
    },
    byEmail: (email: string): Awaitable<AccountRow | null> => byEmail.get({ email }),
    byId: (id: string): Awaitable<AccountRow | null> => byId.get({ id }),
    async operatorCount(): Promise<number> {
      return (await operators.get())?.n ?? 0;
    },
    async setPassword(id: string, passwordHash: string, now: number): Promise<void> {
      await setPassword.run({ id, passwordHash, now });
    },
    async insertSession(tokenHash: string, accountId: string, now: number): Promise<void> {
      await insertSession.run({ tokenHash, accountId, now });
    },
    session: (tokenHash: string): Awaitable<SessionRow | null> => session.get({ tokenHash }),
    async touchSession(tokenHash: string, now: number): Promise<void> {
      await touchSession.run({ tokenHash, now });
    },
    async endSession(tokenHash: string, now: number): Promise<void> {
      await endSession.run({ tokenHash, now });
    },
    /** Ends every open session of the account except `keep` (the caller's own, or none). */
    async endOtherSessions(accountId: string, keep: string, now: number): Promise<void> {
      await endAll.run({ accountId, keep, now });
    },
    async insertInvite(i: { tokenHash: string; email: string; isPublisher: boolean; isAdvertiser: boolean; createdBy: string; now: number; expiresAt: number }): Promise<void> {
      await insertInvite.run({ tokenHash: i.tokenHash, email: i.email, isPublisher: i.isPublisher ? 1 : 0, isAdvertiser: i.isAdvertiser ? 1 : 0, createdBy: i.createdBy, now: i.now, expiresAt: i.expiresAt });
    },
    invite: (tokenHash: string): Awaitable<InviteRow | null> => invite.get({ tokenHash }),
    /** Marks the invite used; false when it was used already or has expired (one use, decided by the store). */
    async useInvite(tokenHash: string, now: number): Promise<boolean> {
      return (await useInvite.run({ tokenHash, now })).changes === 1;
    },
    listInvites: (limit: number): Awaitable<InviteRow[]> => invites.all({ limit }),
    /** Every account, newest first, with how many projects it owns (the operator's view). */
    listAccounts: (limit: number): Awaitable<Array<AccountRow & { projects: number }>> => accounts.all({ limit }),
  };
}
export type AccountsRepo = ReturnType<typeof createAccountsRepo>;
