import { Type as T, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DEFAULT_ADS, DEFAULT_LIMITS } from './defaults';

/**
 * The config file's schema (TypeBox, as the API's). Objects refuse unknown keys so a typo is an error with a
 * suggestion instead of a silently ignored setting. Numbers may also be written as strings, as before.
 */
const PositiveInt = T.Union([T.Integer({ minimum: 1 }), T.String({ pattern: '^[1-9][0-9]*$' })], { expect: 'a positive integer' });
const WholeNumber = T.Union([T.Integer({ minimum: 0 }), T.String({ pattern: '^[0-9]+$' })], { expect: 'a whole number (0 or more)' });
const Fraction = T.Union([T.Number({ minimum: 0, maximum: 1 }), T.String({ pattern: '^(0(\\.[0-9]+)?|1(\\.0+)?)$' })], { expect: 'a number from 0 to 1' });
const NumberLike = T.Union([T.Number(), T.String({ pattern: '^[0-9]+(\\.[0-9]+)?$' })], { expect: 'a number' });
const Usd = T.Union([T.String(), T.Number()], { expect: 'a USD amount such as "0.15"' });
const strict = { additionalProperties: false };

const Provider = T.Object({
  name: T.Optional(T.String({ minLength: 1 })),
  base_url: T.String({ expect: 'a URL such as "https://api.openai.com/v1"' }),
  api_key: T.Optional(T.Union([T.String(), T.Null()], { expect: 'a string' })),
  api_key_env: T.Optional(T.String({ minLength: 1 })),
  models: T.Optional(T.Array(T.String({ minLength: 1 }))),
  timeout_ms: T.Optional(PositiveInt),
  first_byte_timeout_ms: T.Optional(PositiveInt),
  idle_timeout_ms: T.Optional(PositiveInt),
  kind: T.Optional(T.Union([T.Literal('openai'), T.Literal('anthropic'), T.Literal('gemini')], { expect: '"openai", "anthropic" or "gemini"' })),
  priority: T.Optional(WholeNumber),
  weight: T.Optional(T.Number({ exclusiveMinimum: 0, expect: 'a number above 0' })),
  retries: T.Optional(WholeNumber),
  retry_backoff_ms: T.Optional(PositiveInt),
  breaker: T.Optional(T.Object({ failures: T.Optional(PositiveInt), cooldown_ms: T.Optional(PositiveInt) }, strict)),
  discover: T.Optional(T.Boolean({ expect: 'true or false' })),
}, strict);

const Price = T.Union([
  T.Tuple([Usd, Usd]),
  T.Object({ input: Usd, output: Usd }, strict),
], { expect: '{"input": "USD per 1M tokens", "output": "USD per 1M tokens"}' });

const Limits = T.Object(Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((key) => [key, T.Optional(PositiveInt)])), strict);

const ads: Record<keyof typeof DEFAULT_ADS, TSchema> = {
  publisherSharePercent: NumberLike,
  earningsHoldDays: NumberLike,
  relevanceFloor: Fraction,
  minCpc: Usd,
  clickTtlDays: PositiveInt,
  intentThreshold: Fraction,
  safetyThreshold: Fraction,
  judge: T.Union([T.Literal('off'), T.Literal('llm')], { expect: '"off" or "llm"' }),
  judgeModel: T.Union([T.String({ minLength: 1 }), T.Null()], { expect: 'a model id or null' }),
  judgeTimeoutMs: PositiveInt,
  maxProductsPerCampaign: PositiveInt,
};
const Ads = T.Object(Object.fromEntries(Object.entries(ads).map(([key, schema]) => [key, T.Optional(schema)])), strict);

export const ConfigFileSchema = T.Object({
  port: T.Optional(T.Union([T.Integer({ minimum: 0, maximum: 65535 }), T.String({ pattern: '^[0-9]{1,5}$' })], { expect: 'a port from 0 to 65535' })),
  host: T.Optional(T.String({ minLength: 1 })),
  data_dir: T.Optional(T.String({ minLength: 1 })),
  public_url: T.Optional(T.String()),
  allowed_hosts: T.Optional(T.Union([T.String(), T.Array(T.String())], { expect: 'a list of hosts' })),
  allow_internal_product_urls: T.Optional(T.Union([T.Boolean(), T.Literal('true'), T.Literal('false')], { expect: 'true or false' })),
  max_output_tokens: T.Optional(T.Record(T.String(), PositiveInt)),
  providers: T.Optional(T.Array(Provider)),
  prices: T.Optional(T.Record(T.String(), Price)),
  aliases: T.Optional(T.Record(T.String({ minLength: 1 }), T.String({ minLength: 1 }), { expect: '{"alias": "priced model id"}' })),
  limits: T.Optional(Limits),
  ads: T.Optional(Ads),
  keepalive_ms: T.Optional(PositiveInt),
  flush_interval_ms: T.Optional(PositiveInt),
  database_url: T.Optional(T.String({ minLength: 1, expect: 'a postgres:// URL' })),
  hold_ttl_ms: T.Optional(PositiveInt),
  database_pool_size: T.Optional(PositiveInt),
  dashboard: T.Optional(T.Object({ signup: T.Optional(T.Union([T.Literal('invite'), T.Literal('open')], { expect: '"invite" or "open"' })) }, strict)),
  log_format: T.Optional(T.Union([T.Literal('json'), T.Literal('logfmt'), T.Literal('pretty')], { expect: '"json", "logfmt" or "pretty"' })),
}, strict);

/** Every problem in a parsed config file, one line each ("limits.maxBody: unknown key (did you mean maxBodyBytes?)"). */
export function configFileErrors(file: unknown): string[] {
  if (file === null || typeof file !== 'object' || Array.isArray(file)) return ['the config file must hold one JSON object'];
  const errors: string[] = [];
  for (const error of Value.Errors(ConfigFileSchema, file)) {
    const segments = error.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const where = segments.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join('') || '(top level)';
    if (error.message === 'Unexpected property') {
      const known = knownKeys(segments.slice(0, -1));
      const suggestion = closestKey(segments[segments.length - 1], known);
      errors.push(`${where}: unknown key${suggestion ? ` (did you mean ${suggestion}?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`);
    } else errors.push(`${where}: must be ${(error.schema as { expect?: string }).expect ?? error.message.replace(/^Expected /, '')}`);
  }
  return errors;
}

/** The keys the schema allows at a path of the file (array indexes skipped). */
function knownKeys(path: string[]): string[] {
  let schema: any = ConfigFileSchema;
  for (const segment of path) {
    if (schema?.type === 'array') schema = schema.items;
    else if (schema?.properties?.[segment]) schema = schema.properties[segment];
    else if (schema?.patternProperties) schema = Object.values(schema.patternProperties)[0];
    else return [];
    if (schema?.anyOf) schema = schema.anyOf.find((s: any) => s.type === 'object') ?? schema;
  }
  return Object.keys(schema?.properties ?? {});
}

/** The known key a typo most likely meant: same letters ignoring case, "_" and "-", or within a small edit distance. */
export function closestKey(typed: string, known: string[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const same = known.find((k) => norm(k) === norm(typed));
  if (same) return same;
  let best: string | null = null;
  let bestDistance = Math.max(2, Math.floor(typed.length / 3)) + 1;
  for (const key of known) {
    const distance = editDistance(norm(typed), norm(key));
    if (distance < bestDistance) [best, bestDistance] = [key, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length];
}

/**
 * JSON.parse with the position of the first syntax error as line and column (the runtime's own message has
 * none): a small scanner finds where the text stops being JSON.
 */
export function parseJsonWithPosition(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const offset = firstJsonErrorOffset(text);
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const reason = offset >= text.length ? 'unexpected end of the file' : `unexpected ${JSON.stringify(text[offset])}`;
    throw new SyntaxError(`invalid JSON at line ${line}, column ${column}: ${reason} (${(err as Error).message})`);
  }
}

/** The offset where a JSON text first goes wrong (text.length when it ends too early). */
export function firstJsonErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) if (text[i] === ch) i++; else fail();
  };
  const string = () => {
    if (text[i] !== '"') fail();
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) { i += k; fail(); }
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i++;
    }
    if (i >= text.length) fail();
    i++;
  };
  const number = () => {
    const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!match || match[0] === '' || match[0] === '-') fail();
    i += match![0].length;
  };
  const value = (depth: number): void => {
    space();
    const ch = text[i];
    if (depth > 512) fail();
    if (ch === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        string();
        space();
        if (text[i] !== ':') fail();
        i++;
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (ch === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value(depth + 1);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else if (ch === '-' || (ch >= '0' && ch <= '9')) number();
    else fail();
  };
  try {
    value(0);
    space();
    return i < text.length ? i : text.length;
  } catch (offset) {
    return Math.min(offset as number, text.length);
  }
}
