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
  created_at: number;
};

export type NewProduct = { id: string; projectId: string; name: string; description: string; url: string; keywords: string[]; category: string | null; now: number };

export function createProductsRepo(db: Database) {
  const insert = db.query(
    `INSERT INTO products (id, project_id, name, description, url, keywords, category, created_at)
     VALUES ($id, $projectId, $name, $description, $url, $keywords, $category, $now)`,
  );
  const byId = db.query('SELECT * FROM products WHERE id = ?');
  const page = db.query('SELECT * FROM products WHERE project_id = ? AND seq > ? ORDER BY seq LIMIT ?');
  const ofProject = db.query('SELECT id FROM products WHERE project_id = ? AND id IN (SELECT value FROM json_each(?))');
  const run = (p: NewProduct) =>
    insert.run({ id: p.id, projectId: p.projectId, name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category, now: p.now });
  return {
    insert: run,
    /** Many products in one transaction: an import of 50,000 lines is a few dozen commits, not 50,000. */
    insertMany: db.transaction((products: NewProduct[]) => {
      for (const p of products) run(p);
    }),
    get: (id: string) => byId.get(id) as ProductRow | null,
    list: (projectId: string, afterSeq: number, limit: number) => page.all(projectId, afterSeq, limit) as ProductRow[],
    /** Which of these ids belong to the project. */
    idsOwnedBy: (projectId: string, ids: string[]) => (ofProject.all(projectId, JSON.stringify(ids)) as Array<{ id: string }>).map((r) => r.id),
  };
}
export type ProductsRepo = ReturnType<typeof createProductsRepo>;
