import { ConfigError, toNonNegativeInt, toPositiveInt } from './config-values';
import { DEFAULT_PROVIDER_POLICY, DEFAULT_TIMEOUTS, DEMO_MODEL_ID } from './defaults';

export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'demo';

export type ProviderConfig = {
  name: string;
  /**
   * The provider's HTTP API: 'openai' (OpenAI-compatible, the default), 'anthropic' (Messages API), 'gemini'
   * (Generative Language API); 'demo' is the built-in offline model.
   */
  kind: ProviderKind;
  baseUrl: string;
  apiKey: string | null;
  /** Explicit model ids, or ['*'] for every priced model. */
  models: string[];
  requestTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Rank among the providers of a model: lower is tried first. Default: the provider's position in the list. */
  priority: number;
  /** Share of traffic among providers of equal priority (relative to their sum). */
  weight: number;
  /** Retries on this provider after a retryable failure, before moving to the next one. */
  retries: number;
  /** First backoff before a retry (doubled each time, with full jitter); a Retry-After from the provider wins. */
  retryBackoffMs: number;
  /** Consecutive failures that open the circuit breaker, and how long it stays open before one probe. */
  breakerFailures: number;
  breakerCooldownMs: number;
  /** Ask the provider's model list at start and every 10 minutes; serve only what it lists. */
  discover: boolean;
};

export type ModelPrice = { inputMicrosPerMTok: number; outputMicrosPerMTok: number };

const KINDS = new Set<ProviderKind>(['openai', 'anthropic', 'gemini']);

function providerFromFile(raw: any, env: Record<string, string | undefined>, index: number): ProviderConfig {
  const name = String(raw?.name ?? `provider${index + 1}`);
  if (typeof raw?.base_url !== 'string') throw new ConfigError(`providers[${index}].base_url is required`);
  const kind = (raw.kind ?? 'openai') as ProviderKind;
  if (!KINDS.has(kind)) throw new ConfigError(`${name}.kind must be "openai", "anthropic" or "gemini"`);
  const apiKey = raw.api_key ?? (raw.api_key_env ? env[raw.api_key_env] : undefined) ?? null;
  const models = Array.isArray(raw.models) && raw.models.length > 0 ? raw.models.map(String) : ['*'];
  const breaker = raw.breaker ?? {};
  const weight = raw.weight === undefined ? 1 : Number(raw.weight);
  if (!Number.isFinite(weight) || weight <= 0) throw new ConfigError(`${name}.weight must be a number above 0`);
  return {
    name,
    kind,
    baseUrl: String(raw.base_url).replace(/\/+$/, ''),
    apiKey,
    models,
    requestTimeoutMs: toPositiveInt(raw.timeout_ms, DEFAULT_TIMEOUTS.requestTimeoutMs, `${name}.timeout_ms`),
    firstByteTimeoutMs: toPositiveInt(raw.first_byte_timeout_ms, DEFAULT_TIMEOUTS.firstByteTimeoutMs, `${name}.first_byte_timeout_ms`),
    idleTimeoutMs: toPositiveInt(raw.idle_timeout_ms, DEFAULT_TIMEOUTS.idleTimeoutMs, `${name}.idle_timeout_ms`),
    priority: toNonNegativeInt(raw.priority, index, `${name}.priority`),
    weight,
    retries: toNonNegativeInt(raw.retries, DEFAULT_PROVIDER_POLICY.retries, `${name}.retries`),
    retryBackoffMs: toPositiveInt(raw.retry_backoff_ms, DEFAULT_PROVIDER_POLICY.retryBackoffMs, `${name}.retry_backoff_ms`),
    breakerFailures: toPositiveInt(breaker.failures, DEFAULT_PROVIDER_POLICY.breakerFailures, `${name}.breaker.failures`),
    breakerCooldownMs: toPositiveInt(breaker.cooldown_ms, DEFAULT_PROVIDER_POLICY.breakerCooldownMs, `${name}.breaker.cooldown_ms`),
    discover: raw.discover === true,
  };
}

/** The configured providers, the OPENAI_* environment's first; the offline demo model when there are none. */
export function loadProviders(file: any, env: Record<string, string | undefined>): ProviderConfig[] {
  const fromFile: any[] = Array.isArray(file.providers) ? [...file.providers] : [];
  if (env.OPENAI_BASE_URL || env.OPENAI_API_KEY) {
    const models = env.OPENAI_MODELS ? env.OPENAI_MODELS.split(',').map((m) => m.trim()).filter(Boolean) : ['*'];
    fromFile.unshift({ name: 'openai', base_url: env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1', api_key: env.OPENAI_API_KEY, models });
  }
  const providers = fromFile.map((raw, i) => providerFromFile(raw, env, i));
  const names = new Set<string>();
  for (const p of providers) {
    if (names.has(p.name)) throw new ConfigError(`two providers are named "${p.name}": give each a distinct "name" (it labels metrics, health and the x-vexrail-provider header)`);
    names.add(p.name);
  }
  // The offline demo model answers only when no upstream is configured: it never hides a real one.
  if (providers.length === 0)
    providers.push({
      name: 'demo',
      kind: 'demo',
      baseUrl: 'demo://local',
      apiKey: null,
      models: [DEMO_MODEL_ID],
      ...DEFAULT_TIMEOUTS,
      priority: 0,
      weight: 1,
      retries: 0,
      retryBackoffMs: DEFAULT_PROVIDER_POLICY.retryBackoffMs,
      breakerFailures: DEFAULT_PROVIDER_POLICY.breakerFailures,
      breakerCooldownMs: DEFAULT_PROVIDER_POLICY.breakerCooldownMs,
      discover: false,
    });
  return providers;
}

export function checkPricedModels(providers: ProviderConfig[], prices: Record<string, ModelPrice>): void {
  for (const provider of providers)
    for (const model of provider.models)
      if (model !== '*' && !prices[model])
        throw new ConfigError(
          `model "${model}" of provider "${provider.name}" has no price: add it under "prices" (use "0" to serve it free)`,
        );
}

/** `"aliases": {"fast": "gpt-4o-mini"}`: each alias names a priced model and is not itself one. */
export function loadAliases(raw: unknown, prices: Record<string, ModelPrice>): Record<string, string> {
  const aliases: Record<string, string> = {};
  for (const [alias, target] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    const to = String(target);
    if (prices[alias]) throw new ConfigError(`aliases.${alias}: "${alias}" is already a priced model; an alias needs a name of its own`);
    if (!prices[to]) throw new ConfigError(`aliases.${alias}: the target "${to}" has no price (aliases point at priced models, not at other aliases)`);
    aliases[alias] = to;
  }
  return aliases;
}
