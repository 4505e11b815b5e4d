-- Dashboard accounts (../migrations-pg/009): people who sign in to the dashboard, own projects and hold roles.
-- Passwords are argon2id hashes (Bun.password); session and invite tokens are stored as SHA-256 hashes only.
CREATE TABLE accounts (
  id                   TEXT PRIMARY KEY,
  email                TEXT NOT NULL,
  name                 TEXT NOT NULL,
  password_hash        TEXT NOT NULL,
  is_operator          INTEGER NOT NULL DEFAULT 0 CHECK (is_operator IN (0, 1)),
  is_publisher         INTEGER NOT NULL DEFAULT 0 CHECK (is_publisher IN (0, 1)),
  is_advertiser        INTEGER NOT NULL DEFAULT 0 CHECK (is_advertiser IN (0, 1)),
  created_at           INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL
) STRICT;
-- Emails are stored lower-cased: one account per address.
CREATE UNIQUE INDEX accounts_email_idx ON accounts (email);

-- A signed-in browser. Ends at its idle or absolute expiry, at sign-out, or when the account signs out everywhere.
CREATE TABLE account_sessions (
  token_hash    TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts (id),
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  ended_at      INTEGER
) STRICT;
CREATE INDEX account_sessions_account_idx ON account_sessions (account_id);

-- A one-time sign-up link the operator hands over (a self-hosted install may have no mail server).
CREATE TABLE account_invites (
  token_hash     TEXT PRIMARY KEY,
  email          TEXT NOT NULL,
  is_publisher   INTEGER NOT NULL DEFAULT 0 CHECK (is_publisher IN (0, 1)),
  is_advertiser  INTEGER NOT NULL DEFAULT 0 CHECK (is_advertiser IN (0, 1)),
  created_by     TEXT NOT NULL REFERENCES accounts (id),
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER
) STRICT;
CREATE INDEX account_invites_email_idx ON account_invites (email);

-- The account that owns a project (null until the operator assigns one).
ALTER TABLE projects ADD COLUMN owner_account_id TEXT REFERENCES accounts (id);
CREATE INDEX projects_owner_idx ON projects (owner_account_id);
