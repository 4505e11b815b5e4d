-- Vexrail schema v5 (PostgreSQL), as ../migrations/005_judge_costs.sql: the optional LLM judge's requests, one
-- row per chat request it judged; cost_micros is the platform's cost of its tokens.
CREATE TABLE judge_calls (
  request_id           TEXT PRIMARY KEY,
  publisher_project_id TEXT NOT NULL REFERENCES projects (id),
  -- The impression the judged promotion would have had (an impressions row exists only if it was shown).
  impression_id        TEXT NOT NULL,
  model                TEXT NOT NULL,
  outcome              TEXT NOT NULL CHECK (outcome IN ('confirmed', 'rejected', 'unsure', 'malformed', 'failed', 'late', 'cancelled')),
  prompt_tokens        BIGINT NOT NULL CHECK (prompt_tokens >= 0),
  completion_tokens    BIGINT NOT NULL CHECK (completion_tokens >= 0),
  -- 1: tokens as the upstream reported them; 0: counted by the gateway (no usage came back, e.g. aborted).
  usage_reported       INTEGER NOT NULL CHECK (usage_reported IN (0, 1)),
  cost_micros          BIGINT NOT NULL CHECK (cost_micros >= 0),
  latency_ms           BIGINT NOT NULL CHECK (latency_ms >= 0),
  created_at           BIGINT NOT NULL
);
CREATE INDEX judge_calls_publisher_idx ON judge_calls (publisher_project_id, created_at);
CREATE INDEX judge_calls_created_idx ON judge_calls (created_at);
