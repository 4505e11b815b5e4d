/**
 * One TypeBox schema per route input: it validates the body or query (compiled once at start-up), types the
 * handler (`Static<typeof Schema>`) and is the OpenAPI document of that input (describe() takes it as is).
 *
 * Errors keep the project's envelope and codes: a field's schema may carry `x-error-code` (default
 * `invalid_value`) and `x-error-status` (default 400); the deepest one on the failing path wins, so an array
 * item reports its array's code. Both are OpenAPI vendor extensions, so the spec tells clients which code a
 * field's error carries. Unknown body fields are refused (`unknown_field`, with a suggestion), since a
 * misspelled optional field would otherwise be dropped without a word.
 */
import { FormatRegistry, Kind, Type, TypeRegistry, type Static, type TObject, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { closestKey } from '../config/config-schema';
import { ApiError } from './errors';
import { readJsonObject } from './body';

export const ERROR_CODE = 'x-error-code';
export const ERROR_STATUS = 'x-error-status';
/** Codes by the kind of problem, where one field answers several (`{required: 'missing_model', type: 'invalid_type'}`). */
export const ERROR_CODES = 'x-error-codes';

/** The JSON Schema keyword an error broke: `required`, `type`, or a constraint such as `maxItems`. */
function keywordOf(error: ValueError): string {
  const T = ValueErrorType;
  switch (error.type) {
    case T.ObjectRequiredProperty: return 'required';
    case T.String: case T.Number: case T.Integer: case T.Boolean: case T.Array: case T.Object: case T.Null: return 'type';
    case T.Kind: return typeof error.value === 'string' ? 'enum' : 'type';
    case T.ArrayMinItems: return 'minItems';
    case T.ArrayMaxItems: return 'maxItems';
    case T.StringMinLength: return 'minLength';
    case T.StringMaxLength: return 'maxLength';
    case T.StringPattern: return 'pattern';
    case T.StringFormat: return 'format';
    case T.NumberMinimum: case T.NumberExclusiveMinimum: case T.IntegerMinimum: case T.IntegerExclusiveMinimum: return 'minimum';
    case T.NumberMaximum: case T.NumberExclusiveMaximum: case T.IntegerMaximum: case T.IntegerExclusiveMaximum: return 'maximum';
    default: return 'value';
  }
}

/** Error options for a field: `fieldError('invalid_name')`, or with a status: `fieldError('invalid_value', 422)`. */
export function fieldError(code: string, status: 400 | 422 = 400): Record<string, unknown> {
  return status === 400 ? { [ERROR_CODE]: code } : { [ERROR_CODE]: code, [ERROR_STATUS]: status };
}

/** A real calendar date: 2027-02-30 is refused (Date.parse would roll it into March). */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i;
/** `format: "date"`: YYYY-MM-DD, a real day. */
export function isIsoDate(value: string): boolean {
  const m = DATE.exec(value);
  return m !== null && isCalendarDate(+m[1], +m[2], +m[3]);
}
/** `format: "date-time"`: ISO 8601 with a time zone (Z or an offset), a real day and time. */
export function isIsoDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  return m !== null && isCalendarDate(+m[1], +m[2], +m[3]);
}
FormatRegistry.Set('date', isIsoDate);
FormatRegistry.Set('date-time', isIsoDateTime);
/** `format: "uri"`: an absolute URL (routes add their own rules on scheme and host). */
FormatRegistry.Set('uri', (value) => URL.canParse(value));

TypeRegistry.Set<{ enum: readonly string[] }>('StringEnum', (schema, value) => typeof value === 'string' && schema.enum.includes(value));

/** A string out of a fixed list, documented as `{type: string, enum: [...]}` rather than a union of constants. */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, [Kind]: 'StringEnum', type: 'string', enum: values });
}

/** `pattern` of text that is not only spaces. */
export const NOT_BLANK = '\\S';
/** `pattern` of a decimal USD amount as text; services parse it to micro-units and apply their limits. */
export const USD_TEXT = '^\\s*\\d{1,13}(\\.\\d{1,12})?\\s*$';

/** Optional and nullable (`null` clears a setting). */
export const Nullable = <T extends TSchema>(schema: T, options: Record<string, unknown> = {}) => Type.Union([schema, Type.Null()], options);

const unescapePointer = (part: string) => part.replace(/~1/g, '/').replace(/~0/g, '~');

function paramOf(parts: string[]): string | null {
  const param = parts.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');
  return param === '' ? null : param;
}

/** A schema's alternatives, nested unions flattened (a nullable union of objects). */
function alternatives(node: any): any[] {
  return node?.anyOf ? node.anyOf.flatMap(alternatives) : [node];
}

/**
 * The schemas along a JSON pointer, root first, each with the path parts that lead to it (properties and
 * array items only: what route inputs use).
 */
function schemasAlong(root: TSchema, path: string): Array<{ schema: any; parts: string[] }> {
  const out = [{ schema: root as any, parts: [] as string[] }];
  let node: any = root;
  const parts: string[] = [];
  for (const raw of path.split('/').slice(1)) {
    const part = unescapePointer(raw);
    const next = alternatives(node).map((s) => (s?.properties?.[part] ?? (/^\d+$/.test(part) ? s?.items : undefined))).find((s) => s !== undefined);
    if (!next) break;
    parts.push(part);
    out.push({ schema: next, parts: [...parts] });
    node = next;
  }
  return out;
}

/**
 * Where an error is reported: a field with its own message (a union such as targeting) answers as a whole,
 * and an item of a list of plain values is reported as the list ("keywords", not "keywords[1]").
 */
function reportedAt(along: Array<{ schema: any; parts: string[] }>) {
  let at = along.length - 1;
  for (let i = along.length - 1; i > 0; i--) if (typeof along[i].schema['x-error-message'] === 'string' && alternatives(along[i].schema).length > 1) at = Math.min(at, i);
  const last = along[at];
  if (at > 0 && /^\d+$/.test(last.parts[last.parts.length - 1]) && alternatives(last.schema).every((s) => s?.type !== 'object')) at -= 1;
  return along[at];
}

function suggestion(name: string, known: string[]): string {
  const best = closestKey(name, known);
  return best ? ` (did you mean ${best}?)` : '';
}

function toApiError(root: TSchema, error: ValueError, what: string): ApiError {
  const along = schemasAlong(root, error.path);
  const at = reportedAt(along);
  if (error.type === ValueErrorType.ObjectAdditionalProperties && (at === along[along.length - 1] || at.schema.type === 'object')) {
    const parts = error.path.split('/').slice(1).map(unescapePointer);
    const name = parts[parts.length - 1] ?? '';
    const known = alternatives(along[along.length - 1].schema).flatMap((s) => Object.keys(s?.properties ?? {}));
    const param = paramOf(parts);
    return new ApiError(400, 'invalid_request_error', 'unknown_field', `${param ?? name} is not a field of this ${what}${suggestion(name, known)}`, param);
  }
  const keyword = keywordOf(error);
  let code = 'invalid_value';
  let status = 400;
  const own = along[along.length - 1].schema;
  for (const { schema } of along) {
    // Codes by kind belong to the field itself: a list's `required` code is not for a field inside its items.
    const byKind = schema === own ? schema[ERROR_CODES]?.[keyword] : undefined;
    if (typeof byKind === 'string') code = byKind;
    else if (typeof schema[ERROR_CODE] === 'string') code = schema[ERROR_CODE];
    // Shape problems are always 400; a field's own status (422) is for values out of its range.
    if (typeof schema[ERROR_STATUS] === 'number') status = keyword === 'type' || keyword === 'required' ? 400 : schema[ERROR_STATUS];
  }
  const param = paramOf(at.parts);
  const field = param ?? what;
  const leaf = at.schema;
  let message: string;
  const blank = typeof error.value === 'string' && error.value.trim() === '' && (keyword === 'minLength' || keyword === 'pattern');
  const parent = along.length > 1 ? along[along.length - 2].schema : null;
  const requiredHere = parent?.required?.includes(at.parts[at.parts.length - 1]) === true;
  if (error.type === ValueErrorType.ObjectRequiredProperty && at === along[along.length - 1]) message = `${field} is required`;
  else if (blank && at === along[along.length - 1]) message = requiredHere ? `${field} is required` : `${field} must not be empty`;
  else if (typeof leaf?.['x-error-message'] === 'string') message = `${field} ${leaf['x-error-message']}`;
  else if (leaf?.[Kind] === 'StringEnum') message = `${field} must be one of ${leaf.enum.map((v: string) => JSON.stringify(v)).join(', ')}`;
  else if (at !== along[along.length - 1]) message = `${paramOf(error.path.split('/').slice(1).map(unescapePointer))}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
  else message = `${field}: ${error.message.charAt(0).toLowerCase()}${error.message.slice(1)}`;
  return new ApiError(status, 'invalid_request_error', code, message, param);
}

/**
 * A union (a nullable field) fails as a whole; its own errors say which part failed. The variant that got
 * furthest (the longest path: inside the object rather than "not null") names the field and the problem.
 */
function innermost(error: ValueError | undefined): ValueError | undefined {
  if (!error || error.type !== ValueErrorType.Union || error.errors.length === 0) return error;
  let best: ValueError | undefined;
  for (const iterator of error.errors) {
    const candidate = innermost(iterator.First());
    if (!candidate) continue;
    if (!best || candidate.path.length > best.path.length || (candidate.path.length === best.path.length && best.type === ValueErrorType.Null)) best = candidate;
  }
  return best ?? error;
}

export type Validator<T extends TSchema> = {
  readonly schema: T;
  /** The value typed by the schema, or the ApiError of its first problem thrown. */
  check(value: unknown): Static<T>;
};

/** Compiles `schema` once; `what` names the input in messages ("request body", "query"). */
export function validator<T extends TSchema>(schema: T, what = 'request body'): Validator<T> {
  const compiled: TypeCheck<T> = TypeCompiler.Compile(schema);
  return {
    schema,
    check(value: unknown): Static<T> {
      if (compiled.Check(value)) return value as Static<T>;
      // A field the route does not define is reported first: it is most often a misspelling of one it needs.
      let first: ValueError | undefined;
      let seen = 0;
      for (const error of compiled.Errors(value)) {
        if (error.type === ValueErrorType.ObjectAdditionalProperties) { first = error; break; }
        first ??= error;
        if (++seen >= 100) break; // a large body with many bad items: the first problems are enough
      }
      first = innermost(first);
      throw first ? toApiError(schema, first, what) : new ApiError(400, 'invalid_request_error', 'invalid_value', `The ${what} is not valid`);
    },
  };
}

/** The path ("name", "targeting.categories.0") of the first string in `value` that holds a NUL character, or null. */
export function nulPath(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const found = nulPath(item, path ? `${path}.${key}` : key);
    if (found !== null) return found;
  }
  return null;
}

/**
 * A JSON object body read within `limitBytes` after the route's authentication, then validated. A NUL character
 * (U+0000) in any string is refused: neither store can keep one (PostgreSQL text has none, and both stores write
 * U+FFFD in its place), so the answer would show text that is not what was stored.
 */
export async function readBody<T extends TSchema>(request: Request, v: Validator<T>, limitBytes: number): Promise<Static<T>> {
  const body = await readJsonObject(request, limitBytes);
  const nul = nulPath(body);
  if (nul !== null) {
    // The field's own code when its schema names one with a 400 ("invalid_name"), else invalid_value.
    const field = (v.schema as { properties?: Record<string, Record<string, unknown>> }).properties?.[nul];
    const code = field && field[ERROR_STATUS] === undefined && typeof field[ERROR_CODE] === 'string' ? (field[ERROR_CODE] as string) : 'invalid_value';
    throw new ApiError(400, 'invalid_request_error', code, `${nul} must not contain NUL (U+0000) characters`, nul);
  }
  return v.check(body);
}

/**
 * Query strings arrive as text: each parameter declared as a number, integer or boolean is converted first,
 * so `?limit=10` checks as 10 and `?limit=ten` fails on the parameter. Parameters the schema does not name
 * are ignored (caches and proxies add their own).
 */
const NUMBER_TEXT = /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i;

/** A query value converted to its declared type when the text is exactly such a value; else left as text. */
function fromText(property: TSchema, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const type = property.type;
  if ((type === 'integer' || type === 'number') && NUMBER_TEXT.test(value)) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

export function queryValidator<T extends TObject>(schema: T): Validator<T> {
  const inner = validator(schema, 'query');
  const declared = new Set(Object.keys(schema.properties));
  return {
    schema,
    check(query: unknown): Static<T> {
      const picked: Record<string, unknown> = {};
      for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>))
        if (declared.has(key)) picked[key] = fromText(schema.properties[key], value);
      return inner.check(picked);
    },
  };
}

/** OpenAPI query parameters generated from a query schema: the documentation of the validator's input. */
export function queryParameters(schema: TObject): Record<string, unknown>[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => {
    const { description, ...rest } = JSON.parse(JSON.stringify(property)) as Record<string, unknown>;
    return { name, in: 'query', required: required.has(name), description, schema: rest };
  });
}

/**
 * The error codes a schema's validation can produce, by status: each field's `x-error-code` (or
 * invalid_value), and unknown_field where an object refuses extra fields. describe() adds them to the
 * route's documented errors, so the spec's examples follow the schema.
 */
export function schemaErrorCodes(schema: TSchema): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const add = (status: number, code: string) => (out.get(status) ?? out.set(status, new Set()).get(status)!).add(code);
  const walk = (node: any, code: string, status: number) => {
    if (!node || typeof node !== 'object') return;
    const here = typeof node[ERROR_CODE] === 'string' ? node[ERROR_CODE] : code;
    const hereStatus = typeof node[ERROR_STATUS] === 'number' ? node[ERROR_STATUS] : status;
    for (const [keyword, byKind] of Object.entries<string>(node[ERROR_CODES] ?? {})) add(keyword === 'type' || keyword === 'required' ? 400 : hereStatus, byKind);
    if (node.type === 'object' && node.properties) {
      if (node.additionalProperties === false) add(400, 'unknown_field');
      for (const property of Object.values(node.properties)) walk(property, here, hereStatus);
    } else if (node.anyOf) for (const option of node.anyOf) walk(option, here, hereStatus);
    else if (node.type === 'array') walk(node.items, here, hereStatus);
    else if (node.type !== 'null') add(hereStatus, here);
    if (node.type === 'array' && (node.minItems !== undefined || node.maxItems !== undefined)) add(hereStatus, here);
  };
  walk(schema, 'invalid_value', 400);
  return out;
}
