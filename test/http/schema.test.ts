import { describe, expect, test } from 'bun:test';
import { Type as T } from '@sinclair/typebox';
import { ApiError } from '../../src/http/errors';
import { fieldError, isIsoDate, isIsoDateTime, Nullable, queryParameters, queryValidator, StringEnum, validator } from '../../src/http/schema';

function failure(fn: () => unknown): { status: number; code: string; param: string | null; message: string } {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, code: err.code, param: err.param, message: err.message };
  }
  throw new Error('expected an ApiError');
}

const Body = validator(T.Object({
  name: T.String({ minLength: 1, ...fieldError('invalid_name') }),
  tags: T.Optional(T.Array(T.String({ maxLength: 3 }), { ...fieldError('invalid_tags') })),
  level: T.Optional(T.Number({ minimum: 0, maximum: 2, ...fieldError('invalid_value', 422) })),
  mode: T.Optional(StringEnum(['a', 'b'] as const)),
  budget: T.Optional(Nullable(T.Object({ amount: T.String({ pattern: '^\\d+$' }) }, { additionalProperties: false }))),
  when: T.Optional(T.String({ format: 'date-time', 'x-error-message': 'must be an ISO 8601 date-time' })),
}, { additionalProperties: false }));

describe('route input schemas', () => {
  test('a valid value passes through typed and untouched', () => {
    const value = { name: 'x', tags: ['ab'], level: 1.5, mode: 'b' as const, budget: null, when: '2027-01-31T00:00:00Z' };
    expect(Body.check(value)).toBe(value);
  });

  test("a field's code and status apply to it and to what it contains; the param is the field's path", () => {
    expect(failure(() => Body.check({}))).toMatchObject({ status: 400, code: 'invalid_name', param: 'name', message: 'name is required' });
    expect(failure(() => Body.check({ name: 5 }))).toMatchObject({ status: 400, code: 'invalid_name', param: 'name' });
    expect(failure(() => Body.check({ name: 'x', tags: ['abcd'] }))).toMatchObject({ status: 400, code: 'invalid_tags', param: 'tags', message: 'tags[0]: expected string length less or equal to 3' });
    expect(failure(() => Body.check({ name: 'x', level: 3 }))).toMatchObject({ status: 422, code: 'invalid_value', param: 'level' });
  });

  test('fields without a code are invalid_value; an enum lists its values', () => {
    expect(failure(() => Body.check({ name: 'x', mode: 'c' }))).toMatchObject({ code: 'invalid_value', param: 'mode', message: 'mode must be one of "a", "b"' });
  });

  test('a nullable object reports the inner field that failed, not "expected null"', () => {
    expect(failure(() => Body.check({ name: 'x', budget: { amount: '-1' } }))).toMatchObject({ code: 'invalid_value', param: 'budget.amount' });
    expect(failure(() => Body.check({ name: 'x', budget: 'ten' }))).toMatchObject({ code: 'invalid_value', param: 'budget' });
  });

  test('an unknown field is refused with the closest known name', () => {
    expect(failure(() => Body.check({ name: 'x', tgas: [] }))).toMatchObject({ status: 400, code: 'unknown_field', param: 'tgas', message: 'tgas is not a field of this request body (did you mean tags?)' });
    expect(failure(() => Body.check({ name: 'x', zzzzzzzz: 1 })).message).not.toContain('did you mean');
    expect(failure(() => Body.check({ name: 'x', budget: { amount: '1', currency: 'EUR' } }))).toMatchObject({ code: 'unknown_field', param: 'budget.currency' });
  });

  test('date formats are real calendar days with a time zone', () => {
    expect(isIsoDateTime('2027-01-31T00:00:00Z')).toBe(true);
    expect(isIsoDateTime('2027-01-31T23:59:59.123+05:30')).toBe(true);
    expect(isIsoDateTime('2027-02-30T00:00:00Z')).toBe(false);
    expect(isIsoDateTime('2027-01-31T00:00:00')).toBe(false);
    expect(isIsoDateTime('2027-01-31T24:00:00Z')).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
    expect(isIsoDate('2027-02-29')).toBe(false);
    expect(failure(() => Body.check({ name: 'x', when: '2027-02-30T00:00:00Z' }))).toMatchObject({ param: 'when', message: 'when must be an ISO 8601 date-time' });
  });

  test('queries convert declared numbers and ignore parameters they do not name', () => {
    const Q = queryValidator(T.Object({ limit: T.Optional(T.Integer({ minimum: 1, maximum: 10 })), on: T.Optional(T.Boolean()) }));
    expect(Q.check({ limit: '7', on: 'true', _: 'cache-buster' })).toEqual({ limit: 7, on: true });
    expect(failure(() => Q.check({ limit: 'ten' }))).toMatchObject({ status: 400, code: 'invalid_value', param: 'limit' });
    expect(failure(() => Q.check({ limit: '11' }))).toMatchObject({ param: 'limit' });
    expect(failure(() => Q.check({ limit: '1.5' }))).toMatchObject({ param: 'limit' });
  });

  test('a query schema documents itself as OpenAPI parameters', () => {
    const schema = T.Object({ limit: T.Optional(T.Integer({ minimum: 1, description: 'Page size' })), q: T.String() });
    expect(queryParameters(schema)).toEqual([
      { name: 'limit', in: 'query', required: false, description: 'Page size', schema: { type: 'integer', minimum: 1 } },
      { name: 'q', in: 'query', required: true, description: undefined, schema: { type: 'string' } },
    ]);
  });
});
