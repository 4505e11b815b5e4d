/**
 * A product as the API and imports receive it: one TypeBox schema for the create body (also each line of a
 * JSON Lines import) and one for edits, shared by the routes and the products service, so a product is checked
 * the same way whichever way it arrives. URL rules, trimming and category normalization stay in the service.
 */
import { Type as T } from '@sinclair/typebox';
import { NOT_BLANK, Nullable, validator } from '../http/schema';

export const PRODUCT_LIMITS = { nameChars: 200, descriptionChars: 2000, urlChars: 2048, keywords: 20, keywordChars: 60, categoryChars: 64, skuChars: 100 };
export const MAX_PRODUCTS_PAGE = 10_000;

const productFields = {
  name: T.String({ minLength: 1, maxLength: PRODUCT_LIMITS.nameChars, pattern: NOT_BLANK, example: 'Kanbanix Boards' }),
  description: T.String({ minLength: 1, maxLength: PRODUCT_LIMITS.descriptionChars, pattern: NOT_BLANK, example: 'Kanban boards for small teams planning projects.' }),
  url: T.String({ minLength: 1, maxLength: PRODUCT_LIMITS.urlChars, 'x-error-code': 'invalid_url', example: 'https://kanbanix.example/boards', description: 'http(s), on the advertiser\'s verified domain or one of its link_domains' }),
  keywords: T.Array(T.String({ minLength: 1, maxLength: PRODUCT_LIMITS.keywordChars, pattern: NOT_BLANK }), { maxItems: PRODUCT_LIMITS.keywords, example: ['project management', 'kanban'] }),
  category: Nullable(T.String({ maxLength: PRODUCT_LIMITS.categoryChars, example: 'productivity_software' }), { description: 'Normalized to lower_snake_case; null clears it' }),
  sku: Nullable(T.String({ maxLength: PRODUCT_LIMITS.skuChars, example: 'KB-TEAM' }), { description: 'Your own product id; unique per advertiser among live products; imports upsert by it' }),
};

export const CreateProductBody = validator(T.Object({
  name: productFields.name, description: productFields.description, url: productFields.url,
  keywords: T.Optional(productFields.keywords), category: T.Optional(productFields.category), sku: T.Optional(productFields.sku),
}, { additionalProperties: false }), 'product');

export const UpdateProductBody = validator(T.Partial(T.Object(productFields, { additionalProperties: false })), 'product');

