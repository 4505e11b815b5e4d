-- Vexrail schema v8 (PostgreSQL), as ../migrations/008_credit_holds.sql: credit holds in the store, shared by
-- every instance (src/wallet/wallet-pg.repo.ts).
--
-- held_micros is the sum of the wallet's holds, kept by the same statements that add and remove them, so that
-- reserving is one conditional UPDATE of the wallet row: PostgreSQL re-checks its WHERE against the newest row
-- version after waiting for a concurrent writer, so two instances can never reserve the same money. The CHECK
-- makes an oversubscribed wallet impossible whatever a caller does.
ALTER TABLE wallets ADD COLUMN held_micros BIGINT NOT NULL DEFAULT 0
  CHECK (held_micros >= 0 AND held_micros <= balance_micros);

-- A request's reservation: removed exactly once, by its settlement, its release, or (after expires_at, when its
-- instance stopped renewing it) by the expiry sweep.
CREATE TABLE credit_holds (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES wallets (project_id),
  amount_micros BIGINT NOT NULL CHECK (amount_micros >= 0),
  instance_id   TEXT NOT NULL,
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NOT NULL
);
CREATE INDEX credit_holds_expiry_idx ON credit_holds (expires_at);
CREATE INDEX credit_holds_instance_idx ON credit_holds (instance_id, expires_at);
CREATE INDEX credit_holds_project_idx ON credit_holds (project_id);
