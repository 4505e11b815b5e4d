import { ConfigError, defaultDataParent, helpText, loadConfig, type Config } from './config/config';
import { createApp } from './app';
import { listenOriginOf } from './http/link-origin';
import { curlExample, firstProjectHelp, seedDemoProject } from './bootstrap';
import { startCheckpointer } from './store/checkpointer';
import { migrateStore } from './cli/migrate-store';
import { BackupError, StoreOpenError, backupDatabase, databasePath, openDatabase, openStore } from './store/database';
import { resetAdminToken } from './admin/admin-token';
import { existsSync } from 'node:fs';
import { createRuntime } from './runtime';
import { sqliteStore } from './store/sql-store';
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
function runAdminTokenReset(config: Config): void {
  if (config.adminToken) {
    console.error('vexrail: VEXRAIL_ADMIN_TOKEN is set, so the stored admin token is not used: change or unset that variable instead');
    process.exit(2);
  }
  const path = databasePath(config.dataDir);
  if (!existsSync(path)) {
    console.error(`vexrail: no database at ${path} (check --data-dir; a first start creates it and prints a token)`);
    process.exit(1);
  }
  try {
    const db = openDatabase(path);
    try {
      const token = resetAdminToken(db);
      console.log(`New admin token for ${path} (shown once, stored hashed; the previous token no longer works):\n  ${token}`);
    } finally {
      db.close();
    }
  } catch (err) {
    const message = err instanceof StoreOpenError ? err.message : `cannot store the new token in ${path}: ${(err as Error).message}`;
    console.error(`vexrail: ${message}`);
    process.exit(1);
  }
}

const DATA_DIR_SOURCES: Record<Config['dataDirSource'], string> = {
  '--data-dir': 'from --data-dir',
  VEXRAIL_DATA_DIR: 'from VEXRAIL_DATA_DIR',
  'config file data_dir': 'from data_dir in the config file',
  default: 'default: vexrail_data beside the executable, or in the working directory under bun; --data-dir to change',
};

async function serve(config: Config): Promise<void> {
  const store = openStore(config.dataDir);
  // Checkpoints run on a worker thread; the serving connection only appends to the WAL (src/store/checkpointer.ts).
  store.db.exec('PRAGMA wal_autocheckpoint = 0');
  const checkpointer = startCheckpointer(store.db, store.path);
  const rt = createRuntime(config, sqliteStore(store.db));
  let shuttingDown = false;
  let listenOrigin = listenOriginOf(config.host, config.port);
  const { fetch, links } = createApp(rt, { isShuttingDown: () => shuttingDown, listenOrigin: () => listenOrigin });
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    fetch,
    // Our own check answers 413 with the error envelope; this is the hard stop for bodies without a length.
    maxRequestBodySize: Math.max(config.limits.maxBodyBytes, config.limits.maxImportBytes) + 1024 * 1024,
    idleTimeout: 255,
  });
  // Only now, with the port bound, is a generated admin token stored: a failed first start stores none.
  const tokenStored = rt.adminAuth.persistGeneratedToken();
  listenOrigin = listenOriginOf(config.host, server.port!);
  const base = config.publicUrl ?? listenOrigin;
  const lines = [
    `Vexrail ${pkg.version} listening on ${base}`,
    `  API:          ${base}/v1  (OpenAI-compatible; headers x-publishable-key and x-secret-key)`,
    `  Swagger docs: ${base}/swagger  (spec at ${base}/swagger/json)`,
    `  Admin API:    ${base}/admin/v1  (Authorization: Bearer <admin token>)`,
    `  Data:         ${store.path}  (${DATA_DIR_SOURCES[config.dataDirSource]})`,
    `  Models:       ${rt.catalog.ids().join(', ')}${rt.config.providers[0].kind === 'demo' ? '  (offline demo model: no upstream LLM configured)' : ''}`,
  ];
  if (rt.adminAuth.generatedToken && tokenStored)
    lines.push('', `Admin token (shown once, stored hashed; set VEXRAIL_ADMIN_TOKEN to choose your own):`, `  ${rt.adminAuth.generatedToken}`);
  const demo = config.seedDemo ? await seedDemoProject(rt) : null;
  if (demo) {
    lines.push('', `Demo project ${demo.projectId} (domain marked verified, funded with demo credits). Its key pair, shown once:`,
      `  publishable key: ${demo.publishableKey}`, `  secret key:      ${demo.secretKey}`, '', 'Try it:', curlExample(base, rt.catalog.ids()[0], demo));
  } else if (rt.projects.list(1, null).length === 0) lines.push('', firstProjectHelp(base));
  if (!links.configured && rt.projects.anyMonetized())
    lines.push('', `Warning: monetization is on but no --public-url or --allowed-hosts is set, so tracked links point at ${listenOrigin}.`,
      '  Set --public-url to the address your users reach this gateway at.');
  console.log(lines.join('\n'));

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
    rt.stop();
    await checkpointer.stop();
    // Anything settled while the checkpointer closed (a late stream's charge or record) is written before closing.
    rt.wallet.commitQueued();
    rt.flushAll();
    store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

function main(): void {
  const config = readConfig();
  if (config.command === 'help') console.log(helpText());
  else if (config.command === 'version') console.log(pkg.version);
  else if (config.command === 'backup') runBackup(config);
  else if (config.command === 'admin-token') runAdminTokenReset(config);
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
