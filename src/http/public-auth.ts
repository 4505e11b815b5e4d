import type { Caller, KeysService } from '../keys/keys.service';
import { thenOf, type Awaitable } from '../store/sql-store';
import { forbidden } from './errors';

/**
 * Auth for the public API: the key pair (401s), then the project's verified domain (403). Synchronous when the
 * key and its project are cached; await it either way.
 */
export function authenticatePublic(keys: KeysService, request: Request): Awaitable<Caller> {
  return thenOf(keys.authenticate(request.headers.get('x-publishable-key'), request.headers.get('x-secret-key')), (caller) => {
    if (caller.project.domain_status !== 'verified')
      throw forbidden('domain_not_verified', 'The project domain is not verified: verify it before calling the API');
    return caller;
  });
}
