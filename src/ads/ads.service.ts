import type { AnswerContext, AnswerDecoration, AnswerDecorator, AnswerOutcome } from '../chat/answer-decorator';
import type { ChatMessage } from '../chat/chat.validate';
import type { CampaignState } from '../campaigns/campaigns.repo';
import type { AdSettings } from '../projects/ad-settings.repo';
import { newId } from '../store/ids';
import type { Awaitable } from '../store/sql-store';
import type { UnitRow } from './ad-index.repo';
import { runAuction } from './auction';
import { historyFacts, requestGate, type NoFillReason } from './gates';
import type { ImpressionRow, ImpressionsRepo } from './impressions.repo';
import type { Judge, JudgeCall } from './judge';
import type { Candidate, Matcher } from './matcher';
import { templatePromotion } from './promotion-text';
import { createServingSet, type CampaignPage } from './serving-set';
import type { SensitivityResult } from './sensitive';
import { terms } from './text';
import { createTrackingToken } from './tracking-token';

/** maxProductsPerCampaign: how many products one campaign may place in a search result (answers show one). */
export type AdsConfig = { relevanceFloor: number; minCpcMicros: number; clickTtlMs: number; maxProductsPerCampaign: number };

/** Writes the bridging sentence with the upstream model (bridge_mode "llm"); null means use the template. */
export type BridgeWriter = (args: { model: string; organicText: string; productName: string; description: string; context: string }) => Promise<string | null>;

type Deps = {
  config: AdsConfig;
  matcher: Matcher;
  /** Judges campaigns (all, or one advertiser's) and returns those that can serve. */
  evaluateCampaigns: (advertiserProjectId?: string | null) => Awaitable<CampaignState[]>;
  /** Judges up to `limit` campaigns after `afterId` in id order, stopping once `budgetMs` passed (a sweep's slice). */
  evaluateCampaignPage: (afterId: string, limit: number, budgetMs: number) => Awaitable<CampaignPage>;
  /** The store answers over the network (PostgreSQL): see the serving set's sweep slices. */
  networkStore?: boolean;
  adSettings: (projectId: string) => Awaitable<AdSettings>;
  impressions: Pick<ImpressionsRepo, 'get' | 'lastInConversation'>;
  recentUserMessages: (projectId: string, conversationId: string, limit: number) => Awaitable<string[]>;
  classify: (texts: string[]) => SensitivityResult;
  /** The check of the finished answer (default: classify). The learned safety model knows user turns only. */
  classifyAnswer?: (text: string) => SensitivityResult;
  /** Shopping-intent gate (latest user turn, earlier ones most recent first): false means no promotion at all. */
  hasShoppingIntent?: (context: { current: string; earlier: string[] }) => boolean;
  /** The tracked links' signing key (filled in before the first decision: see `ready`). */
  trackingKey: Buffer;
  /** Resolves when what decisions read is loaded (the signing key, the ad index, the serving set); null: already. */
  ready?: Promise<void> | null;
  /**
   * Several instances share the store: another one may have shown a promotion in this conversation since this
   * one last saw it, so the frequency cap also asks the store (the most recent of memory, history and store wins).
   */
  sharedStore?: boolean;
  record: { impression(row: ImpressionRow): void; noFill(publisherProjectId: string, reason: NoFillReason): void };
  bridge?: BridgeWriter;
  /** ads.judge "llm": confirms intent, safety and fit of every chosen product; without its yes nothing is shown. */
  judge?: Judge | null;
  now?: () => number;
};

export type Offer = { candidate: Candidate; campaign: CampaignState; priceMicros: number };
/** One promotion of a search: the product, its campaign and advertiser, and how relevant it is (0..1). */
export type SearchResult = {
  product: { id: string; name: string; description: string; url: string };
  campaign: { id: string; name: string };
  advertiser: { id: string; name: string };
  relevance: number;
};
export type { SweepReport } from './serving-set';

/** How many of the latest user turns a decision reads (the evaluation scripts read the same). */
export const MAX_CONTEXT_TURNS = 4;
const MAX_CONVERSATION_STATE = 100_000;
const SEARCH_MAX = 20;

/**
 * Chooses a promotion for an answer. The choice is made when the upstream call starts and only
 * delivered after the organic answer finished normally; every no-fill is recorded with its reason.
 */
export function createAdsService(deps: Deps) {
  const now = deps.now ?? Date.now;
  let readyNow = !deps.ready;
  deps.ready?.then(() => (readyNow = true), () => {});
  /** The campaigns that can serve (see serving-set.ts): refreshed by changes and a periodic sweep; decisions only read it. */
  const serving = createServingSet({ evaluateCampaigns: deps.evaluateCampaigns, evaluateCampaignPage: deps.evaluateCampaignPage, networkStore: deps.networkStore });
  /** Per conversation: the last turn seen and the last promotion delivered (survives no restart; see lastPromotion). */
  const conversations = new Map<string, { lastTurn: number; promoTurn: number | null; promoCampaign: string | null }>();
  /** Campaign of each recently delivered impression: impressions reach the database only on the next flush. */
  const recentImpressions = new Map<string, string>();

  /** The user turns to match against; `storedTurns` is how many came from the store (null: not asked). */
  async function contextOf(projectId: string, conversationId: string | null, userTexts: string[]) {
    let texts = userTexts.slice(-MAX_CONTEXT_TURNS);
    let storedTurns: number | null = null;
    // A client that sends only the latest message still gets its conversation's earlier turns considered.
    if (texts.length <= 1 && conversationId) {
      const stored = [...(await deps.recentUserMessages(projectId, conversationId, MAX_CONTEXT_TURNS - 1))];
      storedTurns = stored.length;
      texts = [...stored.reverse(), ...texts];
    }
    const current = texts[texts.length - 1] ?? '';
    return { current, earlier: texts.slice(0, -1).reverse(), storedTurns };
  }

  /**
   * Ranked offers for a context: eligible campaigns only, above the relevance floor, at most `perCampaign`
   * units of one campaign (each campaign's most relevant), ordered by bid x relevance as the auction ranks them.
   */
  async function offers(context: { current: string; earlier: string[] }, blocked: string[], publisherId: string, limit: number, perCampaign = 1): Promise<Offer[]> {
    if (serving.size() === 0) return [];
    const blockedSet = new Set(blocked);
    const accept = (u: UnitRow) => serving.get(u.campaign_id) !== null && u.advertiser_project_id !== publisherId && !(u.category && blockedSet.has(u.category));
    const taken = new Map<string, number>();
    const ranked: Offer[] = [];
    // The serving set is read again after the rank: a campaign that stopped while the index caught up is skipped.
    for (const candidate of await deps.matcher.rank(context, accept, Math.max(limit * 3, 30))) {
      const campaignId = candidate.unit.campaign_id;
      const count = taken.get(campaignId) ?? 0;
      if (candidate.relevance < deps.config.relevanceFloor || count >= perCampaign) continue;
      const campaign = serving.get(campaignId);
      if (!campaign) continue;
      taken.set(campaignId, count + 1);
      ranked.push({ candidate, campaign, priceMicros: 0 });
    }
    ranked.sort((a, b) => b.campaign.base_cpc_micros * b.candidate.relevance - a.campaign.base_cpc_micros * a.candidate.relevance);
    return ranked.slice(0, limit);
  }

  function stateKey(projectId: string, conversationId: string) {
    return `${projectId}\u0000${conversationId}`;
  }

  /** The last delivered promotion of a conversation: from memory, the request's history, or the database. */
  async function lastPromotion(ctx: AnswerContext, facts: ReturnType<typeof historyFacts>, turn: number, storedTurns: number | null) {
    const state = ctx.conversationId ? conversations.get(stateKey(ctx.projectId, ctx.conversationId)) : undefined;
    const fromMemory = state?.promoTurn != null ? { turnsAgo: turn - state.promoTurn, campaignId: state.promoCampaign } : null;
    if (fromMemory && !deps.sharedStore) return fromMemory;
    if (facts.lastPromotion) {
      const id = facts.lastPromotion.impressionId;
      const campaignId = recentImpressions.get(id) ?? (await deps.impressions.get(id))?.campaign_id ?? null;
      const fromHistory = { turnsAgo: facts.lastPromotion.turnsAgo, campaignId };
      return fromMemory && fromMemory.turnsAgo < fromHistory.turnsAgo ? fromMemory : fromHistory;
    }
    // A conversation with nothing stored yet has had no promotion either: no need to ask. One this instance
    // remembers needs no question either, unless other instances may have served it since.
    if (ctx.conversationId && (!state || deps.sharedStore) && storedTurns !== 0) {
      const imp = await deps.impressions.lastInConversation(ctx.projectId, ctx.conversationId);
      if (imp) {
        const fromStore = { turnsAgo: turn - imp.turn, campaignId: imp.campaign_id };
        return fromMemory && fromMemory.turnsAgo < fromStore.turnsAgo ? fromMemory : fromStore;
      }
    }
    return fromMemory;
  }

  function noFill(ctx: AnswerContext, reason: NoFillReason): null {
    deps.record.noFill(ctx.projectId, reason);
    return null;
  }

  function trackTurn(ctx: AnswerContext, turn: number, promo: { campaignId: string } | null) {
    if (!ctx.conversationId) return;
    const key = stateKey(ctx.projectId, ctx.conversationId);
    const prev = conversations.get(key);
    if (!prev && conversations.size >= MAX_CONVERSATION_STATE) conversations.clear();
    conversations.set(key, {
      lastTurn: turn,
      promoTurn: promo ? turn : (prev?.promoTurn ?? null),
      promoCampaign: promo ? promo.campaignId : (prev?.promoCampaign ?? null),
    });
  }

  /**
   * The decision for one answer. It reads the store only when memory cannot answer (earlier turns of a
   * conversation, its last impression, ad settings not cached), so on SQLite it costs no I/O wait either way.
   */
  async function decide(ctx: AnswerContext): Promise<AnswerDecoration | null> {
    if (!ctx.monetization) return noFill(ctx, 'monetization_off');
    const gate = requestGate(ctx.request);
    if (gate) return noFill(ctx, gate);
    if (deps.ready && !readyNow) await deps.ready;
    const facts = historyFacts(ctx.request.messages as ChatMessage[]);
    const prior = ctx.conversationId ? conversations.get(stateKey(ctx.projectId, ctx.conversationId)) : undefined;
    const turn = Math.max(facts.turn, (prior?.lastTurn ?? 0) + 1);
    const context = await contextOf(ctx.projectId, ctx.conversationId, facts.userTexts);
    if (deps.classify([context.current, ...context.earlier]).sensitive) return (trackTurn(ctx, turn, null), noFill(ctx, 'sensitive_topic'));
    const settings = await deps.adSettings(ctx.projectId);
    const last = await lastPromotion(ctx, facts, turn, context.storedTurns);
    if (last && last.turnsAgo < settings.frequencyCapTurns) return (trackTurn(ctx, turn, null), noFill(ctx, 'frequency_cap'));
    let ranked = await offers(context, settings.blockedCategories, ctx.projectId, 10);
    if (last?.campaignId) ranked = ranked.filter((o) => o.campaign.id !== last.campaignId);
    const auction = runAuction(
      ranked.map((o) => ({ key: o.campaign.id, bidMicros: o.campaign.base_cpc_micros, relevance: o.candidate.relevance, offer: o })),
      deps.config.minCpcMicros,
    );
    if (!auction) return (trackTurn(ctx, turn, null), noFill(ctx, 'no_relevant_product'));
    // Asked only when something relevant was found: the reason then counts promotions withheld for lack of intent.
    if (deps.hasShoppingIntent && !deps.hasShoppingIntent(context)) return (trackTurn(ctx, turn, null), noFill(ctx, 'no_shopping_intent'));
    trackTurn(ctx, turn, null);
    return decoration(ctx, settings, { ...auction.winner.offer, priceMicros: auction.priceMicros }, turn, context);
  }

  function decoration(ctx: AnswerContext, settings: AdSettings, offer: Offer, turn: number, context: { current: string; earlier: string[] }): AnswerDecoration {
    const impressionId = newId('imp');
    const createdAt = now();
    const expiresAt = createdAt + deps.config.clickTtlMs;
    const url = `${ctx.origin}/r/${createTrackingToken(deps.trackingKey, impressionId, expiresAt)}`;
    const unit = offer.candidate.unit;
    let text: string | null = null;
    let settled = false;
    // The judge starts with the decision, so it runs while the upstream is still generating the answer.
    const judging = startJudge(ctx, impressionId, unit, context);
    const giveUp = (reason: NoFillReason) => {
      settled = true;
      judging?.cancel();
      return noFill(ctx, reason);
    };
    return {
      headers: () => ({ 'x-vexrail-impression': impressionId }),
      async finish(outcome: AnswerOutcome) {
        if (outcome.finishReason !== 'stop') return giveUp('answer_not_finished');
        if ((deps.classifyAnswer ? deps.classifyAnswer(outcome.organicText) : deps.classify([outcome.organicText])).sensitive) return giveUp('sensitive_topic');
        if (judging) {
          const verdict = await judging.outcome(deps.judge!.timeoutMs);
          if (verdict !== 'confirmed') return giveUp(verdict === 'rejected' || verdict === 'unsure' ? 'judge_rejected' : 'judge_unavailable');
        }
        const topic = topicOf(unit, offer.candidate.matched);
        text = templatePromotion({ label: settings.disclosureLabel, productName: unit.name, description: unit.description, matchedTopic: topic, url });
        if (settings.bridgeMode === 'llm' && deps.bridge) {
          const sentence = await deps.bridge({ model: String(ctx.request.model), organicText: outcome.organicText, productName: unit.name, description: unit.description, context: unit.context }).catch(() => null);
          if (sentence) text = `\n\n*${templateLabel(settings.disclosureLabel)}:* ${sentence} [${templateLabel(unit.name)}](${url})`;
        }
        return text;
      },
      abandoned(reason) {
        judging?.cancel();
        if (!settled) giveUp(reason);
      },
      delivered() {
        settled = true;
        if (recentImpressions.size >= MAX_CONVERSATION_STATE) recentImpressions.clear();
        recentImpressions.set(impressionId, unit.campaign_id);
        deps.record.impression({
          id: impressionId, publisher_project_id: ctx.projectId, advertiser_project_id: unit.advertiser_project_id, campaign_id: unit.campaign_id,
          product_id: unit.product_id, conversation_id: ctx.conversationId, request_id: ctx.requestId, turn, relevance: offer.candidate.relevance,
          price_micros: offer.priceMicros, created_at: createdAt, expires_at: expiresAt,
        });
        trackTurn(ctx, turn, { campaignId: unit.campaign_id });
      },
    };
  }

  function startJudge(ctx: AnswerContext, impressionId: string, unit: UnitRow, context: { current: string; earlier: string[] }): JudgeCall | null {
    if (!deps.judge) return null;
    return deps.judge.start({
      requestId: ctx.requestId, publisherProjectId: ctx.projectId, impressionId, userTexts: [...context.earlier].reverse().concat(context.current),
      product: { name: unit.name, description: unit.description, context: unit.context, category: unit.category, keywords: JSON.parse(unit.keywords) as string[] },
    });
  }

  /** Promotions that would be eligible for a context, best first, up to maxProductsPerCampaign per campaign; records nothing. */
  async function search(projectId: string, monetization: boolean, input: { query?: string; messages?: ChatMessage[] }, limit: number): Promise<SearchResult[]> {
    if (!monetization) return [];
    if (deps.ready && !readyNow) await deps.ready;
    const facts = historyFacts(input.messages ?? [{ role: 'user', content: input.query ?? '' }]);
    const context = await contextOf(projectId, null, facts.userTexts);
    if (deps.classify([context.current, ...context.earlier]).sensitive) return [];
    if (deps.hasShoppingIntent && !deps.hasShoppingIntent(context)) return [];
    const settings = await deps.adSettings(projectId);
    const found = await offers(context, settings.blockedCategories, projectId, Math.min(limit, SEARCH_MAX), deps.config.maxProductsPerCampaign);
    return found.map(({ candidate, campaign }) => ({
      product: { id: candidate.unit.product_id, name: candidate.unit.name, description: candidate.unit.description, url: candidate.unit.url },
      campaign: { id: campaign.id, name: campaign.name },
      advertiser: { id: campaign.project_id, name: campaign.advertiser_name },
      relevance: Math.round(candidate.relevance * 1000) / 1000,
    }));
  }

  const decorator: AnswerDecorator = { decide };
  return {
    decorator,
    search,
    /** Campaign, wallet, budget or domain state changed: judge the campaigns again (one advertiser's, or all). */
    refreshServing: serving.refresh,
    /** The periodic sweep, in slices that yield to the event loop (see marketplace.ts for its schedule). */
    sweepServing: serving.sweep,
  };
}
export type AdsService = ReturnType<typeof createAdsService>;

function templateLabel(text: string): string {
  return text.replace(/[\\`*_[\]()<>#|~\n]/g, '').trim();
}

/** A human phrase for why the product fits: a keyword of the product that the conversation mentioned. */
function topicOf(unit: UnitRow, matched: string[]): string | null {
  const wanted = new Set(matched);
  const keywords = JSON.parse(unit.keywords) as string[];
  for (const k of keywords) if (terms(k).some((t) => wanted.has(t))) return k;
  if (unit.category && terms(unit.category.replace(/_/g, ' ')).some((t) => wanted.has(t))) return unit.category.replace(/_/g, ' ');
  return null;
}
