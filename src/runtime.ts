import type { SqlStore } from './store/sql-store';
import { createChangeFeed } from './store/change-feed';

/** On a shared store, cached keys and projects are re-read in the background after this long (another instance may have changed them). */
const SHARED_CACHE_TTL_MS = 1_000;
import { setUpAdminAuth, type AdminAuth } from './admin/admin-token';
import type { AnswerDecorator } from './chat/answer-decorator';
import { createMarketplace, type Marketplace } from './ads/marketplace';
import { createChatService, type ExchangeRecord } from './chat/chat.service';
import type { Config } from './config/config';
import { createConversationsRepo } from './conversations/conversations.repo';
import { createConversationsService } from './conversations/conversations.service';
import { createKeysRepo } from './keys/keys.repo';
import { createKeysService } from './keys/keys.service';
import { createModelCatalog } from './models/catalog';
import { createPlatformSettings } from './platform/platform-settings';
import { startEventLoopLag } from './ops/event-loop-lag';
import { countDecisions, createGatewayMetrics, observeHolds } from './ops/metrics';
import { createRequestLog } from './ops/request-log';
import { createWriteBehind } from './ops/write-behind';
import { writeGateOf } from './store/write-gate';
import { systemTxtResolver, type TxtResolver } from './projects/domain';
import { createAdSettingsRepo } from './projects/ad-settings.repo';
import { createSettingsRepo } from './store/settings.repo';
import { createProjectsRepo } from './projects/projects.repo';
import { createProjectsService } from './projects/projects.service';
import { createDemoFetch } from './upstream/demo-model';
import { warmTokenizer } from './upstream/tokenizer';
import { createUpstreamClient, type Fetcher } from './upstream/upstream.client';
import { providerApis } from './upstream/providers/registry';
import { startModelDiscovery } from './models/discovery';
import { createAccountsRepo } from './accounts/accounts.repo';
import { createAccountsService } from './accounts/accounts.service';
import { createWalletRepo } from './wallet/wallet.repo';
import { createWalletService } from './wallet/wallet.service';

export type RuntimeOptions = {
  resolver?: TxtResolver;
  fetch?: Fetcher;
  decorator?: AnswerDecorator;
  logSink?: (text: string) => void;
  demoChunkDelayMs?: number;
  /** Clock of the keys (expiry, rate windows, budget periods); tests move it instead of waiting a minute. */
  keysNow?: () => number;
};

/** Builds every service from a config and an open database. Shared by main.ts and the tests. */
export async function createRuntime(config: Config, store: SqlStore, options: RuntimeOptions = {}) {
  warmTokenizer();
  // Several instances may share a PostgreSQL store: changes made through one reach the caches of the others
  // through the change feed (LISTEN/NOTIFY), and cached keys and projects are re-read after a second at most.
  const feed = createChangeFeed(store);
  const cacheTtlMs = store.postgres ? SHARED_CACHE_TTL_MS : undefined;
  const metrics = createGatewayMetrics();
  const catalog = createModelCatalog(config.providers, config.prices, Date.now(), config.aliases);
  // The operator's changes to prices, revenue share and hold period (dashboard) apply over the config file's.
  const platform = createPlatformSettings({ config, settings: createSettingsRepo(store), catalog, feed });
  await platform.load();
  const wallet = createWalletService({ repo: createWalletRepo(store), store, shared: { holdTtlMs: config.holdTtlMs } });
  let keysRef: ReturnType<typeof createKeysService> | null = null;
  let marketRef: Marketplace | null = null;
  const accountsRepo = createAccountsRepo(store);
  const projects = createProjectsService({
    repo: createProjectsRepo(store),
    ownerProblem: async (accountId, kind) => {
      const account = await accountsRepo.byId(accountId);
      if (!account) return `No account with id ${accountId}`;
      const holds = kind === 'publisher' ? account.is_publisher === 1 : account.is_advertiser === 1;
      return holds ? null : `Account ${accountId} does not hold the ${kind} role a ${kind} project's owner needs`;
    },
    adSettings: createAdSettingsRepo(store),
    resolver: options.resolver ?? systemTxtResolver,
    onChange: (id) => {
      keysRef?.invalidateProject(id);
      feed.announce('project', id);
      // Awaited by the caller: a change is in effect for this instance's serving set before its response is sent.
      return marketRef?.refreshCampaigns(id);
    },
    hasActiveKey: (id) => keysRef!.hasActiveKey(id),
    cacheTtlMs,
  });
  const keys = createKeysService({ repo: createKeysRepo(store), findProject: (id) => projects.find(id), spentByKeyMicros: wallet.spentByKeyMicros, now: options.keysNow, cacheTtlMs });
  keysRef = keys;
  const conversations = createConversationsService({ repo: createConversationsRepo(store) });
  const log = createRequestLog(options.logSink ?? ((text) => void process.stdout.write(text)), config.logRequests, config.logFormat);
  const exchanges = createWriteBehind<ExchangeRecord>({
    name: 'conversations',
    intervalMs: config.flushIntervalMs,
    maxQueued: 100_000,
    write: (batch) => conversations.writeBatch(batch),
    gate: store.sqlite ? writeGateOf(store.sqlite) : undefined,
    onError: (err, n) => console.error(JSON.stringify({ level: 'error', msg: 'conversation write failed', dropped: n, error: String(err) })),
  });
  metrics.watchQueue('conversations', exchanges.stats);
  const upstreamFetch: Fetcher = options.fetch ?? ((url, init) => fetch(url, init));
  const upstream = createUpstreamClient({
    fetch: upstreamFetch,
    demo: createDemoFetch(options.demoChunkDelayMs ?? 10),
    providers: config.providers,
    observe: metrics.upstream,
    onFailover: metrics.failover,
  });
  const market = createMarketplace({
    config, store, projects, wallet, upstream, catalog,
    recentUserMessages: conversations.recentUserMessages,
    promotionMetrics: metrics.promotion,
    split: platform.split,
    feed,
  });
  marketRef = market;
  // Another instance changed a project (domain, monetization, settings, its money): drop what is cached of it here.
  feed.subscribe('project', (id) => {
    if (id === null) return;
    keys.invalidateProject(id);
    projects.invalidateAll();
    void market.refreshCampaigns(id);
  });
  feed.onCatchUp(() => {
    keys.invalidateAll();
    projects.invalidateAll();
  });
  metrics.watchProviders(upstream.health.snapshot);
  // Providers with "discover": true are asked for their models before the gateway says it is ready.
  const discovery = startModelDiscovery({ providers: config.providers, catalog, fetch: upstreamFetch, apis: providerApis });
  let marketReady = false;
  let modelsReady = false;
  void market.ready().then(() => (marketReady = true), () => {});
  void discovery.ready().then(() => (modelsReady = true));
  metrics.watchQueue('impressions', market.impressionQueueStats);
  const chat = createChatService({
    config, catalog, wallet: observeHolds(wallet, metrics), keyBudget: keys.budget, upstream,
    decorator: countDecisions(options.decorator ?? market.ads.decorator, metrics.promotion.decided),
    onExchange: (record) => {
      exchanges.push(record);
      metrics.usage(record.model, record.usage.prompt_tokens, record.usage.completion_tokens, record.costMicros);
      log.write({
        request_id: record.requestId, method: 'POST', path: '/v1/chat/completions', status: record.status,
        latency_ms: record.latencyMs, project_id: record.projectId, model: record.model,
        prompt_tokens: record.usage.prompt_tokens, completion_tokens: record.usage.completion_tokens,
        cost_micros: record.costMicros, streamed: record.streamed, error_code: record.errorCode,
      });
    },
  });
  const adminAuth: AdminAuth = await setUpAdminAuth(store, config.adminToken);
  const accounts = createAccountsService({ repo: accountsRepo, signup: config.dashboardSignup });

  // One background tick writes the small things kept off the request path; the exchange, impression and
  // judge-cost queues drain on their own timers, in short slices. flushAll (tests, shutdown) writes everything.
  const flushRest = () => {
    market.flushNoFills();
    const touched = keys.flushTouches();
    log.flush();
    return touched;
  };
  /** Writes everything queued; resolves once every write (one transaction per batch) is stored. */
  const flushAll = async (): Promise<void> => {
    const exchangesWritten = exchanges.flush();
    const marketWritten = market.flush();
    const touched = flushRest();
    await exchangesWritten;
    await marketWritten;
    await touched;
  };
  const ticker = setInterval(() => void Promise.resolve(flushRest()).catch((err) => console.error(JSON.stringify({ level: 'error', msg: 'background write failed', error: String(err) }))), config.flushIntervalMs);
  ticker.unref?.();
  // Every 10 ms by default (VEXRAIL_LAG_PROBE_MS): a 1 ms timer costs about 1.3 % of a core more on an idle server.
  const lag = startEventLoopLag(metrics.lag, config.lagProbeMs);
  metrics.watchLag(lag);
  if (store.sqlite) metrics.watchWriteGate(writeGateOf(store.sqlite));

  return {
    config, store, feed, catalog, platform, wallet, projects, keys, conversations, chat, log, adminAuth, market, metrics, accounts,
    flushAll,
    /** Decisions can be made (the promotion index and serving set are loaded): /readyz says ready only then. */
    isReady: () => marketReady && modelsReady,
    /** Resolves when isReady() turns true (the promotion index is loaded and discovering providers were asked once). */
    ready: async () => {
      await market.ready();
      await discovery.ready();
    },
    /** Circuit breaker state, recent errors and latency of each provider (/readyz details). */
    providerHealth: upstream.health.snapshot,
    /** Starts listening for other instances' changes (PostgreSQL); resolves once subscribed. */
    startFeed: () => feed.start(),
    /** Stops the timers and writes everything queued; resolves once it is stored (close the store after). */
    async stop(): Promise<void> {
      clearInterval(ticker);
      lag.stop();
      discovery.stop();
      const exchangesStopped = exchanges.stop();
      const marketStopped = market.stop();
      await feed.stop();
      await wallet.commitQueued();
      await flushAll();
      await exchangesStopped;
      await marketStopped;
      await wallet.stop();
    },
  };
}
export type Runtime = Awaited<ReturnType<typeof createRuntime>>;
