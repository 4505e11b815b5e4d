import { hashSecret, sameHash } from '../keys/key-format';
import { randomBase62 } from '../store/ids';
import { createSettingsRepo } from '../store/settings.repo';
import { thenOf, type Awaitable, type SqlStore } from '../store/sql-store';
import { unauthorized } from '../http/errors';

/**
 * The operator's bearer token. From VEXRAIL_ADMIN_TOKEN when set; otherwise generated on a first start and
 * stored only as a hash, in the store every instance shares. A generated token is stored only once the server
 * listens (persistGeneratedToken), so a first start that fails (a port in use, say) never stores a token
 * nobody saw; when several instances start together on one empty store, the first one stored wins and only
 * its instance prints it.
 */
const SETTING = 'admin_token_hash';

export type AdminAuth = {
  check(authorization: string | null): Awaitable<boolean>;
  /** The token generated for this start, to print once; null when one was stored already or set by env. */
  generatedToken: string | null;
  /** Stores the generated token's hash; false when another token was stored meanwhile (then do not print it). */
  persistGeneratedToken(): Promise<boolean>;
};

function newAdminToken(): string {
  return `vxa_${randomBase62(40)}`;
}

const BEARER = /^Bearer\s+(\S{1,512})$/i;

export async function setUpAdminAuth(store: SqlStore, envToken: string | null): Promise<AdminAuth> {
  const settings = createSettingsRepo(store);
  const envHash = envToken ? hashSecret(envToken) : null;
  let pendingHash: string | null = null;
  let generatedToken: string | null = null;
  if (!envHash && !(await settings.get(SETTING))) {
    generatedToken = newAdminToken();
    pendingHash = hashSecret(generatedToken);
  }
  const matches = (token: string | null, hash: string | null) => token !== null && hash !== null && sameHash(hashSecret(token), hash);
  return {
    generatedToken,
    async persistGeneratedToken() {
      if (!pendingHash) return false;
      const mine = pendingHash;
      const stored = await settings.putIfAbsent(SETTING, mine);
      pendingHash = null;
      return stored === mine;
    },
    check(authorization) {
      const token = authorization ? (BEARER.exec(authorization)?.[1] ?? null) : null;
      if (envHash) return matches(token, envHash);
      // The stored hash is read on each check, so `vexrail admin-token --reset` takes effect at once, on every instance.
      return thenOf(settings.get(SETTING), (stored) => matches(token, stored ?? pendingHash));
    },
  };
}

/** `vexrail admin-token --reset`: a new token whose hash replaces the stored one; the old token stops working. */
export async function resetAdminToken(store: SqlStore): Promise<string> {
  const token = newAdminToken();
  await createSettingsRepo(store).put(SETTING, hashSecret(token));
  return token;
}

/**
 * The admin routes' own guard (a beforeHandle hook on each admin route group). Admin routes parse no body
 * themselves, so the token is checked before a byte of the body is read.
 */
export function adminGuard(auth: AdminAuth) {
  return async ({ request }: { request: Request }) => {
    if (!(await auth.check(request.headers.get('authorization'))))
      throw unauthorized('invalid_admin_token', 'Missing or invalid admin bearer token');
  };
}
