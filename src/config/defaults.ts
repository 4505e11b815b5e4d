import gates from '../ads/models/gates.json' with { type: 'json' };

/**
 * Documented defaults. Prices are USD per million tokens (input, output) for common models; the operator
 * overrides or extends them in the config file. A model without a price is never served.
 */
export const DEFAULT_PRICES_USD_PER_MTOK: Record<string, [input: string, output: string]> = {
  'vexrail-demo': ['0.10', '0.40'],
  'gpt-4o-mini': ['0.15', '0.60'],
  'gpt-4o': ['2.50', '10.00'],
  'gpt-4.1': ['2.00', '8.00'],
  'gpt-4.1-mini': ['0.40', '1.60'],
  'gpt-4.1-nano': ['0.10', '0.40'],
  'o4-mini': ['1.10', '4.40'],
  'o3-mini': ['1.10', '4.40'],
  'gpt-3.5-turbo': ['0.50', '1.50'],
};

/**
 * The most tokens each known model can write in one answer (the providers' published output limits). A
 * request asking for more is held, and sent upstream, at this cap; the operator overrides or extends it under
 * "max_output_tokens" in the config file. Models not listed use DEFAULT_LIMITS.defaultMaxOutputTokens.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS: Record<string, number> = {
  'vexrail-demo': 4096,
  'gpt-4o-mini': 16_384,
  'gpt-4o': 16_384,
  'gpt-4.1': 32_768,
  'gpt-4.1-mini': 32_768,
  'gpt-4.1-nano': 32_768,
  'o4-mini': 100_000,
  'o3-mini': 100_000,
  'gpt-3.5-turbo': 4096,
};

export const DEFAULT_LIMITS = {
  maxBodyBytes: 4 * 1024 * 1024,
  maxMessages: 1000,
  maxContentChars: 1_000_000,
  maxConversationIdChars: 128,
  maxModelChars: 256,
  /** A request whose budget cannot cover at least this many answer tokens is refused (403). */
  minAnswerTokens: 16,
  maxTokensCeiling: 1_000_000,
  /** Output cap of a priced model missing from DEFAULT_MAX_OUTPUT_TOKENS and from the config file. */
  defaultMaxOutputTokens: 32_768,
  /** Body of a JSON Lines product import. */
  maxImportBytes: 64 * 1024 * 1024,
};

export const DEFAULT_TIMEOUTS = {
  /** Whole upstream request, first byte to last. */
  requestTimeoutMs: 600_000,
  /** Until the upstream sends its response headers. */
  firstByteTimeoutMs: 60_000,
  /** Longest silence inside a stream before we give up on the upstream. */
  idleTimeoutMs: 120_000,
};

/** Failover between the providers of a model; each is a per-provider setting in the config file. */
export const DEFAULT_PROVIDER_POLICY = {
  /** Retries on the same provider after a connection error, 5xx, 429 or first-byte timeout. */
  retries: 1,
  /** First backoff (doubled per retry, full jitter). */
  retryBackoffMs: 250,
  /** Consecutive failures that open a provider's circuit breaker. */
  breakerFailures: 5,
  /** How long an open breaker skips the provider before one probe request. */
  breakerCooldownMs: 30_000,
};

/** Marketplace defaults; all are operator settings under "ads" in the config file. */
export const DEFAULT_ADS = {
  /** The publisher's share of each charged click, in percent; the platform keeps the rest. */
  publisherSharePercent: 70,
  /** Days a publisher earning stays pending before it becomes available. */
  earningsHoldDays: 7,
  /**
   * Candidates below this relevance (0..1) are never shown. This and the two thresholds below were chosen
   * together on the dev split by scripts/tune-promotion-gates.ts for the whole gate chain (the safety stage
   * catching 99 % of sensitive conversations, with a margin; at most 2 % promoted on conversations without
   * shopping intent; fill at least 80 %, or the most dev reaches; then the fewest promotions on sensitive
   * conversations and the best Hit@5). The three are read from src/ads/models/gates.json, which the tuner
   * writes, so a retune changes the defaults with it.
   */
  relevanceFloor: gates.relevanceFloor,
  /** The lowest price a click can have, USD. */
  minCpc: '0.01',
  /** Days a tracked link stays valid. */
  clickTtlDays: 30,
  /** Shopping-intent probability (0..1) a conversation needs before any promotion is considered (see relevanceFloor). */
  intentThreshold: gates.intentThreshold,
  /**
   * Safety-model probability (0..1) from which a conversation counts as sensitive, besides the lexicon (see
   * relevanceFloor: chosen for the chain, where intent and relevance stop most sensitive conversations too).
   */
  safetyThreshold: gates.safetyThreshold,
  /** "off", or "llm": a configured model confirms intent, safety and fit before a promotion is shown. */
  judge: 'off' as 'off' | 'llm',
  /** The model the judge asks (a model this gateway serves); null: the first priced model of the first provider. */
  judgeModel: null as string | null,
  /** How long the judge may take past the end of the answer before the promotion is dropped. */
  judgeTimeoutMs: 1500,
  /** Promotion search: the most products one campaign may contribute to a result list. */
  maxProductsPerCampaign: 3,
};

export const DEFAULT_KEEPALIVE_MS = 15_000;
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
export const DEMO_MODEL_ID = 'vexrail-demo';
