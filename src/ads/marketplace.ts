import type { Database } from 'bun:sqlite';
import { createAnalyticsRepo } from '../analytics/analytics.repo';
import { createAnalyticsService } from '../analytics/analytics.service';
import { createCampaignsRepo } from '../campaigns/campaigns.repo';
import { createCampaignsService } from '../campaigns/campaigns.service';
import { createClicksRepo } from '../clicks/clicks.repo';
import { createClicksService } from '../clicks/clicks.service';
import type { Config } from '../config/config';
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
  db: Database;
  projects: ProjectsService;
  wallet: WalletService;
  upstream: UpstreamClient;
  catalog: ModelCatalog;
  recentUserMessages: (projectId: string, conversationId: string, limit: number) => string[];
  /** Overrides IMPRESSION_QUEUE_MAX (tests use a tiny queue). */
  impressionQueueMax?: number;
  /** Metrics hooks (src/ops/metrics.ts): promotions delivered, no-fills by reason, clicks by status. */
  promotionMetrics?: { delivered(): void; noFill(reason: string): void; click(status: string): void };
}) {
  const { config, db } = deps;
  const trackingKey = linkSigningKey(createSettingsRepo(db));
  const index = createAdIndexRepo(db);
  const matcher = createMatcher({ index });
  const impressionsRepo = createImpressionsRepo(db);
  const products = createProductsService({ repo: createProductsRepo(db), findProject: deps.projects.find, allowInternalUrls: config.allowInternalProductUrls });
  let ads: ReturnType<typeof createAdsService> | null = null;
  /** Something changed for an advertiser (or for everyone: null): judge its campaigns now. */
  const refreshCampaigns = (advertiserProjectId: string | null = null) => ads?.refreshServing(advertiserProjectId);
  const campaigns = createCampaignsService({
    repo: createCampaignsRepo(db),
    productsOwnedBy: products.idsOwnedBy,
    walletAvailable: deps.wallet.availableMicros,
    minCpcMicros: config.ads.minCpcMicros,
    syncIndex: (campaignId) => index.syncCampaign(campaignId),
    onChange: (advertiserProjectId) => {
      matcher.invalidate();
      refreshCampaigns(advertiserProjectId);
    },
  });

  // A click on an impression that never reached the store cannot be charged: when the queue is full the
  // impressions are written at once, before the answer that carries them completes, instead of dropped.
  const impressionQueue = createWriteBehind<ImpressionRow>({
    name: 'impressions',
    intervalMs: config.flushIntervalMs,
    maxQueued: deps.impressionQueueMax ?? IMPRESSION_QUEUE_MAX,
    overflow: 'write_through',
    write: (batch) => impressionsRepo.writeBatch(batch, takeNoFills()),
    gate: writeGateOf(db),
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
    write: (batch) => impressionsRepo.writeJudgeCalls(batch),
    gate: writeGateOf(db),
    onError: (err, n) => console.error(JSON.stringify({ level: 'error', msg: 'judge cost write failed', lost: n, error: String(err) })),
  });
  const judge = judgeRoute ? createJudge({ route: judgeRoute, upstream: deps.upstream, timeoutMs: config.ads.judgeTimeoutMs, record: (row) => judgeCalls.push(row) }) : null;
  const flush = () => {
    if (impressionQueue.stats().queued > 0) impressionQueue.flush();
    else if (noFills.size > 0) impressionsRepo.writeBatch([], takeNoFills());
    if (judgeCalls.stats().queued > 0) judgeCalls.flush();
  };

  ads = createAdsService({
    config: { relevanceFloor: config.ads.relevanceFloor, minCpcMicros: config.ads.minCpcMicros, clickTtlMs: config.ads.clickTtlMs, maxProductsPerCampaign: config.ads.maxProductsPerCampaign },
    matcher,
    evaluateCampaigns: campaigns.evaluate,
    evaluateCampaignPage: campaigns.evaluatePage,
    adSettings: deps.projects.adSettings,
    impressions: impressionsRepo,
    recentUserMessages: deps.recentUserMessages,
    classify: (texts) => sensitiveGate(texts, config.ads.safetyThreshold),
    // The safety model was trained and thresholded on user turns (on dev answers it flags 7 % of shopping and
    // 27 % of no-intent ones): the finished answer is checked by the lexicon alone.
    classifyAnswer: (text) => classifySensitivity([text]),
    hasShoppingIntent: ({ current, earlier }) => scoreConversation(current, earlier).intent >= config.ads.intentThreshold,
    trackingKey,
    record: {
      impression: (impression) => (impressionQueue.push(impression), deps.promotionMetrics?.delivered()),
      noFill: (projectId, reason) => (countNoFill(projectId, reason), deps.promotionMetrics?.noFill(reason)),
    },
    bridge: createBridgeWriter({ upstream: deps.upstream, catalog: deps.catalog }),
    judge,
  });

  const clicks = createClicksService({
    repo: createClicksRepo(db),
    trackingKey,
    impression: impressionsRepo.get,
    flushImpressions: flush,
    productUrl: products.redirectUrl,
    publisherShareBps: config.ads.publisherShareBps,
    earningsHoldMs: config.ads.earningsHoldMs,
    onMoneyMoved: (advertiserProjectId) => refreshCampaigns(advertiserProjectId),
  });

  const countClick = <T extends { click: { status: string } }>(outcome: T): T => (deps.promotionMetrics?.click(outcome.click.status), outcome);

  // The system pauses and resumes campaigns on its own when time alone changes their state.
  // At start all at once; then a sweep in slices that yield to the event loop, the next one SWEEP_INTERVAL_MS
  // after the last ended (never two at a time), so no decision waits for more than one slice.
  refreshCampaigns(null);
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
    clicks: deps.promotionMetrics ? { ...clicks, click: (token: string, userAgent: string | null) => countClick(clicks.click(token, userAgent)) } : clicks,
    earnings: createEarningsService({ repo: createEarningsRepo(db) }),
    analytics: createAnalyticsService({ repo: createAnalyticsRepo(db) }),
    refreshCampaigns,
    /** Runs the periodic sweep now (or joins the one running); resolves with what it did (null: failed or stopped). */
    sweep,
    /** Size of the in-memory index of ad units (for benchmarks and operators). */
    indexStats: () => matcher.stats(),
    flush,
    /**
     * The periodic tick's share: no-fill counters only. The impression and judge-cost queues drain on their
     * own timers in short slices; flush() (tests, clicks, shutdown) writes them all at once.
     */
    flushNoFills: () => {
      if (noFills.size > 0) impressionsRepo.writeBatch([], takeNoFills());
    },
    /** Counters of the impression queue (queued, dropped, failed, written through), for tests and metrics. */
    impressionQueueStats: () => impressionQueue.stats(),
    stop() {
      stopped = true;
      if (sweeper) clearTimeout(sweeper);
      impressionQueue.stop();
      judgeCalls.stop();
      flush();
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
