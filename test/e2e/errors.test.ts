/**
 * Every row of the error table, produced by the compiled binary and surfacing through the official
 * `openai` SDK as its typed error with the right status and code (and the request id header).
 */
import { Database } from 'bun:sqlite';
import { SQL } from 'bun';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import OpenAI, { APIError } from 'openai';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream';
import { eventually, leakedSecrets, startGateway, type Gateway, type Project } from './binary.helpers';

let upstream: FakeUpstream;
let gw: Gateway;
let funded: Project;
let other: Project;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  // A short first-byte timeout keeps the 504 case quick.
  // No retries: each upstream failure below reaches the client as the status the table gives it.
  gw = await startGateway({ upstreamUrl: upstream.baseUrl, provider: { first_byte_timeout_ms: 400, retries: 0 } });
  [funded, other] = await Promise.all([gw.createProject('10.00'), gw.createProject('10.00')]);
});

afterAll(async () => {
  await gw?.stop();
  await upstream?.close();
});

function clientWith(headers: Record<string, string>): OpenAI {
  return new OpenAI({ baseURL: gw.apiBase, apiKey: 'unused', defaultHeaders: headers, maxRetries: 0, timeout: 10_000 });
}

const ask = (content = 'Hello there') => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] });

/** Runs `call`, which must fail, and returns the SDK's error (fails the test when it resolves). */
async function failure(call: () => Promise<unknown>): Promise<APIError> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(OpenAI.APIError);
    return err as APIError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function expectApiError(err: APIError, cls: new (...args: any[]) => APIError, status: number, code: string): void {
  expect(err).toBeInstanceOf(cls);
  expect({ status: err.status, code: err.code }).toEqual({ status, code });
  expect(err.requestID ?? '').toMatch(/^req_/);
}

describe('error table through the openai SDK', () => {
  test('400 empty messages -> BadRequestError empty_messages', async () => {
    const err = await failure(() => clientWith(funded.headers).chat.completions.create({ model: 'gpt-4o-mini', messages: [] }));
    expectApiError(err, OpenAI.BadRequestError, 400, 'empty_messages');
    expect(err.param).toBe('messages');
  });

  test('401 missing_api_key, invalid_api_key, key_pair_mismatch, inactive_key -> AuthenticationError', async () => {
    const missing = await failure(() => clientWith({}).chat.completions.create(ask()));
    expectApiError(missing, OpenAI.AuthenticationError, 401, 'missing_api_key');

    const bogus = { 'x-publishable-key': 'pk_live_doesnotexist', 'x-secret-key': 'sk_live_doesnotexist' };
    expectApiError(await failure(() => clientWith(bogus).chat.completions.create(ask())), OpenAI.AuthenticationError, 401, 'invalid_api_key');

    const mixed = { 'x-publishable-key': funded.pk, 'x-secret-key': other.sk };
    expectApiError(await failure(() => clientWith(mixed).chat.completions.create(ask())), OpenAI.AuthenticationError, 401, 'key_pair_mismatch');

    const retired = await gw.createProject('1.00');
    expect((await clientWith(retired.headers).chat.completions.create(ask())).choices[0].message.content).toBeString();
    const off = await gw.admin('POST', `/projects/${retired.id}/keys/${retired.keyId}/deactivate`);
    expect(off.body.status).toBe('inactive');
    expectApiError(await failure(() => clientWith(retired.headers).chat.completions.create(ask())), OpenAI.AuthenticationError, 401, 'inactive_key');
  });

  test('403 domain_not_verified once the project domain changes -> PermissionDeniedError', async () => {
    const moved = await gw.createProject('10.00');
    const patched = await gw.admin('PATCH', `/projects/${moved.id}`, { domain: 'other.example.com' });
    expect(patched.status).toBe(200);
    expect(patched.body.domain_status).toBe('unverified');
    const err = await failure(() => clientWith(moved.headers).chat.completions.create(ask()));
    expectApiError(err, OpenAI.PermissionDeniedError, 403, 'domain_not_verified');
  });

  test('403 insufficient_credits for a project without credits -> PermissionDeniedError', async () => {
    const broke = await gw.createProject('0');
    const requestsBefore = upstream.requests.length;
    const err = await failure(() => clientWith(broke.headers).chat.completions.create(ask()));
    expectApiError(err, OpenAI.PermissionDeniedError, 403, 'insufficient_credits');
    expect(upstream.requests.length).toBe(requestsBefore);
  });

  test('404 unknown conversation and unknown path -> NotFoundError', async () => {
    const client = clientWith(funded.headers);
    expectApiError(await failure(() => client.get('/conversations/nope')), OpenAI.NotFoundError, 404, 'conversation_not_found');
    expectApiError(await failure(() => client.get('/no-such-endpoint')), OpenAI.NotFoundError, 404, 'not_found');
  });

  test('422 unknown model and temperature 3 -> UnprocessableEntityError', async () => {
    const client = clientWith(funded.headers);
    const model = await failure(() => client.chat.completions.create({ ...ask(), model: 'gpt-9-imaginary' }));
    expectApiError(model, OpenAI.UnprocessableEntityError, 422, 'model_not_found');
    expect(model.param).toBe('model');
    const temperature = await failure(() => client.chat.completions.create({ ...ask(), temperature: 3 }));
    expectApiError(temperature, OpenAI.UnprocessableEntityError, 422, 'invalid_value');
    expect(temperature.param).toBe('temperature');
  });

  test('502 when the upstream answers 500: no upstream detail leaks, the hold is released', async () => {
    upstream.scriptOnce({ kind: 'status', status: 500 });
    const err = await failure(() => clientWith(funded.headers).chat.completions.create(ask()));
    expectApiError(err, OpenAI.InternalServerError, 502, 'upstream_error');
    // The fake's error body says "upstream secret detail sk-upstream-XYZ"; the client must not see it.
    expect(JSON.stringify(err.error)).not.toContain('sk-upstream');
    expect(err.message).not.toContain('secret detail');
    const wallet = await gw.wallet(funded.id);
    expect(wallet.held_micros).toBe(0);
  });

  test('504 when the upstream sends nothing before first_byte_timeout_ms', async () => {
    upstream.scriptOnce({ kind: 'hang' });
    const started = performance.now();
    const err = await failure(() => clientWith(funded.headers).chat.completions.create(ask()));
    expectApiError(err, OpenAI.InternalServerError, 504, 'upstream_timeout');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(350);
    expect(elapsed).toBeLessThan(5_000);
    expect((await gw.wallet(funded.id)).held_micros).toBe(0);
  });

  test('500 internal_error (with the request id) when the database breaks under the running binary', async () => {
    // The same break on either store: the wallets table disappears under the running gateway.
    const sqlite = gw.databaseUrl ? null : new Database(gw.dbPath);
    const pg = gw.databaseUrl ? new SQL(gw.databaseUrl, { max: 1 }) : null;
    const exec = async (statement: string) => (sqlite ? sqlite.exec(statement) : await pg!.unsafe(statement));
    sqlite?.exec('PRAGMA busy_timeout = 5000');
    const before = await gw.wallet(funded.id);
    let err: APIError;
    try {
      await exec('ALTER TABLE wallets RENAME TO wallets_gone');
      err = await failure(() => clientWith(funded.headers).chat.completions.create(ask()));
    } finally {
      await exec('ALTER TABLE wallets_gone RENAME TO wallets');
      sqlite?.close();
      await pg?.close();
    }
    expectApiError(err, OpenAI.InternalServerError, 500, 'internal_error');
    expect(err.message).toContain(err.requestID!);
    // The cause goes to the server log, tied to the same request id; the client sees no SQL. The response
    // can arrive before the child's stderr pipe is drained into gw.stderr(): wait for the line, then check it.
    expect(err.message).not.toContain('wallets');
    const completeLines = () => gw.stderr().split('\n').slice(0, -1);
    const logLine = await eventually(() => completeLines().find((line) => line.includes(err.requestID!)), 5_000);
    expect(logLine).toBeDefined();
    expect(JSON.parse(logLine!)).toMatchObject({ level: 'error', request_id: err.requestID });
    // Nothing was reserved or charged, and the gateway recovers once the table is back.
    const after = await gw.wallet(funded.id);
    expect(after.balance_micros).toBe(before.balance_micros);
    expect(after.held_micros).toBe(0);
    const ok = await clientWith(funded.headers).chat.completions.create(ask());
    expect(ok.choices[0].message.content).toBe('Hello from the fake upstream. It works.');
  });

  test('every error response is the documented envelope with statusCode and message', async () => {
    const res = await gw.request('POST', '/v1/chat/completions', { body: { ...ask(), temperature: 3 }, headers: funded.headers });
    expect(res.status).toBe(422);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(res.body).toEqual({
      error: { message: expect.any(String), type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' },
      statusCode: 422,
      message: res.body.error.message,
    });
  });

  test('no secret and no upstream error detail in the process output', async () => {
    // Stopping drains both pipes, so the check covers everything the process wrote, not what has arrived so far.
    await gw.stop();
    const output = gw.stdout() + '\n' + gw.stderr();
    expect(leakedSecrets(output, [...gw.secrets(), 'sk-upstream-XYZ'])).toEqual([]);
  });
});
