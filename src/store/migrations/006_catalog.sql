-- Vexrail schema v6: catalog management.
--
-- products.sku:        optional advertiser-supplied stock-keeping unit, unique per advertiser among live
--                      products; JSON Lines imports upsert by it.
-- products.deleted_at: soft delete. A deleted product leaves every campaign (its campaign_products rows are
--                      removed) and never serves again; impressions and clicks keep pointing at it.
-- products.updated_at: last edit (NULL until the first one).
-- campaigns.targeting: which products a campaign serves: the listed ones ('products', as before v6), every
--                      live product of the advertiser ('all_products'), or those whose category is one of
--                      target_categories ('categories'). Rule-based campaigns gain products added later.
ALTER TABLE products ADD COLUMN sku TEXT;
ALTER TABLE products ADD COLUMN deleted_at INTEGER;
ALTER TABLE products ADD COLUMN updated_at INTEGER;
CREATE UNIQUE INDEX products_sku_idx ON products (project_id, sku) WHERE sku IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX products_category_idx ON products (project_id, category) WHERE deleted_at IS NULL;

ALTER TABLE campaigns ADD COLUMN targeting TEXT NOT NULL DEFAULT 'products'
  CHECK (targeting IN ('products', 'all_products', 'categories'));
ALTER TABLE campaigns ADD COLUMN target_categories TEXT NOT NULL DEFAULT '[]';
CREATE INDEX campaigns_targeting_idx ON campaigns (project_id, targeting);

-- The clicks list filters by validity within one advertiser or publisher, newest first.
CREATE INDEX clicks_advertiser_status_idx ON clicks (advertiser_project_id, status, created_at);
CREATE INDEX clicks_publisher_status_idx ON clicks (publisher_project_id, status, created_at);
