import { ApiError, badRequest, conflict, notFound } from '../http/errors';
import { checkLimit, pageOf, seqCursor } from '../http/paging';
import type { ProjectRow } from '../projects/projects.repo';
import { newId } from '../store/ids';
import { repeatedSkuMessage } from './import-rules';
import { parseProductUrl, productUrlRule, safeParseProductUrl, type ProductUrlRule } from './product-url';
import { isSkuConflict, type NewProduct, type ProductFields, type ProductRow, type ProductsOn, type ProductsRepo } from './products.repo';
import type { Awaitable, Tx } from '../store/sql-store';
import { CreateProductBody, MAX_PRODUCTS_PAGE, PRODUCT_LIMITS, UpdateProductBody } from './products.inputs';

export { MAX_PRODUCTS_PAGE, PRODUCT_LIMITS };

const IMPORT_BATCH = 1000;

/** `f` of a value that may still be coming: at once when it is there (the embedded store), else when it arrives. */
const thenOf = <T, U>(value: Awaitable<T>, f: (v: T) => Awaitable<U>): Awaitable<U> => (value instanceof Promise ? value.then(f) : f(value));
const MAX_REPORTED_ERRORS = 1000;

export function toProductView(p: ProductRow) {
  return {
    id: p.id,
    object: 'product' as const,
    project_id: p.project_id,
    name: p.name,
    description: p.description,
    url: p.url,
    keywords: JSON.parse(p.keywords) as string[],
    category: p.category,
    sku: p.sku,
    created_at: new Date(p.created_at).toISOString(),
    updated_at: p.updated_at === null ? null : new Date(p.updated_at).toISOString(),
  };
}

function text(input: Record<string, unknown>, field: string, max: number, required = true): string | null {
  const value = input[field];
  if (value === undefined || value === null || value === '') {
    if (required) throw badRequest('invalid_value', `${field} is required`, field);
    return null;
  }
  if (typeof value !== 'string') throw badRequest('invalid_type', `${field} must be a string`, field);
  const trimmed = value.trim();
  if (trimmed.length === 0 && required) throw badRequest('invalid_value', `${field} is required`, field);
  if (trimmed.length > max) throw badRequest('invalid_value', `${field} is longer than ${max} characters`, field);
  return trimmed;
}

function checkKeywords(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > PRODUCT_LIMITS.keywords || value.some((k) => typeof k !== 'string' || k.trim().length === 0 || k.length > PRODUCT_LIMITS.keywordChars))
    throw badRequest('invalid_value', `keywords must be up to ${PRODUCT_LIMITS.keywords} non-empty strings of at most ${PRODUCT_LIMITS.keywordChars} characters`, 'keywords');
  return [...new Set(value.map((k: string) => k.trim().toLowerCase()))];
}

export function normalizeCategory(value: string): string {
  return value.trim().toLowerCase().replace(/\s+/g, '_');
}

/** Validates one product; throws ApiError naming the field. */
export function parseProduct(input: unknown, projectId: string, urlRule: ProductUrlRule, now: number): NewProduct {
  if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('invalid_request_body', 'a product must be a JSON object');
  // The same schema as POST .../products: an imported line is checked exactly as a created product.
  const body = CreateProductBody.check(input) as Record<string, unknown>;
  const category = text(body, 'category', PRODUCT_LIMITS.categoryChars, false);
  return {
    id: newId('prod'),
    projectId,
    name: text(body, 'name', PRODUCT_LIMITS.nameChars)!,
    description: text(body, 'description', PRODUCT_LIMITS.descriptionChars)!,
    url: parseProductUrl(text(body, 'url', PRODUCT_LIMITS.urlChars)!, urlRule),
    keywords: checkKeywords(body.keywords),
    category: category ? normalizeCategory(category) : null,
    sku: text(body, 'sku', PRODUCT_LIMITS.skuChars, false),
    now,
  };
}

/** The fields present in an edit, validated; `category` and `sku` may be null to clear them. */
export function parseProductEdit(edit: Record<string, unknown>, urlRule: ProductUrlRule): ProductFields {
  const input = UpdateProductBody.check(edit) as Record<string, unknown>;
  const fields: ProductFields = {};
  if (input.name !== undefined) fields.name = text(input, 'name', PRODUCT_LIMITS.nameChars)!;
  if (input.description !== undefined) fields.description = text(input, 'description', PRODUCT_LIMITS.descriptionChars)!;
  if (input.url !== undefined) fields.url = parseProductUrl(text(input, 'url', PRODUCT_LIMITS.urlChars)!, urlRule);
  if (input.keywords !== undefined) fields.keywords = JSON.stringify(checkKeywords(input.keywords));
  if ('category' in input) {
    const category = text(input, 'category', PRODUCT_LIMITS.categoryChars, false);
    fields.category = category ? normalizeCategory(category) : null;
  }
  if ('sku' in input) fields.sku = text(input, 'sku', PRODUCT_LIMITS.skuChars, false);
  return fields;
}

/**
 * What an import did: lines whose sku names a live product update it (or leave it unchanged), other lines
 * create products. `imported` = created + updated + unchanged (every good line), kept for older clients.
 * A sku repeated within one import is taken from its first line; each later line with it fails, naming that line.
 */
export type ImportReport = {
  imported: number; created: number; updated: number; unchanged: number; failed: number;
  errors: Array<{ line: number; message: string }>; product_ids: string[];
};

const repeatedSku = (sku: string, firstLine: number) => badRequest('invalid_value', repeatedSkuMessage(sku, firstLine), 'sku');

const skuTaken = (sku: string | null | undefined) => conflict('sku_taken', `Another product of this advertiser has sku ${JSON.stringify(sku)}`);

type Deps = {
  repo: ProductsRepo;
  /** The owning project as it is now: its domain, verification and link_domains decide where links may go. */
  findProject: (projectId: string) => Awaitable<ProjectRow | null>;
  /** config.allowInternalProductUrls: intranet installs may link to private addresses. */
  allowInternalUrls: boolean;
  now?: () => number;
};

export function createProductsService(deps: Deps) {
  const now = deps.now ?? Date.now;
  const ruleOf = (project: ProjectRow) => productUrlRule(project, deps.allowInternalUrls);
  /** The statements of the caller's transaction when it passes one (a catalog change), else the store's. */
  const on = (tx?: Tx): ProductsOn => (tx ? deps.repo.in(tx) : deps.repo);

  function requireAdvertiser(project: ProjectRow): void {
    if (project.kind !== 'advertiser') throw conflict('not_an_advertiser', 'Products belong to advertiser projects');
  }

  async function create(project: ProjectRow, input: unknown, tx?: Tx) {
    requireAdvertiser(project);
    const repo = on(tx);
    const product = parseProduct(input, project.id, ruleOf(project), now());
    if (product.sku !== null && (await repo.bySku(project.id, product.sku))) throw skuTaken(product.sku);
    try {
      await repo.insert(product);
    } catch (err) {
      if (isSkuConflict(err)) throw skuTaken(product.sku);
      throw err;
    }
    return toProductView((await repo.get(product.id))!);
  }

  async function requireLive(repo: ProductsOn, project: ProjectRow, productId: string): Promise<ProductRow> {
    const row = await repo.getLive(project.id, productId);
    if (!row) throw notFound('product_not_found', `No product with id ${productId} in this project`);
    return row;
  }

  /** Edits the fields present in `input`; a sku used by another live product of the advertiser is a 409. */
  async function update(project: ProjectRow, productId: string, input: Record<string, unknown>, tx?: Tx) {
    requireAdvertiser(project);
    const repo = on(tx);
    const row = await requireLive(repo, project, productId);
    const fields = parseProductEdit(input, ruleOf(project));
    if (fields.sku && fields.sku !== row.sku && (await repo.bySku(project.id, fields.sku))) throw skuTaken(fields.sku);
    try {
      await repo.edit(row, fields, now());
    } catch (err) {
      if (isSkuConflict(err)) throw skuTaken(fields.sku);
      throw err;
    }
    return toProductView((await repo.get(productId))!);
  }

  /** Soft delete: the row stays for impressions, clicks and analytics; lists, campaigns and serving drop it. */
  async function remove(project: ProjectRow, productId: string, tx?: Tx) {
    requireAdvertiser(project);
    const repo = on(tx);
    await requireLive(repo, project, productId);
    await repo.softDelete(productId, now());
    return { id: productId, object: 'product' as const, deleted: true };
  }

  /** JSON Lines, one product per line. Good lines are kept; bad ones are reported with their line number. */
  async function importLines(project: ProjectRow, body: string, firstLine = 1, tx?: Tx): Promise<ImportReport> {
    requireAdvertiser(project);
    const report: ImportReport = { imported: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [], product_ids: [] };
    let batch: NewProduct[] = [];
    const batches: NewProduct[][] = [];
    const flush = () => {
      if (batch.length > 0) batches.push(batch);
      batch = [];
    };
    const write = async (products: NewProduct[]) => {
      for (const { id, outcome } of await deps.repo.upsertMany(products, tx)) {
        report[outcome]++;
        report.product_ids.push(id);
      }
      report.imported += products.length;
    };
    const lines = body.split('\n');
    const at = now();
    const urlRule = ruleOf(project);
    // A sku's first line in this import wins; a later line with the same sku is a mistake in the file, not an update.
    const skuLines = new Map<string, number>();
    lines.forEach((raw, index) => {
      const line = raw.trim();
      if (line === '') return;
      try {
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          throw badRequest('invalid_json', 'not valid JSON');
        }
        const product = parseProduct(value, project.id, urlRule, at);
        if (product.sku !== null) {
          const first = skuLines.get(product.sku);
          if (first !== undefined) throw repeatedSku(product.sku, first);
          skuLines.set(product.sku, firstLine + index);
        }
        batch.push(product);
        if (batch.length >= IMPORT_BATCH) flush();
      } catch (err) {
        report.failed++;
        if (report.errors.length < MAX_REPORTED_ERRORS)
          report.errors.push({ line: firstLine + index, message: err instanceof ApiError ? err.message : 'invalid product' });
      }
    });
    flush();
    // Lines are checked first (no store in between), then written a batch per transaction.
    for (const products of batches) await write(products);
    return report;
  }

  async function list(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_PRODUCTS_PAGE);
    const { page, has_more, next_cursor } = pageOf(await deps.repo.list(projectId, seqCursor(cursor, 0), limit + 1), limit, (p) => String(p.seq));
    return { object: 'list' as const, data: page.map(toProductView), has_more, next_cursor };
  }

  /**
   * Where a tracked link of this product may redirect now, or null. The stored URL is judged again against
   * the advertiser's current domain, verification and link_domains (two primary-key reads), so a domain
   * that changes or loses its verification stops the redirects at once.
   */
  function redirectUrl(productId: string): Awaitable<string | null> {
    // On the click path: synchronous on the embedded store, no promise per click.
    return thenOf(deps.repo.get(productId), (product) => {
      if (!product) return null;
      return thenOf(deps.findProject(product.project_id), (project) => {
        if (!project) return null;
        const judged = safeParseProductUrl(product.url, ruleOf(project));
        return judged.ok ? judged.url : null;
      });
    });
  }

  return { create, update, remove, importLines, list, redirectUrl, get: deps.repo.get, idsOwnedBy: deps.repo.idsOwnedBy };
}
export type ProductsService = ReturnType<typeof createProductsService>;
