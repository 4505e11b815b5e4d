import { describe, expect, test } from 'bun:test';
import { ConfigError, defaultDataParent, loadConfig } from '../../src/config/config';

const load = (argv: string[], env: Record<string, string> = {}, file?: object) =>
  loadConfig({ argv, env, defaultDataParent: '/opt/vexrail', readFile: () => JSON.stringify(file ?? {}) });

describe('config', () => {
  test('defaults: serve on 127.0.0.1:8080, data dir beside the executable, demo model only', () => {
    const c = load([]);
    expect(c).toMatchObject({ command: 'serve', port: 8080, host: '127.0.0.1', dataDir: '/opt/vexrail/vexrail_data' });
    expect(c.providers.map((p) => p.kind)).toEqual(['demo']);
    expect(defaultDataParent('/usr/local/bin/vexrail', '/home/x')).toBe('/usr/local/bin');
    expect(defaultDataParent('/x/node_modules/bun/bin/bun', '/home/x')).toBe('/home/x');
  });

  test('flags beat environment variables, which beat the config file', () => {
    const env = { VEXRAIL_PORT: '9000', VEXRAIL_HOST: '0.0.0.0', VEXRAIL_DATA_DIR: '/env-data' };
    expect(load([], env)).toMatchObject({ port: 9000, host: '0.0.0.0', dataDir: '/env-data' });
    expect(load(['--port', '9100', '--data-dir=/flag-data'], env)).toMatchObject({ port: 9100, dataDir: '/flag-data' });
    expect(load(['--config', 'c.json'], {}, { port: 7000 }).port).toBe(7000);
    expect(load(['--config', 'c.json'], { VEXRAIL_CONFIG: 'x' }, { port: 7000 }).port).toBe(7000);
  });

  test('OPENAI_BASE_URL configures one upstream and the demo model steps aside', () => {
    const c = load([], { OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/', OPENAI_API_KEY: 'k' });
    expect(c.providers).toHaveLength(1);
    expect(c.providers[0]).toMatchObject({ kind: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', apiKey: 'k', models: ['*'] });
  });

  test('providers, prices and timeouts from the config file; an unpriced model is a clear error', () => {
    const file = { providers: [{ name: 'local', base_url: 'http://127.0.0.1:1234/v1', models: ['llama3'], timeout_ms: 5000 }], prices: { llama3: { input: '0', output: '0' } } };
    const c = load(['--config', 'c.json'], {}, file);
    expect(c.providers[0]).toMatchObject({ name: 'local', models: ['llama3'], requestTimeoutMs: 5000 });
    expect(c.prices.llama3).toEqual({ inputMicrosPerMTok: 0, outputMicrosPerMTok: 0 });
    expect(c.prices['gpt-4o-mini']).toEqual({ inputMicrosPerMTok: 150_000, outputMicrosPerMTok: 600_000 });
    expect(() => load(['--config', 'c.json'], {}, { providers: [{ base_url: 'http://x/v1', models: ['mystery'] }] })).toThrow(/no price/);
  });

  test('failover settings per provider, with documented defaults; aliases; clear errors', () => {
    const file = {
      providers: [
        { name: 'a', base_url: 'http://127.0.0.1:1/v1', models: ['gpt-4o'] },
        { name: 'b', kind: 'anthropic', base_url: 'https://api.anthropic.com/v1', models: ['gpt-4o'], priority: 0, weight: 2.5, retries: 3, retry_backoff_ms: 100, breaker: { failures: 2, cooldown_ms: 1000 }, discover: true },
      ],
      aliases: { smart: 'gpt-4o' },
    };
    const c = load(['--config', 'c.json'], {}, file);
    expect(c.providers[0]).toMatchObject({ kind: 'openai', priority: 0, weight: 1, retries: 1, retryBackoffMs: 250, breakerFailures: 5, breakerCooldownMs: 30_000, discover: false });
    expect(c.providers[1]).toMatchObject({ kind: 'anthropic', priority: 0, weight: 2.5, retries: 3, retryBackoffMs: 100, breakerFailures: 2, breakerCooldownMs: 1000, discover: true });
    expect(c.aliases).toEqual({ smart: 'gpt-4o' });
    const bad = (patch: object) => () => load(['--config', 'c.json'], {}, { ...file, ...patch });
    expect(bad({ providers: [{ name: 'a', base_url: 'http://x/v1' }, { name: 'a', base_url: 'http://y/v1' }] })).toThrow(/two providers are named "a"/);
    expect(bad({ providers: [{ base_url: 'http://x/v1', kind: 'cohere' }] })).toThrow(/kind: must be "openai", "anthropic" or "gemini"/);
    expect(bad({ providers: [{ base_url: 'http://x/v1', weight: 0 }] })).toThrow(/weight/);
    expect(bad({ providers: [{ base_url: 'http://x/v1', retries: -1 }] })).toThrow(/retries/);
    expect(bad({ providers: [{ base_url: 'http://x/v1', breaker: { failure: 3 } }] })).toThrow(/unknown key \(did you mean failures\?\)/);
    expect(bad({ aliases: { smart: 'mystery' } })).toThrow(/aliases.smart: the target "mystery" has no price/);
    expect(bad({ aliases: { 'gpt-4o-mini': 'gpt-4o' } })).toThrow(/already a priced model/);
  });

  test('commands and bad input', () => {
    expect(load(['--help']).command).toBe('help');
    expect(load(['--version']).command).toBe('version');
    expect(load(['backup', '/tmp/b.db'])).toMatchObject({ command: 'backup', backupFile: '/tmp/b.db' });
    expect(() => load(['backup'])).toThrow(ConfigError);
    expect(() => load(['--bogus'])).toThrow(/unknown option/);
    expect(() => load(['--port', '70000'])).toThrow(/invalid port/);
    expect(() => load(['frobnicate'])).toThrow(/unknown command/);
  });

  test('trusted link origins: allowed hosts from flag, env or file; bad entries and bad public URLs refused', () => {
    expect(load(['--allowed-hosts', 'GW.example.com, https://ai.example.com:8443/']).allowedLinkOrigins)
      .toEqual(['http://gw.example.com', 'https://ai.example.com:8443']);
    expect(load([], { VEXRAIL_ALLOWED_HOSTS: '[::1]:8080' }).allowedLinkOrigins).toEqual(['http://[::1]:8080']);
    expect(load(['--config', 'c.json'], {}, { allowed_hosts: ['a.example'] }).allowedLinkOrigins).toEqual(['http://a.example']);
    expect(load([]).allowedLinkOrigins).toEqual([]);
    for (const bad of ['a.example/path', 'user@a.example', 'ftp://a.example', 'a b'])
      expect(() => load(['--allowed-hosts', bad])).toThrow(ConfigError);
    expect(() => load(['--public-url', 'not a url'])).toThrow(ConfigError);
    expect(load(['--public-url', 'https://ads.example.org/']).publicUrl).toBe('https://ads.example.org');
  });

  test('per-model output caps: defaults for known models, overridable in the file', () => {
    expect(load([]).maxOutputTokens['gpt-4o-mini']).toBe(16_384);
    expect(load(['--config', 'c.json'], {}, { max_output_tokens: { 'gpt-4o-mini': 2000, 'my-model': 999 } }).maxOutputTokens)
      .toMatchObject({ 'gpt-4o-mini': 2000, 'my-model': 999 });
    expect(() => load(['--config', 'c.json'], {}, { max_output_tokens: { x: -1 } })).toThrow(ConfigError);
    expect(() => load(['--config', 'c.json'], {}, { max_output_tokens: { x: null } })).toThrow(ConfigError);
    expect(load([], { VEXRAIL_ALLOW_INTERNAL_PRODUCT_URLS: 'true' }).allowInternalProductUrls).toBe(true);
    expect(load([]).allowInternalProductUrls).toBe(false);
  });
});

describe('config: data directory source and the admin-token / check-config commands', () => {
  test('the data directory says where it came from', () => {
    expect(load([]).dataDirSource).toBe('default');
    expect(load(['--data-dir', '/d']).dataDirSource).toBe('--data-dir');
    expect(load([], { VEXRAIL_DATA_DIR: '/e' }).dataDirSource).toBe('VEXRAIL_DATA_DIR');
    expect(load(['--config', 'c.json'], {}, { data_dir: '/f' })).toMatchObject({ dataDir: '/f', dataDirSource: 'config file data_dir' });
  });

  test('admin-token needs --reset; --reset belongs to admin-token; check-config needs one FILE', () => {
    expect(load(['admin-token', '--reset', '--data-dir', '/d'])).toMatchObject({ command: 'admin-token', dataDir: '/d' });
    expect(() => load(['admin-token'])).toThrow(/usage: vexrail admin-token --reset/);
    expect(() => load(['--reset'])).toThrow(/--reset only applies to admin-token/);
    expect(load(['check-config', '/etc/v.json'])).toMatchObject({ command: 'check-config', configFile: '/etc/v.json' });
    expect(() => load(['check-config'])).toThrow(/usage: vexrail check-config FILE/);
  });

  test('migrate-store needs --to with a postgres:// URL; --to belongs to migrate-store', () => {
    expect(load(['migrate-store', '--to', 'postgres://u@h:5432/db', '--data-dir', '/d'])).toMatchObject({ command: 'migrate-store', migrateTo: 'postgres://u@h:5432/db', dataDir: '/d' });
    expect(load(['migrate-store', '--to=postgresql://u@h/db']).migrateTo).toBe('postgresql://u@h/db');
    expect(() => load(['migrate-store'])).toThrow(/usage: vexrail migrate-store --to postgres:/);
    expect(() => load(['migrate-store', '--to', 'mysql://h/db'])).toThrow(/usage: vexrail migrate-store/);
    expect(() => load(['--to', 'postgres://h/db'])).toThrow(/--to only applies to migrate-store/);
    expect(load([]).migrateTo).toBeNull();
  });
});

describe('config file validation', () => {
  const loadText = (text: string) =>
    loadConfig({ argv: ['check-config', 'v.json'], env: {}, defaultDataParent: '/opt/vexrail', readFile: () => text });
  const errorOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  test('unknown keys at every level are errors with a suggestion, all reported at once', () => {
    const message = errorOf(() => load(['--config', 'c.json'], {}, {
      provders: [], limits: { maxBodyByte: 5 }, ads: { intentTreshold: 0.5, judge: 'yes' },
      providers: [{ base_url: 'http://127.0.0.1:1/v1', timeout: 5 }], log_format: 'xml', zzzzzzzz: 1,
    }));
    expect(message).toContain('has 7 errors');
    expect(message).toContain('provders: unknown key (did you mean providers?)');
    expect(message).toContain('limits.maxBodyByte: unknown key (did you mean maxBodyBytes?)');
    expect(message).toContain('ads.intentTreshold: unknown key (did you mean intentThreshold?)');
    expect(message).toContain('providers[0].timeout: unknown key (did you mean timeout_ms?)');
    expect(message).toContain('ads.judge: must be "off" or "llm"');
    expect(message).toContain('log_format: must be "json", "logfmt" or "pretty"');
    expect(message).toMatch(/zzzzzzzz: unknown key \(known keys: port, host, /);
  });

  test('a JSON syntax error gives its line and column', () => {
    expect(errorOf(() => loadText('{\n  "port": 8080,\n  "host": "a",\n}\n'))).toContain('invalid JSON at line 4, column 1: unexpected "}"');
    expect(errorOf(() => loadText('{"port": 80'))).toContain('line 1, column 12: unexpected end of the file');
    expect(errorOf(() => loadText('{\n "a": tru }'))).toContain('line 2, column 10');
    expect(errorOf(() => loadText('[1]'))).toContain('must hold one JSON object');
  });

  test('every documented key still loads, numbers written as strings included', () => {
    const file = {
      port: 7000, host: '0.0.0.0', data_dir: '/d', public_url: 'https://gw.example.com', allowed_hosts: ['a.example'],
      allow_internal_product_urls: true, max_output_tokens: { llama3: 8192 },
      providers: [{ name: 'l', base_url: 'http://127.0.0.1:1/v1', api_key: 'k', api_key_env: 'K', models: ['llama3'], timeout_ms: '5000', first_byte_timeout_ms: 10, idle_timeout_ms: 10 }],
      prices: { llama3: { input: '0', output: '0' }, other: ['0.1', 0.2] },
      limits: { maxBodyBytes: 1024, maxMessages: 10, maxImportBytes: 2048 },
      ads: { publisherSharePercent: 60, earningsHoldDays: 0, relevanceFloor: 0.3, minCpc: '0.02', clickTtlDays: 3, intentThreshold: 0.5, safetyThreshold: 0.4, judge: 'llm', judgeModel: 'llama3', judgeTimeoutMs: 900, maxProductsPerCampaign: 2 },
      keepalive_ms: 1000, flush_interval_ms: 50, log_format: 'pretty',
    };
    const c = load(['--config', 'c.json'], {}, file);
    expect(c).toMatchObject({ port: 7000, host: '0.0.0.0', dataDir: '/d', logFormat: 'pretty', keepAliveMs: 1000, allowInternalProductUrls: true });
    expect(c.providers[0].requestTimeoutMs).toBe(5000);
    expect(c.ads).toMatchObject({ judge: 'llm', judgeModel: 'llama3', maxProductsPerCampaign: 2, publisherShareBps: 6000 });
    expect(c.limits.maxImportBytes).toBe(2048);
    expect(loadText(JSON.stringify(file)).command).toBe('check-config');
  });
});
