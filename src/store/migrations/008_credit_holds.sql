-- Credit holds in the store, for a gateway running as several instances on PostgreSQL (../migrations-pg/008).
-- The single-process SQLite gateway keeps its holds in memory (src/wallet/hold-book.ts): here held_micros stays 0
-- and credit_holds empty; both exist so that the two schemas, numbered together, stay equal.
--
-- held_micros is the sum of the wallet's holds, kept by the same statements that add and remove them, so that
-- reserving is one conditional UPDATE of the wallet row. Its CHECK makes an oversubscribed wallet impossible.
ALTER TABLE wallets ADD COLUMN held_micros INTEGER NOT NULL DEFAULT 0
  CHECK (held_micros >= 0 AND held_micros <= balance_micros);

-- A request's reservation: removed exactly once, by its settlement, its release, or (after expires_at, when its
-- instance stopped renewing it) by the expiry sweep.
CREATE TABLE credit_holds (
  id            TEXT PRIMARY KEY,
  project_id    TEXT NOT NULL REFERENCES wallets (project_id),
  amount_micros INTEGER NOT NULL CHECK (amount_micros >= 0),
  instance_id   TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX credit_holds_expiry_idx ON credit_holds (expires_at);
CREATE INDEX credit_holds_instance_idx ON credit_holds (instance_id, expires_at);
CREATE INDEX credit_holds_project_idx ON credit_holds (project_id);
