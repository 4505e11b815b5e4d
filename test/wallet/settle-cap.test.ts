/**
 * A charge larger than the wallet can pay: it takes what is available (never another request's hold),
 * records the rest as uncollected, and the balance never goes below zero.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { openStore, type Store } from '../../src/store/database';
import { sqliteStore, type SqlStore } from '../../src/store/sql-store';
import { syncOf } from '../helpers/sync';
import { auditMoney, createWalletRepo } from '../../src/wallet/wallet.repo';
import { createWalletService, type WalletService } from '../../src/wallet/wallet.service';
import { createTestApp, readSse, type TestApp } from '../helpers/test-app';

describe('wallet service: settle caps the charge', () => {
  let store: Store;
  let sql: SqlStore;
  let wallet: WalletService;
  beforeAll(() => {
    store = openStore(':memory:');
    sql = sqliteStore(store.db);
    wallet = createWalletService({ repo: createWalletRepo(sql), store: sql, now: () => 1_700_000_000_000 });
  });
  afterAll(() => store.close());

  const fund = async (projectId: string, amount: string) => {
    store.db.query("INSERT INTO projects (id, name, kind, domain, verification_token, created_at, updated_at) VALUES (?, ?, 'publisher', ?, 't', 0, 0)").run(projectId, projectId, `${projectId}.example.com`);
    await wallet.topUp(projectId, { amount });
  };

  test('a cost above hold and balance charges the whole balance and records the rest as uncollected', async () => {
    await fund('proj_cap_a', '0.001000');
    const hold = syncOf(wallet.reserve('proj_cap_a', () => 300))!;
    expect(wallet.settle(hold.holdId, 5_000, 'req_cap_a')).toMatchObject({ chargedMicros: 1_000, uncollectedMicros: 4_000 });
    const view = (await wallet.view('proj_cap_a', 10, null));
    expect(view).toMatchObject({ balance_micros: 0, held_micros: 0, available_micros: 0 });
    expect(view.transactions[0]).toMatchObject({ type: 'consumption', amount_micros: -1_000, balance_after: '0.00', request_id: 'req_cap_a', note: 'uncollected 4000 micros' });
    expect(await auditMoney(sql)).toEqual([]);
  });

  test("the cap leaves other requests' holds untouched", async () => {
    await fund('proj_cap_b', '0.001000');
    const first = syncOf(wallet.reserve('proj_cap_b', () => 400))!;
    const second = syncOf(wallet.reserve('proj_cap_b', () => 500))!;
    // 1000 in the wallet, 500 of it held by the second request: the first can take at most 500.
    expect(wallet.settle(first.holdId, 900, 'req_cap_b1')).toMatchObject({ chargedMicros: 500, uncollectedMicros: 400 });
    expect((await wallet.view('proj_cap_b', 1, null))).toMatchObject({ balance_micros: 500, held_micros: 500 });
    expect(wallet.settle(second.holdId, 500, 'req_cap_b2')).toMatchObject({ chargedMicros: 500, uncollectedMicros: 0 });
    const view = (await wallet.view('proj_cap_b', 10, null));
    expect(view.balance_micros).toBe(0);
    expect(view.transactions.map((e) => e.note)).toEqual([null, 'uncollected 400 micros', null]);
    expect(wallet.settle(first.holdId, 1, 'req_cap_b1')).toBeNull();
    expect(await auditMoney(sql)).toEqual([]);
  });

  test('a cost within the balance is charged in full with no note', async () => {
    await fund('proj_cap_c', '0.001000');
    const hold = syncOf(wallet.reserve('proj_cap_c', () => 300))!;
    expect(wallet.settle(hold.holdId, 700, 'req_cap_c')).toMatchObject({ chargedMicros: 700, uncollectedMicros: 0 });
    expect((await wallet.view('proj_cap_c', 1, null)).transactions[0]).toMatchObject({ amount_micros: -700, note: null });
  });
});

describe('through the gateway: an upstream that bills far more than was held', () => {
  const INFLATED = { prompt_tokens: 1_000_000, completion_tokens: 5, total_tokens: 1_000_005 };
  let server: ReturnType<typeof Bun.serve>;
  let t: TestApp;
  beforeAll(async () => {
    server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        const body = (await req.json()) as { stream?: boolean };
        const base = { id: 'chatcmpl-bill', created: 1, model: 'fake-model' };
        if (!body.stream)
          return Response.json({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: INFLATED });
        const frames = [
          { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'ok' }, finish_reason: null }] },
          { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
          { ...base, object: 'chat.completion.chunk', choices: [], usage: INFLATED },
        ];
        const text = frames.map((f) => `data: ${JSON.stringify(f)}\n\n`).join('') + 'data: [DONE]\n\n';
        return new Response(text, { headers: { 'content-type': 'text/event-stream' } });
      },
    });
    // fake-model: 1 USD per million prompt tokens, 2 per million answer tokens, so the inflated usage costs 1,000,010 micros.
    t = await createTestApp({ upstreamUrl: `http://127.0.0.1:${server.port}/v1` });
  });
  afterAll(() => {
    t.close();
    server.stop(true);
  });

  const ask = (stream: boolean) => ({ model: 'fake-model', stream, max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] });

  for (const stream of [false, true])
    test(`${stream ? 'stream' : 'JSON'}: the wallet pays its balance, the rest is uncollected, the balance stays at zero`, async () => {
      const p = await t.project('0.010000', `Bill ${stream}`);
      const res = await t.chat(p.headers, ask(stream));
      expect(res.status).toBe(200);
      if (stream) expect((await readSse(res)).frames.at(-1)).toBe('[DONE]');
      else expect(((await res.json()) as any).usage).toEqual(INFLATED);
      const view = (await t.rt.wallet.view(p.id, 10, null));
      expect(view).toMatchObject({ balance_micros: 0, held_micros: 0 });
      expect(view.transactions[0]).toMatchObject({ type: 'consumption', amount_micros: -10_000, note: 'uncollected 990010 micros' });
      expect(await auditMoney(t.store)).toEqual([]);
      // An empty wallet is refused from then on.
      expect((await t.chat(p.headers, ask(stream))).status).toBe(403);
    });
});
