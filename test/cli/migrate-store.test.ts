import { afterAll, describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_FAILED, EXIT_OK, migrateStore } from '../../src/cli/migrate-store';
import { databasePath } from '../../src/store/database';
import { advertiser, BROWSER_UA, publisher, trackedLink } from '../helpers/market';
import { createTestDatabase, useThrowawayPostgres } from '../helpers/postgres';
import { useUpstreamApp } from '../helpers/upstream-app';

// The source is an embedded SQLite data directory on either test pass.
const env = useUpstreamApp({ store: 'sqlite' });
const pg = useThrowawayPostgres();
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data directory holding the test app's database as it is now (every queued write flushed first). */
async function snapshotDataDir(): Promise<string> {
  await env.t.rt.wallet.commitQueued();
  await env.t.rt.flushAll();
  const dir = mkdtempSync(join(tmpdir(), 'vexrail-migrate-'));
  dirs.push(dir);
  writeFileSync(databasePath(dir), env.t.db.serialize());
  return dir;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
}

const tablesOf = (dir: string) => {
  const { Database } = require('bun:sqlite') as typeof import('bun:sqlite');
  const db = new Database(databasePath(dir), { readonly: true });
  try {
    return (db.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    db.close();
  }
};

describe('vexrail migrate-store', () => {
  test('copies every table into an empty PostgreSQL database, verified, and new ids follow the copied ones', async () => {
    const t = env.t;
    env.upstream.script({ kind: 'normal', content: 'Here is an organic answer.' });
    const adv = await advertiser(t, { name: 'Migrating Ads' });
    const pub = await publisher(t, 'Migrating Pub');
    let clicked = 0;
    for (let i = 0; i < 4; i++) {
      const res = await t.chat(pub.headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What project management tool can help my team track tasks and deadlines?' }] }, { 'x-conversation-id': `migrate-${i}` });
      const link = trackedLink(((await res.json()) as any).choices[0].message.content);
      if (link && (await t.call('GET', new URL(link).pathname, { headers: { 'user-agent': BROWSER_UA } })).status === 302) clicked++;
    }
    expect(clicked).toBeGreaterThan(0);
    const dir = await snapshotDataDir();
    const target = await createTestDatabase(pg.server.url);
    try {
      const io = capture();
      expect(await migrateStore({ dataDir: dir, to: target.url, ...io })).toBe(EXIT_OK);
      expect(io.out.join('')).toContain('row counts and money sums verified');
      expect(io.err.join('')).toContain('ledger_entries:');

      const sql = new SQL(target.url, { max: 1 });
      try {
        // Independently of the tool's own check: whole tables compared row by row where money lives.
        for (const table of ['wallets', 'ledger_entries', 'clicks', 'earnings_entries', 'platform_entries']) {
          const fromSqlite = t.db.query(`SELECT * FROM ${table} ORDER BY rowid`).all() as Record<string, unknown>[];
          const fromPg = (await sql.unsafe(`SELECT * FROM ${table}`)) as Record<string, unknown>[];
          const normal = (rows: Record<string, unknown>[]) =>
            rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])).valueOf())).sort();
          expect(normal(fromPg)).toEqual(normal(fromSqlite));
        }
        expect(fromCount(await sql`SELECT count(*)::int AS n FROM clicks WHERE status = 'charged'`)).toBeGreaterThan(0);
        for (const table of tablesOf(dir)) {
          const n = (t.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
          expect({ table, n: fromCount(await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`)) }).toEqual({ table, n });
        }
        // The identity counter moved past the copied ledger: a new entry gets the next number.
        const maxSeq = (t.db.query('SELECT max(seq) AS m FROM ledger_entries').get() as { m: number }).m;
        const [inserted] = await sql`INSERT INTO ledger_entries (project_id, type, amount_micros, balance_after_micros, created_at)
          VALUES (${adv.id}, 'top_up', 1, 1, 0) RETURNING seq`;
        expect(Number(inserted.seq)).toBe(maxSeq + 1);
        await sql`DELETE FROM ledger_entries WHERE seq = ${inserted.seq}`;
      } finally {
        await sql.close();
      }

      // A second copy into the same (now full) database is refused and changes nothing.
      const again = capture();
      expect(await migrateStore({ dataDir: dir, to: target.url, ...again })).toBe(EXIT_FAILED);
      expect(again.err.join('')).toContain('not empty');
    } finally {
      await target.drop();
    }
  }, 120_000);

  test('a row PostgreSQL refuses rolls the whole copy back: the target stays empty and the message names the table', async () => {
    const t = env.t;
    // Text with a NUL character is valid JSON and valid SQLite text, but PostgreSQL text cannot hold it.
    env.upstream.script({ kind: 'normal', content: 'An answer with a \u0000 inside.' });
    const res = await t.chat((await t.project('1.00', 'Nul Pub')).headers, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }, { 'x-conversation-id': 'nul-1' });
    expect(res.status).toBe(200);
    const dir = await snapshotDataDir();
    const target = await createTestDatabase(pg.server.url);
    try {
      const io = capture();
      expect(await migrateStore({ dataDir: dir, to: target.url, ...io })).toBe(EXIT_FAILED);
      expect(io.err.join('')).toMatch(/migrate-store failed: copying \w+, rows \d+-\d+: .*NUL character.*nothing was kept/);
      const sql = new SQL(target.url, { max: 1 });
      try {
        for (const table of ['projects', 'wallets', 'ledger_entries', 'conversations'])
          expect(fromCount(await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`))).toBe(0);
      } finally {
        await sql.close();
      }
    } finally {
      await target.drop();
      // The later tests copy the same app's database: take the NUL out again.
      for (const row of t.db.query('SELECT rowid AS id, content FROM messages').all() as Array<{ id: number; content: string }>)
        if (row.content.includes('\u0000')) t.db.run('UPDATE messages SET content = ? WHERE rowid = ?', [row.content.replaceAll('\u0000', ''), row.id]);
    }
  }, 120_000);

  test('a database holding another application\'s tables is refused before anything is created in it', async () => {
    const dir = await snapshotDataDir();
    const target = await createTestDatabase(pg.server.url);
    const sql = new SQL(target.url, { max: 1 });
    try {
      await sql`CREATE TABLE customers (id integer PRIMARY KEY, name text)`;
      await sql`INSERT INTO customers VALUES (1, 'Ada')`;
      const io = capture();
      expect(await migrateStore({ dataDir: dir, to: target.url, ...io })).toBe(EXIT_FAILED);
      expect(io.err.join('')).toContain("tables that are not Vexrail's (customers)");
      const tables = (await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`) as Array<{ table_name: string }>;
      expect(tables.map((t) => t.table_name)).toEqual(['customers']);
    } finally {
      await sql.close();
      await target.drop();
    }
  }, 60_000);

  test('ids of deleted rows are not given out again: identity counters start past SQLite\'s AUTOINCREMENT mark', async () => {
    const t = env.t;
    // domain_checks ids are AUTOINCREMENT: delete the newest rows so that max(id) is below SQLite's mark.
    const { m } = t.db.query('SELECT max(id) AS m FROM domain_checks').get() as { m: number };
    const mark = (t.db.query(`SELECT seq FROM sqlite_sequence WHERE name = 'domain_checks'`).get() as { seq: number }).seq;
    t.db.run('DELETE FROM domain_checks WHERE id = ?', [m]);
    const dir = await snapshotDataDir();
    const target = await createTestDatabase(pg.server.url);
    const sql = new SQL(target.url, { max: 1 });
    try {
      const io = capture();
      const code = await migrateStore({ dataDir: dir, to: target.url, ...io });
      if (code !== EXIT_OK) throw new Error(io.err.join(''));
      const [row] = await sql`INSERT INTO domain_checks (project_id, domain, method, result, created_at)
        SELECT id, domain, 'manual', 'verified', 0 FROM projects LIMIT 1 RETURNING id`;
      expect(Number(row.id)).toBe(mark + 1);
    } finally {
      await sql.close();
      await target.drop();
    }
  }, 60_000);

  test('rows written while the copy runs do not break it: the copy is one snapshot of the SQLite store', async () => {
    const dir = await snapshotDataDir();
    const target = await createTestDatabase(pg.server.url);
    const { Database } = require('bun:sqlite') as typeof import('bun:sqlite');
    const writer = new Database(databasePath(dir));
    writer.exec('PRAGMA busy_timeout = 5000');
    let written = 0;
    const timer = setInterval(() => void writer.run('INSERT INTO settings (key, value) VALUES (?, ?)', [`concurrent_${written++}`, 'x']), 1);
    try {
      const io = capture();
      const code = await migrateStore({ dataDir: dir, to: target.url, ...io });
      clearInterval(timer);
      if (code !== EXIT_OK) throw new Error(io.err.join(''));
      expect(written).toBeGreaterThan(0);
      const sql = new SQL(target.url, { max: 1 });
      try {
        const copied = fromCount(await sql`SELECT count(*)::int AS n FROM settings WHERE key LIKE 'concurrent_%'`);
        expect(copied).toBeLessThanOrEqual(written);
      } finally {
        await sql.close();
      }
    } finally {
      clearInterval(timer);
      writer.close();
      await target.drop();
    }
  }, 60_000);

  test('usage errors: no database in the data directory, an unreachable server', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'vexrail-migrate-empty-'));
    dirs.push(empty);
    const io = capture();
    expect(await migrateStore({ dataDir: empty, to: pg.server.url, ...io })).toBe(EXIT_FAILED);
    expect(io.err.join('')).toContain('no database at');
    const dir = await snapshotDataDir();
    const down = capture();
    expect(await migrateStore({ dataDir: dir, to: 'postgres://postgres:secret-pw@127.0.0.1:1/vexrail', ...down })).toBe(EXIT_FAILED);
    expect(down.err.join('')).not.toContain('secret-pw');
    const query = capture();
    expect(await migrateStore({ dataDir: dir, to: 'postgres://postgres@127.0.0.1:1/vexrail?password=secret-qp&sslmode=disable', ...query })).toBe(EXIT_FAILED);
    expect(query.err.join('')).not.toContain('secret-qp');
    expect(query.err.join('')).toContain('sslmode=disable');
    expect(down.err.join('')).toContain('unable to connect to PostgreSQL at postgres://postgres:***@127.0.0.1:1/');
  }, 60_000);
});

function fromCount(rows: Array<{ n: number | string }>): number {
  return Number(rows[0].n);
}
