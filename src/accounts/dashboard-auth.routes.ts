import { Elysia } from 'elysia';
import type { AdminAuth } from '../admin/admin-token';
import { clientAddressOf } from '../http/client-address';
import { DASHBOARD_SECURITY, describe, listOf } from '../http/docs';
import { unauthorized } from '../http/errors';
import { readBody } from '../http/schema';
import { AcceptInviteBody, InviteBody, LoginBody, PasswordBody, SetupBody, SignUpBody } from './accounts.inputs';
import { SESSION_ABSOLUTE_MS, type AccountsService, type SignedIn } from './accounts.service';
import { AccountSchema, DASHBOARD_API, dashboardSession, SESSION_COOKIE } from './dashboard-session';

const MAX_BODY_BYTES = 16 * 1024;

const SessionSchema = {
  type: 'object',
  properties: {
    account: AccountSchema,
    csrf_token: { type: 'string', description: 'Send as the x-csrf-token header on every state-changing dashboard call of this session' },
    expires_at: { type: 'string', format: 'date-time', description: 'Absolute end of the session (it also ends after 8 hours without a request)' },
  },
};
const InviteSchema = {
  type: 'object',
  properties: {
    email: { type: 'string' }, roles: { type: 'object', properties: { publisher: { type: 'boolean' }, advertiser: { type: 'boolean' } } },
    token: { type: 'string', description: 'Shown once: hand it to the invitee (POST .../auth/accept-invite); only its hash is stored' },
    expires_at: { type: 'string', format: 'date-time' },
  },
};

/**
 * The dashboard's account API: operator set-up, sign-in and out, password change, invites and open sign-up.
 * Sessions ride in an HttpOnly, SameSite=Lax cookie (Secure when the public URL is https); every state-changing call
 * made within a session also carries the session's CSRF token in `x-csrf-token`. Authorization runs before any body
 * is read.
 */
export function dashboardAuthRoutes(deps: { accounts: AccountsService; adminAuth: AdminAuth; secureCookies: boolean }) {
  const cookie = (value: string, maxAgeS: number) =>
    `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${deps.secureCookies ? '; Secure' : ''}`;
  const signedIn = (s: SignedIn, status = 200) =>
    new Response(JSON.stringify({ account: s.account, csrf_token: s.csrfToken, expires_at: new Date(s.expiresAtMs).toISOString() }), {
      status,
      headers: { 'content-type': 'application/json', 'set-cookie': cookie(s.token, Math.floor(SESSION_ABSOLUTE_MS / 1000)), 'cache-control': 'no-store' },
    });
  const signedOut = () => new Response(null, { status: 204, headers: { 'set-cookie': cookie('', 0), 'cache-control': 'no-store' } });

  const session = dashboardSession(deps.accounts);
  const tags = ['Dashboard accounts'];

  return new Elysia({ name: 'dashboard-auth-routes' })
    .get(`${DASHBOARD_API}/auth/setup`, async () => ({ needs_operator: await deps.accounts.needsOperator(), signup: deps.accounts.signupMode }), {
      detail: describe({ tags, summary: 'What the sign-in page should offer: operator set-up (no operator account yet) and the sign-up mode', ok: { description: 'The set-up state', schema: { type: 'object', properties: { needs_operator: { type: 'boolean' }, signup: { type: 'string', enum: ['invite', 'open'] } } } }, errors: [] }),
    })
    .post(`${DASHBOARD_API}/auth/setup`, async ({ request }) => {
      const body = await readBody(request, SetupBody, MAX_BODY_BYTES);
      if (!(await deps.adminAuth.check(`Bearer ${body.admin_token}`))) throw unauthorized('invalid_admin_token', 'The admin token is not valid');
      return signedIn(await deps.accounts.bootstrapOperator(body), 201);
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Create the first operator account with the admin token, and sign in', body: SetupBody.schema, ok: { status: 201, description: 'Signed in; the session cookie is set', schema: SessionSchema }, errors: [400, [401, 'invalid_admin_token'], [403, 'operator_exists'], 413] }),
    })
    .post(`${DASHBOARD_API}/auth/login`, async ({ request }) => {
      const body = await readBody(request, LoginBody, MAX_BODY_BYTES);
      return signedIn(await deps.accounts.login(body.email, body.password, clientAddressOf(request)));
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Sign in', description: 'A wrong email and a wrong password get the same answer. After 5 failed sign-ins for one email, or 20 from one address, within 15 minutes, sign-in waits (429, with the minutes to wait).', body: LoginBody.schema, ok: { description: 'Signed in; the session cookie is set', schema: SessionSchema }, errors: [400, [401, 'invalid_credentials'], 413, [429, 'too_many_sign_in_attempts']] }),
    })
    .get(`${DASHBOARD_API}/auth/session`, async ({ request }) => {
      const s = await session(request, { csrf: false });
      return { account: s.account, csrf_token: s.csrfToken };
    }, {
      detail: describe({ tags, summary: 'The signed-in account and the session\'s CSRF token', security: DASHBOARD_SECURITY, ok: { description: 'The session', schema: { type: 'object', properties: { account: AccountSchema, csrf_token: { type: 'string' } } } }, errors: [[401, 'not_signed_in']] }),
    })
    .post(`${DASHBOARD_API}/auth/logout`, async ({ request }) => {
      await deps.accounts.logout((await session(request, { csrf: true })).tokenHash);
      return signedOut();
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Sign out this session', security: DASHBOARD_SECURITY, ok: { status: 204, description: 'Signed out; the cookie is cleared', schema: {} }, errors: [[401, 'not_signed_in'], [403, 'csrf_token_mismatch']] }),
    })
    .post(`${DASHBOARD_API}/auth/logout-everywhere`, async ({ request }) => {
      await deps.accounts.logoutEverywhere((await session(request, { csrf: true })).account.id);
      return signedOut();
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Sign out every session of the account, this one included', security: DASHBOARD_SECURITY, ok: { status: 204, description: 'Every session ended; the cookie is cleared', schema: {} }, errors: [[401, 'not_signed_in'], [403, 'csrf_token_mismatch']] }),
    })
    .post(`${DASHBOARD_API}/auth/password`, async ({ request }) => {
      const s = await session(request, { csrf: true });
      const body = await readBody(request, PasswordBody, MAX_BODY_BYTES);
      await deps.accounts.changePassword(s.account.id, body.current_password, body.new_password, s.tokenHash);
      return new Response(null, { status: 204 });
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Change the password; the account\'s other sessions are signed out', security: DASHBOARD_SECURITY, body: PasswordBody.schema, ok: { status: 204, description: 'Changed', schema: {} }, errors: [400, [401, 'not_signed_in', 'invalid_credentials'], [403, 'csrf_token_mismatch'], 413] }),
    })
    .post(`${DASHBOARD_API}/auth/signup`, async ({ request }) => {
      const body = await readBody(request, SignUpBody, MAX_BODY_BYTES);
      await deps.accounts.signUp({ email: body.email, name: body.name, password: body.password, ...body.roles });
      return new Response(JSON.stringify({ status: 'ok', message: 'If this email had no account, it has one now: sign in with it' }), { status: 202, headers: { 'content-type': 'application/json' } });
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Open sign-up (when the operator allows it)', description: 'The answer is the same whether or not the email already had an account.', body: SignUpBody.schema, ok: { status: 202, description: 'Accepted', schema: { type: 'object', properties: { status: { type: 'string' }, message: { type: 'string' } } } }, errors: [400, [403, 'signup_closed'], 413] }),
    })
    .post(`${DASHBOARD_API}/auth/accept-invite`, async ({ request }) => {
      const body = await readBody(request, AcceptInviteBody, MAX_BODY_BYTES);
      return signedIn(await deps.accounts.acceptInvite(body.token, body.name, body.password), 201);
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Create the invited account and sign in', body: AcceptInviteBody.schema, ok: { status: 201, description: 'Signed in; the session cookie is set', schema: SessionSchema }, errors: [400, 413] }),
    })
    .post(`${DASHBOARD_API}/operator/invites`, async ({ request }) => {
      const s = await session(request, { csrf: true, operator: true });
      const body = await readBody(request, InviteBody, MAX_BODY_BYTES);
      const invite = await deps.accounts.invite(s.account.id, body.email, body.roles);
      return new Response(JSON.stringify({ email: invite.email, roles: body.roles, token: invite.token, expires_at: new Date(invite.expiresAtMs).toISOString() }), {
        status: 201, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      });
    }, {
      parse: 'none',
      detail: describe({ tags, summary: 'Invite someone: a one-time token (valid 7 days) to hand over', security: DASHBOARD_SECURITY, body: InviteBody.schema, ok: { status: 201, description: 'The invite, with its token shown once', schema: InviteSchema }, errors: [400, [401, 'not_signed_in'], [403, 'csrf_token_mismatch', 'operator_only'], 413] }),
    })
    .get(`${DASHBOARD_API}/operator/invites`, async ({ request }) => {
      await session(request, { csrf: false, operator: true });
      const rows = await deps.accounts.listInvites(100);
      return {
        object: 'list',
        data: rows.map((r) => ({
          email: r.email, roles: { publisher: r.is_publisher === 1, advertiser: r.is_advertiser === 1 },
          created_at: new Date(r.created_at).toISOString(), expires_at: new Date(r.expires_at).toISOString(),
          used_at: r.used_at === null ? null : new Date(r.used_at).toISOString(),
        })),
      };
    }, {
      detail: describe({ tags, summary: 'The last 100 invites (never their tokens)', security: DASHBOARD_SECURITY, ok: { description: 'Invites, newest first', schema: listOf({ type: 'object', properties: { email: { type: 'string' }, created_at: { type: 'string' }, expires_at: { type: 'string' }, used_at: { type: ['string', 'null'] } } }) }, errors: [[401, 'not_signed_in'], [403, 'operator_only']] }),
    });
}
