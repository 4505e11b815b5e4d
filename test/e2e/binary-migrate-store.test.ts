/**
 * `vexrail migrate-store` as an operator runs it: the compiled binary copies a stopped server's data
 * directory into an empty PostgreSQL database (schema from the migrations embedded in the binary).
 */
import { SQL } from 'bun';
import { afterAll, expect, test } from 'bun:test';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, useThrowawayPostgres } from '../helpers/postgres';
import { runCli, startGateway, tempDir } from './binary.helpers';

const pg = useThrowawayPostgres();
const dir = tempDir('migrate');
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a stopped demo install is copied and verified; a second copy into the same database is refused; --to is required', async () => {
  const dataDir = join(dir, 'data');
  const gw = await startGateway({ dataDir, adminToken: null, args: ['--demo'] });
  const banner = gw.banner();
  const pk = /publishable key: (pk_live_[0-9A-Za-z]+)/.exec(banner)![1];
  const sk = /secret key: +(sk_live_[0-9A-Za-z]+)/.exec(banner)![1];
  for (let i = 0; i < 3; i++) {
    const res = await gw.request('POST', '/v1/chat/completions', {
      headers: { 'x-publishable-key': pk, 'x-secret-key': sk, 'x-conversation-id': 'migrate-e2e' },
      body: { model: 'vexrail-demo', messages: [{ role: 'user', content: `question ${i}` }] },
    });
    expect(res.status).toBe(200);
  }
  expect((await gw.stop()).exitCode).toBe(0);

  const target = await createTestDatabase(pg.server.url);
  try {
    const run = await runCli(['migrate-store', '--to', target.url, '--data-dir', dataDir]);
    expect(run.stderr).toContain('ledger_entries:');
    expect(run.stdout).toContain('row counts and money sums verified');
    expect(run.exitCode).toBe(0);
    const sql = new SQL(target.url, { max: 1 });
    try {
      const [{ n }] = await sql`SELECT count(*)::int AS n FROM ledger_entries WHERE type = 'consumption'`;
      expect(n).toBe(3);
      const [{ turns }] = await sql`SELECT count(*)::int AS turns FROM messages WHERE conversation_id = 'migrate-e2e'`;
      expect(turns).toBe(6);
    } finally {
      await sql.close();
    }
    const again = await runCli(['migrate-store', '--to', target.url, '--data-dir', dataDir]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('not empty');
  } finally {
    await target.drop();
  }
  const usage = await runCli(['migrate-store', '--data-dir', dataDir]);
  expect(usage.exitCode).toBe(2);
  expect(usage.stderr).toContain('usage: vexrail migrate-store --to postgres://');
}, 120_000);
