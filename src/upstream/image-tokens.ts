/**
 * Prompt tokens of one image input, after OpenAI's published rules (vision guide, "Calculating costs").
 *
 * Tile models: `detail: "low"` costs the base tokens; "high" and "auto" scale the image to fit 2048 x 2048, then
 * down so its shortest side is at most 768 px, and add the tile tokens for each 512 px tile. Patch models (GPT-4.1
 * mini/nano, o4-mini, GPT-5 mini/nano) count 32 px patches, at most 1536, times a per-model multiplier, whatever the
 * detail. The gateway does not download images, so an image of unknown size is held at the most any size costs.
 */
export type ImagePricing =
  | { kind: 'tiles'; baseTokens: number; tileTokens: number }
  | { kind: 'patches'; multiplier: number };
export type ImageSize = { widthPx: number; heightPx: number };

const FIT_PX = 2048;
const SHORT_SIDE_PX = 768;
const TILE_PX = 512;
/** After the scaling no image needs more than 2 x 4 tiles (768 x 2048). */
export const MAX_TILES = Math.ceil(SHORT_SIDE_PX / TILE_PX) * Math.ceil(FIT_PX / TILE_PX);
const PATCH_PX = 32;
const MAX_PATCHES = 1536;

const tiles = (baseTokens: number, tileTokens: number): ImagePricing => ({ kind: 'tiles', baseTokens, tileTokens });
const patches = (multiplier: number): ImagePricing => ({ kind: 'patches', multiplier });

/** Models that bill images differently from GPT-4o, by id prefix (first match wins); the rest use DEFAULT_IMAGE_PRICING. */
const IMAGE_PRICING_BY_PREFIX: Array<[prefix: string, pricing: ImagePricing]> = [
  ['gpt-4o-mini', tiles(2833, 5667)],
  ['gpt-4.1-mini', patches(1.62)],
  ['gpt-4.1-nano', patches(2.46)],
  ['gpt-5-mini', patches(1.62)],
  ['gpt-5-nano', patches(2.46)],
  ['o4-mini', patches(1.72)],
  ['o1', tiles(75, 150)],
  ['o3', tiles(75, 150)],
];
/** GPT-4o, GPT-4.1 and, as an estimate, models from other providers. */
export const DEFAULT_IMAGE_PRICING = tiles(85, 170);

export function imagePricingFor(model: string): ImagePricing {
  for (const [prefix, pricing] of IMAGE_PRICING_BY_PREFIX) if (model.startsWith(prefix)) return pricing;
  return DEFAULT_IMAGE_PRICING;
}

/** 512 px tiles of an image after the fit-in-2048 and shortest-side-768 down-scaling. */
export function imageTileCount(size: ImageSize): number {
  let w = size.widthPx;
  let h = size.heightPx;
  const fit = Math.min(1, FIT_PX / Math.max(w, h));
  w *= fit;
  h *= fit;
  const shrink = Math.min(1, SHORT_SIDE_PX / Math.min(w, h));
  return Math.ceil((w * shrink) / TILE_PX) * Math.ceil((h * shrink) / TILE_PX);
}

function patchCount(size: ImageSize): number {
  return Math.min(MAX_PATCHES, Math.ceil(size.widthPx / PATCH_PX) * Math.ceil(size.heightPx / PATCH_PX));
}

/** Tokens of one image; `size` null when unknown (then the largest any size costs). */
export function countImageTokens(pricing: ImagePricing, detail: unknown, size: ImageSize | null): number {
  if (pricing.kind === 'patches') return Math.ceil((size ? patchCount(size) : MAX_PATCHES) * pricing.multiplier);
  if (detail === 'low') return pricing.baseTokens;
  return pricing.baseTokens + pricing.tileTokens * (size ? imageTileCount(size) : MAX_TILES);
}
