import { ApiError, badRequest, conflict, notFound } from '../http/errors';
import { checkLimit, pageOf, seqCursor } from '../http/paging';
import type { ProjectRow } from '../projects/projects.repo';
import { newId } from '../store/ids';
import { repeatedSkuMessage } from './import-rules';
import { parseProductUrl, productUrlRule, safeParseProductUrl, type ProductUrlRule } from './product-url';
import type { NewProduct, ProductFields, ProductRow, ProductsRepo } from './products.repo';
import { CreateProductBody, MAX_PRODUCTS_PAGE, PRODUCT_LIMITS, UpdateProductBody } from './products.inputs';

export { MAX_PRODUCTS_PAGE, PRODUCT_LIMITS };

const IMPORT_BATCH = 1000;
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

const isSkuConflict = (err: unknown) => err instanceof Error && /UNIQUE constraint failed: products\.project_id, products\.sku/.test(err.message);
const skuTaken = (sku: string | null | undefined) => conflict('sku_taken', `Another product of this advertiser has sku ${JSON.stringify(sku)}`);

type Deps = {
  repo: ProductsRepo;
  /** The owning project as it is now: its domain, verification and link_domains decide where links may go. */
  findProject: (projectId: string) => ProjectRow | null;
  /** config.allowInternalProductUrls: intranet installs may link to private addresses. */
  allowInternalUrls: boolean;
  now?: () => number;
};

export function createProductsService(deps: Deps) {
  const now = deps.now ?? Date.now;
  const ruleOf = (project: ProjectRow) => productUrlRule(project, deps.allowInternalUrls);

  function requireAdvertiser(project: ProjectRow): void {
    if (project.kind !== 'advertiser') throw conflict('not_an_advertiser', 'Products belong to advertiser projects');
  }

  function create(project: ProjectRow, input: unknown) {
    requireAdvertiser(project);
    const product = parseProduct(input, project.id, ruleOf(project), now());
    if (product.sku !== null && deps.repo.bySku(project.id, product.sku)) throw skuTaken(product.sku);
    deps.repo.insert(product);
    return toProductView(deps.repo.get(product.id)!);
  }

  function requireLive(project: ProjectRow, productId: string): ProductRow {
    const row = deps.repo.getLive(project.id, productId);
    if (!row) throw notFound('product_not_found', `No product with id ${productId} in this project`);
    return row;
  }

  /** Edits the fields present in `input`; a sku used by another live product of the advertiser is a 409. */
  function update(project: ProjectRow, productId: string, input: Record<string, unknown>) {
    requireAdvertiser(project);
    const row = requireLive(project, productId);
    const fields = parseProductEdit(input, ruleOf(project));
    if (fields.sku && fields.sku !== row.sku && deps.repo.bySku(project.id, fields.sku)) throw skuTaken(fields.sku);
    try {
      deps.repo.edit(row, fields, now());
    } catch (err) {
      if (isSkuConflict(err)) throw skuTaken(fields.sku);
      throw err;
    }
    return toProductView(deps.repo.get(productId)!);
  }

  /** Soft delete: the row stays for impressions, clicks and analytics; lists, campaigns and serving drop it. */
  function remove(project: ProjectRow, productId: string) {
    requireAdvertiser(project);
    requireLive(project, productId);
    deps.repo.softDelete(productId, now());
    return { id: productId, object: 'product' as const, deleted: true };
  }

  /** JSON Lines, one product per line. Good lines are kept; bad ones are reported with their line number. */
  function importLines(project: ProjectRow, body: string, firstLine = 1): ImportReport {
    requireAdvertiser(project);
    const report: ImportReport = { imported: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [], product_ids: [] };
    let batch: NewProduct[] = [];
    const flush = () => {
      for (const { id, outcome } of deps.repo.upsertMany(batch)) {
        report[outcome]++;
        report.product_ids.push(id);
      }
      report.imported += batch.length;
      batch = [];
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
    return report;
  }

  function list(projectId: string, limit: number, cursor: string | null) {
    checkLimit(limit, MAX_PRODUCTS_PAGE);
    const { page, has_more, next_cursor } = pageOf(deps.repo.list(projectId, seqCursor(cursor, 0), limit + 1), limit, (p) => String(p.seq));
    return { object: 'list' as const, data: page.map(toProductView), has_more, next_cursor };
  }

  /**
   * Where a tracked link of this product may redirect now, or null. The stored URL is judged again against
   * the advertiser's current domain, verification and link_domains (two primary-key reads), so a domain
   * that changes or loses its verification stops the redirects at once.
   */
  function redirectUrl(productId: string): string | null {
    const product = deps.repo.get(productId);
    const project = product ? deps.findProject(product.project_id) : null;
    if (!product || !project) return null;
    const judged = safeParseProductUrl(product.url, ruleOf(project));
    return judged.ok ? judged.url : null;
  }

  return { create, update, remove, importLines, list, redirectUrl, get: deps.repo.get, idsOwnedBy: deps.repo.idsOwnedBy };
}
export type ProductsService = ReturnType<typeof createProductsService>;
