import type { Database } from 'bun:sqlite';
import { hashSecret, sameHash } from '../keys/key-format';
import { randomBase62 } from '../store/ids';
import { createSettingsRepo } from '../store/settings.repo';
import { unauthorized } from '../http/errors';

/**
 * The operator's bearer token. From VEXRAIL_ADMIN_TOKEN when set; otherwise generated on a first start and
 * stored only as a hash. A generated token is stored only once the server listens (persistGeneratedToken),
 * so a first start that fails (a port in use, say) never stores a token nobody saw.
 */
const SETTING = 'admin_token_hash';

export type AdminAuth = {
  check(authorization: string | null): boolean;
  /** The token generated for this start, to print once; null when one was stored already or set by env. */
  generatedToken: string | null;
  /** Stores the generated token's hash; false when another token was stored meanwhile (then do not print it). */
  persistGeneratedToken(): boolean;
};

function newAdminToken(): string {
  return `vxa_${randomBase62(40)}`;
}

export function setUpAdminAuth(db: Database, envToken: string | null): AdminAuth {
  const settings = createSettingsRepo(db);
  const envHash = envToken ? hashSecret(envToken) : null;
  let pendingHash: string | null = null;
  let generatedToken: string | null = null;
  if (!envHash && !settings.get(SETTING)) {
    generatedToken = newAdminToken();
    pendingHash = hashSecret(generatedToken);
  }
  // The stored hash is read on each check, so `vexrail admin-token --reset` takes effect without a restart.
  const expected = () => envHash ?? settings.get(SETTING) ?? pendingHash;
  return {
    generatedToken,
    persistGeneratedToken() {
      if (!pendingHash) return false;
      const stored = settings.get(SETTING);
      if (!stored) settings.put(SETTING, pendingHash);
      const mine = !stored || stored === pendingHash;
      pendingHash = null;
      return mine;
    },
    check(authorization) {
      const match = authorization ? /^Bearer\s+(\S{1,512})$/i.exec(authorization) : null;
      const hash = expected();
      return match !== null && hash !== null && sameHash(hashSecret(match[1]), hash);
    },
  };
}

/** `vexrail admin-token --reset`: a new token whose hash replaces the stored one; the old token stops working. */
export function resetAdminToken(db: Database): string {
  const token = newAdminToken();
  createSettingsRepo(db).put(SETTING, hashSecret(token));
  return token;
}

/**
 * The admin routes' own guard (a beforeHandle hook on each admin route group). Admin routes parse no body
 * themselves, so the token is checked before a byte of the body is read.
 */
export function adminGuard(auth: AdminAuth) {
  return ({ request }: { request: Request }) => {
    if (!auth.check(request.headers.get('authorization')))
      throw unauthorized('invalid_admin_token', 'Missing or invalid admin bearer token');
  };
}
