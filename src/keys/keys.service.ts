import { badRequest, forbidden, notFound, unauthorized } from '../http/errors';
import type { ProjectRow } from '../projects/projects.repo';
import { newId } from '../store/ids';
import {
  PUBLISHABLE_PREFIX,
  SECRET_PREFIX,
  generateKey,
  hashSecret,
  isWellFormedKey,
  sameHash,
  secretPrefixOf,
} from './key-format';
import type { KeyRow, KeysRepo } from './keys.repo';

export type Caller = {
  keyId: string;
  projectId: string;
  project: ProjectRow;
};

type Deps = {
  repo: KeysRepo;
  findProject: (id: string) => ProjectRow | null;
  now?: () => number;
};

/** Bound on cached keys and projects: past it the cache starts over rather than grow without end. */
const MAX_CACHED = 100_000;

export function toKeyView(k: KeyRow) {
  return {
    id: k.id,
    object: 'api_key_pair' as const,
    name: k.name,
    publishable_key: k.publishable_key,
    secret_prefix: k.secret_prefix,
    status: k.status,
    created_at: new Date(k.created_at).toISOString(),
    last_used_at: k.last_used_at ? new Date(k.last_used_at).toISOString() : null,
    deactivated_at: k.deactivated_at ? new Date(k.deactivated_at).toISOString() : null,
  };
}

export function createKeysService(deps: Deps) {
  const now = deps.now ?? Date.now;
  // Hot-path caches. Every write to keys or projects goes through invalidate*, so the very next request
  // sees a deactivation or a domain change.
  const keyCache = new Map<string, KeyRow>();
  const projectCache = new Map<string, ProjectRow>();
  const pendingTouches = new Map<string, number>();

  function cachedKey(pk: string): KeyRow | null {
    let row = keyCache.get(pk);
    if (!row) {
      row = deps.repo.findByPublishable(pk) ?? undefined;
      if (!row) return null;
      if (keyCache.size >= MAX_CACHED) keyCache.clear();
      keyCache.set(pk, row);
    }
    return row;
  }

  function cachedProject(id: string): ProjectRow | null {
    let row = projectCache.get(id);
    if (!row) {
      row = deps.findProject(id) ?? undefined;
      if (!row) return null;
      if (projectCache.size >= MAX_CACHED) projectCache.clear();
      projectCache.set(id, row);
    }
    return row;
  }

  /** 401s in a fixed order, each with its own code: missing, unknown, mismatched pair, inactive. */
  function authenticate(publishable: string | null | undefined, secret: string | null | undefined): Caller {
    if (!publishable || !secret)
      throw unauthorized('missing_api_key', 'Missing x-publishable-key or x-secret-key header');
    if (!isWellFormedKey(publishable, PUBLISHABLE_PREFIX) || !isWellFormedKey(secret, SECRET_PREFIX))
      throw unauthorized('invalid_api_key', 'Invalid API key');
    const key = cachedKey(publishable);
    if (!key) throw unauthorized('invalid_api_key', 'Invalid API key');
    const secretHash = hashSecret(secret);
    if (!sameHash(secretHash, key.secret_hash)) {
      if (deps.repo.secretHashExists(secretHash))
        throw unauthorized('key_pair_mismatch', 'The publishable key and the secret key belong to different key pairs');
      throw unauthorized('invalid_api_key', 'Invalid API key');
    }
    if (key.status !== 'active') throw unauthorized('inactive_key', 'This API key pair is inactive');
    const project = cachedProject(key.project_id);
    if (!project) throw unauthorized('invalid_api_key', 'Invalid API key');
    pendingTouches.set(key.id, now());
    return { keyId: key.id, projectId: key.project_id, project };
  }

  function generatePair(project: ProjectRow, name: unknown) {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
      throw badRequest('invalid_name', 'name is required (at most 200 characters)', 'name');
    if (project.domain_status !== 'verified')
      throw forbidden('domain_not_verified', 'Verify the project domain before generating API keys');
    const publishableKey = generateKey(PUBLISHABLE_PREFIX);
    const secretKey = generateKey(SECRET_PREFIX);
    const id = newId('key');
    deps.repo.insert({
      id,
      projectId: project.id,
      name: name.trim(),
      publishableKey,
      secretHash: hashSecret(secretKey),
      secretPrefix: secretPrefixOf(secretKey),
      now: now(),
    });
    const row = deps.repo.get(project.id, id)!;
    // The only moment the secret exists outside the caller's hands.
    return { ...toKeyView(row), secret_key: secretKey };
  }

  function deactivate(projectId: string, keyId: string) {
    const row = deps.repo.get(projectId, keyId);
    if (!row) throw notFound('key_not_found', `No key pair with id ${keyId} in this project`);
    deps.repo.deactivate(projectId, keyId, now());
    keyCache.delete(row.publishable_key);
    return toKeyView(deps.repo.get(projectId, keyId)!);
  }

  /** Writes last-used times collected on the hot path; called by the background flusher. */
  function flushTouches(): void {
    if (pendingTouches.size === 0) return;
    const entries = [...pendingTouches];
    pendingTouches.clear();
    deps.repo.touchMany(entries);
  }

  return {
    authenticate,
    generatePair,
    deactivate,
    list: (projectId: string, limit = 1000) => deps.repo.listByProject(projectId, limit).map(toKeyView),
    hasActiveKey: (projectId: string) => deps.repo.countActive(projectId) > 0,
    invalidateProject: (projectId: string) => projectCache.delete(projectId),
    flushTouches,
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
