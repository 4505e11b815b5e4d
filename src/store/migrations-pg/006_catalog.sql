-- Vexrail schema v6 (PostgreSQL), as ../migrations/006_catalog.sql: catalog management (product sku, soft
-- delete and edit time; campaign targeting by listed products, all products or categories).
ALTER TABLE products ADD COLUMN sku TEXT;
ALTER TABLE products ADD COLUMN deleted_at BIGINT;
ALTER TABLE products ADD COLUMN updated_at BIGINT;
CREATE UNIQUE INDEX products_sku_idx ON products (project_id, sku) WHERE sku IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX products_category_idx ON products (project_id, category) WHERE deleted_at IS NULL;

ALTER TABLE campaigns ADD COLUMN targeting TEXT NOT NULL DEFAULT 'products'
  CHECK (targeting IN ('products', 'all_products', 'categories'));
ALTER TABLE campaigns ADD COLUMN target_categories TEXT NOT NULL DEFAULT '[]';
CREATE INDEX campaigns_targeting_idx ON campaigns (project_id, targeting);

-- The clicks list filters by validity within one advertiser or publisher, newest first.
CREATE INDEX clicks_advertiser_status_idx ON clicks (advertiser_project_id, status, created_at);
CREATE INDEX clicks_publisher_status_idx ON clicks (publisher_project_id, status, created_at);
