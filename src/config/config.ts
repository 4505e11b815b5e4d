import { dirname, join, resolve } from 'node:path';
import { parseUsdToMicros } from '../money/money';
import { DEFAULT_LAG_PROBE_MS } from '../ops/event-loop-lag';
import { configFileErrors, parseJsonWithPosition } from './config-schema';
import { ConfigError, toPositiveInt } from './config-values';
import { checkPricedModels, loadAliases, loadProviders, type ModelPrice, type ProviderConfig } from './providers';
import {
  DEFAULT_ADS,
  DEFAULT_FLUSH_INTERVAL_MS,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_LIMITS,
  DEFAULT_MAX_OUTPUT_TOKENS,
  DEFAULT_PRICES_USD_PER_MTOK,
} from './defaults';

export { helpText } from './help';
export { ConfigError } from './config-values';
export type { ModelPrice, ProviderConfig, ProviderKind } from './providers';

/** The only module that reads the environment; everything else receives a frozen Config. */


export type Limits = typeof DEFAULT_LIMITS;

export type AdsSettings = {
  publisherShareBps: number;
  earningsHoldMs: number;
  relevanceFloor: number;
  minCpcMicros: number;
  clickTtlMs: number;
  intentThreshold: number;
  safetyThreshold: number;
  judge: 'off' | 'llm';
  judgeModel: string | null;
  judgeTimeoutMs: number;
  maxProductsPerCampaign: number;
};

export type Config = Readonly<{
  command: 'serve' | 'backup' | 'import-products' | 'admin-token' | 'check-config' | 'migrate-store' | 'help' | 'version';
  backupFile: string | null;
  /** migrate-store: the PostgreSQL URL to copy the SQLite store into. */
  migrateTo: string | null;
  /** import-products: project id, absolute file path, gateway base URL (no trailing slash), admin token. */
  importProject: string | null;
  importFile: string | null;
  importUrl: string | null;
  importToken: string | null;
  port: number;
  host: string;
  dataDir: string;
  /** How dataDir was chosen, printed at start so `npm start` and the binary say which directory they use. */
  dataDirSource: '--data-dir' | 'VEXRAIL_DATA_DIR' | 'config file data_dir' | 'default';
  /** check-config: the absolute path of the file that was validated. */
  configFile: string | null;
  publicUrl: string | null;
  /**
   * Origins (`http://host[:port]` or `https://...`, from `--allowed-hosts`) a request's Host header may select
   * for its tracked links. Links are built only from trusted origins: the public URL, one of these, or the
   * listen address.
   */
  allowedLinkOrigins: string[];
  /** Intranet installs only: product URLs may point at loopback, private, link-local or metadata addresses. */
  allowInternalProductUrls: boolean;
  /** Largest answer each model can produce (tokens): the worst-case credit hold never reserves more. */
  maxOutputTokens: Record<string, number>;
  adminToken: string | null;
  seedDemo: boolean;
  providers: ProviderConfig[];
  /** Other names for priced models (`fast` -> `gpt-4o-mini`), resolved before routing. */
  aliases: Record<string, string>;
  prices: Record<string, ModelPrice>;
  limits: Limits;
  ads: AdsSettings;
  keepAliveMs: number;
  flushIntervalMs: number;
  /** postgres://... selects PostgreSQL as the store (several instances may share it); null: the embedded SQLite file. */
  databaseUrl: string | null;
  /** On PostgreSQL, a credit hold not renewed for this long (its instance died) is given back by the others. */
  holdTtlMs: number;
  /** Connections this instance keeps to PostgreSQL. */
  databasePoolSize: number;
  logRequests: boolean;
  /** Request-log lines: JSON (default), logfmt, or a short human-readable line for a terminal. */
  logFormat: 'json' | 'logfmt' | 'pretty';
  /** A read-only bearer token for GET /metrics besides the admin token (stored nowhere; compared hashed). */
  metricsToken: string | null;
  /** Period of the event-loop lag timer (ms); 1 to measure stalls of a few milliseconds. */
  lagProbeMs: number;
  /** Dashboard sign-up: by the operator's invite only (default), or open to anyone. */
  dashboardSignup: 'invite' | 'open';
}>;


type LoadInput = {
  argv: string[];
  env: Record<string, string | undefined>;
  readFile?: (path: string) => string;
  /** Where the data directory goes by default: beside the executable, or the working directory. */
  defaultDataParent: string;
};

type Flags = Record<string, string | true>;

const FLAGS_WITH_VALUE = new Set(['port', 'host', 'data-dir', 'database', 'config', 'public-url', 'allowed-hosts', 'log-format', 'url', 'token', 'to']);
const BOOLEAN_FLAGS = new Set(['help', 'version', 'demo', 'quiet', 'reset']);

function parseArgv(argv: string[]): { positionals: string[]; flags: Flags } {
  const positionals: string[] = [];
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') flags.help = true;
    else if (arg === '-v') flags.version = true;
    else if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
      if (BOOLEAN_FLAGS.has(name)) flags[name] = true;
      else if (FLAGS_WITH_VALUE.has(name)) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new ConfigError(`--${name} needs a value`);
        flags[name] = value;
      } else throw new ConfigError(`unknown option --${name} (see --help)`);
    } else positionals.push(arg);
  }
  return { positionals, flags };
}

function pick(flag: string | true | undefined, envValue: string | undefined, fileValue: unknown): unknown {
  if (typeof flag === 'string') return flag;
  if (envValue !== undefined && envValue !== '') return envValue;
  return fileValue;
}

function toPort(value: unknown): number {
  const port = Number(value ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${value}`);
  return port;
}

function toBaseUrl(value: unknown): string {
  let url: URL | null = null;
  try {
    url = new URL(String(value));
  } catch {}
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new ConfigError(`invalid URL: ${value} (expected http://host:port)`);
  return String(value).replace(/\/+$/, '');
}

function priceFromUsd(model: string, value: unknown): ModelPrice {
  const pair = Array.isArray(value) ? value : [(value as any)?.input, (value as any)?.output];
  const [input, output] = pair.map((v) => (typeof v === 'number' ? String(v) : v));
  const inputMicros = typeof input === 'string' ? parseUsdToMicros(input) : null;
  const outputMicros = typeof output === 'string' ? parseUsdToMicros(output) : null;
  if (inputMicros === null || outputMicros === null)
    throw new ConfigError(`prices.${model} needs {"input": "USD per 1M tokens", "output": "..."}`);
  return { inputMicrosPerMTok: inputMicros, outputMicrosPerMTok: outputMicros };
}

function loadPrices(filePrices: unknown): Record<string, ModelPrice> {
  const prices: Record<string, ModelPrice> = {};
  for (const [model, pair] of Object.entries(DEFAULT_PRICES_USD_PER_MTOK)) prices[model] = priceFromUsd(model, pair);
  if (filePrices && typeof filePrices === 'object')
    for (const [model, value] of Object.entries(filePrices)) prices[model] = priceFromUsd(model, value);
  return prices;
}

/**
 * `a.example, https://b.example:8443` or a JSON array: each a host with an optional port, or an http(s) origin.
 * Returned as lower-case origins; a bare host means http.
 */
function toOriginList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return items.map((h) => h.trim().toLowerCase()).filter(Boolean).map((item) => {
    const match = /^(https?:\/\/)?((\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?)\/?$/.exec(item);
    if (!match) throw new ConfigError(`allowed host "${item}" is not a host name with an optional port (or an http(s) origin)`);
    return `${match[1] ?? 'http://'}${match[2]}`;
  });
}

function toLogFormat(value: unknown): Config['logFormat'] {
  if (value === undefined || value === null || value === '') return 'json';
  if (value === 'json' || value === 'logfmt' || value === 'pretty') return value;
  throw new ConfigError(`--log-format must be json, logfmt or pretty (got "${value}")`);
}

function toBoolean(value: unknown, name: string): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false`);
}

function loadMaxOutputTokens(raw: unknown): Record<string, number> {
  const result: Record<string, number> = { ...DEFAULT_MAX_OUTPUT_TOKENS };
  if (raw && typeof raw === 'object')
    for (const [model, value] of Object.entries(raw)) {
      if (value === null || value === undefined) throw new ConfigError(`max_output_tokens.${model} must be a positive integer`);
      result[model] = toPositiveInt(value, 0, `max_output_tokens.${model}`);
    }
  return result;
}

function loadAds(raw: any): AdsSettings {
  const a = { ...DEFAULT_ADS, ...(raw && typeof raw === 'object' ? raw : {}) };
  const share = Number(a.publisherSharePercent);
  if (!Number.isFinite(share) || share < 0 || share > 100) throw new ConfigError('ads.publisherSharePercent must be between 0 and 100');
  const floor = Number(a.relevanceFloor);
  if (!Number.isFinite(floor) || floor < 0 || floor >= 1) throw new ConfigError('ads.relevanceFloor must be between 0 and 1');
  const minCpc = parseUsdToMicros(String(a.minCpc));
  if (minCpc === null || minCpc <= 0) throw new ConfigError('ads.minCpc must be a positive USD amount such as "0.01"');
  const holdDays = Number(a.earningsHoldDays);
  if (!Number.isFinite(holdDays) || holdDays < 0 || holdDays > 3650) throw new ConfigError('ads.earningsHoldDays must be a number of days from 0 to 3650');
  const day = 86_400_000;
  const probability = (name: 'intentThreshold' | 'safetyThreshold') => {
    const value = Number(a[name]);
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new ConfigError(`ads.${name} must be between 0 and 1`);
    return value;
  };
  if (a.judge !== 'off' && a.judge !== 'llm') throw new ConfigError('ads.judge must be "off" or "llm"');
  if (a.judgeModel !== null && (typeof a.judgeModel !== 'string' || a.judgeModel === '')) throw new ConfigError('ads.judgeModel must be a model id');
  return {
    publisherShareBps: Math.round(share * 100),
    earningsHoldMs: Math.round(holdDays * day),
    relevanceFloor: floor,
    minCpcMicros: minCpc,
    clickTtlMs: toPositiveInt(a.clickTtlDays, DEFAULT_ADS.clickTtlDays, 'ads.clickTtlDays') * day,
    intentThreshold: probability('intentThreshold'),
    safetyThreshold: probability('safetyThreshold'),
    judge: a.judge,
    judgeModel: a.judgeModel,
    judgeTimeoutMs: toPositiveInt(a.judgeTimeoutMs, DEFAULT_ADS.judgeTimeoutMs, 'ads.judgeTimeoutMs'),
    maxProductsPerCampaign: toPositiveInt(a.maxProductsPerCampaign, DEFAULT_ADS.maxProductsPerCampaign, 'ads.maxProductsPerCampaign'),
  };
}


export function loadConfig(input: LoadInput): Config {
  const { positionals, flags } = parseArgv(input.argv);
  const env = input.env;
  let command: Config['command'] = 'serve';
  if (flags.help) command = 'help';
  else if (flags.version) command = 'version';
  else if (positionals[0] === 'backup') command = 'backup';
  else if (positionals[0] === 'import-products') command = 'import-products';
  else if (positionals[0] === 'admin-token') command = 'admin-token';
  else if (positionals[0] === 'check-config') command = 'check-config';
  else if (positionals[0] === 'migrate-store') command = 'migrate-store';
  else if (positionals[0] && positionals[0] !== 'serve') throw new ConfigError(`unknown command "${positionals[0]}" (see --help)`);
  if (command === 'backup' && !positionals[1]) throw new ConfigError('usage: vexrail backup FILE');
  if (command === 'import-products' && (positionals.length !== 3 || !positionals[1] || !positionals[2]))
    throw new ConfigError('usage: vexrail import-products PROJECT_ID FILE [--url URL] [--token TOKEN]');
  if (command === 'admin-token' && (positionals.length !== 1 || flags.reset !== true))
    throw new ConfigError('usage: vexrail admin-token --reset [--data-dir DIR]');
  if (command === 'check-config' && (positionals.length !== 2 || !positionals[1] || flags.config !== undefined))
    throw new ConfigError('usage: vexrail check-config FILE');
  if (command === 'migrate-store' && (positionals.length !== 1 || typeof flags.to !== 'string' || !/^postgres(ql)?:\/\//.test(flags.to)))
    throw new ConfigError('usage: vexrail migrate-store --to postgres://USER@HOST:PORT/DATABASE [--data-dir DIR]');
  if (flags.to !== undefined && command !== 'migrate-store') throw new ConfigError('--to only applies to migrate-store');
  if (flags.reset === true && command !== 'admin-token') throw new ConfigError('--reset only applies to admin-token');
  if ((command === 'serve' || command === 'backup' || command === 'admin-token') && (flags.url !== undefined || flags.token !== undefined))
    throw new ConfigError('--url and --token only apply to import-products (the admin token of serve is VEXRAIL_ADMIN_TOKEN)');

  const configPath = command === 'check-config' ? positionals[1] : (pick(flags.config, env.VEXRAIL_CONFIG, undefined) as string | undefined);
  let file: any = {};
  if (configPath) {
    const read = input.readFile ?? ((p: string) => require('node:fs').readFileSync(p, 'utf8'));
    let text: string;
    try {
      text = read(configPath);
    } catch (err) {
      throw new ConfigError(`cannot read config file ${configPath}: ${(err as Error).message}`);
    }
    try {
      file = parseJsonWithPosition(text);
    } catch (err) {
      throw new ConfigError(`config file ${configPath}: ${(err as Error).message}`);
    }
    const errors = configFileErrors(file);
    if (errors.length > 0)
      throw new ConfigError(`config file ${configPath} has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map((e) => `  ${e}`).join('\n')}`);
  }
  const prices = loadPrices(file.prices);
  const providers = loadProviders(file, env);
  checkPricedModels(providers, prices);
  const dataDir = resolve(
    String(pick(flags['data-dir'], env.VEXRAIL_DATA_DIR, file.data_dir) ?? join(input.defaultDataParent, 'vexrail_data')),
  );
  const dataDirSource: Config['dataDirSource'] = typeof flags['data-dir'] === 'string' ? '--data-dir'
    : env.VEXRAIL_DATA_DIR ? 'VEXRAIL_DATA_DIR' : file.data_dir != null ? 'config file data_dir' : 'default';
  const publicUrl = pick(flags['public-url'], env.VEXRAIL_PUBLIC_URL, file.public_url) as string | undefined;
  const importUrl = command === 'import-products'
    ? toBaseUrl(pick(flags.url, env.VEXRAIL_URL, undefined) ?? `http://127.0.0.1:${toPort(pick(flags.port, env.VEXRAIL_PORT, file.port))}`)
    : null;
  const limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(file.limits ?? {}))
    if (key in limits) (limits as any)[key] = toPositiveInt(value, (limits as any)[key], `limits.${key}`);
  return Object.freeze({
    command,
    backupFile: command === 'backup' ? resolve(positionals[1]) : null,
    migrateTo: command === 'migrate-store' ? (flags.to as string) : null,
    importProject: command === 'import-products' ? positionals[1] : null,
    importFile: command === 'import-products' ? resolve(positionals[2]) : null,
    importUrl,
    importToken: command === 'import-products' ? (typeof flags.token === 'string' && flags.token !== '' ? flags.token : env.VEXRAIL_ADMIN_TOKEN || null) : null,
    port: toPort(pick(flags.port, env.VEXRAIL_PORT, file.port)),
    host: String(pick(flags.host, env.VEXRAIL_HOST, file.host) ?? '127.0.0.1'),
    dataDir,
    dataDirSource,
    configFile: command === 'check-config' ? resolve(positionals[1]) : null,
    publicUrl: publicUrl ? toBaseUrl(publicUrl) : null,
    allowedLinkOrigins: Object.freeze(toOriginList(pick(flags['allowed-hosts'], env.VEXRAIL_ALLOWED_HOSTS, file.allowed_hosts))) as string[],
    allowInternalProductUrls: toBoolean(pick(undefined, env.VEXRAIL_ALLOW_INTERNAL_PRODUCT_URLS, file.allow_internal_product_urls), 'allow_internal_product_urls'),
    maxOutputTokens: Object.freeze(loadMaxOutputTokens(file.max_output_tokens)),
    adminToken: env.VEXRAIL_ADMIN_TOKEN || null,
    seedDemo: flags.demo === true,
    providers,
    aliases: Object.freeze(loadAliases(file.aliases, prices)),
    prices,
    limits: Object.freeze(limits),
    ads: Object.freeze(loadAds(file.ads)),
    keepAliveMs: toPositiveInt(file.keepalive_ms, DEFAULT_KEEPALIVE_MS, 'keepalive_ms'),
    flushIntervalMs: toPositiveInt(file.flush_interval_ms, DEFAULT_FLUSH_INTERVAL_MS, 'flush_interval_ms'),
    databaseUrl: databaseUrlOf(pick(flags.database, env.VEXRAIL_DATABASE_URL, file.database_url)),
    holdTtlMs: toPositiveInt(file.hold_ttl_ms, 30_000, 'hold_ttl_ms'),
    databasePoolSize: toPositiveInt(file.database_pool_size, 16, 'database_pool_size'),
    logRequests: !flags.quiet && env.VEXRAIL_LOG !== 'off',
    logFormat: toLogFormat(pick(flags['log-format'], env.VEXRAIL_LOG_FORMAT, file.log_format)),
    metricsToken: env.VEXRAIL_METRICS_TOKEN || null,
    dashboardSignup: file.dashboard?.signup === 'open' ? 'open' : 'invite',
    lagProbeMs: toPositiveInt(env.VEXRAIL_LAG_PROBE_MS || undefined, DEFAULT_LAG_PROBE_MS, 'VEXRAIL_LAG_PROBE_MS'),
  });
}

/** Default parent of the data directory: beside a compiled executable, else the working directory. */
export function defaultDataParent(execPath: string, cwd: string): string {
  const base = execPath.split('/').pop() ?? '';
  return base === 'bun' || base === 'node' || base === 'bun.exe' ? cwd : dirname(execPath);
}

/** The store's URL: absent for the embedded SQLite file; otherwise it must name PostgreSQL. */
function databaseUrlOf(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  const url = String(value);
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new ConfigError('--database (VEXRAIL_DATABASE_URL, database_url) must be a postgres:// URL; leave it out for the embedded SQLite store in the data directory');
  return url;
}
