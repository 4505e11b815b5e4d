import { badRequest, conflict, forbidden, notFound, unauthorized } from '../http/errors';
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
import { limitsView, NO_LIMITS, parseKeyLimits, type KeyLimits } from './key-limits';
import { budgetExceeded, createKeyMeter, type Admission, type BudgetHold, type Refusal } from './key-meter';
import type { KeyRow, KeysRepo } from './keys.repo';
import { thenOf, type Awaitable } from '../store/sql-store';

export type Caller = {
  keyId: string;
  projectId: string;
  project: ProjectRow;
  limits: KeyLimits;
};

type Deps = {
  repo: KeysRepo;
  findProject: (id: string) => Awaitable<ProjectRow | null>;
  now?: () => number;
  /** Consumption charged to a key since `sinceMs` (from the ledger); seeds the in-memory budget counters. */
  spentByKeyMicros?: (keyId: string, sinceMs: number) => Awaitable<number>;
  /**
   * On a store other instances write too: how old a cached key or project may get before it is read again.
   * The request that finds it older is still answered from the cache (the hot path never waits) while the row
   * is re-read, so a change made through another instance applies within about this long. Unset: cached until
   * this instance changes the row (one instance owns the store).
   */
  cacheTtlMs?: number;
};

type Cached<R> = { row: R; atMs: number; refreshing: boolean };


/** Longest grace a rotated-out secret may keep: 30 days. */
const MAX_GRACE_SECONDS = 30 * 24 * 3600;
const DEFAULT_GRACE_SECONDS = 3600;

/** Bound on cached keys and projects: past it the cache starts over rather than grow without end. */
const MAX_CACHED = 100_000;

export function limitsOf(k: KeyRow): KeyLimits {
  return {
    rpmLimit: k.rpm_limit,
    tpmLimit: k.tpm_limit,
    budgetMicros: k.budget_micros,
    budgetPeriod: k.budget_micros === null ? null : (k.budget_period ?? 'total'),
    expiresAtMs: k.expires_at,
    allowedModels: k.allowed_models === null ? null : (JSON.parse(k.allowed_models) as string[]),
  };
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function toKeyView(k: KeyRow, nowMs = Date.now()) {
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
    ...limitsView(limitsOf(k)),
    expired: k.expires_at !== null && k.expires_at <= nowMs,
    rotated_at: isoOrNull(k.rotated_at),
    previous_secret_valid_until: k.previous_secret_expires_at !== null && k.previous_secret_expires_at > nowMs
      ? isoOrNull(k.previous_secret_expires_at) : null,
  };
}

export function createKeysService(deps: Deps) {
  const now = deps.now ?? Date.now;
  // Hot-path caches. Every write to keys or projects goes through invalidate*, so the very next request
  // sees a deactivation or a domain change. A read that was under way during an invalidation is not cached
  // (`generation` moved on), so it cannot put back what was just forgotten.
  let generation = 0;
  const keyCache = new Map<string, Cached<KeyRow>>();
  const projectCache = new Map<string, Cached<ProjectRow>>();
  const ttlMs = deps.cacheTtlMs ?? null;
  const pendingTouches = new Map<string, number>();
  const limitsCache = new Map<string, KeyLimits>();
  const meter = createKeyMeter({ seedSpendMicros: deps.spentByKeyMicros ?? (() => 0) });

  function cachedLimits(key: KeyRow): KeyLimits {
    let limits = limitsCache.get(key.id);
    if (!limits) {
      limits = limitsOf(key);
      if (limitsCache.size >= MAX_CACHED) limitsCache.clear();
      limitsCache.set(key.id, limits);
    }
    return limits;
  }

  function cachedRow<R>(cache: Map<string, Cached<R>>, id: string, read: (id: string) => Awaitable<R | null>, onRefresh?: (row: R) => void): Awaitable<R | null> {
    const hit = cache.get(id);
    if (hit) {
      if (ttlMs !== null && !hit.refreshing && now() - hit.atMs >= ttlMs) refresh(cache, id, hit, read, onRefresh);
      return hit.row;
    }
    const readAt = generation;
    return thenOf(read(id), (row) => {
      if (row && readAt === generation) {
        if (cache.size >= MAX_CACHED) cache.clear();
        cache.set(id, { row, atMs: now(), refreshing: false });
      }
      return row;
    });
  }

  /** Re-reads an entry older than the TTL in the background; a local change meanwhile (entry gone) wins. */
  function refresh<R>(cache: Map<string, Cached<R>>, id: string, hit: Cached<R>, read: (id: string) => Awaitable<R | null>, onRefresh?: (row: R) => void) {
    hit.refreshing = true;
    Promise.resolve()
      .then(() => read(id))
      .then(
        (row) => {
          if (cache.get(id) !== hit) return;
          if (!row) cache.delete(id);
          else {
            cache.set(id, { row, atMs: now(), refreshing: false });
            onRefresh?.(row);
          }
        },
        (err) => {
          hit.refreshing = false;
          console.error(JSON.stringify({ level: 'error', msg: 'key cache refresh failed', error: String(err) }));
        },
      );
  }

  const cachedKey = (pk: string) => cachedRow(keyCache, pk, deps.repo.findByPublishable, (row) => limitsCache.delete(row.id));
  const cachedProject = (id: string) => cachedRow(projectCache, id, deps.findProject);

  /** Not this pair's secret: another pair's (key_pair_mismatch) or nobody's (invalid_api_key). */
  async function refuseSecret(secretHash: string): Promise<never> {
    if (await deps.repo.secretHashExists(secretHash))
      throw unauthorized('key_pair_mismatch', 'The publishable key and the secret key belong to different key pairs');
    throw unauthorized('invalid_api_key', 'Invalid API key');
  }

  /**
   * 401s in a fixed order, each with its own code: missing, unknown, mismatched pair, inactive, expired. The hot
   * path of every request: with the key and its project cached it answers synchronously, without the store.
   */
  function authenticate(publishable: string | null | undefined, secret: string | null | undefined): Awaitable<Caller> {
    if (!publishable || !secret)
      throw unauthorized('missing_api_key', 'Missing x-publishable-key or x-secret-key header');
    if (!isWellFormedKey(publishable, PUBLISHABLE_PREFIX) || !isWellFormedKey(secret, SECRET_PREFIX))
      throw unauthorized('invalid_api_key', 'Invalid API key');
    return thenOf(cachedKey(publishable), (key) => {
      if (!key) throw unauthorized('invalid_api_key', 'Invalid API key');
      const secretHash = hashSecret(secret);
      const t = now();
      const inGrace = key.previous_secret_hash !== null && key.previous_secret_expires_at !== null
        && key.previous_secret_expires_at > t && sameHash(secretHash, key.previous_secret_hash);
      if (!inGrace && !sameHash(secretHash, key.secret_hash)) return refuseSecret(secretHash);
      if (key.status !== 'active') throw unauthorized('inactive_key', 'This API key pair is inactive');
      if (key.expires_at !== null && key.expires_at <= t) throw unauthorized('expired_key', 'This API key pair has expired');
      return thenOf(cachedProject(key.project_id), (project): Caller => {
        if (!project) throw unauthorized('invalid_api_key', 'Invalid API key');
        pendingTouches.set(key.id, t);
        return { keyId: key.id, projectId: key.project_id, project, limits: cachedLimits(key) };
      });
    });
  }

  function checkName(name: unknown): string {
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200 || name.includes('\0'))
      throw badRequest('invalid_name', 'name is required (at most 200 characters, no NUL)', 'name');
    return name.trim();
  }

  function storeLimits(projectId: string, id: string, name: string, l: KeyLimits): Promise<void> {
    return deps.repo.update(projectId, id, {
      name, rpmLimit: l.rpmLimit, tpmLimit: l.tpmLimit, budgetMicros: l.budgetMicros, budgetPeriod: l.budgetPeriod,
      expiresAtMs: l.expiresAtMs, allowedModelsJson: l.allowedModels === null ? null : JSON.stringify(l.allowedModels),
    });
  }

  /** A name, or an admin body: name (required) and the optional limits (rpm_limit, tpm_limit, budget, expires_at, allowed_models). */
  async function generatePair(project: ProjectRow, nameOrInput: string | Record<string, unknown>) {
    const input = typeof nameOrInput === 'string' ? { name: nameOrInput } : nameOrInput;
    const name = checkName(input.name);
    const limits = parseKeyLimits(input, NO_LIMITS);
    if (project.domain_status !== 'verified')
      throw forbidden('domain_not_verified', 'Verify the project domain before generating API keys');
    const publishableKey = generateKey(PUBLISHABLE_PREFIX);
    const secretKey = generateKey(SECRET_PREFIX);
    const id = newId('key');
    await deps.repo.insert({
      id,
      projectId: project.id,
      name,
      publishableKey,
      secretHash: hashSecret(secretKey),
      secretPrefix: secretPrefixOf(secretKey),
      now: now(),
    });
    if (limits !== NO_LIMITS) await storeLimits(project.id, id, name, limits);
    const row = (await deps.repo.get(project.id, id))!;
    // The only moment the secret exists outside the caller's hands.
    return { ...toKeyView(row), secret_key: secretKey };
  }

  async function deactivate(projectId: string, keyId: string) {
    const row = await existing(projectId, keyId);
    await deps.repo.deactivate(projectId, keyId, now());
    forgetCached(row);
    return toKeyView((await deps.repo.get(projectId, keyId))!);
  }

  async function existing(projectId: string, keyId: string): Promise<KeyRow> {
    const row = await deps.repo.get(projectId, keyId);
    if (!row) throw notFound('key_not_found', `No key pair with id ${keyId} in this project`);
    return row;
  }

  function forgetCached(row: KeyRow) {
    generation++;
    keyCache.delete(row.publishable_key);
    limitsCache.delete(row.id);
  }

  /** Edits name, limits and expiry; fields left out keep their value, null clears a limit. */
  async function update(projectId: string, keyId: string, input: Record<string, unknown>) {
    const row = await existing(projectId, keyId);
    const name = 'name' in input ? checkName(input.name) : row.name;
    await storeLimits(projectId, keyId, name, parseKeyLimits(input, limitsOf(row)));
    forgetCached(row);
    return toKeyView((await deps.repo.get(projectId, keyId))!, now());
  }

  /** A new secret; the current one keeps working for `grace_period_seconds` (default 3600, 0 ends it at once). */
  async function rotate(projectId: string, keyId: string, input: Record<string, unknown>) {
    const row = await existing(projectId, keyId);
    const grace = input.grace_period_seconds ?? DEFAULT_GRACE_SECONDS;
    if (!Number.isSafeInteger(grace) || (grace as number) < 0 || (grace as number) > MAX_GRACE_SECONDS)
      throw badRequest('invalid_value', `grace_period_seconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`, 'grace_period_seconds');
    // The admin is authenticated; the key's state conflicts with the request, so 409, not 401.
    if (row.status !== 'active') throw conflict('inactive_key', 'This API key pair is inactive: a deactivated key pair cannot be rotated');
    const secretKey = generateKey(SECRET_PREFIX);
    const t = now();
    await deps.repo.rotate(projectId, keyId, { secretHash: hashSecret(secretKey), secretPrefix: secretPrefixOf(secretKey), graceEndsMs: t + (grace as number) * 1000, now: t });
    forgetCached(row);
    return { ...toKeyView((await deps.repo.get(projectId, keyId))!, t), secret_key: secretKey };
  }

  /**
   * The hot-path limit check (no disk write): allowed models, then budget, then requests and tokens per minute.
   * Synchronous unless the key's spend in its budget period must first be read from the ledger.
   */
  function admit(caller: Caller, model: string, aliasOf: string | null = null): Awaitable<Admission | Refusal> {
    const { allowedModels } = caller.limits;
    // An alias is allowed when it or the model it stands for is in the list.
    if (allowedModels !== null && !allowedModels.includes(model) && !(aliasOf !== null && allowedModels.includes(aliasOf)))
      return { error: forbidden('model_not_allowed', `This API key may not use the model "${model}"`), headers: {} };
    const ready = meter.prepare(caller.keyId, caller.limits, now());
    return ready ? ready.then(() => meter.admit(caller.keyId, caller.limits, now())) : meter.admit(caller.keyId, caller.limits, now());
  }

  /**
   * Writes last-used times collected on the hot path; called by the background flusher. They only inform the
   * operator, so a failed write is logged and dropped rather than retried.
   */
  let touchesWritten: Promise<void> = Promise.resolve();
  /** Resolves once every last-use time collected so far is written, including a write another caller started. */
  function flushTouches(): Promise<void> {
    if (pendingTouches.size === 0) return touchesWritten;
    const entries = [...pendingTouches];
    pendingTouches.clear();
    touchesWritten = touchesWritten.then(() => deps.repo.touchMany(entries)).catch((err) => {
      console.error(JSON.stringify({ level: 'error', msg: 'key last-use write failed', dropped: entries.length, error: String(err) }));
    });
    return touchesWritten;
  }

  /**
   * A key's budget as the chat service reserves against it, the way the wallet reserves credits: `left`, then
   * `hold` in the same synchronous step, and `settle` exactly once when the request ends (success or not).
   */
  const budget = {
    /**
     * Resolves once the key's spend in its budget period is known (null: it is); `admit` already waited for it.
     * `left` right after it, and `hold` in the same step, need no store.
     */
    ready: (caller: Caller) => meter.prepare(caller.keyId, caller.limits, now()),
    /** What a new request may still hold (budget - spent - held); null when the key has no budget. */
    left: (caller: Caller) => meter.budgetLeft(caller.keyId, caller.limits, now()),
    hold: (caller: Caller, amountMicros: number): BudgetHold => meter.holdBudget(caller.keyId, caller.limits, amountMicros, now()),
    /** Releases the hold and records the charge `charge` makes, given the most the key may still spend. */
    settle: (hold: BudgetHold, charge: (capMicros: number | null) => number) => meter.settleBudget(hold, now(), charge),
    exceeded: (caller: Caller) => budgetExceeded(caller.limits),
    heldMicros: (keyId: string) => meter.heldMicros(keyId),
  };

  return {
    authenticate,
    budget,
    generatePair,
    deactivate,
    update,
    rotate,
    admit,
    /**
     * Called when a request settles: its tokens count against tpm_limit. Its charge was already counted against
     * the budget when its budget hold settled (`budget.settle`); the argument is accepted and not counted twice.
     */
    recordUsage: (keyId: string, tokens: number, _chargedMicros?: number) => meter.record(keyId, tokens, now()),
    get: async (projectId: string, keyId: string) => toKeyView(await existing(projectId, keyId), now()),
    list: async (projectId: string, limit = 1000) => (await deps.repo.listByProject(projectId, limit)).map((k) => toKeyView(k, now())),
    hasActiveKey: async (projectId: string) => (await deps.repo.countActive(projectId)) > 0,
    invalidateProject: (projectId: string) => {
      generation++;
      projectCache.delete(projectId);
    },
    /** Forgets every cached key and project (another instance changed some: the next requests read them again). */
    invalidateAll: () => {
      generation++;
      keyCache.clear();
      projectCache.clear();
      limitsCache.clear();
    },
    flushTouches,
  };
}
export type KeysService = ReturnType<typeof createKeysService>;
export type KeyBudget = KeysService['budget'];
