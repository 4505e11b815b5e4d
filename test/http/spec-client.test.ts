import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { validate } from '@readme/openapi-parser';
import openapiTS from 'openapi-typescript';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestApp, type TestApp } from '../helpers/test-app';

/**
 * The spec as a client sees it: valid OpenAPI, and a typed client generated from it (openapi-typescript)
 * that compiles against a call of every documented operation with every documented parameter and body.
 */
const ROOT = join(import.meta.dir, '..', '..');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

type Json = any;

let t: TestApp;
let spec: Json;
let dir: string;
beforeAll(async () => {
  t = await createTestApp();
  spec = await (await t.call('GET', '/swagger/json')).json();
  dir = mkdtempSync(join(tmpdir(), 'vexrail-spec-client-'));
});
afterAll(() => {
  t.close();
  rmSync(dir, { recursive: true, force: true });
});

function resolveRef(ref: string): Json {
  return ref.replace(/^#\//, '').split('/').reduce((node, key) => node?.[key], spec);
}

/** A value of the schema's type, every property filled in, so the compiler checks each one. */
function sampleOf(schema: Json, depth = 0): unknown {
  if (!schema || depth > 10) return null;
  if (schema.$ref) return sampleOf(resolveRef(schema.$ref), depth + 1);
  // Objects are built field by field (an example may leave fields out); leaves use their example.
  if (schema.properties && Object.keys(schema.properties).length > 0)
    return Object.fromEntries(Object.entries<Json>(schema.properties).map(([key, sub]) => [key, sampleOf(sub, depth + 1)]));
  if (schema.example !== undefined) return schema.example;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return sampleOf(union.find((s: Json) => s.type !== 'null') ?? union[0], depth + 1);
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((s: Json) => sampleOf(s, depth + 1)));
  const type = Array.isArray(schema.type) ? schema.type.find((x: string) => x !== 'null') : schema.type;
  // An open object gets a key: a generated `Record<string, never>` would refuse it.
  // A map (additionalProperties a schema) gets one entry of that schema.
  if (type === 'object')
    return schema.additionalProperties === false ? {} : { note: typeof schema.additionalProperties === 'object' ? sampleOf(schema.additionalProperties, depth + 1) : 'x' };
  if (type === 'array') return [sampleOf(schema.items, depth + 1)];
  if (type === 'integer' || type === 'number') return schema.minimum ?? 1;
  if (type === 'boolean') return true;
  if (type === 'null') return null;
  if (type === 'string') return schema.format === 'date-time' ? '2026-01-01T00:00:00Z' : 'x';
  return {};
}

function operations(): Array<{ path: string; method: string; op: Json }> {
  return Object.entries<Json>(spec.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })));
}

/** One typed call per operation, with every documented parameter and the request body. */
function callsFile(): string {
  const lines = operations().map(({ path, method, op }) => {
    const init: Record<string, unknown> = {};
    const params: Record<string, Record<string, unknown>> = {};
    for (const p of (op.parameters ?? []).map((x: Json) => (x.$ref ? resolveRef(x.$ref) : x))) (params[p.in] ??= {})[p.name] = sampleOf(p.schema);
    if (Object.keys(params).length > 0) init.parameters = params;
    const content = op.requestBody?.content;
    if (content) init.body = sampleOf((content['application/json'] ?? Object.values<Json>(content)[0]).schema);
    return `call(${JSON.stringify(path)}, ${JSON.stringify(method)}, ${JSON.stringify(init)});`;
  });
  return `import { call } from './client';\n${lines.join('\n')}\n`;
}

const CLIENT = `import type { paths } from './schema';
type Params<O> = O extends { parameters: infer Q } ? { parameters: Q } : { parameters?: never };
type Body<O> = O extends { requestBody: { content: infer C } } ? { body: C[keyof C] }
  : O extends { requestBody?: { content: infer C } } ? { body?: C[keyof C] } : { body?: never };
export declare function call<P extends keyof paths, M extends keyof paths[P]>(path: P, method: M, init: Params<paths[P][M]> & Body<paths[P][M]>): Promise<void>;
`;

/** Calls the typed client must refuse: if any compiles, the generated types check nothing. */
const REFUSED = `import { call } from './client';
// @ts-expect-error an undocumented query parameter
call('/v1/conversations', 'get', { parameters: { query: { limit: 1, colour: 'red' } } });
// @ts-expect-error a query parameter of the wrong type
call('/v1/conversations', 'get', { parameters: { query: { limit: 'ten' } } });
// @ts-expect-error a path the spec does not have
call('/v1/nothing', 'get', {});
// @ts-expect-error a chat request without messages
call('/v1/chat/completions', 'post', { body: { model: 'vexrail-demo' } });
// @ts-expect-error a missing path parameter
call('/v1/conversations/{id}', 'get', { parameters: { path: {} } });
`;

function compile(files: string[]): { code: number; output: string } {
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022'], types: [], skipLibCheck: false },
    files,
  }));
  const proc = Bun.spawnSync([TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir, stdout: 'pipe', stderr: 'pipe' });
  return { code: proc.exitCode, output: proc.stdout.toString() + proc.stderr.toString() };
}

describe('the OpenAPI document as a client sees it', () => {
  test('passes an OpenAPI validator', async () => {
    const result = await validate(structuredClone(spec));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
  });

  test('the validator refuses a document with an undeclared path parameter (the check can fail)', async () => {
    const broken = structuredClone(spec);
    broken.paths['/v1/conversations/{id}'].get.parameters = broken.paths['/v1/conversations/{id}'].get.parameters.filter((p: Json) => p.in !== 'path');
    const result = await validate(broken);
    expect(result.valid).toBe(false);
  });

  test('a client generated with openapi-typescript compiles against every operation and parameter', async () => {
    const types = await openapiTS(structuredClone(spec));
    writeFileSync(join(dir, 'schema.ts'), types);
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    const calls = callsFile();
    writeFileSync(join(dir, 'calls.ts'), calls);
    const ops = operations();
    expect(ops.length).toBeGreaterThan(30);
    expect(calls.split('\n').filter((l) => l.startsWith('call(')).length).toBe(ops.length);
    // Paging, filters and bodies are part of what the client is checked against.
    expect(calls).toContain('"/v1/conversations/{id}", "get", {"parameters":{"path":{"id":"x"},"query":{"from_seq"');
    expect(calls).toContain('"/v1/chat/completions", "post", {"parameters":{"header":{"x-conversation-id":"x"}},"body":{"model":"vexrail-demo"');
    expect(calls).toContain('"metadata":{"note":"x"}');
    const { code, output } = compile(['schema.ts', 'client.ts', 'calls.ts']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 60_000);

  test('the generated client refuses undocumented parameters, wrong types and missing fields', async () => {
    writeFileSync(join(dir, 'schema.ts'), await openapiTS(structuredClone(spec)));
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(join(dir, 'refused.ts'), REFUSED);
    const { code, output } = compile(['schema.ts', 'client.ts', 'refused.ts']);
    expect(output).toBe('');
    expect(code).toBe(0);
  }, 60_000);
});
