import type { Awaitable, SqlStore } from '../store/sql-store';
import { createAnalyticsRepo } from '../analytics/analytics.repo';
import { createAnalyticsService } from '../analytics/analytics.service';
import { createCampaignsRepo } from '../campaigns/campaigns.repo';
import { createCampaignsService } from '../campaigns/campaigns.service';
import { createClicksRepo } from '../clicks/clicks.repo';
import { createClicksService } from '../clicks/clicks.service';
import type { Config } from '../config/config';
import type { ChangeFeed } from '../store/change-feed';
import { createEarningsRepo } from '../earnings/earnings.repo';
import { createEarningsService } from '../earnings/earnings.service';
import type { ModelCatalog } from '../models/catalog';
import { createWriteBehind } from '../ops/write-behind';
import { writeGateOf } from '../store/write-gate';
import { createProductsRepo } from '../products/products.repo';
import { createProductsService } from '../products/products.service';
import type { ProjectsService } from '../projects/projects.service';
import { createSettingsRepo, linkSigningKey } from '../store/settings.repo';
import type { UpstreamClient } from '../upstream/upstream.client';
import type { WalletService } from '../wallet/wallet.service';
import { createAdIndexRepo } from './ad-index.repo';
import { createAdsService, type SweepReport } from './ads.service';
import { createBridgeWriter } from './bridge-writer';
import { utcDay } from '../campaigns/campaigns.repo';
import { createImpressionsRepo, type ImpressionRow, type NoFillCount } from './impressions.repo';
import { createJudge, resolveJudgeRoute, type JudgeCallRow } from './judge';
import { createMatcher } from './matcher';
import { scoreConversation } from './models';
import { classifySensitivity, type SensitivityResult } from './sensitive';

/** How often all campaigns are re-judged for time-based changes (a new day, an end date, a start date). */
const SWEEP_INTERVAL_MS = 5_000;
/** How long one slice of a sweep may hold the event loop (pages of campaigns adapt to it). */
const SWEEP_SLICE_MS = 1;
/** Impressions queued between flushes; past this they are written at once (never dropped). */
const IMPRESSION_QUEUE_MAX = 200_000;
/** LLM judge calls queued between flushes (platform cost records); past this they are written at once. */
const JUDGE_CALL_QUEUE_MAX = 100_000;

/** Builds the advertising marketplace: products, campaigns, matching, clicks, earnings and analytics. */
export function createMarketplace(deps: {
  config: Config;
  store: SqlStore;
  projects: ProjectsService;
  wallet: WalletService;
  upstream: UpstreamClient;
  catalog: ModelCatalog;
  recentUserMessages: (projectId: string, conversationId: string, limit: number) => Awaitable<string[]>;
  /** The publisher's share and hold period now (src/platform/platform-settings.ts); default: the config's. */
  split?: () => { publisherShareBps: number; earningsHoldMs: number };
  /** Overrides IMPRESSION_QUEUE_MAX (tests use a tiny queue). */
  impressionQueueMax?: number;
  /** Metrics hooks (src/ops/metrics.ts): promotions delivered, no-fills by reason, clicks by status. */
  promotionMetrics?: { delivered(): void; noFill(reason: string): void; click(status: string): void };
  /** Tells the other instances on the store about campaign changes made here, and this one about theirs. */
  feed?: ChangeFeed;
}) {
  const { config, store } = deps;
  // The signing key is read synchronously from SQLite; from PostgreSQL it arrives later and is copied into this
  // buffer before `ready` resolves (decisions wait for it; the clicks service holds the same buffer).
  const signingKey = linkSigningKey(createSettingsRepo(store));
  const trackingKey = signingKey instanceof Promise ? Buffer.alloc(32) : signingKey;
  const keyLoaded = signingKey instanceof Promise
    ? signingKey.then((key) => {
      if (key.length !== trackingKey.length) throw new Error(`the stored link signing key has ${key.length} bytes, not ${trackingKey.length}`);
      key.copy(trackingKey);
    })
    : null;
  const index = createAdIndexRepo(store);
  const matcher = createMatcher({ index });
  const impressionsRepo = createImpressionsRepo(store);
  const gate = store.sqlite ? writeGateOf(store.sqlite) : undefined;
  /**
   * Background writes still running (a batch is one transaction, which answers later on PostgreSQL): flush()
   * waits for them. A failed one is logged and counted; the records are lost as a failed synchronous batch is.
   */
  const inFlight = new Set<Promise<void>>();
  const failedAsync = { impressions: 0 };
  const background = (what: string, records: number, write: Awaitable<void>, onFail?: () => void): void => {
    if (!(write instanceof Promise)) return;
    const tracked: Promise<void> = write
      .catch((err) => {
        onFail?.();
        console.error(JSON.stringify({ level: 'error', msg: `${what} write failed`, lost: records, error: String(err) }));
      })
      .finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const writesSettled = async (): Promise<void> => {
    while (inFlight.size > 0) await Promise.all([...inFlight]);
  };
  const products = createProductsService({ repo: createProductsRepo(store), findProject: deps.projects.find, allowInternalUrls: config.allowInternalProductUrls });
  let ads: ReturnType<typeof createAdsService> | null = null;
  /**
   * Something changed for an advertiser (or for everyone: null): judge its campaigns now. Synchronous on
   * SQLite; on PostgreSQL the returned promise resolves once the serving set took the new judgement.
   */
  const refreshCampaigns = (advertiserProjectId: string | null = null): Awaitable<void> => {
    const done = ads?.refreshServing(advertiserProjectId);
    if (!(done instanceof Promise)) return;
    return done.catch((err) => console.error(JSON.stringify({ level: 'error', msg: 'campaign refresh failed', advertiser: advertiserProjectId, error: String(err) })));
  };
  /** Campaigns whose units changed since the last announcement to the other instances. */
  const unannounced = new Set<string>();
  /** Other instances re-read the changed campaigns' units and re-judge the advertiser's campaigns (payload "adv|id,id"). */
  const announceCampaigns = (advertiserProjectId: string | null) => {
    if (!deps.feed || !store.postgres) return;
    const ids = [...unannounced];
    unannounced.clear();
    deps.feed.announce('campaigns', `${advertiserProjectId ?? ''}|${ids.join(',')}`);
  };
  const campaigns = createCampaignsService({
    repo: createCampaignsRepo(store),
    productsOwnedBy: products.idsOwnedBy,
    walletAvailable: deps.wallet.availableMicros,
    minCpcMicros: config.ads.minCpcMicros,
    syncIndex: (campaignId) => {
      index.syncCampaign(campaignId);
      if (deps.feed && store.postgres) unannounced.add(campaignId);
    },
    // The index re-reads the changed campaigns and the serving set judges the advertiser's campaigns again;
    // on PostgreSQL both are reads that answer later: the promise resolves once both took effect.
    onChange: (advertiserProjectId) => {
      announceCampaigns(advertiserProjectId);
      const indexed = matcher.invalidate();
      const judged = refreshCampaigns(advertiserProjectId);
      if (indexed instanceof Promise || judged instanceof Promise) return Promise.all([indexed, judged]).then(() => undefined);
    },
  });
  /** Money moved for an advertiser (a click charge, a top-up): its campaigns are judged again here and elsewhere. */
  const moneyMoved = (advertiserProjectId: string): Awaitable<void> => {
    announceCampaigns(advertiserProjectId);
    return refreshCampaigns(advertiserProjectId);
  };
  /** A change another instance made: the same re-read and re-judgement as for one made here. */
  const applyRemoteCampaigns = (payload: string | null) => {
    const [adv, ids] = (payload ?? '|').split('|');
    for (const id of (ids ?? '').split(',')) if (id) index.syncCampaign(id);
    void matcher.invalidate();
    void refreshCampaigns(adv || null);
  };
  /** Catch-up after missed notifications: campaigns changed since the last look have their units re-read. */
  let caughtUpTo = Date.now();
  const catchUpCampaigns = async () => {
    const since = caughtUpTo - 60_000; // clocks of instances may differ a little; re-reading a few extra is harmless
    caughtUpTo = Date.now();
    for (const id of await index.campaignsUpdatedSince(since)) index.syncCampaign(id);
    await matcher.invalidate();
    await refreshCampaigns(null);
  };
  deps.feed?.subscribe('campaigns', applyRemoteCampaigns);
  deps.feed?.onCatchUp(() => void catchUpCampaigns().catch((err) => console.error(JSON.stringify({ level: 'error', msg: 'campaign catch-up failed', error: String(err) }))));

  // A click on an impression that never reached the store cannot be charged: when the queue is full the
  // impressions are written at once, before the answer that carries them completes, instead of dropped.
  const impressionQueue = createWriteBehind<ImpressionRow>({
    name: 'impressions',
    intervalMs: config.flushIntervalMs,
    maxQueued: deps.impressionQueueMax ?? IMPRESSION_QUEUE_MAX,
    overflow: 'write_through',
    write: (batch) => background('impression', batch.length, impressionsRepo.writeBatch(batch, takeNoFills()), () => (failedAsync.impressions += batch.length)),
    gate,
    onError: (err, n) => console.error(JSON.stringify({ level: 'error', msg: 'impression write failed', lost: n, error: String(err) })),
  });
  // No-fills are only counted: one counter per (publisher, day, reason) in memory, added on each flush.
  let noFills = new Map<string, NoFillCount>();
  const takeNoFills = () => {
    const counts = [...noFills.values()];
    noFills = new Map();
    return counts;
  };
  const countNoFill = (publisherProjectId: string, reason: string) => {
    const day = utcDay(Date.now());
    const key = `${publisherProjectId}|${day}|${reason}`;
    const entry = noFills.get(key);
    if (entry) entry.count++;
    else noFills.set(key, { publisherProjectId, day, reason, count: 1 });
  };
  // ads.judge "llm": the judge's model is resolved now, so a judge that could never answer stops the start.
  const judgeRoute = resolveJudgeRoute(config.ads, config.providers, deps.catalog);
  const judgeCalls = createWriteBehind<JudgeCallRow>({
    name: 'judge_calls',
    intervalMs: config.flushIntervalMs,
    maxQueued: JUDGE_CALL_QUEUE_MAX,
    overflow: 'write_through',
    write: (batch) => background('judge cost', batch.length, impressionsRepo.writeJudgeCalls(batch)),
    gate,
    onError: (err, n) => console.error(JSON.stringify({ level: 'error', msg: 'judge cost write failed', lost: n, error: String(err) })),
  });
  const judge = judgeRoute ? createJudge({ route: judgeRoute, upstream: deps.upstream, timeoutMs: config.ads.judgeTimeoutMs, record: (row) => judgeCalls.push(row) }) : null;
  const writeNoFills = () => {
    if (noFills.size > 0) background('no-fill count', noFills.size, impressionsRepo.writeBatch([], takeNoFills()));
  };
  /** Writes every queued impression, no-fill count and judge cost; resolves once all of them are stored. */
  const flush = (): Promise<void> => {
    if (impressionQueue.stats().queued > 0) impressionQueue.flush();
    else writeNoFills();
    if (judgeCalls.stats().queued > 0) judgeCalls.flush();
    return writesSettled();
  };

  // Decisions wait for `ready` (defined below, once the first judgement is asked for).
  let announceReady: (loaded: Promise<void>) => void = () => {};
  const readyForDecisions = new Promise<void>((resolve, reject) => (announceReady = (loaded) => void loaded.then(resolve, reject)));
  readyForDecisions.catch(() => {});
  ads = createAdsService({
    sharedStore: store.postgres !== null,
    config: { relevanceFloor: config.ads.relevanceFloor, minCpcMicros: config.ads.minCpcMicros, clickTtlMs: config.ads.clickTtlMs, maxProductsPerCampaign: config.ads.maxProductsPerCampaign },
    matcher,
    evaluateCampaigns: campaigns.evaluate,
    evaluateCampaignPage: campaigns.evaluatePage,
    networkStore: store.kind === 'postgres',
    adSettings: deps.projects.adSettings,
    impressions: impressionsRepo,
    recentUserMessages: deps.recentUserMessages,
    classify: (texts) => sensitiveGate(texts, config.ads.safetyThreshold),
    // The safety model was trained and thresholded on user turns (on dev answers it flags 7 % of shopping and
    // 27 % of no-intent ones): the finished answer is checked by the lexicon alone.
    classifyAnswer: (text) => classifySensitivity([text]),
    hasShoppingIntent: ({ current, earlier }) => scoreConversation(current, earlier).intent >= config.ads.intentThreshold,
    trackingKey,
    ready: readyForDecisions,
    record: {
      impression: (impression) => (impressionQueue.push(impression), deps.promotionMetrics?.delivered()),
      noFill: (projectId, reason) => (countNoFill(projectId, reason), deps.promotionMetrics?.noFill(reason)),
    },
    bridge: createBridgeWriter({ upstream: deps.upstream, catalog: deps.catalog }),
    judge,
  });

  const clicks = createClicksService({
    repo: createClicksRepo(deps.store),
    trackingKey,
    impression: impressionsRepo.get,
    flushImpressions: flush,
    productUrl: products.redirectUrl,
    split: deps.split ?? (() => ({ publisherShareBps: config.ads.publisherShareBps, earningsHoldMs: config.ads.earningsHoldMs })),
    // Another instance writes its impressions every flush interval: a click it served may arrive here first.
    awaitPeerImpressionMs: store.postgres ? Math.max(1_000, 3 * config.flushIntervalMs) : 0,
    onMoneyMoved: (advertiserProjectId) => moneyMoved(advertiserProjectId),
  });

  const countClick = <T extends { click: { status: string } }>(outcome: T): T => (deps.promotionMetrics?.click(outcome.click.status), outcome);

  // The system pauses and resumes campaigns on its own when time alone changes their state.
  // At start all at once; then a sweep in slices that yield to the event loop, the next one SWEEP_INTERVAL_MS
  // after the last ended (never two at a time), so no decision waits for more than one slice.
  const initialRefresh = refreshCampaigns(null);
  /** What decisions read is loaded: the signing key, the ad index and the first judgement of every campaign. */
  const ready: Promise<void> = Promise.all([keyLoaded, matcher.ready(), initialRefresh]).then(() => undefined);
  ready.catch((err) => console.error(JSON.stringify({ level: 'error', msg: 'marketplace failed to load', error: String(err) })));
  announceReady(ready);
  let stopped = false;
  let sweeping: Promise<SweepReport | null> | null = null;
  const pause = () => new Promise<void>((resolve, reject) => setImmediate(() => (stopped ? reject(new Error('marketplace stopped')) : resolve())));
  const sweep = (): Promise<SweepReport | null> => {
    sweeping ??= ads!
      .sweepServing({ sliceMs: SWEEP_SLICE_MS, pause })
      .catch((err) => {
        if (!stopped) console.error(JSON.stringify({ level: 'error', msg: 'campaign sweep failed', error: String(err) }));
        return null;
      })
      .finally(() => {
        sweeping = null;
      });
    return sweeping;
  };
  let sweeper: ReturnType<typeof setTimeout> | null = null;
  const scheduleSweep = () => {
    if (stopped) return;
    sweeper = setTimeout(() => void sweep().then(scheduleSweep), SWEEP_INTERVAL_MS);
    sweeper.unref?.();
  };
  scheduleSweep();

  return {
    products,
    campaigns,
    ads,
    clicks: deps.promotionMetrics ? { ...clicks, click: (token: string, userAgent: string | null) => clicks.click(token, userAgent).then(countClick) } : clicks,
    earnings: createEarningsService({ repo: createEarningsRepo(deps.store) }),
    analytics: createAnalyticsService({ repo: createAnalyticsRepo(deps.store) }),
    refreshCampaigns,
    /** An advertiser's money changed here (a top-up; a click charge calls it itself): re-judged here and on the other instances. */
    moneyMoved,
    /**
     * Runs a sweep now that judges the campaigns as they are at this call: one already running (which may have read
     * its pages before a change the caller just made) is waited for first. Resolves with what it did (null: failed or stopped).
     */
    sweep: async (): Promise<SweepReport | null> => {
      if (sweeping) await sweeping;
      return sweep();
    },
    /** Size of the in-memory index of ad units (for benchmarks and operators). */
    indexStats: () => matcher.stats(),
    /** Resolves once decisions can be made (at once on SQLite; after the first reads on PostgreSQL): for readiness. */
    ready: () => ready,
    flush,
    /**
     * The periodic tick's share: no-fill counters only. The impression and judge-cost queues drain on their
     * own timers in short slices; flush() (tests, clicks, shutdown) writes them all at once.
     */
    flushNoFills: writeNoFills,
    /** Resolves once no background write (impressions, no-fill counts, judge costs) is under way. */
    writesSettled,
    /** Counters of the impression queue (queued, dropped, failed, written through), for tests and metrics. */
    impressionQueueStats: () => {
      const stats = impressionQueue.stats();
      return { ...stats, failed: stats.failed + failedAsync.impressions };
    },
    /** Stops the sweep and the queues; resolves once everything queued is stored. */
    stop(): Promise<void> {
      stopped = true;
      if (sweeper) clearTimeout(sweeper);
      impressionQueue.stop();
      judgeCalls.stop();
      return flush();
    },
  };
}
export type Marketplace = ReturnType<typeof createMarketplace>;

/**
 * Sensitive gate: the lexicon first (precise, names its category), then the safety model, which catches the
 * paraphrases the lexicon misses. texts[0] is the latest text, the rest earlier ones, most recent first.
 */
function sensitiveGate(texts: string[], safetyThreshold: number): SensitivityResult {
  const lexicon = classifySensitivity(texts);
  if (lexicon.sensitive || texts.length === 0) return lexicon;
  return scoreConversation(texts[0], texts.slice(1)).safety >= safetyThreshold ? { sensitive: true, category: null, matched: null } : lexicon;
}
