import type { Database } from 'bun:sqlite';

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

export function createKeysRepo(db: Database) {
  const insert = db.query(
    `INSERT INTO api_keys (id, project_id, name, publishable_key, secret_hash, secret_prefix, created_at)
     VALUES ($id, $projectId, $name, $publishableKey, $secretHash, $secretPrefix, $now)`,
  );
  const byPublishable = db.query('SELECT * FROM api_keys WHERE publishable_key = ?');
  const bySecretHash = db.query('SELECT id FROM api_keys WHERE secret_hash = ?');
  const byProject = db.query('SELECT * FROM api_keys WHERE project_id = ? ORDER BY created_at DESC, id DESC LIMIT ?');
  const byId = db.query('SELECT * FROM api_keys WHERE id = ? AND project_id = ?');
  const deactivate = db.query(
    `UPDATE api_keys SET status = 'inactive', deactivated_at = ? WHERE id = ? AND project_id = ? AND status = 'active'`,
  );
  const countActive = db.query(`SELECT count(*) AS n FROM api_keys WHERE project_id = ? AND status = 'active'`);
  const update = db.query(
    `UPDATE api_keys SET name = $name, rpm_limit = $rpmLimit, tpm_limit = $tpmLimit, budget_micros = $budgetMicros,
     budget_period = $budgetPeriod, expires_at = $expiresAtMs, allowed_models = $allowedModelsJson
     WHERE id = $id AND project_id = $projectId`,
  );
  const rotate = db.query(
    `UPDATE api_keys SET previous_secret_hash = secret_hash, previous_secret_expires_at = $graceEndsMs,
     secret_hash = $secretHash, secret_prefix = $secretPrefix, rotated_at = $now
     WHERE id = $id AND project_id = $projectId AND status = 'active'`,
  );
  const touch = db.query('UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?');
  return {
    insert(k: { id: string; projectId: string; name: string; publishableKey: string; secretHash: string; secretPrefix: string; now: number }) {
      insert.run(k);
    },
    findByPublishable: (pk: string) => byPublishable.get(pk) as KeyRow | null,
    secretHashExists: (hash: string) => bySecretHash.get(hash) !== null,
    update: (projectId: string, id: string, c: KeyLimitColumns) => void update.run({ ...c, id, projectId }),
    /** The current secret becomes the previous one, valid until graceEndsMs; false when the pair is inactive. */
    rotate: (projectId: string, id: string, r: { secretHash: string; secretPrefix: string; graceEndsMs: number; now: number }) =>
      rotate.run({ ...r, id, projectId }).changes === 1,
    listByProject: (projectId: string, limit: number) => byProject.all(projectId, limit) as KeyRow[],
    get: (projectId: string, id: string) => byId.get(id, projectId) as KeyRow | null,
    deactivate: (projectId: string, id: string, now: number) => deactivate.run(now, id, projectId).changes === 1,
    countActive: (projectId: string) => (countActive.get(projectId) as { n: number }).n,
    /** Batched by the caller: one transaction for many keys' last-use times. */
    touchMany(entries: Array<[keyId: string, atMs: number]>) {
      db.transaction(() => {
        for (const [id, at] of entries) touch.run(at, id);
      })();
    },
  };
}
export type KeysRepo = ReturnType<typeof createKeysRepo>;
