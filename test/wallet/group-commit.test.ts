import { describe, expect, test } from 'bun:test';
import { openStore } from '../../src/store/database';
import { sqliteStore } from '../../src/store/sql-store';
import { syncOf } from '../helpers/sync';
import { writeGateOf } from '../../src/store/write-gate';
import { writeWalletOutside } from '../../src/wallet/money-sync';
import { auditMoney, createWalletRepo, type GroupCharge } from '../../src/wallet/wallet.repo';
import { createWalletService } from '../../src/wallet/wallet.service';
import { readSse } from '../helpers/test-app';
import { useUpstreamApp } from '../helpers/upstream-app';

/** A publisher project row, so that a wallet can be opened for it. */
function addProject(db: ReturnType<typeof openStore>['db'], id: string, domain = `${id}.example`): void {
  db.run(`INSERT INTO projects (id, name, kind, domain, domain_status, verification_token, created_at, updated_at)
    VALUES (?, 'P', 'publisher', ?, 'verified', 't', 0, 0)`, [id, domain]);
}

/** The embedded store's wallet: its holds and group commit answer synchronously (the local credit book). */
async function setUp() {
  const store = openStore(':memory:');
  const sql = sqliteStore(store.db);
  const repo = createWalletRepo(sql);
  const groups: number[] = [];
  const local = repo.local!;
  const counted = { ...repo, local: { ...local, consumeGroup: (charges: GroupCharge[]) => (groups.push(charges.length), local.consumeGroup(charges)) } };
  const wallet = createWalletService({ repo: counted, store: sql });
  addProject(store.db, 'p1', 'p.example');
  await wallet.ensureWallet('p1');
  await wallet.topUp('p1', { amount: '1.00' });
  const ledgerCount = () => (store.db.query(`SELECT count(*) AS n FROM ledger_entries WHERE type = 'consumption'`).get() as { n: number }).n;
  return { store, sql, wallet, groups, ledgerCount };
}

describe('group commit of consumption charges', () => {
  test('charges settled in one turn are written by one transaction, after the turn; each is counted at once', async () => {
    const { store, sql, wallet, groups, ledgerCount } = await setUp();
    const holds = Array.from({ length: 5 }, () => syncOf(wallet.reserve('p1', () => 100_000))!);
    expect(syncOf(wallet.availableMicros('p1'))).toBe(500_000);
    const settled = holds.map((h, i) => wallet.settle(h.holdId, 10_000, `req_${i}`)!);
    // Decided and counted now: the next request sees the money as spent although nothing is written yet.
    expect(syncOf(wallet.availableMicros('p1'))).toBe(1_000_000 - 50_000);
    expect(ledgerCount()).toBe(0);
    await Promise.all(settled.map((s) => s.committed));
    expect(ledgerCount()).toBe(5);
    expect(groups).toEqual([5]);
    expect(syncOf(wallet.credits('p1')).balance_micros).toBe(950_000);
    expect(await auditMoney(sql)).toEqual([]);
    store.close();
  });

  test('while the WAL checkpointer holds writes the group waits, still counted as spent, and commits when the hold ends', async () => {
    const { store, sql, wallet, ledgerCount } = await setUp();
    const gate = writeGateOf(store.db);
    gate.hold(10_000);
    const hold = syncOf(wallet.reserve('p1', () => 100_000))!;
    const settled = wallet.settle(hold.holdId, 40_000, 'req_held')!;
    let committed = false;
    void settled.committed.then(() => (committed = true));
    await Bun.sleep(20);
    expect(committed).toBe(false);
    expect(ledgerCount()).toBe(0);
    expect(syncOf(wallet.availableMicros('p1'))).toBe(960_000);
    gate.open();
    await settled.committed;
    expect(ledgerCount()).toBe(1);
    expect(syncOf(wallet.credits('p1')).balance_micros).toBe(960_000);
    store.close();
  });

  test('a write released with the gate that throws does not keep the group commit from running', async () => {
    const { store, sql, wallet, ledgerCount } = await setUp();
    const gate = writeGateOf(store.db);
    gate.hold(10_000);
    gate.whenOpen(() => {
      throw new Error('a failing background write');
    });
    const hold = syncOf(wallet.reserve('p1', () => 100_000))!;
    const settled = wallet.settle(hold.holdId, 10_000, 'req_after_throw')!;
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(' '));
    try {
      gate.open();
    } finally {
      console.error = original;
    }
    await settled.committed;
    expect(ledgerCount()).toBe(1);
    expect(String(errors[0])).toContain('failed when released');
    store.close();
  });

  test('a hold the checkpointer never releases ends by itself', async () => {
    const { store, sql, wallet, ledgerCount } = await setUp();
    writeGateOf(store.db).hold(30);
    const hold = syncOf(wallet.reserve('p1', () => 100_000))!;
    const started = performance.now();
    await wallet.settle(hold.holdId, 10_000, 'req_timeout')!.committed;
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(ledgerCount()).toBe(1);
    store.close();
  });

  test('a wallet write made elsewhere (a click charge) first commits the queued charges, then re-reads the balance', async () => {
    const { store, sql, wallet, ledgerCount } = await setUp();
    const hold = syncOf(wallet.reserve('p1', () => 200_000))!;
    void wallet.settle(hold.holdId, 200_000, 'req_a')!.committed;
    expect(ledgerCount()).toBe(0);
    writeWalletOutside(sql, 'p1', () => {
      // Inside the outside write the queued charge is already in the ledger, so its guarded debit sees it.
      expect(ledgerCount()).toBe(1);
      store.db.run(`UPDATE wallets SET balance_micros = balance_micros - 300000 WHERE project_id = 'p1'`);
      store.db.run(`INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, created_at) VALUES ('p1', 'cpc_cost', -300000, 500000, 0)`);
    });
    // The cached balance was dropped: available is read again from the store.
    expect(syncOf(wallet.availableMicros('p1'))).toBe(500_000);
    expect(await auditMoney(sql)).toEqual([]);
    store.close();
  });

  test('a charge whose write fails fails alone: the rest of its group is written', async () => {
    const store = openStore(':memory:');
    const sql = sqliteStore(store.db);
    const repo = createWalletRepo(sql);
    const local = repo.local!;
    const poisoned = {
      ...repo,
      local: {
        ...local,
        consumeGroup: (charges: GroupCharge[]) => {
          if (charges.some((c) => c.requestId === 'req_bad')) {
            if (charges.length > 1) throw new Error('group failed');
            throw new Error('this charge cannot be written');
          }
          return local.consumeGroup(charges);
        },
      },
    };
    const wallet = createWalletService({ repo: poisoned, store: sql });
    addProject(store.db, 'p1', 'p.example');
    await wallet.topUp('p1', { amount: '1.00' });
    const [a, bad, c] = ['req_a', 'req_bad', 'req_c'].map((id) => wallet.settle(syncOf(wallet.reserve('p1', () => 1_000))!.holdId, 1_000, id)!);
    await a.committed;
    await c.committed;
    expect(bad.committed).rejects.toThrow('this charge cannot be written');
    const ids = (store.db.query(`SELECT request_id FROM ledger_entries WHERE type = 'consumption' ORDER BY seq`).all() as { request_id: string }[]).map((r) => r.request_id);
    expect(ids).toEqual(['req_a', 'req_c']);
    // The failed charge is no longer counted as queued: the balance is the store's.
    expect(syncOf(wallet.availableMicros('p1'))).toBe(998_000);
    expect(await auditMoney(sql)).toEqual([]);
    store.close();
  });
});

describe('a charge is durable before its answer completes', () => {
  const env = useUpstreamApp();
  const charged = async (requestId: string) =>
    (await env.t.store.stmt<{ n: number }>(`SELECT COUNT(*) AS n FROM ledger_entries WHERE type = 'consumption' AND request_id = ?`).get([requestId]))!;

  test('JSON and streamed answers: the ledger entry exists when the client has the whole answer', async () => {
    const { t } = env;
    const p = await t.project('5.00', 'Durable');
    const messages = [{ role: 'user', content: 'hello' }];
    for (let i = 0; i < 5; i++) {
      const res = await t.chat(p.headers, { model: 'fake-model', messages });
      await res.text();
      expect((await charged(res.headers.get('x-request-id')!)).n).toBe(1);
      const streamed = await t.chat(p.headers, { model: 'fake-model', messages, stream: true });
      await readSse(streamed);
      expect((await charged(streamed.headers.get('x-request-id')!)).n).toBe(1);
    }
    const concurrent = await Promise.all(Array.from({ length: 16 }, () => t.chat(p.headers, { model: 'fake-model', messages }).then(async (r) => (await r.text(), r))));
    for (const r of concurrent) expect((await charged(r.headers.get('x-request-id')!)).n).toBe(1);
    expect(await auditMoney(t.store)).toEqual([]);
  });

  test('in a group, a charge its balance cannot cover fails alone; every written entry carries its running balance', async () => {
    const store = openStore(':memory:');
    const sql = sqliteStore(store.db);
    const repo = createWalletRepo(sql);
    for (const [id, funds] of [['pa', 100], ['pb', 10], ['pc', 1_000]] as const) {
      addProject(store.db, id);
      await repo.ensureWallet(id);
      await repo.topUp(id, funds, null, 1);
    }
    const charge = (projectId: string, amount: number, i: number): GroupCharge => ({ projectId, amount, requestId: `req_${i}`, note: null, now: 2, tag: null });
    // pa: 60 + 30 + 20 = 110 > 100: the third does not fit. pb: 3 + 5 = 8 <= 10.
    const charges = [charge('pa', 60, 1), charge('pb', 3, 2), charge('pa', 30, 3), charge('pa', 20, 4), charge('pb', 5, 5)];
    // And 70 one-micro charges of a third project after the others.
    for (let i = 0; i < 70; i++) charges.push(charge('pc', 1, 100 + i));
    expect(repo.local!.consumeGroup(charges)).toEqual([true, true, true, false, true, ...Array(70).fill(true)]);
    expect(await repo.balance('pa')).toBe(10);
    expect(await repo.balance('pb')).toBe(2);
    expect(await repo.balance('pc')).toBe(930);
    const after = (projectId: string) => (store.db.query(`SELECT balance_after_micros AS b FROM ledger_entries WHERE project_id = ? AND type = 'consumption' ORDER BY seq`).all(projectId) as { b: number }[]).map((r) => r.b);
    expect(after('pa')).toEqual([40, 10]);
    expect(after('pb')).toEqual([7, 2]);
    expect(after('pc')).toEqual(Array.from({ length: 70 }, (_, i) => 999 - i));
    expect(await auditMoney(sql)).toEqual([]);
  });
});
