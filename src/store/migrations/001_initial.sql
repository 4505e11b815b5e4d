-- Vexrail schema v1. Money columns are integer micro-USD; times are integer Unix milliseconds.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE projects (
  id                   TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  kind                 TEXT NOT NULL DEFAULT 'publisher' CHECK (kind IN ('publisher', 'advertiser')),
  domain               TEXT NOT NULL,
  domain_status        TEXT NOT NULL DEFAULT 'unverified'
                       CHECK (domain_status IN ('unverified', 'pending', 'verified', 'failed')),
  verification_token   TEXT NOT NULL,
  domain_verified_at   INTEGER,
  domain_verify_method TEXT CHECK (domain_verify_method IN ('dns', 'manual')),
  monetization         INTEGER NOT NULL DEFAULT 0 CHECK (monetization IN (0, 1)),
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX projects_created_idx ON projects (created_at, id);

CREATE TABLE domain_checks (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id TEXT NOT NULL REFERENCES projects (id),
  domain     TEXT NOT NULL,
  method     TEXT NOT NULL CHECK (method IN ('dns', 'manual')),
  result     TEXT NOT NULL CHECK (result IN ('verified', 'failed')),
  detail     TEXT,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX domain_checks_project_idx ON domain_checks (project_id, id);

CREATE TABLE api_keys (
  id              TEXT PRIMARY KEY,
  project_id      TEXT NOT NULL REFERENCES projects (id),
  name            TEXT NOT NULL,
  publishable_key TEXT NOT NULL UNIQUE,
  secret_hash     TEXT NOT NULL,
  secret_prefix   TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  created_at      INTEGER NOT NULL,
  last_used_at    INTEGER,
  deactivated_at  INTEGER
) STRICT;
CREATE INDEX api_keys_project_idx ON api_keys (project_id, created_at);

-- A wallet's balance; money reserved by requests in flight (holds) lives in the gateway's memory, see
-- src/wallet/hold-book.ts, and is never part of the balance.
CREATE TABLE wallets (
  project_id     TEXT PRIMARY KEY REFERENCES projects (id),
  balance_micros INTEGER NOT NULL DEFAULT 0 CHECK (balance_micros >= 0)
) STRICT;

-- Every movement of a wallet, append-only. The public id is "txn_" + seq.
CREATE TABLE ledger_entries (
  seq                  INTEGER PRIMARY KEY,
  project_id           TEXT NOT NULL REFERENCES projects (id),
  type                 TEXT NOT NULL CHECK (type IN ('top_up', 'consumption', 'cpc_cost', 'refund')),
  amount_micros        INTEGER NOT NULL,
  balance_after_micros INTEGER NOT NULL CHECK (balance_after_micros >= 0),
  request_id           TEXT,
  idempotency_key      TEXT,
  click_id             TEXT,
  note                 TEXT,
  created_at           INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_project_idx ON ledger_entries (project_id, seq);
CREATE UNIQUE INDEX ledger_idempotency_idx ON ledger_entries (project_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX ledger_click_idx ON ledger_entries (click_id, type) WHERE click_id IS NOT NULL;

CREATE TABLE conversations (
  id            TEXT NOT NULL,
  project_id    TEXT NOT NULL REFERENCES projects (id),
  tracked       INTEGER NOT NULL CHECK (tracked IN (0, 1)),
  end_user      TEXT,
  metadata      TEXT,
  message_count INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (project_id, id)
) STRICT;
CREATE INDEX conversations_updated_idx ON conversations (project_id, updated_at, id);

CREATE TABLE messages (
  project_id        TEXT NOT NULL,
  conversation_id   TEXT NOT NULL,
  seq               INTEGER NOT NULL,
  role              TEXT NOT NULL,
  content           TEXT NOT NULL,
  model             TEXT,
  prompt_tokens     INTEGER,
  completion_tokens INTEGER,
  total_tokens      INTEGER,
  cost_micros       INTEGER,
  latency_ms        INTEGER,
  streamed          INTEGER,
  end_user          TEXT,
  metadata          TEXT,
  request_id        TEXT,
  created_at        INTEGER NOT NULL,
  PRIMARY KEY (project_id, conversation_id, seq),
  FOREIGN KEY (project_id, conversation_id) REFERENCES conversations (project_id, id)
) STRICT;
