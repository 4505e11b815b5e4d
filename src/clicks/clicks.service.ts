import type { ImpressionRow } from '../ads/impressions.repo';
import { verifyTrackingToken } from '../ads/tracking-token';
import { conflict, notFound } from '../http/errors';
import type { ClickRow, ClicksRepo } from './clicks.repo';

/** Link previews, crawlers and scripted clients: redirected, never charged. */
const NON_HUMAN_AGENT =
  /bot\b|bot\/|crawl|spider|slurp|preview|facebookexternalhit|embedly|quora link|whatsapp|telegram|discord|slack|skype|vkshare|pinterest|bitlybot|outbrain|headless|phantomjs|curl\/|wget\/|python-requests|python-urllib|go-http-client|java\/|okhttp|axios\/|node-fetch|undici|libwww|httpclient|scrapy/i;

export type ClickOutcome = { location: string; click: ClickRow };

type Deps = {
  repo: ClicksRepo;
  trackingKey: Buffer;
  impression: (id: string) => ImpressionRow | null;
  /** Writes queued impressions now: a click may arrive before the background flush. */
  flushImpressions: () => void;
  productUrl: (productId: string) => string | null;
  publisherShareBps: number;
  earningsHoldMs: number;
  /** Money moved for this advertiser: its campaigns may have to pause or may resume. */
  onMoneyMoved: (advertiserProjectId: string) => void;
  now?: () => number;
};

export function createClicksService(deps: Deps) {
  const now = deps.now ?? Date.now;

  function findImpression(id: string): ImpressionRow | null {
    const found = deps.impression(id);
    if (found) return found;
    deps.flushImpressions();
    return deps.impression(id);
  }

  /**
   * Resolves a tracked link. The redirect target is always the product's registered URL. The first valid
   * click of an impression is charged; repeats, non-human agents and expired links are recorded as invalid.
   */
  function click(token: string, userAgent: string | null): ClickOutcome {
    const verified = verifyTrackingToken(deps.trackingKey, token);
    const impression = verified ? findImpression(verified.impressionId) : null;
    const location = impression ? deps.productUrl(impression.product_id) : null;
    if (!verified || !impression || !location) throw notFound('link_not_found', 'This link is not valid');
    const at = now();
    const input = {
      impressionId: impression.id, campaignId: impression.campaign_id, publisherId: impression.publisher_project_id,
      advertiserId: impression.advertiser_project_id, priceMicros: impression.price_micros, publisherShareBps: deps.publisherShareBps,
      earningsHoldMs: deps.earningsHoldMs, userAgent: userAgent ? userAgent.slice(0, 512) : null, now: at,
    };
    if (at > Math.min(verified.expiresAtMs, impression.expires_at)) return { location, click: deps.repo.recordInvalid(input, 'expired') };
    if (!userAgent || NON_HUMAN_AGENT.test(userAgent)) return { location, click: deps.repo.recordInvalid(input, 'non_human_agent') };
    const { click } = deps.repo.charge(input);
    if (click.status !== 'invalid') deps.onMoneyMoved(impression.advertiser_project_id);
    return { location, click };
  }

  function refund(clickId: string, reason: string) {
    if (!deps.repo.get(clickId)) throw notFound('click_not_found', `No click with id ${clickId}`);
    const result = deps.repo.refund(clickId, reason.slice(0, 200) || 'invalidated', now());
    if (result === 'not_charged') throw conflict('click_not_charged', 'Only a charged click can be refunded');
    if (result === 'earning_available') throw conflict('earning_available', 'The publisher earning of this click is already available; it can no longer be refunded');
    deps.onMoneyMoved(result.advertiser_project_id);
    return result;
  }

  return { click, refund, get: deps.repo.get };
}
export type ClicksService = ReturnType<typeof createClicksService>;
