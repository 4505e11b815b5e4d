import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { errorCodesInSource } from '../helpers/error-codes';
import { createTestApp, type TestApp } from '../helpers/test-app';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

describe('OpenAPI and Swagger UI', () => {
  test('the spec documents every public and admin route with schemas, errors and security', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    const expected: Array<[string, string]> = [
      ['/v1/chat/completions', 'post'], ['/v1/models', 'get'], ['/v1/conversations', 'get'], ['/v1/conversations/{id}', 'get'],
      ['/admin/v1/projects', 'post'], ['/admin/v1/projects', 'get'], ['/admin/v1/projects/{id}', 'get'], ['/admin/v1/projects/{id}', 'patch'],
      ['/admin/v1/projects/{id}/domain/verify', 'post'], ['/admin/v1/projects/{id}/keys', 'post'], ['/admin/v1/projects/{id}/keys', 'get'],
      ['/admin/v1/projects/{id}/keys/{key_id}/deactivate', 'post'], ['/admin/v1/projects/{id}/credits', 'post'], ['/admin/v1/projects/{id}/wallet', 'get'],
      ['/healthz', 'get'], ['/readyz', 'get'],
      ['/v1/promotions/search', 'post'], ['/r/{token}', 'get'],
      ['/admin/v1/projects/{id}/products', 'post'], ['/admin/v1/projects/{id}/products', 'get'], ['/admin/v1/projects/{id}/products/import', 'post'],
      ['/admin/v1/projects/{id}/campaigns', 'post'], ['/admin/v1/projects/{id}/campaigns', 'get'], ['/admin/v1/projects/{id}/campaigns/{campaign_id}', 'patch'],
      ['/admin/v1/projects/{id}/campaigns/{campaign_id}/activate', 'post'], ['/admin/v1/projects/{id}/campaigns/{campaign_id}/pause', 'post'],
      ['/admin/v1/projects/{id}/campaigns/{campaign_id}/archive', 'post'], ['/admin/v1/projects/{id}/campaigns/{campaign_id}/history', 'get'],
      ['/admin/v1/projects/{id}/earnings', 'get'], ['/admin/v1/projects/{id}/analytics', 'get'], ['/admin/v1/clicks/{click_id}/invalidate', 'post'],
    ];
    for (const [path, method] of expected) {
      const op = spec.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
    }
    const chat = spec.paths['/v1/chat/completions'].post;
    expect(chat.security).toEqual([{ publishableKey: [], secretKey: [] }]);
    expect(chat.requestBody.content['application/json'].schema.properties.messages).toBeDefined();
    for (const status of ['200', '400', '401', '403', '422', '500', '502']) expect(chat.responses[status]).toBeDefined();
    expect(chat.responses['401'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
    expect(spec.paths['/admin/v1/projects'].post.security).toEqual([{ adminBearer: [] }]);
    expect(spec.components.securitySchemes).toMatchObject({
      publishableKey: { type: 'apiKey', in: 'header', name: 'x-publishable-key' },
      secretKey: { type: 'apiKey', in: 'header', name: 'x-secret-key' },
      adminBearer: { type: 'http', scheme: 'bearer' },
    });
    expect(Object.keys(spec.paths).some((p) => p.startsWith('/swagger'))).toBe(false);
  });

  test('one ErrorEnvelope component, referenced by every error response, with examples matching the route', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    expect(spec.components.schemas.ErrorEnvelope.properties.error.required).toEqual(['message', 'type', 'param', 'code']);
    let errorResponses = 0;
    for (const [path, item] of Object.entries<any>(spec.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, res] of Object.entries<any>(op.responses)) {
          if (Number(status) < 400 || path === '/readyz') continue; // readiness answers 503 with plain {status}
          errorResponses++;
          const json = res.content['application/json'];
          expect(json.schema, `${method} ${path} ${status}`).toEqual({ $ref: '#/components/schemas/ErrorEnvelope' });
          for (const ex of Object.values<any>(json.examples ?? {})) expect(ex.value.statusCode, `${method} ${path} ${status}`).toBe(Number(status));
        }
      }
    }
    expect(errorResponses).toBeGreaterThan(50);
    const codes = (op: any, status: number) => Object.values<any>(op.responses[String(status)].content['application/json'].examples ?? {}).map((e) => e.value.error.code);
    expect(codes(spec.paths['/admin/v1/projects'].post, 401)).toEqual(['invalid_admin_token']);
    expect(codes(spec.paths['/v1/chat/completions'].post, 401)).toContain('invalid_api_key');
    expect(codes(spec.paths['/v1/chat/completions'].post, 401)).not.toContain('invalid_admin_token');
    expect(codes(spec.paths['/v1/chat/completions'].post, 403)).toContain('domain_not_verified');
    expect(codes(spec.paths['/v1/conversations/{id}'].get, 404)).toEqual(['conversation_not_found']);
    expect(codes(spec.paths['/v1/models'].get, 500)).toEqual(['internal_error']);
    // Defaults follow the route: what its path parameters name, whether it reads a body.
    expect(codes(spec.paths['/r/{token}'].get, 404)).toEqual(['link_not_found']);
    expect(codes(spec.paths['/admin/v1/clicks/{click_id}/invalidate'].post, 404)).toEqual(['click_not_found']);
    expect(codes(spec.paths['/admin/v1/projects/{id}/keys/{key_id}/deactivate'].post, 404)).toEqual(['project_not_found', 'key_not_found']);
    expect(codes(spec.paths['/admin/v1/projects'].get, 400)).toEqual(['invalid_value', 'invalid_cursor']);
    expect(codes(spec.paths['/admin/v1/projects'].post, 400)).toEqual(['invalid_json', 'json_too_deep', 'invalid_encoding', 'body_incomplete', 'invalid_request_body', 'unknown_field', 'invalid_kind', 'invalid_name', 'invalid_domain', 'invalid_owner']);
    const chat401 = spec.paths['/v1/chat/completions'].post.responses['401'].content['application/json'].examples.invalid_api_key.value;
    expect(chat401).toEqual({ error: { message: 'Invalid API key', type: 'authentication_error', param: null, code: 'invalid_api_key' }, statusCode: 401, message: 'Invalid API key' });
  });

  test('every documented error example is a code the source can return, under that status', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    const source = errorCodesInSource();
    const unknown: string[] = [];
    let examples = 0;
    for (const [path, item] of Object.entries<any>(spec.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        for (const [status, res] of Object.entries<any>(op.responses)) {
          for (const ex of Object.values<any>(res.content?.['application/json']?.examples ?? {})) {
            examples++;
            if (!source.has(`${status} ${ex.value.error.code}`)) unknown.push(`${method} ${path}: ${status} ${ex.value.error.code}`);
          }
        }
      }
    }
    expect(examples).toBeGreaterThan(100);
    expect(unknown).toEqual([]);
  });

  test('admin and market routes name the codes each really returns', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    const codes = (path: string, method: string, status: number) =>
      Object.keys(spec.paths[path][method].responses[String(status)]?.content['application/json'].examples ?? {});
    const p = '/admin/v1/projects/{id}';
    expect(codes(p, 'patch', 403)).toEqual(['domain_not_verified', 'no_active_key', 'operator_only']);
    expect(codes(p, 'patch', 409)).toEqual(['not_an_advertiser', 'not_a_publisher']);
    expect(codes(`${p}/credits`, 'post', 409)).toEqual(['idempotency_key_reused']);
    expect(codes(`${p}/credits`, 'post', 400)).toContain('invalid_amount');
    expect(codes(`${p}/wallet`, 'get', 400)).toEqual(['invalid_value', 'invalid_cursor']);
    expect(codes(`${p}/keys/{key_id}/rotate`, 'post', 401)).toEqual(['invalid_admin_token']);
    expect(codes(`${p}/keys/{key_id}/rotate`, 'post', 409)).toEqual(['inactive_key']);
    expect(codes(`${p}/keys`, 'post', 403)).toEqual(['domain_not_verified']);
    expect(codes(`${p}/products`, 'post', 409)).toEqual(['not_an_advertiser', 'sku_taken']);
    expect(codes(`${p}/products`, 'post', 400)).toContain('url_not_on_advertiser_domain');
    expect(codes(`${p}/products/{product_id}`, 'delete', 409)).toEqual(['not_an_advertiser']);
    expect(codes(`${p}/products/import`, 'post', 409)).toEqual(['not_an_advertiser']);
    expect(codes(`${p}/campaigns`, 'post', 409)).toEqual(['not_an_advertiser']);
    expect(codes(`${p}/campaigns/{campaign_id}`, 'patch', 409)).toEqual(['campaign_archived', 'no_products']);
    expect(codes(`${p}/campaigns/{campaign_id}/activate`, 'post', 409)).toEqual(['campaign_archived', 'activation_refused']);
    expect(codes(`${p}/campaigns/{campaign_id}/pause`, 'post', 409)).toEqual(['campaign_archived']);
    expect(codes(`${p}/earnings`, 'get', 409)).toEqual(['not_a_publisher']);
    expect(codes(`${p}/clicks`, 'get', 400)).toEqual(['invalid_value', 'invalid_cursor']);
    expect(codes('/admin/v1/clicks/{click_id}/invalidate', 'post', 409)).toEqual(['click_not_charged', 'earning_available']);
    expect(codes('/v1/credits', 'get', 401)).toContain('expired_key');
  });

  test('domain checks and campaign targeting have schemas a generated client can type', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    const checks = spec.paths['/admin/v1/projects/{id}/domain/checks'].get.responses['200'].content['application/json'].schema;
    expect(Object.keys(checks.properties.data.items.properties).sort()).toEqual(['created_at', 'detail', 'domain', 'id', 'method', 'project_id', 'result']);
    const targeting = spec.paths['/admin/v1/projects/{id}/campaigns'].post.requestBody.content['application/json'].schema.properties.targeting;
    expect(targeting.type).toBeUndefined();
    expect(targeting.anyOf.map((b: any) => b.type)).toEqual(['object', 'object', 'null']);
    const patch = spec.paths['/admin/v1/projects/{id}'].patch;
    for (const field of ['disclosure_label', 'frequency_cap_turns', 'blocked_categories', 'bridge_mode'])
      expect(patch.requestBody.content['application/json'].schema.properties[field], field).toBeDefined();
    expect(patch.responses['200'].content['application/json'].schema.properties.ad_settings.properties.bridge_mode.enum).toEqual(['template', 'llm']);
    // No 200 answer is an object without properties (a generated client would type it Record<string, never>).
    for (const [path, item] of Object.entries<any>(spec.paths))
      for (const [method, op] of Object.entries<any>(item)) {
        const schema = op.responses['200']?.content?.['application/json']?.schema;
        if (schema?.type === 'object') expect(schema.properties ?? schema.additionalProperties, `${method} ${path}`).toBeDefined();
      }
  });

  test('documented query and header parameters survive on routes with path parameters', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    const names = (op: any) => op.parameters.map((p: any) => `${p.in}:${p.name}`);
    expect(names(spec.paths['/v1/conversations/{id}'].get)).toEqual(['path:id', 'query:from_seq', 'query:limit']);
    expect(spec.paths['/v1/conversations/{id}'].get.parameters[0].description).toBe('Conversation id');
    expect(names(spec.paths['/admin/v1/projects/{id}/products'].get)).toContain('query:limit');
    expect(JSON.stringify(spec)).not.toContain('x-vexrail-parameters');
  });

  test('servers, a licence and a realistic chat request example', async () => {
    const spec = await (await t.call('GET', '/swagger/json')).json() as any;
    expect(spec.servers[0].url).toBe('/');
    expect(spec.info.license.name).toBeTruthy();
    const example = spec.paths['/v1/chat/completions'].post.requestBody.content['application/json'].schema.example;
    expect(example.model).toBe('vexrail-demo');
    expect(example.messages.at(-1).role).toBe('user');
    expect(example.temperature).toBeLessThan(1.5);
    expect(example.max_tokens).toBeGreaterThanOrEqual(64);
  });

  test('Swagger UI at /swagger/ (trailing slash) fetches the spec from its absolute path', async () => {
    for (const path of ['/swagger', '/swagger/']) {
      const res = await t.call('GET', path);
      expect(res.status).toBe(200);
      const config = JSON.parse((await res.text()).match(/SwaggerUIBundle\((\{.*?\})\)/)![1]);
      const specUrl = new URL(config.url, `http://127.0.0.1:8080${path}`);
      expect(specUrl.pathname, path).toBe('/swagger/json');
      expect((await t.call('GET', specUrl.pathname)).status).toBe(200);
    }
  });

  test('Swagger UI loads its script and stylesheet from this server, not a CDN', async () => {
    const html = await (await t.call('GET', '/swagger')).text();
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toContain('/swagger/assets/swagger-ui-bundle.js');
    expect(srcs).toContain('/swagger/assets/swagger-ui.css');
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|cdnjs|fonts)\./);
    const js = await t.call('GET', '/swagger/assets/swagger-ui-bundle.js');
    expect(js.status).toBe(200);
    expect((await js.text()).length).toBeGreaterThan(500_000);
    expect((await t.call('GET', '/swagger/assets/swagger-ui.css')).headers.get('content-type')).toContain('text/css');
  });

  test('health and readiness', async () => {
    expect(await (await t.call('GET', '/healthz')).json() as any).toEqual({ status: 'ok' });
    const ready = (await (await t.call('GET', '/readyz')).json()) as any;
    expect(ready.status).toBe('ready');
    expect(ready.providers.map((p: any) => [p.name, p.kind, p.state])).toEqual([['demo', 'demo', 'closed']]);
  });
});
