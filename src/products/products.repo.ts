import type { Database } from 'bun:sqlite';

export type ProductRow = {
  seq: number;
  id: string;
  project_id: string;
  name: string;
  description: string;
  url: string;
  keywords: string;
  category: string | null;
  sku: string | null;
  created_at: number;
  updated_at: number | null;
  deleted_at: number | null;
};

export type NewProduct = { id: string; projectId: string; name: string; description: string; url: string; keywords: string[]; category: string | null; sku: string | null; now: number };

/** What an upsert did with one product. */
export type UpsertOutcome = { id: string; outcome: 'created' | 'updated' | 'unchanged' };

/** The columns an edit may change. */
export type ProductFields = Partial<{ name: string; description: string; url: string; keywords: string; category: string | null; sku: string | null }>;

const EDITABLE = ['name', 'description', 'url', 'keywords', 'category', 'sku'] as const;

export function createProductsRepo(db: Database) {
  const insert = db.query(
    `INSERT INTO products (id, project_id, name, description, url, keywords, category, sku, created_at)
     VALUES ($id, $projectId, $name, $description, $url, $keywords, $category, $sku, $now)`,
  );
  const byId = db.query('SELECT * FROM products WHERE id = ?');
  const liveInProject = db.query('SELECT * FROM products WHERE id = ? AND project_id = ? AND deleted_at IS NULL');
  const bySku = db.query('SELECT * FROM products WHERE project_id = ? AND sku = ? AND deleted_at IS NULL');
  const page = db.query('SELECT * FROM products WHERE project_id = ? AND seq > ? AND deleted_at IS NULL ORDER BY seq LIMIT ?');
  const ofProject = db.query('SELECT id FROM products WHERE project_id = ? AND deleted_at IS NULL AND id IN (SELECT value FROM json_each(?))');
  const softDelete = db.query('UPDATE products SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL');
  const update = db.query(
    `UPDATE products SET name = $name, description = $description, url = $url, keywords = $keywords, category = $category,
       sku = $sku, updated_at = $now WHERE id = $id`,
  );
  const run = (p: NewProduct) =>
    insert.run({ id: p.id, projectId: p.projectId, name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category, sku: p.sku, now: p.now });

  /** Writes `fields` over the stored row; false when nothing differs (no write, updated_at kept). */
  function edit(row: ProductRow, fields: ProductFields, now: number): boolean {
    const next = { ...row, ...fields };
    if (EDITABLE.every((k) => next[k] === row[k])) return false;
    update.run({ id: row.id, name: next.name, description: next.description, url: next.url, keywords: next.keywords, category: next.category, sku: next.sku, now });
    return true;
  }

  /** A product with a sku that already lives in the project is edited in place; any other is inserted. */
  function upsert(p: NewProduct): UpsertOutcome {
    const existing = p.sku === null ? null : (bySku.get(p.projectId, p.sku) as ProductRow | null);
    if (!existing) {
      run(p);
      return { id: p.id, outcome: 'created' };
    }
    const fields = { name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category };
    return { id: existing.id, outcome: edit(existing, fields, p.now) ? 'updated' : 'unchanged' };
  }

  return {
    insert: run,
    /** Many products in one transaction (nested in the caller's, if any): an import is not one commit per line. */
    upsertMany: db.transaction((products: NewProduct[]) => products.map(upsert)),
    /** Any product, deleted ones included (impressions and clicks keep pointing at them). */
    get: (id: string) => byId.get(id) as ProductRow | null,
    /** A product of the project that is not deleted. */
    getLive: (projectId: string, id: string) => liveInProject.get(id, projectId) as ProductRow | null,
    bySku: (projectId: string, sku: string) => bySku.get(projectId, sku) as ProductRow | null,
    edit,
    softDelete: (id: string, now: number) => softDelete.run(now, now, id).changes === 1,
    list: (projectId: string, afterSeq: number, limit: number) => page.all(projectId, afterSeq, limit) as ProductRow[],
    /** Which of these ids are live products of the project. */
    idsOwnedBy: (projectId: string, ids: string[]) => (ofProject.all(projectId, JSON.stringify(ids)) as Array<{ id: string }>).map((r) => r.id),
  };
}
export type ProductsRepo = ReturnType<typeof createProductsRepo>;
