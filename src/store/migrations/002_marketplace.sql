-- Vexrail schema v2: the advertising marketplace. Money in integer micro-USD, times in Unix milliseconds.

-- Publisher-side ad settings (one row per project, created on first change).
CREATE TABLE ad_settings (
  project_id         TEXT PRIMARY KEY REFERENCES projects (id),
  disclosure_label   TEXT NOT NULL DEFAULT 'Sponsored',
  frequency_cap_turns INTEGER NOT NULL DEFAULT 3 CHECK (frequency_cap_turns >= 1),
  blocked_categories TEXT NOT NULL DEFAULT '[]',
  bridge_mode        TEXT NOT NULL DEFAULT 'template' CHECK (bridge_mode IN ('template', 'llm')),
  updated_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE products (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  project_id  TEXT NOT NULL REFERENCES projects (id),
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  url         TEXT NOT NULL,
  keywords    TEXT NOT NULL DEFAULT '[]',
  category    TEXT,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX products_project_idx ON products (project_id, seq);


CREATE TABLE campaigns (
  id                 TEXT PRIMARY KEY,
  project_id         TEXT NOT NULL REFERENCES projects (id),
  name               TEXT NOT NULL,
  context            TEXT NOT NULL DEFAULT '',
  base_cpc_micros    INTEGER NOT NULL CHECK (base_cpc_micros > 0),
  budget_micros      INTEGER NOT NULL CHECK (budget_micros > 0),
  budget_type        TEXT NOT NULL CHECK (budget_type IN ('daily', 'total')),
  start_at           INTEGER,
  end_at             INTEGER,
  status             TEXT NOT NULL DEFAULT 'paused_user'
                     CHECK (status IN ('active', 'paused_user', 'paused_system', 'archived')),
  pause_reason       TEXT CHECK (pause_reason IN ('budget_exhausted', 'funds_short', 'end_date_passed', 'domain_unverified')),
  spent_total_micros INTEGER NOT NULL DEFAULT 0 CHECK (spent_total_micros >= 0),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX campaigns_project_idx ON campaigns (project_id, created_at);
CREATE INDEX campaigns_status_idx ON campaigns (status);

-- A product assigned to a campaign is an "ad unit": what the matcher ranks.
CREATE TABLE campaign_products (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id TEXT NOT NULL REFERENCES campaigns (id),
  product_id  TEXT NOT NULL REFERENCES products (id),
  UNIQUE (campaign_id, product_id)
) STRICT;
CREATE INDEX campaign_products_product_idx ON campaign_products (product_id);

-- Ad units are ranked by an in-memory BM25F index (src/ads/unit-index.ts) built from these rows.

-- Spend per campaign per UTC day, for daily budgets and analytics.
CREATE TABLE campaign_daily_spend (
  campaign_id  TEXT NOT NULL REFERENCES campaigns (id),
  day          TEXT NOT NULL,
  spent_micros INTEGER NOT NULL DEFAULT 0 CHECK (spent_micros >= 0),
  PRIMARY KEY (campaign_id, day)
) STRICT;

CREATE TABLE campaign_history (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  campaign_id TEXT NOT NULL REFERENCES campaigns (id),
  event       TEXT NOT NULL,
  actor       TEXT NOT NULL CHECK (actor IN ('operator', 'system')),
  detail      TEXT,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX campaign_history_idx ON campaign_history (campaign_id, id);

CREATE TABLE impressions (
  id                    TEXT PRIMARY KEY,
  publisher_project_id  TEXT NOT NULL REFERENCES projects (id),
  advertiser_project_id TEXT NOT NULL REFERENCES projects (id),
  campaign_id           TEXT NOT NULL REFERENCES campaigns (id),
  product_id            TEXT NOT NULL REFERENCES products (id),
  conversation_id       TEXT,
  request_id            TEXT NOT NULL,
  turn                  INTEGER NOT NULL,
  relevance             REAL NOT NULL,
  price_micros          INTEGER NOT NULL CHECK (price_micros > 0),
  created_at            INTEGER NOT NULL,
  expires_at            INTEGER NOT NULL
) STRICT;
CREATE INDEX impressions_publisher_idx ON impressions (publisher_project_id, created_at);
CREATE INDEX impressions_campaign_idx ON impressions (campaign_id, created_at);
CREATE INDEX impressions_advertiser_idx ON impressions (advertiser_project_id, created_at);
CREATE INDEX impressions_conversation_idx ON impressions (publisher_project_id, conversation_id, created_at);

CREATE TABLE clicks (
  id                    TEXT PRIMARY KEY,
  impression_id         TEXT NOT NULL REFERENCES impressions (id),
  campaign_id           TEXT NOT NULL,
  publisher_project_id  TEXT NOT NULL,
  advertiser_project_id TEXT NOT NULL,
  status                TEXT NOT NULL CHECK (status IN ('charged', 'invalid', 'unbilled', 'refunded')),
  reason                TEXT,
  charged_micros        INTEGER NOT NULL DEFAULT 0 CHECK (charged_micros >= 0),
  publisher_micros      INTEGER NOT NULL DEFAULT 0 CHECK (publisher_micros >= 0),
  platform_micros       INTEGER NOT NULL DEFAULT 0 CHECK (platform_micros >= 0),
  user_agent            TEXT,
  created_at            INTEGER NOT NULL,
  CHECK (charged_micros = publisher_micros + platform_micros)
) STRICT;
-- At most one charged click per impression, whatever the concurrency.
CREATE UNIQUE INDEX clicks_one_charge_idx ON clicks (impression_id) WHERE status IN ('charged', 'refunded');
CREATE INDEX clicks_impression_idx ON clicks (impression_id);
CREATE INDEX clicks_campaign_idx ON clicks (campaign_id, created_at);
CREATE INDEX clicks_publisher_idx ON clicks (publisher_project_id, created_at);
CREATE INDEX clicks_advertiser_idx ON clicks (advertiser_project_id, created_at);

-- The publisher's earnings wallet. Earnings are pending until available_at, then available.
CREATE TABLE earnings_entries (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  id            TEXT NOT NULL UNIQUE,
  project_id    TEXT NOT NULL REFERENCES projects (id),
  type          TEXT NOT NULL CHECK (type IN ('earning', 'withdrawal', 'refund', 'adjustment')),
  status        TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled')),
  amount_micros INTEGER NOT NULL,
  click_id      TEXT,
  available_at  INTEGER NOT NULL,
  created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX earnings_project_idx ON earnings_entries (project_id, seq);
CREATE UNIQUE INDEX earnings_click_idx ON earnings_entries (click_id, type) WHERE click_id IS NOT NULL;

-- What the platform keeps of each charged click.
CREATE TABLE platform_entries (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  click_id      TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('fee', 'refund')),
  amount_micros INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  UNIQUE (click_id, type)
) STRICT;

-- Answers that carried no promotion, counted per publisher, UTC day and reason (aggregated in memory
-- and added here by the background flusher; a filled answer is an impression).
CREATE TABLE no_fill_daily (
  publisher_project_id TEXT NOT NULL,
  day                  TEXT NOT NULL,
  reason               TEXT NOT NULL,
  count                INTEGER NOT NULL CHECK (count >= 0),
  PRIMARY KEY (publisher_project_id, day, reason)
) STRICT;
