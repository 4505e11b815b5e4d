/**
 * Rules of a JSON Lines product import shared by the server and the `import-products` command (which must
 * not load server code): a sku repeated within one import is taken from its first line, and each later line
 * with it fails with this message instead of updating the product the first line just wrote.
 */
export function repeatedSkuMessage(sku: string, firstLine: number): string {
  return `sku ${JSON.stringify(sku)} repeats line ${firstLine} of this import (the first line with a sku is kept; a later one is not applied)`;
}

/** The sku a product line names as the server reads it (trimmed, non-empty), or null; never throws. */
export function skuOfLine(line: string): string | null {
  if (!line.includes('"sku"')) return null;
  try {
    const value = JSON.parse(line);
    const sku = value && typeof value === 'object' && !Array.isArray(value) ? value.sku : null;
    return typeof sku === 'string' && sku.trim() !== '' ? sku.trim() : null;
  } catch {
    return null;
  }
}
