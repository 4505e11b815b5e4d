-- Vexrail schema v9 (PostgreSQL), as ../migrations/009_accounts.sql: dashboard accounts, their sessions and
-- invites, and the owner of each project.
CREATE TABLE accounts (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL,
  name                 TEXT NOT NULL,
  password_hash        TEXT NOT NULL,
  is_operator          INTEGER NOT NULL DEFAULT 0 CHECK (is_operator IN (0, 1)),
  is_publisher         INTEGER NOT NULL DEFAULT 0 CHECK (is_publisher IN (0, 1)),
  is_advertiser        INTEGER NOT NULL DEFAULT 0 CHECK (is_advertiser IN (0, 1)),
  created_at           BIGINT NOT NULL,
  updated_at           BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_email_idx ON accounts (email);

CREATE TABLE account_sessions (
  token_hash    TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts (id),
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  ended_at      BIGINT
);
CREATE INDEX account_sessions_account_idx ON account_sessions (account_id);

CREATE TABLE account_invites (
  token_hash     TEXT PRIMARY KEY,
  email          TEXT NOT NULL,
  is_publisher   INTEGER NOT NULL DEFAULT 0 CHECK (is_publisher IN (0, 1)),
  is_advertiser  INTEGER NOT NULL DEFAULT 0 CHECK (is_advertiser IN (0, 1)),
  created_by     TEXT NOT NULL REFERENCES accounts (id),
  created_at     BIGINT NOT NULL,
  expires_at     BIGINT NOT NULL,
  used_at        BIGINT
);
CREATE INDEX account_invites_email_idx ON account_invites (email);

ALTER TABLE projects ADD COLUMN owner_account_id TEXT REFERENCES accounts (id);
CREATE INDEX projects_owner_idx ON projects (owner_account_id);
