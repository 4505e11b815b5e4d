import type { Caller, KeysService } from '../keys/keys.service';
import { forbidden } from './errors';

/** Auth for the public API: the key pair (401s), then the project's verified domain (403). */
export function authenticatePublic(keys: KeysService, request: Request): Caller {
  const caller = keys.authenticate(request.headers.get('x-publishable-key'), request.headers.get('x-secret-key'));
  if (caller.project.domain_status !== 'verified')
    throw forbidden('domain_not_verified', 'The project domain is not verified: verify it before calling the API');
  return caller;
}
