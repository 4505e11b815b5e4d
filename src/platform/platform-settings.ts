import type { Config } from '../config/config';
import type { ModelPrice } from '../config/providers';
import { badRequest } from '../http/errors';
import { formatMicros, parseUsdToMicros } from '../money/money';
import type { ModelCatalog } from '../models/catalog';
import type { ChangeFeed } from '../store/change-feed';
import type { SettingsRepo } from '../store/settings.repo';

/** The settings row holding what the operator changed from the dashboard (JSON; absent: the config file's values). */
const KEY = 'platform_settings';
const DAY_MS = 86_400_000;
const MAX_HOLD_DAYS = 3650;

/** What the operator changed; anything absent is the config file's value. Integers only: basis points, ms, micros. */
type Overrides = {
  publisher_share_bps?: number;
  earnings_hold_ms?: number;
  prices?: Record<string, { input_micros: number; output_micros: number }>;
};

export type PlatformSettingsPatch = {
  publisher_share_percent?: number | null;
  earnings_hold_days?: number | null;
  prices?: Record<string, { input: string; output: string } | null>;
};

function parsed(text: string | null): Overrides {
  if (!text) return {};
  try {
    const o = JSON.parse(text);
    return o && typeof o === 'object' ? o : {};
  } catch {
    return {};
  }
}

/**
 * The publisher's share of a click, the hold period of earnings and the model prices, as the operator set them
 * in the dashboard over the config file's values. Stored in the settings table (shared by every instance on one
 * store) and applied in memory at once: a click is split, and a request priced, with the values current when it
 * starts. Another instance hears of a change through the change feed (and re-reads at every catch-up).
 */
export function createPlatformSettings(deps: { config: Config; settings: SettingsRepo; catalog: ModelCatalog; feed: ChangeFeed }) {
  let overrides: Overrides = {};
  let split = { publisherShareBps: deps.config.ads.publisherShareBps, earningsHoldMs: deps.config.ads.earningsHoldMs };

  function apply(next: Overrides) {
    overrides = next;
    split = {
      publisherShareBps: next.publisher_share_bps ?? deps.config.ads.publisherShareBps,
      earningsHoldMs: next.earnings_hold_ms ?? deps.config.ads.earningsHoldMs,
    };
    const prices: Record<string, ModelPrice> = { ...deps.config.prices };
    for (const [model, p] of Object.entries(next.prices ?? {})) prices[model] = { inputMicrosPerMTok: p.input_micros, outputMicrosPerMTok: p.output_micros };
    deps.catalog.setPrices(prices);
  }

  const load = async () => apply(parsed(await deps.settings.get(KEY)));
  deps.feed.subscribe('settings', (id) => {
    if (id === KEY) void load();
  });
  deps.feed.onCatchUp(() => void load());

  /** Checks a patch and merges it over the current overrides; null puts a value back to the config file's. */
  function merged(patch: PlatformSettingsPatch): Overrides {
    const next: Overrides = { ...overrides, prices: { ...(overrides.prices ?? {}) } };
    if (patch.publisher_share_percent !== undefined) {
      if (patch.publisher_share_percent === null) delete next.publisher_share_bps;
      else {
        const bps = Math.round(patch.publisher_share_percent * 100);
        if (!Number.isFinite(patch.publisher_share_percent) || Math.abs(bps - patch.publisher_share_percent * 100) > 1e-6 || bps < 0 || bps > 10_000)
          throw badRequest('invalid_value', 'publisher_share_percent must be from 0 to 100 with at most two decimals', 'publisher_share_percent');
        next.publisher_share_bps = bps;
      }
    }
    if (patch.earnings_hold_days !== undefined) {
      if (patch.earnings_hold_days === null) delete next.earnings_hold_ms;
      else {
        if (!Number.isFinite(patch.earnings_hold_days) || patch.earnings_hold_days < 0 || patch.earnings_hold_days > MAX_HOLD_DAYS)
          throw badRequest('invalid_value', `earnings_hold_days must be from 0 to ${MAX_HOLD_DAYS}`, 'earnings_hold_days');
        next.earnings_hold_ms = Math.round(patch.earnings_hold_days * DAY_MS);
      }
    }
    for (const [model, price] of Object.entries(patch.prices ?? {})) {
      if (deps.catalog.resolve(model)?.id !== model && !Object.hasOwn(overrides.prices ?? {}, model))
        throw badRequest('invalid_value', `${model} is not a model this gateway serves (an alias takes the price of its model)`, `prices.${model}`);
      if (price === null) {
        delete next.prices![model];
        continue;
      }
      const input = parseUsdToMicros(price.input);
      const output = parseUsdToMicros(price.output);
      if (input === null || output === null || input < 0 || output < 0)
        throw badRequest('invalid_value', 'a price is a decimal string of USD per million tokens, e.g. "0.15"', `prices.${model}`);
      next.prices![model] = { input_micros: input, output_micros: output };
    }
    return next;
  }

  return {
    /** Reads the stored overrides (at start, before serving). */
    load,
    /** The split of a click now: read on every click, in memory. */
    split: () => split,
    async update(patch: PlatformSettingsPatch): Promise<void> {
      const next = merged(patch);
      await deps.settings.put(KEY, JSON.stringify(next));
      apply(next);
      deps.feed.announce('settings', KEY);
    },
    /** The values in force, each with where it comes from. */
    view() {
      return {
        publisher_share_percent: split.publisherShareBps / 100,
        publisher_share_source: overrides.publisher_share_bps === undefined ? 'config' : 'dashboard',
        earnings_hold_days: split.earningsHoldMs / DAY_MS,
        earnings_hold_source: overrides.earnings_hold_ms === undefined ? 'config' : 'dashboard',
        models: deps.catalog.ids().map((id) => {
          const route = deps.catalog.resolve(id);
          const price = route?.price;
          return {
            id,
            providers: route ? route.providers.map((p) => p.name) : [],
            input_per_mtok: price ? formatMicros(price.inputMicrosPerMTok) : null,
            input_per_mtok_micros: price ? price.inputMicrosPerMTok : null,
            output_per_mtok: price ? formatMicros(price.outputMicrosPerMTok) : null,
            output_per_mtok_micros: price ? price.outputMicrosPerMTok : null,
            price_source: overrides.prices?.[id] ? 'dashboard' : 'config',
          };
        }),
      };
    },
  };
}
export type PlatformSettings = ReturnType<typeof createPlatformSettings>;
