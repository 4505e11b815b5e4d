import { ConfigError, defaultDataParent, helpText, loadConfig, type Config } from './config/config';
import dashboardPage from './web/index.html';
import { createApp } from './app';
import { listenOriginOf } from './http/link-origin';
import { curlExample, firstProjectHelp, seedDemoProject } from './bootstrap';
import { migrateStore } from './cli/migrate-store';
import { BackupError, StoreOpenError, backupDatabase, databasePath, openDatabase } from './store/database';
import { resetAdminToken } from './admin/admin-token';
import { existsSync } from 'node:fs';
import { createRuntime } from './runtime';
import { openServingStore } from './store/open';
import { migratePostgres, openPostgres, redactUrl } from './store/postgres';
import { postgresStore, sqliteStore } from './store/sql-store';
import { runImportProducts } from './cli/import-products';
import pkg from '../package.json' with { type: 'json' };

const SHUTDOWN_GRACE_MS = 10_000;

/** Composition root: argv/env -> config -> store -> runtime -> app -> listen; signals. */
function readConfig(): Config {
  try {
    return loadConfig({
      argv: process.argv.slice(2),
      env: process.env,
      defaultDataParent: defaultDataParent(process.execPath, process.cwd()),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`vexrail: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

function runBackup(config: Config): void {
  if (config.databaseUrl) {
    // The store is PostgreSQL: its own tools make consistent online backups; this command will not pretend to.
    console.error([
      `vexrail: the store is PostgreSQL (${redactUrl(config.databaseUrl)}); back it up with PostgreSQL's own tools:`,
      '  pg_dump --format=custom --file=vexrail.dump "$VEXRAIL_DATABASE_URL"     (one consistent snapshot, online)',
      '  pg_restore --dbname="postgres://.../empty_db" vexrail.dump                (restore into an empty database)',
      '  or continuous archiving (WAL archiving, pg_basebackup) for point-in-time recovery.',
    ].join('\n'));
    process.exit(2);
  }
  const started = performance.now();
  process.stderr.write(`Backing up ${config.dataDir} ...\n`);
  try {
    backupDatabase(config.dataDir, config.backupFile!);
  } catch (err) {
    console.error(`vexrail: backup failed: ${err instanceof BackupError ? err.message : (err as Error).message}`);
    process.exit(1);
  }
  console.log(`Backup written to ${config.backupFile} in ${Math.round(performance.now() - started)} ms`);
}

/** `vexrail admin-token --reset`: refused while VEXRAIL_ADMIN_TOKEN is set (the stored token would not be used). */
async function runAdminTokenReset(config: Config): Promise<number> {
  if (config.adminToken) {
    console.error('vexrail: VEXRAIL_ADMIN_TOKEN is set, so the stored admin token is not used: change or unset that variable instead');
    return 2;
  }
  if (config.databaseUrl) {
    const where = redactUrl(config.databaseUrl);
    try {
      const pg = await openPostgres(config.databaseUrl, { maxConnections: 1 });
      try {
        await migratePostgres(pg.sql);
        const token = await resetAdminToken(postgresStore(pg.sql));
        console.log(`New admin token for ${where} (shown once, stored hashed; every instance uses it at once):\n  ${token}`);
      } finally {
        await pg.close();
      }
      return 0;
    } catch (err) {
      console.error(`vexrail: cannot store the new token in ${where}: ${(err as Error).message}`);
      return 1;
    }
  }
  const path = databasePath(config.dataDir);
  if (!existsSync(path)) {
    console.error(`vexrail: no database at ${path} (check --data-dir; a first start creates it and prints a token)`);
    return 1;
  }
  try {
    const db = openDatabase(path);
    try {
      const token = await resetAdminToken(sqliteStore(db));
      console.log(`New admin token for ${path} (shown once, stored hashed; the previous token no longer works):\n  ${token}`);
    } finally {
      db.close();
    }
    return 0;
  } catch (err) {
    const message = err instanceof StoreOpenError ? err.message : `cannot store the new token in ${path}: ${(err as Error).message}`;
    console.error(`vexrail: ${message}`);
    return 1;
  }
}

const DATA_DIR_SOURCES: Record<Config['dataDirSource'], string> = {
  '--data-dir': 'from --data-dir',
  VEXRAIL_DATA_DIR: 'from VEXRAIL_DATA_DIR',
  'config file data_dir': 'from data_dir in the config file',
  default: 'default: vexrail_data beside the executable, or in the working directory under bun; --data-dir to change',
};

async function serve(config: Config): Promise<void> {
  const opened = await openServingStore(config);
  const rt = await createRuntime(config, opened.store);
  await rt.startFeed();
  let shuttingDown = false;
  let listenOrigin = listenOriginOf(config.host, config.port);
  const { fetch, links } = createApp(rt, { isShuttingDown: () => shuttingDown, listenOrigin: () => listenOrigin });
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    // The dashboard: one page (bundled into the executable at build time) that talks only to /dashboard/api/v1.
    routes: { '/': dashboardPage, '/dashboard': dashboardPage, '/dashboard/': dashboardPage },
    development: false,
    fetch,
    // Our own check answers 413 with the error envelope; this is the hard stop for bodies without a length.
    maxRequestBodySize: Math.max(config.limits.maxBodyBytes, config.limits.maxImportBytes) + 1024 * 1024,
    idleTimeout: 255,
  });
  // Only now, with the port bound, is a generated admin token stored: a failed first start stores none.
  const tokenStored = await rt.adminAuth.persistGeneratedToken();
  listenOrigin = listenOriginOf(config.host, server.port!);
  const base = config.publicUrl ?? listenOrigin;
  const lines = [
    `Vexrail ${pkg.version} listening on ${base}`,
    `  API:          ${base}/v1  (OpenAI-compatible; headers x-publishable-key and x-secret-key)`,
    `  Swagger docs: ${base}/swagger  (spec at ${base}/swagger/json)`,
    `  Dashboard:    ${base}/  (first visit: set up the operator account with the admin token; then sign in)`,
    `  Admin API:    ${base}/admin/v1  (Authorization: Bearer <admin token>)`,
    config.databaseUrl ? `  Data:         ${opened.where}` : `  Data:         ${opened.where}  (${DATA_DIR_SOURCES[config.dataDirSource]})`,
    `  Models:       ${rt.catalog.ids().join(', ')}${rt.config.providers[0].kind === 'demo' ? '  (offline demo model: no upstream LLM configured)' : ''}`,
  ];
  if (rt.config.providers[0].kind !== 'demo')
    lines.push(`  Providers:    ${rt.config.providers.map((p) => `${p.name} (${p.kind}${p.discover ? ', discovered' : ''})`).join(', ')}`);
  if (rt.adminAuth.generatedToken && tokenStored)
    lines.push('', `Admin token (shown once, stored hashed; set VEXRAIL_ADMIN_TOKEN to choose your own):`, `  ${rt.adminAuth.generatedToken}`);
  const demo = config.seedDemo ? await seedDemoProject(rt) : null;
  if (demo) {
    lines.push('', `Demo project ${demo.projectId} (domain marked verified, funded with demo credits). Its key pair, shown once:`,
      `  publishable key: ${demo.publishableKey}`, `  secret key:      ${demo.secretKey}`, '', 'Try it:', curlExample(base, rt.catalog.ids()[0], demo));
  } else if ((await rt.projects.list(1, null)).length === 0) lines.push('', firstProjectHelp(base));
  if (!links.configured && (await rt.projects.anyMonetized()))
    lines.push('', `Warning: monetization is on but no --public-url or --allowed-hosts is set, so tracked links point at ${listenOrigin}.`,
      '  Set --public-url to the address your users reach this gateway at.');
  // The handlers are in place before the banner announces the gateway: a SIGTERM sent as soon as it appears (a
  // supervisor, a test) gets the graceful shutdown, not the default action that kills the process.
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.error(`Received ${signal}: finishing in-flight requests...`);
    // In-flight requests (streams included) get a grace period, then the rest are cut off.
    const graceful = server.stop(false);
    const timedOut = await Promise.race([graceful.then(() => false), Bun.sleep(SHUTDOWN_GRACE_MS).then(() => true)]);
    if (timedOut) {
      await server.stop(true);
      await Bun.sleep(50); // streams cut off settle their holds and queue their records on the next turns
    }
    await rt.stop();
    await opened.stopBackground();
    // Anything settled while the checkpointer closed (a late stream's charge or record) is written before closing.
    await rt.wallet.commitQueued();
    await rt.flushAll();
    await rt.wallet.stop();
    await opened.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  console.log(lines.join('\n'));
}

function main(): void {
  const config = readConfig();
  if (config.command === 'help') console.log(helpText());
  else if (config.command === 'version') console.log(pkg.version);
  else if (config.command === 'backup') runBackup(config);
  else if (config.command === 'admin-token') void runAdminTokenReset(config).then((code) => process.exit(code));
  else if (config.command === 'check-config') console.log(`${config.configFile}: valid`);
  else if (config.command === 'import-products') void runImportProducts(config).then((code) => process.exit(code));
  else if (config.command === 'migrate-store') void migrateStore({ dataDir: config.dataDir, to: config.migrateTo! }).then((code) => process.exit(code));
  else
    serve(config).catch((err) => {
      console.error(`vexrail: failed to start: ${(err as Error).message}`);
      console.error(`  data directory: ${config.dataDir} (${DATA_DIR_SOURCES[config.dataDirSource]}); a generated admin token is stored only once the server listens`);
      process.exit(1);
    });
}

main();
