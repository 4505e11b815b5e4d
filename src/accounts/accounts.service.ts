import { createHash } from 'node:crypto';
import { ApiError, badRequest, forbidden, unauthorized } from '../http/errors';
import { hashSecret, sameHash } from '../keys/key-format';
import { newId, randomBase62 } from '../store/ids';
import type { AccountRow, AccountsRepo } from './accounts.repo';

/** A session ends after this long without a request, and this long after sign-in whatever happens. */
export const SESSION_IDLE_MS = 8 * 60 * 60_000;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 60 * 60_000;
/** last_seen_at is written at most this often per session (not one write per request). */
const TOUCH_EVERY_MS = 60_000;
export const INVITE_TTL_MS = 7 * 24 * 60 * 60_000;
/** Failed sign-ins allowed per email address and per client address within the window, before a wait. */
export const LOGIN_WINDOW_MS = 15 * 60_000;
export const LOGIN_FAILURES_PER_EMAIL = 5;
export const LOGIN_FAILURES_PER_ADDRESS = 20;
const PASSWORD_MIN = 10;
/** argon2id over a megabyte of password would be a denial of service: passwords are capped. */
const PASSWORD_MAX = 200;
const EMAIL_SHAPE = /^[^\s@]{1,64}@[^\s@]{1,185}\.[^\s@]{2,63}$/;

export type Roles = { publisher: boolean; advertiser: boolean };
export type Account = { id: string; email: string; name: string; operator: boolean; publisher: boolean; advertiser: boolean; created_at: string };
export type SignedIn = { account: Account; token: string; csrfToken: string; expiresAtMs: number };

const view = (row: AccountRow): Account => ({
  id: row.id, email: row.email, name: row.name, operator: row.is_operator === 1, publisher: row.is_publisher === 1,
  advertiser: row.is_advertiser === 1, created_at: new Date(row.created_at).toISOString(),
});

/** The CSRF token of a session: derived from its token, so it needs no storage and dies with the session. */
export function csrfTokenOf(sessionToken: string): string {
  return createHash('sha256').update(`csrf:${sessionToken}`).digest('hex');
}

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (email.length > 254 || !EMAIL_SHAPE.test(email)) throw badRequest('invalid_email', 'email must be an address such as name@example.com', 'email');
  return email;
}

function checkPassword(password: string, param = 'password'): void {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX)
    throw badRequest('weak_password', `${param} must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`, param);
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 100) throw badRequest('invalid_name', 'name must be 1 to 100 characters', 'name');
  return trimmed;
}

const invalidCredentials = () => new ApiError(401, 'authentication_error', 'invalid_credentials', 'The email or the password is wrong');

/** Failures in a sliding window per key (an email address, a client address): in memory, per instance. */
function failureWindow(limit: number, windowMs: number) {
  const failures = new Map<string, number[]>();
  const recent = (key: string, now: number) => {
    const list = (failures.get(key) ?? []).filter((t) => now - t < windowMs);
    if (list.length === 0) failures.delete(key);
    else failures.set(key, list);
    return list;
  };
  return {
    /** Milliseconds until another attempt is allowed; 0 when it is allowed now. */
    waitMs(key: string, now: number): number {
      const list = recent(key, now);
      return list.length < limit ? 0 : list[list.length - limit] + windowMs - now;
    },
    fail(key: string, now: number) {
      recent(key, now).push(now);
      if (!failures.has(key)) failures.set(key, [now]);
    },
    clear: (key: string) => void failures.delete(key),
  };
}

/**
 * Dashboard accounts: sign-in with argon2id passwords, server-side sessions (only their hashes stored), the
 * operator's first account made with the admin token, invites and open sign-up. Nothing here tells whether an
 * email has an account: a wrong email and a wrong password fail alike, and take as long.
 */
export function createAccountsService(deps: { repo: AccountsRepo; now?: () => number; signup: 'invite' | 'open' }) {
  const now = deps.now ?? Date.now;
  const perEmail = failureWindow(LOGIN_FAILURES_PER_EMAIL, LOGIN_WINDOW_MS);
  const perAddress = failureWindow(LOGIN_FAILURES_PER_ADDRESS, LOGIN_WINDOW_MS);
  // Verified against when the email has no account, so that both answers take one argon2id verification. Made on
  // the first sign-in, not at start-up: one argon2id hash holds 64 MiB for a moment, which at start-up was the
  // process's peak memory (VmHWM 139-145 MB against 74-79 MB idle, README Performance). Both answers wait for it.
  let decoyHash: Promise<string> | null = null;
  const decoy = () => (decoyHash ??= Bun.password.hash(randomBase62(24), { algorithm: 'argon2id' }));

  async function startSession(row: AccountRow): Promise<SignedIn> {
    const token = `vxs_${randomBase62(43)}`;
    const at = now();
    await deps.repo.insertSession(hashSecret(token), row.id, at);
    return { account: view(row), token, csrfToken: csrfTokenOf(token), expiresAtMs: at + SESSION_ABSOLUTE_MS };
  }

  async function createAccount(input: { email: string; name: string; password: string; operator: boolean } & Roles): Promise<AccountRow | null> {
    const email = normalizeEmail(input.email);
    const name = checkName(input.name);
    checkPassword(input.password);
    const id = newId('acct');
    const created = await deps.repo.insertAccount({
      id, email, name, passwordHash: await Bun.password.hash(input.password, { algorithm: 'argon2id' }),
      isOperator: input.operator, isPublisher: input.publisher, isAdvertiser: input.advertiser, now: now(),
    });
    return created ? deps.repo.byId(id) : null;
  }

  return {
    signupMode: deps.signup,
    /** The operator's list of accounts (never a password hash), with the number of projects each owns. */
    async list(limit: number): Promise<Array<Account & { projects: number }>> {
      return (await deps.repo.listAccounts(limit)).map((row) => ({ ...view(row), projects: Number(row.projects) }));
    },
    /** Whether the operator's first account can still be made (no operator account exists yet). */
    needsOperator: async () => (await deps.repo.operatorCount()) === 0,

    /** The first operator account, made by whoever holds the admin token; refused once an operator exists. */
    async bootstrapOperator(input: { email: string; name: string; password: string }): Promise<SignedIn> {
      if ((await deps.repo.operatorCount()) > 0) throw forbidden('operator_exists', 'The operator account exists already: sign in with it');
      const row = await createAccount({ ...input, operator: true, publisher: false, advertiser: false });
      if (!row) throw forbidden('operator_exists', 'An account with this email exists already: sign in with it');
      return startSession(row);
    },

    async login(rawEmail: string, password: string, address: string): Promise<SignedIn> {
      const at = now();
      const email = rawEmail.trim().toLowerCase();
      const wait = Math.max(perEmail.waitMs(email, at), perAddress.waitMs(address, at));
      if (wait > 0) {
        const minutes = Math.ceil(wait / 60_000);
        throw new ApiError(429, 'rate_limit_error', 'too_many_sign_in_attempts', `Too many failed sign-ins for this email or from this address: try again in ${minutes} minute${minutes === 1 ? '' : 's'}`);
      }
      // Both answers wait for the decoy (the first sign-in makes it), so even the first takes as long either way.
      const pendingDecoy = decoy();
      const row = password.length <= PASSWORD_MAX ? await deps.repo.byEmail(email) : null;
      const decoyHashValue = await pendingDecoy;
      const ok = row
        ? await Bun.password.verify(password, row.password_hash)
        : (await Bun.password.verify(password.slice(0, PASSWORD_MAX), decoyHashValue), false);
      if (!row || !ok) {
        perEmail.fail(email, at);
        perAddress.fail(address, at);
        throw invalidCredentials();
      }
      perEmail.clear(email);
      return startSession(row);
    },

    /** The account behind a session token, or null (unknown, ended, idle too long, or past its absolute expiry). */
    async authenticate(token: string | null): Promise<{ account: Account; tokenHash: string; csrfToken: string } | null> {
      if (!token || token.length > 100) return null;
      const tokenHash = hashSecret(token);
      const session = await deps.repo.session(tokenHash);
      if (!session || !sameHash(session.token_hash, tokenHash) || session.ended_at !== null) return null;
      const at = now();
      if (at - session.last_seen_at >= SESSION_IDLE_MS || at - session.created_at >= SESSION_ABSOLUTE_MS) return null;
      const row = await deps.repo.byId(session.account_id);
      if (!row) return null;
      if (at - session.last_seen_at > TOUCH_EVERY_MS) await deps.repo.touchSession(tokenHash, at);
      return { account: view(row), tokenHash, csrfToken: csrfTokenOf(token) };
    },

    logout: (tokenHash: string) => deps.repo.endSession(tokenHash, now()),
    /** Ends every session of the account, this one included. */
    logoutEverywhere: (accountId: string) => deps.repo.endOtherSessions(accountId, '', now()),

    /** Changes the password and ends the account's other sessions; the one making the change stays signed in. */
    async changePassword(accountId: string, current: string, next: string, keepTokenHash: string): Promise<void> {
      const row = await deps.repo.byId(accountId);
      if (!row || current.length > PASSWORD_MAX || !(await Bun.password.verify(current, row.password_hash)))
        throw unauthorized('invalid_credentials', 'The current password is wrong');
      checkPassword(next, 'new_password');
      await deps.repo.setPassword(accountId, await Bun.password.hash(next, { algorithm: 'argon2id' }), now());
      await deps.repo.endOtherSessions(accountId, keepTokenHash, now());
    },

    /** An invite for `email` with the given roles; the token is returned once (only its hash is stored). */
    async invite(createdBy: string, rawEmail: string, roles: Roles): Promise<{ token: string; email: string; expiresAtMs: number }> {
      const email = normalizeEmail(rawEmail);
      if (!roles.publisher && !roles.advertiser) throw badRequest('invalid_roles', 'An invite gives the publisher role, the advertiser role or both', 'roles');
      const token = `vxi_${randomBase62(40)}`;
      const at = now();
      await deps.repo.insertInvite({ tokenHash: hashSecret(token), email, isPublisher: roles.publisher, isAdvertiser: roles.advertiser, createdBy, now: at, expiresAt: at + INVITE_TTL_MS });
      return { token, email, expiresAtMs: at + INVITE_TTL_MS };
    },

    /** Creates the invited account and signs it in. One use; an unknown, used or expired invite fails alike. */
    async acceptInvite(token: string, name: string, password: string): Promise<SignedIn> {
      const invalid = () => badRequest('invalid_invite', 'This invite link is not valid (used, expired or mistyped): ask the operator for a new one', 'token');
      if (token.length > 100) throw invalid();
      const tokenHash = hashSecret(token);
      const invite = await deps.repo.invite(tokenHash);
      if (!invite || invite.used_at !== null || invite.expires_at <= now()) throw invalid();
      checkName(name);
      checkPassword(password);
      if (!(await deps.repo.useInvite(tokenHash, now()))) throw invalid();
      const row = await createAccount({ email: invite.email, name, password, operator: false, publisher: invite.is_publisher === 1, advertiser: invite.is_advertiser === 1 });
      if (!row) throw invalid();
      return startSession(row);
    },

    /**
     * Open sign-up (when the operator chose it). Answers the same whether or not the email had an account: an
     * account is made only for a new email, and only its owner's password signs in.
     */
    async signUp(input: { email: string; name: string; password: string } & Roles): Promise<void> {
      if (deps.signup !== 'open') throw forbidden('signup_closed', 'Sign-up is by invitation: ask the operator for an invite link');
      if (!input.publisher && !input.advertiser) throw badRequest('invalid_roles', 'Choose the publisher role, the advertiser role or both', 'roles');
      await createAccount({ ...input, operator: false });
    },

    listInvites: (limit: number) => deps.repo.listInvites(limit),
  };
}
export type AccountsService = ReturnType<typeof createAccountsService>;
