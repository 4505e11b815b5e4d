import type { SqlStore } from './store/sql-store';
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
import { startEventLoopLag } from './ops/event-loop-lag';
import { countDecisions, createGatewayMetrics, observeHolds } from './ops/metrics';
import { createRequestLog } from './ops/request-log';
import { createWriteBehind } from './ops/write-behind';
import { writeGateOf } from './store/write-gate';
import { systemTxtResolver, type TxtResolver } from './projects/domain';
import { createAdSettingsRepo } from './projects/ad-settings.repo';
import { createProjectsRepo } from './projects/projects.repo';
import { createProjectsService } from './projects/projects.service';
import { createDemoFetch } from './upstream/demo-model';
import { warmTokenizer } from './upstream/tokenizer';
import { createUpstreamClient, type Fetcher } from './upstream/upstream.client';
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
export function createRuntime(config: Config, store: SqlStore, options: RuntimeOptions = {}) {
  // Features not yet on the shared statement interface still take the embedded database directly.
  const db = store.sqlite!;
  warmTokenizer();
  const metrics = createGatewayMetrics();
  const catalog = createModelCatalog(config.providers, config.prices, Date.now());
  const wallet = createWalletService({ repo: createWalletRepo(db), db });
  let keysRef: ReturnType<typeof createKeysService> | null = null;
  let marketRef: Marketplace | null = null;
  const projects = createProjectsService({
    repo: createProjectsRepo(db),
    adSettings: createAdSettingsRepo(db),
    resolver: options.resolver ?? systemTxtResolver,
    onChange: (id) => {
      keysRef?.invalidateProject(id);
      marketRef?.refreshCampaigns(id);
    },
    hasActiveKey: (id) => keysRef!.hasActiveKey(id),
  });
  const keys = createKeysService({ repo: createKeysRepo(db), findProject: (id) => projects.find(id), spentByKeyMicros: wallet.spentByKeyMicros, now: options.keysNow });
  keysRef = keys;
  const conversations = createConversationsService({ repo: createConversationsRepo(db) });
  const log = createRequestLog(options.logSink ?? ((text) => void process.stdout.write(text)), config.logRequests, config.logFormat);
  const exchanges = createWriteBehind<ExchangeRecord>({
    name: 'conversations',
    intervalMs: config.flushIntervalMs,
    maxQueued: 100_000,
    write: (batch) => conversations.writeBatch(batch),
    gate: writeGateOf(db),
    onError: (err, n) => console.error(JSON.stringify({ level: 'error', msg: 'conversation write failed', dropped: n, error: String(err) })),
  });
  metrics.watchQueue('conversations', exchanges.stats);
  const upstream = createUpstreamClient({
    fetch: options.fetch ?? ((url, init) => fetch(url, init)),
    demo: createDemoFetch(options.demoChunkDelayMs ?? 10),
    observe: metrics.upstream,
  });
  const market = createMarketplace({
    config, db, projects, wallet, upstream, catalog,
    recentUserMessages: conversations.recentUserMessages,
    promotionMetrics: metrics.promotion,
  });
  marketRef = market;
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
  const adminAuth: AdminAuth = setUpAdminAuth(db, config.adminToken);

  // One background tick writes the small things kept off the request path; the exchange, impression and
  // judge-cost queues drain on their own timers, in short slices. flushAll (tests, shutdown) writes everything.
  const flushRest = () => {
    market.flushNoFills();
    keys.flushTouches();
    log.flush();
  };
  const flushAll = () => {
    exchanges.flush();
    market.flush();
    flushRest();
  };
  const ticker = setInterval(flushRest, config.flushIntervalMs);
  ticker.unref?.();
  // Every 10 ms by default (VEXRAIL_LAG_PROBE_MS): a 1 ms timer costs about 1.3 % of a core more on an idle server.
  const lag = startEventLoopLag(metrics.lag, config.lagProbeMs);
  metrics.watchLag(lag);
  metrics.watchWriteGate(writeGateOf(db));

  return {
    config, store, db, catalog, wallet, projects, keys, conversations, chat, log, adminAuth, market, metrics,
    flushAll,
    stop() {
      clearInterval(ticker);
      lag.stop();
      exchanges.stop();
      market.stop();
      wallet.commitQueued();
      flushAll();
    },
  };
}
export type Runtime = ReturnType<typeof createRuntime>;
