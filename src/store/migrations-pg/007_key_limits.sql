-- Vexrail schema v7 (PostgreSQL), as ../migrations/007_key_limits.sql: per-key limits, expiry, rotation grace,
-- and which key (model, tokens) made each consumption charge.
ALTER TABLE api_keys ADD COLUMN rpm_limit BIGINT CHECK (rpm_limit IS NULL OR rpm_limit > 0);
ALTER TABLE api_keys ADD COLUMN tpm_limit BIGINT CHECK (tpm_limit IS NULL OR tpm_limit > 0);
ALTER TABLE api_keys ADD COLUMN budget_micros BIGINT CHECK (budget_micros IS NULL OR budget_micros > 0);
ALTER TABLE api_keys ADD COLUMN budget_period TEXT CHECK (budget_period IS NULL OR budget_period IN ('total', 'daily', 'monthly'));
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
-- JSON array of model ids; NULL allows every model.
ALTER TABLE api_keys ADD COLUMN allowed_models TEXT;
-- After a rotation the previous secret stays valid until previous_secret_expires_at.
ALTER TABLE api_keys ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE api_keys ADD COLUMN previous_secret_expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN rotated_at BIGINT;

ALTER TABLE ledger_entries ADD COLUMN key_id TEXT;
ALTER TABLE ledger_entries ADD COLUMN model TEXT;
ALTER TABLE ledger_entries ADD COLUMN prompt_tokens BIGINT;
ALTER TABLE ledger_entries ADD COLUMN completion_tokens BIGINT;
CREATE INDEX ledger_key_idx ON ledger_entries (key_id, created_at) WHERE key_id IS NOT NULL;
CREATE INDEX ledger_project_time_idx ON ledger_entries (project_id, created_at);
