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
const bySkusSql = (kind: Tx['kind']) => `SELECT * FROM products WHERE project_id = ? AND deleted_at IS NULL AND sku IN (${jsonStrings(kind, '?')})`;
const INSERT_COLUMNS = '(id, project_id, name, description, url, keywords, category, sku, created_at)';
/** Rows per multi-row insert or update: an import is a few statements per thousand products, not one round trip each. */
const CHUNKS = [256, 64, 16, 4, 1];
const insertRowsSql = (rows: number) => `INSERT INTO products ${INSERT_COLUMNS} VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;
/** Imported edits of existing products, many per statement (the values are compared before, in the service's process). */
const updateRowsSql = (rows: number) => `WITH v (id, name, description, url, keywords, category, updated_at) AS (VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ')})
  UPDATE products SET name = v.name, description = v.description, url = v.url, keywords = v.keywords, category = v.category,
    updated_at = CAST(v.updated_at AS BIGINT)
  FROM v WHERE products.id = v.id`;
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
  const bySkus = q.stmt<ProductRow>(bySkusSql(q.kind));
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

  /** Runs `sqlOf(size)` over `items` in chunks of a few fixed sizes (few distinct statements to prepare), in order. */
  async function inChunks<T>(items: T[], sqlOf: (rows: number) => string, valuesOf: (item: T) => unknown[]): Promise<void> {
    let i = 0;
    for (const size of CHUNKS) {
      while (items.length - i >= size) {
        const values: unknown[] = [];
        for (const item of items.slice(i, i + size)) values.push(...valuesOf(item));
        await q.stmt(sqlOf(size)).run(values);
        i += size;
      }
    }
  }

  /**
   * Products whose sku already lives in their project are edited in place (or left unchanged); the others are
   * inserted, in their order. The products share one project; their skus are distinct.
   */
  async function upsertAll(products: NewProduct[]): Promise<UpsertOutcome[]> {
    if (products.length === 0) return [];
    const skus = products.flatMap((p) => (p.sku === null ? [] : [p.sku]));
    const existing = new Map<string, ProductRow>();
    if (skus.length > 0) for (const row of await bySkus.all([products[0].projectId, JSON.stringify(skus)])) existing.set(row.sku!, row);
    const outcomes: UpsertOutcome[] = [];
    const created: NewProduct[] = [];
    const updated: ProductRow[] = [];
    for (const p of products) {
      const row = p.sku === null ? undefined : existing.get(p.sku);
      if (!row) {
        created.push(p);
        outcomes.push({ id: p.id, outcome: 'created' });
        continue;
      }
      const next = { ...row, name: p.name, description: p.description, url: p.url, keywords: JSON.stringify(p.keywords), category: p.category };
      const same = EDITABLE.every((k) => next[k] === row[k]);
      if (!same) updated.push({ ...next, updated_at: p.now });
      outcomes.push({ id: row.id, outcome: same ? 'unchanged' : 'updated' });
    }
    await inChunks(updated, updateRowsSql, (r) => [r.id, r.name, r.description, r.url, r.keywords, r.category, r.updated_at]);
    await inChunks(created, insertRowsSql, (p) => [p.id, p.projectId, p.name, p.description, p.url, JSON.stringify(p.keywords), p.category, p.sku, p.now]);
    return outcomes;
  }

  return {
    insert: insertOne,
    /** Upserts in order on this handle (the caller holds the transaction). */
    upsertAll,
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
