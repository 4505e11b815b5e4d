/**
 * The compiled binary as an operator meets it: flags, exit codes, the first-start banner, --demo,
 * online backups and a graceful SIGTERM.
 */
import { Database } from 'bun:sqlite';
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { eventually, leakedSecrets, runCli, startGateway, tempDir, type Gateway } from './binary.helpers';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Starts a gateway that afterAll stops even when a test fails half-way. */
async function gateway(...args: Parameters<typeof startGateway>): Promise<Gateway> {
  const gw = await startGateway(...args);
  cleanups.push(() => gw.stop());
  return gw;
}

function scratchDir(label: string): string {
  const dir = tempDir(label);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('flags and exit codes', () => {
  test('--help prints the usage and exits 0', async () => {
    const run = await runCli(['--help']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('Usage:');
    expect(run.stdout).toContain('vexrail backup FILE');
    expect(run.stdout).toContain('--data-dir DIR');
    expect(run.stderr).toBe('');
  });

  test('--version prints the package.json version', async () => {
    const run = await runCli(['--version']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim()).toBe(pkg.version);
  });

  test('an unknown option or command exits 2 with a message on stderr', async () => {
    const option = await runCli(['--frobnicate']);
    expect(option.exitCode).toBe(2);
    expect(option.stderr).toContain('unknown option --frobnicate');
    expect(option.stdout).toBe('');
    const command = await runCli(['frobnicate']);
    expect(command.exitCode).toBe(2);
    expect(command.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('fresh data directory without --demo', () => {
  test('explains how to create a first project and prints a working admin token once', async () => {
    const dataDir = join(scratchDir('fresh'), 'data');
    const first = await gateway({ dataDir, adminToken: null });
    const banner = first.banner();
    expect(banner).toContain('No projects yet. Create one with the admin API:');
    expect(banner).toContain(`curl -X POST ${first.url}/admin/v1/projects`);
    expect(banner).toContain('vexrail-demo');
    expect(banner).not.toContain('pk_live_');
    const token = /^\s+(vxa_[0-9A-Za-z]+)$/m.exec(banner)?.[1];
    expect(token).toBeString();
    first.remember(token!);

    expect((await first.admin('GET', '/projects', undefined, 'not-the-token')).status).toBe(401);
    const created = await first.admin('POST', '/projects', { name: 'My app', domain: 'example.com' }, token!);
    expect(created.status).toBe(201);
    await eventually(() => first.stdout().includes('"path":"/admin/v1/projects"'), 2_000);
    expect(leakedSecrets(first.outputAfterBanner(), first.secrets())).toEqual([]);
    expect((await first.stop()).exitCode).toBe(0);

    // Second start on the same directory: the token is not printed again and still works.
    const second = await gateway({ dataDir, adminToken: null });
    expect(second.banner()).not.toContain('vxa_');
    expect(second.banner()).not.toContain('No projects yet');
    const listed = await second.admin('GET', '/projects', undefined, token!);
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((p: any) => p.id)).toEqual([created.body.id]);
  });
});

describe('memory at start-up', () => {
  /** VmHWM and VmRSS of a process, in MB. */
  function memoryMb(pid: number): { peak: number; now: number } {
    const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string;
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]);
    return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
  }

  test('an idle gateway never went far above its resting memory (no 64 MiB argon2id hash at start-up)', async () => {
    const gw = await gateway({ dataDir: join(scratchDir('memory'), 'data'), adminToken: null });
    await Bun.sleep(1_500);
    const { peak, now } = memoryMb(gw.proc.pid);
    console.log(`idle gateway: VmRSS ${now.toFixed(1)} MB, VmHWM ${peak.toFixed(1)} MB`);
    // The decoy hash of the sign-in made at start-up lifted the peak 60-65 MB above the resting RSS (139-145 MB).
    expect(peak - now).toBeLessThan(30);
    expect(peak).toBeLessThan(115);
  });
});

describe('trusted link origins', () => {
  test('a monetized install without --public-url or --allowed-hosts is warned at start; with one it is not', async () => {
    const dataDir = join(scratchDir('links'), 'data');
    const first = await gateway({ dataDir });
    expect(first.banner()).not.toContain('Warning: monetization is on');
    const p = await first.createProject('1.00');
    expect((await first.admin('PATCH', `/projects/${p.id}`, { monetization: true })).status).toBe(200);
    expect((await first.stop()).exitCode).toBe(0);

    const bare = await gateway({ dataDir });
    expect(bare.banner()).toContain(`Warning: monetization is on but no --public-url or --allowed-hosts is set, so tracked links point at ${bare.url}.`);
    expect((await bare.stop()).exitCode).toBe(0);
    const configured = await gateway({ dataDir, args: ['--allowed-hosts', 'gw.example.com'] });
    expect(configured.banner()).not.toContain('Warning');
  });
});

describe('--demo on a fresh data directory', () => {
  let demo: Gateway;
  let keys: { pk: string; sk: string };

  test('prints a demo key pair and a curl command whose key pair works', async () => {
    // The embedded store on both test passes: this is what `npm start` gives (and backups below copy its file).
    demo = await gateway({ adminToken: null, args: ['--demo'], dataDir: join(scratchDir('demo'), 'data') });
    const banner = demo.banner();
    const pk = /publishable key: (pk_live_[0-9A-Za-z]+)/.exec(banner)?.[1];
    const sk = /secret key: +(sk_live_[0-9A-Za-z]+)/.exec(banner)?.[1];
    expect(pk).toBeString();
    expect(sk).toBeString();
    keys = { pk: pk!, sk: sk! };
    demo.remember(sk!);
    const adminToken = /^\s+(vxa_[0-9A-Za-z]+)$/m.exec(banner)?.[1];
    expect(adminToken).toBeString();
    demo.remember(adminToken!);

    // Take the request from the printed curl command itself: URL, headers and JSON body.
    const curl = banner.slice(banner.indexOf('curl '));
    const url = /^curl (\S+)/.exec(curl)?.[1];
    expect(url).toBe(`${demo.url}/v1/chat/completions`);
    const headers = Object.fromEntries([...curl.matchAll(/-H "([^:]+): ([^"]+)"/g)].map((m) => [m[1].toLowerCase(), m[2]]));
    expect(headers['x-publishable-key']).toBe(keys.pk);
    expect(headers['x-secret-key']).toBe(keys.sk);
    const body = JSON.parse(/-d '([^']+)'/.exec(curl)![1]);
    expect(body.model).toBe('vexrail-demo');

    const res = await fetch(url!, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const completion = (await res.json()) as any;
    expect(completion.model).toBe('vexrail-demo');
    expect(completion.choices[0].message.content).toStartWith('This is vexrail-demo');
    expect(completion.choices[0].message.content).toContain(body.messages[0].content);
    expect(completion.usage.completion_tokens).toBeGreaterThan(0);

    // The curl's x-conversation-id is tracked, and the demo credits paid for the answer.
    const conversation = await eventually(async () => {
      const r = await demo.request('GET', `/v1/conversations/${headers['x-conversation-id']}`, { headers });
      return r.status === 200 ? r.body : null;
    }, 3_000, 100);
    expect(conversation?.message_count).toBe(2);
    const projectId = /Demo project (proj_\S+)/.exec(banner)![1];
    const wallet = await demo.admin('GET', `/projects/${projectId}/wallet`, undefined, adminToken!);
    expect(wallet.body.balance_micros).toBeGreaterThan(0);
    expect(wallet.body.balance_micros).toBeLessThan(5_000_000);
  });

  test('backup FILE writes a readable SQLite copy while the server keeps running', async () => {
    const file = join(scratchDir('backup'), 'copy.db');
    const run = await runCli(['backup', file, '--data-dir', demo.dataDir]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(`Backup written to ${file}`);

    const copy = new Database(file, { readonly: true });
    try {
      expect(copy.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
      const projects = copy.query('SELECT name, domain_status FROM projects').all();
      expect(projects).toEqual([{ name: 'Demo project', domain_status: 'verified' }]);
      const keysInCopy = copy.query('SELECT publishable_key FROM api_keys').all() as Array<{ publishable_key: string }>;
      expect(keysInCopy.map((k) => k.publishable_key)).toEqual([keys.pk]);
      const { n } = copy.query("SELECT count(*) AS n FROM messages WHERE conversation_id = 'conv-123'").get() as { n: number };
      expect(n).toBe(2);
    } finally {
      copy.close();
    }
    // The server is unaffected: it still answers with the same key pair.
    const res = await demo.request('POST', '/v1/chat/completions', {
      headers: { 'x-publishable-key': keys.pk, 'x-secret-key': keys.sk },
      body: { model: 'vexrail-demo', messages: [{ role: 'user', content: `After the backup ${demo.marker('after-backup')}` }] },
    });
    expect(res.status).toBe(200);
  });

  test('backup refuses a data directory without a database and an existing target, creating nothing', async () => {
    const scratch = scratchDir('backup-errors');
    const missingDir = join(scratch, 'typo');
    const wrongDir = await runCli(['backup', join(scratch, 'a.db'), '--data-dir', missingDir]);
    expect(wrongDir.exitCode).toBe(1);
    expect(wrongDir.stderr).toContain('no database at');
    expect(existsSync(missingDir)).toBe(false);
    expect(existsSync(join(scratch, 'a.db'))).toBe(false);
    const target = join(scratch, 'b.db');
    expect((await runCli(['backup', target, '--data-dir', demo.dataDir])).exitCode).toBe(0);
    const again = await runCli(['backup', target, '--data-dir', demo.dataDir]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).not.toContain('SQLiteError');
  });

  test('after the banner, the output never repeats the demo secret, the admin token or message content', async () => {
    await eventually(() => (demo.stdout().match(/"path":"\/v1\/chat\/completions"/g) ?? []).length >= 2, 2_000);
    expect(demo.banner()).toContain(keys.sk);
    expect(demo.outputAfterBanner()).toContain('"path":"/v1/chat/completions"');
    expect(leakedSecrets(demo.outputAfterBanner(), demo.secrets())).toEqual([]);
  });

  test('SIGTERM lets an in-flight stream finish, then exits 0 within a few seconds', async () => {
    const res = await fetch(`${demo.apiBase}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-publishable-key': keys.pk, 'x-secret-key': keys.sk },
      body: JSON.stringify({ model: 'vexrail-demo', stream: true, messages: [{ role: 'user', content: 'Stream through shutdown' }] }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let raw = decoder.decode((await reader.read()).value, { stream: true });
    expect(raw).not.toContain('[DONE]');
    const stopping = demo.stop();
    let afterSignal = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      afterSignal += decoder.decode(value, { stream: true });
    }
    // The rest of the answer, [DONE] included, was delivered after SIGTERM.
    expect(afterSignal.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(afterSignal).toContain('OPENAI_API_KEY');
    const exit = await stopping;
    expect(exit.exitCode).toBe(0);
    expect(exit.ms).toBeLessThan(4_000);
    expect(demo.stderr()).toContain('Received SIGTERM');
  });
});

describe('backup on PostgreSQL', () => {
  test('points at pg_dump instead of pretending, exit 2, and never prints the password', async () => {
    const run = await runCli(['backup', join(scratchDir('pgbackup'), 'copy.db'), '--database', 'postgres://vexrail:s3cret-pw@127.0.0.1:1/vexrail']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('pg_dump');
    expect(run.stderr).toContain('pg_restore');
    expect(run.stderr + run.stdout).not.toContain('s3cret-pw');
  });
});

describe('first-run and configuration mistakes', () => {
  test('a first start on a busy port stores no admin token; the next start prints one, and admin-token --reset replaces it', async () => {
    const busy = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('busy') });
    cleanups.push(() => busy.stop(true));
    const dataDir = join(scratchDir('busy'), 'data');
    const failed = await runCli(['serve', '--host', '127.0.0.1', '--port', String(busy.port), '--data-dir', dataDir]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain(`data directory: ${dataDir}`);
    expect(failed.stdout).not.toContain('vxa_');
    const db = new Database(join(dataDir, 'vexrail.db'), { readonly: true });
    expect(db.query("SELECT count(*) AS n FROM settings WHERE key = 'admin_token_hash'").get()).toEqual({ n: 0 });
    db.close();

    const gw = await gateway({ dataDir, adminToken: null });
    expect(gw.banner()).toContain(`Data:         ${join(dataDir, 'vexrail.db')}  (from --data-dir)`);
    const first = /^\s+(vxa_[0-9A-Za-z]+)$/m.exec(gw.banner())?.[1];
    expect(first).toBeString();
    expect((await gw.admin('GET', '/projects', undefined, first!)).status).toBe(200);

    expect((await runCli(['admin-token', '--reset', '--data-dir', dataDir], { VEXRAIL_ADMIN_TOKEN: 'x' })).exitCode).toBe(2);
    const reset = await runCli(['admin-token', '--reset', '--data-dir', dataDir]);
    expect(reset.exitCode).toBe(0);
    const second = /^\s+(vxa_[0-9A-Za-z]+)$/m.exec(reset.stdout)?.[1];
    expect(second).toBeString();
    expect((await gw.admin('GET', '/projects', undefined, first!)).status).toBe(401);
    expect((await gw.admin('GET', '/projects', undefined, second!)).status).toBe(200);
  });

  test('check-config reports every error at once and exits 2; a valid file exits 0', async () => {
    const dir = scratchDir('check-config');
    const bad = join(dir, 'bad.json');
    await Bun.write(bad, JSON.stringify({ provders: [], limits: { maxBodyByte: 1 } }));
    const run = await runCli(['check-config', bad]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('provders: unknown key (did you mean providers?)');
    expect(run.stderr).toContain('limits.maxBodyByte: unknown key (did you mean maxBodyBytes?)');
    const good = join(dir, 'good.json');
    await Bun.write(good, JSON.stringify({ port: 9000 }));
    expect((await runCli(['check-config', good])).exitCode).toBe(0);
  });
});
