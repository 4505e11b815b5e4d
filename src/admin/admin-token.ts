import type { Database } from 'bun:sqlite';
import { hashSecret, sameHash } from '../keys/key-format';
import { randomBase62 } from '../store/ids';
import { createSettingsRepo } from '../store/settings.repo';
import { unauthorized } from '../http/errors';

/**
 * The operator's bearer token. From VEXRAIL_ADMIN_TOKEN when set; otherwise generated on first start,
 * stored only as a hash, and handed back once so the caller can print it.
 */
const SETTING = 'admin_token_hash';

export type AdminAuth = { check(authorization: string | null): boolean; generatedToken: string | null };

export function setUpAdminAuth(db: Database, envToken: string | null): AdminAuth {
  const settings = createSettingsRepo(db);
  let generatedToken: string | null = null;
  let expected: string;
  if (envToken) expected = hashSecret(envToken);
  else {
    const stored = settings.get(SETTING);
    if (stored) expected = stored;
    else {
      generatedToken = `vxa_${randomBase62(40)}`;
      expected = hashSecret(generatedToken);
      settings.put(SETTING, expected);
    }
  }
  return {
    generatedToken,
    check(authorization) {
      const match = authorization ? /^Bearer\s+(\S{1,512})$/i.exec(authorization) : null;
      return match !== null && sameHash(hashSecret(match[1]), expected);
    },
  };
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
