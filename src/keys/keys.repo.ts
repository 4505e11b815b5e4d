import type { Awaitable, SqlStore } from '../store/sql-store';

export type KeyRow = {
  id: string;
  project_id: string;
  name: string;
  publishable_key: string;
  secret_hash: string;
  secret_prefix: string;
  status: 'active' | 'inactive';
  created_at: number;
  last_used_at: number | null;
  deactivated_at: number | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  budget_micros: number | null;
  budget_period: 'total' | 'daily' | 'monthly' | null;
  expires_at: number | null;
  allowed_models: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: number | null;
  rotated_at: number | null;
};

export type KeyLimitColumns = {
  name: string;
  rpmLimit: number | null;
  tpmLimit: number | null;
  budgetMicros: number | null;
  budgetPeriod: string | null;
  expiresAtMs: number | null;
  allowedModelsJson: string | null;
};

/** The columns of a key row, named (not `*`) so that both stores return the same fields. */
const KEY_COLUMNS = `id, project_id, name, publishable_key, secret_hash, secret_prefix, status, created_at, last_used_at, deactivated_at,
  rpm_limit, tpm_limit, budget_micros, budget_period, expires_at, allowed_models, previous_secret_hash, previous_secret_expires_at, rotated_at`;

const INSERT = `INSERT INTO api_keys (id, project_id, name, publishable_key, secret_hash, secret_prefix, created_at)
     VALUES ($id, $projectId, $name, $publishableKey, $secretHash, $secretPrefix, $now)`;
const BY_PUBLISHABLE = `SELECT ${KEY_COLUMNS} FROM api_keys WHERE publishable_key = $pk`;
const BY_SECRET_HASH = 'SELECT id FROM api_keys WHERE secret_hash = $hash LIMIT 1';
const BY_PROJECT = `SELECT ${KEY_COLUMNS} FROM api_keys WHERE project_id = $projectId ORDER BY created_at DESC, id DESC LIMIT $limit`;
const BY_ID = `SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $id AND project_id = $projectId`;
const DEACTIVATE = `UPDATE api_keys SET status = 'inactive', deactivated_at = $now WHERE id = $id AND project_id = $projectId AND status = 'active'`;
const COUNT_ACTIVE = `SELECT COUNT(*) AS n FROM api_keys WHERE project_id = $projectId AND status = 'active'`;
const UPDATE = `UPDATE api_keys SET name = $name, rpm_limit = $rpmLimit, tpm_limit = $tpmLimit, budget_micros = $budgetMicros,
     budget_period = $budgetPeriod, expires_at = $expiresAtMs, allowed_models = $allowedModelsJson
     WHERE id = $id AND project_id = $projectId`;
const ROTATE = `UPDATE api_keys SET previous_secret_hash = secret_hash, previous_secret_expires_at = $graceEndsMs,
     secret_hash = $secretHash, secret_prefix = $secretPrefix, rotated_at = $now
     WHERE id = $id AND project_id = $projectId AND status = 'active'`;
/** Last use only moves forward (instances flush their batches in any order). */
const TOUCH = `UPDATE api_keys SET last_used_at = CAST($at AS BIGINT)
     WHERE id = $id AND (last_used_at IS NULL OR last_used_at < CAST($at AS BIGINT))`;

/** Ids and keys are generated, so one holding NUL (which PostgreSQL text cannot hold) matches nothing on either store. */
const impossible = (...values: string[]) => values.some((v) => v.includes('\0'));

export function createKeysRepo(store: SqlStore) {
  const insert = store.stmt(INSERT);
  const byPublishable = store.stmt<KeyRow>(BY_PUBLISHABLE);
  const bySecretHash = store.stmt<{ id: string }>(BY_SECRET_HASH);
  const byProject = store.stmt<KeyRow>(BY_PROJECT);
  const byId = store.stmt<KeyRow>(BY_ID);
  const deactivate = store.stmt(DEACTIVATE);
  const countActive = store.stmt<{ n: number }>(COUNT_ACTIVE);
  const update = store.stmt(UPDATE);
  const rotate = store.stmt(ROTATE);
  return {
    async insert(k: { id: string; projectId: string; name: string; publishableKey: string; secretHash: string; secretPrefix: string; now: number }): Promise<void> {
      await insert.run(k);
    },
    /** Synchronous on the embedded store: the authentication of a key not yet cached reads it. */
    findByPublishable: (pk: string): Awaitable<KeyRow | null> => (impossible(pk) ? null : byPublishable.get({ pk })),
    secretHashExists: async (hash: string): Promise<boolean> => (await bySecretHash.get({ hash })) !== null,
    update: async (projectId: string, id: string, c: KeyLimitColumns): Promise<void> => void (await update.run({ ...c, id, projectId })),
    /** The current secret becomes the previous one, valid until graceEndsMs; false when the pair is inactive. */
    rotate: async (projectId: string, id: string, r: { secretHash: string; secretPrefix: string; graceEndsMs: number; now: number }): Promise<boolean> =>
      (await rotate.run({ ...r, id, projectId })).changes === 1,
    listByProject: (projectId: string, limit: number): Awaitable<KeyRow[]> => byProject.all({ projectId, limit }),
    get: (projectId: string, id: string): Awaitable<KeyRow | null> => (impossible(projectId, id) ? null : byId.get({ id, projectId })),
    deactivate: async (projectId: string, id: string, now: number): Promise<boolean> => (await deactivate.run({ now, id, projectId })).changes === 1,
    countActive: async (projectId: string): Promise<number> => (await countActive.get({ projectId }))?.n ?? 0,
    /**
     * Batched by the caller: one transaction for many keys' last-use times. On the embedded database it runs
     * synchronously (its own transaction, once none of the store's is open), so a flush right before closing
     * the database is complete when it returns.
     */
    touchMany(entries: Array<[keyId: string, atMs: number]>): Awaitable<void> {
      const db = store.sqlite;
      if (db) {
        const touch = db.query(TOUCH);
        return store.exclusive(() => db.transaction(() => {
          for (const [id, at] of entries) touch.run({ id, at });
        })());
      }
      return store.transaction(async (tx) => {
        const touch = tx.stmt(TOUCH);
        for (const [id, at] of entries) await touch.run({ id, at });
      });
    },
  };
}
export type KeysRepo = ReturnType<typeof createKeysRepo>;
