import type { Awaitable, SqlStore, Tx } from '../store/sql-store';
import { jsonStrings } from './sql-lists';

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

const INSERT = `INSERT INTO products (id, project_id, name, description, url, keywords, category, sku, created_at)
  VALUES ($id, $projectId, $name, $description, $url, $keywords, $category, $sku, $now)`;
const BY_ID = 'SELECT * FROM products WHERE id = ?';
const LIVE_IN_PROJECT = 'SELECT * FROM products WHERE id = ? AND project_id = ? AND deleted_at IS NULL';
const BY_SKU = 'SELECT * FROM products WHERE project_id = ? AND sku = ? AND deleted_at IS NULL';
const PAGE = 'SELECT * FROM products WHERE project_id = ? AND seq > ? AND deleted_at IS NULL ORDER BY seq LIMIT ?';
const SOFT_DELETE = 'UPDATE products SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL';
const UPDATE = `UPDATE products SET name = $name, description = $description, url = $url, keywords = $keywords, category = $category,
  sku = $sku, updated_at = $now WHERE id = $id`;
const ownedSql = (kind: Tx['kind']) => `SELECT id FROM products WHERE project_id = ? AND deleted_at IS NULL AND id IN (${jsonStrings(kind, '?')})`;

/** True when `err` is the unique index on (project, sku) of live products refusing a second product. */
export function isSkuConflict(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // SQLite names the columns, PostgreSQL the index (the constraint field, or the message).
  if (/UNIQUE constraint failed: products\.project_id, products\.sku/.test(err.message)) return true;
  return (err as { constraint?: string }).constraint === 'products_sku_idx' || /"products_sku_idx"/.test(err.message);
}

/** The product statements on one handle: the store, or an open transaction. */
function bind(q: Tx) {
  const insert = q.stmt(INSERT);
  const byId = q.stmt<ProductRow>(BY_ID);
  const liveInProject = q.stmt<ProductRow>(LIVE_IN_PROJECT);
  const bySku = q.stmt<ProductRow>(BY_SKU);
  const page = q.stmt<ProductRow>(PAGE);
  const ofProject = q.stmt<{ id: string }>(ownedSql(q.kind));
  const softDelete = q.stmt(SOFT_DELETE);
  const update = q.stmt(UPDATE);

  const insertOne = async (p: NewProduct): Promise<void> => {
    await insert.run({ id: p.id, projectId: p.projectId, name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category, sku: p.sku, now: p.now });
  };

  /** Writes `fields` over the stored row; false when nothing differs (no write, updated_at kept). */
  async function edit(row: ProductRow, fields: ProductFields, now: number): Promise<boolean> {
    const next = { ...row, ...fields };
    if (EDITABLE.every((k) => next[k] === row[k])) return false;
    await update.run({ id: row.id, name: next.name, description: next.description, url: next.url, keywords: next.keywords, category: next.category, sku: next.sku, now });
    return true;
  }

  /** A product with a sku that already lives in the project is edited in place; any other is inserted. */
  async function upsert(p: NewProduct): Promise<UpsertOutcome> {
    const existing = p.sku === null ? null : await bySku.get([p.projectId, p.sku]);
    if (!existing) {
      await insertOne(p);
      return { id: p.id, outcome: 'created' };
    }
    const fields = { name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category };
    return { id: existing.id, outcome: (await edit(existing, fields, p.now)) ? 'updated' : 'unchanged' };
  }

  return {
    insert: insertOne,
    /** Upserts in order on this handle (the caller holds the transaction). */
    upsertAll: async (products: NewProduct[]): Promise<UpsertOutcome[]> => {
      const out: UpsertOutcome[] = [];
      for (const p of products) out.push(await upsert(p));
      return out;
    },
    /** Any product, deleted ones included (impressions and clicks keep pointing at them). */
    get: (id: string): Awaitable<ProductRow | null> => byId.get([id]),
    /** A product of the project that is not deleted. */
    getLive: (projectId: string, id: string): Awaitable<ProductRow | null> => liveInProject.get([id, projectId]),
    bySku: (projectId: string, sku: string): Awaitable<ProductRow | null> => bySku.get([projectId, sku]),
    edit,
    softDelete: async (id: string, now: number): Promise<boolean> => (await softDelete.run([now, now, id])).changes === 1,
    list: (projectId: string, afterSeq: number, limit: number): Awaitable<ProductRow[]> => page.all([projectId, afterSeq, limit]),
    /** Which of these ids are live products of the project. */
    idsOwnedBy: async (projectId: string, ids: string[]): Promise<string[]> => (await ofProject.all([projectId, JSON.stringify(ids)])).map((r) => r.id),
  };
}

/** The product statements on the store or inside a transaction. */
export type ProductsOn = Omit<ReturnType<typeof bind>, 'upsertAll'>;

export function createProductsRepo(store: SqlStore) {
  const { upsertAll: _unatomic, ...direct } = bind(store);
  return {
    ...direct,
    /** The same statements inside an open transaction (a catalog write and the campaign updates it implies). */
    in: (tx: Tx): ProductsOn => bind(tx),
    /**
     * Many products in one transaction: the caller's when `tx` is given, else one of its own (an import is
     * not one commit per line).
     */
    upsertMany: (products: NewProduct[], tx?: Tx): Promise<UpsertOutcome[]> =>
      tx ? bind(tx).upsertAll(products) : store.transaction((t) => bind(t).upsertAll(products)),
  };
}
export type ProductsRepo = ReturnType<typeof createProductsRepo>;
