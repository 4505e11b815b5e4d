import type { ImpressionRow } from '../ads/impressions.repo';
import { verifyTrackingToken } from '../ads/tracking-token';
import { badRequest, conflict, notFound } from '../http/errors';
import { checkLimit, pageOf } from '../http/paging';
import { formatMicros } from '../money/money';
import type { Awaitable } from '../store/sql-store';
import type { ClickCursor, ClickFilter, ClickRow, ClicksRepo, ClickStatus } from './clicks.repo';

export const MAX_CLICKS_PAGE = 1000;
export const CLICK_STATUSES: ClickStatus[] = ['charged', 'invalid', 'unbilled', 'refunded'];
const MAX_FILTER_CHARS = 200;

/** A click on the wire: ISO 8601 time, money as USD strings with the micro-unit integers beside them. */
export function toClickView(c: ClickRow) {
  return {
    id: c.id,
    object: 'click' as const,
    impression_id: c.impression_id,
    campaign_id: c.campaign_id,
    publisher_project_id: c.publisher_project_id,
    advertiser_project_id: c.advertiser_project_id,
    status: c.status,
    reason: c.reason,
    charged: formatMicros(c.charged_micros),
    charged_micros: c.charged_micros,
    publisher_amount: formatMicros(c.publisher_micros),
    publisher_micros: c.publisher_micros,
    platform_amount: formatMicros(c.platform_micros),
    platform_micros: c.platform_micros,
    user_agent: c.user_agent,
    created_at: new Date(c.created_at).toISOString(),
  };
}

/** Query of the clicks list, as received (strings or absent). */
export type ClickListQuery = { campaign_id?: string; status?: string; reason?: string; limit: number; cursor?: string | null };

function parseCursor(cursor: string | null | undefined): ClickCursor | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const m = /^(\d{1,15})_(clk_[0-9A-Za-z]{1,40})$/.exec(cursor);
  if (!m) throw badRequest('invalid_cursor', 'cursor is not valid', 'cursor');
  return { createdAt: Number(m[1]), id: m[2] };
}

function filterText(value: string | undefined, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_FILTER_CHARS) throw badRequest('invalid_value', `${field} is longer than ${MAX_FILTER_CHARS} characters`, field);
  return value;
}

/** Link previews, crawlers and scripted clients: redirected, never charged. */
const NON_HUMAN_AGENT =
  /bot\b|bot\/|crawl|spider|slurp|preview|facebookexternalhit|embedly|quora link|whatsapp|telegram|discord|slack|skype|vkshare|pinterest|bitlybot|outbrain|headless|phantomjs|curl\/|wget\/|python-requests|python-urllib|go-http-client|java\/|okhttp|axios\/|node-fetch|undici|libwww|httpclient|scrapy/i;

export type ClickOutcome = { location: string; click: ClickRow };

type Deps = {
  repo: ClicksRepo;
  trackingKey: Buffer;
  impression: (id: string) => Awaitable<ImpressionRow | null>;
  /** Writes queued impressions now: a click may arrive before the background flush. */
  flushImpressions: () => Awaitable<void>;
  productUrl: (productId: string) => Awaitable<string | null>;
  /** The publisher's share and the hold period now (the operator may change them while the server runs). */
  split: () => { publisherShareBps: number; earningsHoldMs: number };
  /** Money moved for this advertiser: its campaigns may have to pause or may resume. */
  onMoneyMoved: (advertiserProjectId: string) => Awaitable<void>;
  /**
   * On a store several instances share: how long a click with a valid signature waits for its impression, which
   * another instance may still hold in its write queue (flushed every flush interval). 0: not at all.
   */
  awaitPeerImpressionMs?: number;
  now?: () => number;
};

export function createClicksService(deps: Deps) {
  const now = deps.now ?? Date.now;

  async function findImpression(id: string): Promise<ImpressionRow | null> {
    const found = await deps.impression(id);
    if (found) return found;
    await deps.flushImpressions();
    const flushed = await deps.impression(id);
    if (flushed || !deps.awaitPeerImpressionMs) return flushed;
    // The link's signature is ours, so some instance issued the impression: give its write queue time to land.
    const deadline = performance.now() + deps.awaitPeerImpressionMs;
    while (performance.now() < deadline) {
      await Bun.sleep(25);
      const landed = await deps.impression(id);
      if (landed) return landed;
    }
    return null;
  }

  /**
   * Resolves a tracked link. The redirect target is always the product's registered URL. The first valid
   * click of an impression is charged; repeats, non-human agents, expired links and clicks on a product the
   * advertiser deleted after the answer was shown are recorded as invalid. A deleted product's link still
   * redirects (the reader clicked a link they were shown; its page is the advertiser's to keep or retire).
   */
  async function click(token: string, userAgent: string | null): Promise<ClickOutcome> {
    const verified = verifyTrackingToken(deps.trackingKey, token);
    const impression = verified ? await findImpression(verified.impressionId) : null;
    const location = impression ? await deps.productUrl(impression.product_id) : null;
    if (!verified || !impression || !location) throw notFound('link_not_found', 'This link is not valid');
    const at = now();
    const { publisherShareBps, earningsHoldMs } = deps.split();
    const input = {
      productId: impression.product_id, impressionId: impression.id, campaignId: impression.campaign_id, publisherId: impression.publisher_project_id,
      advertiserId: impression.advertiser_project_id, priceMicros: impression.price_micros, publisherShareBps,
      earningsHoldMs, userAgent: userAgent ? userAgent.slice(0, 512) : null, now: at,
    };
    if (at > Math.min(verified.expiresAtMs, impression.expires_at)) return { location, click: await deps.repo.recordInvalid(input, 'expired') };
    if (!userAgent || NON_HUMAN_AGENT.test(userAgent)) return { location, click: await deps.repo.recordInvalid(input, 'non_human_agent') };
    const { click } = await deps.repo.charge(input);
    if (click.status !== 'invalid') await deps.onMoneyMoved(impression.advertiser_project_id);
    return { location, click };
  }

  async function refund(clickId: string, reason: string): Promise<ClickRow> {
    if (!(await deps.repo.get(clickId))) throw notFound('click_not_found', `No click with id ${clickId}`);
    const result = await deps.repo.refund(clickId, reason.slice(0, 200) || 'invalidated', now());
    if (result === 'not_charged') throw conflict('click_not_charged', 'Only a charged click can be refunded');
    if (result === 'earning_available') throw conflict('earning_available', 'The publisher earning of this click is already available; it can no longer be refunded');
    await deps.onMoneyMoved(result.advertiser_project_id);
    return result;
  }

  /** One advertiser's or publisher's clicks, newest first, filtered by campaign, status and reason. */
  async function list(side: ClickFilter['side'], projectId: string, q: ClickListQuery) {
    checkLimit(q.limit, MAX_CLICKS_PAGE);
    const status = filterText(q.status, 'status');
    if (status !== undefined && !CLICK_STATUSES.includes(status as ClickStatus))
      throw badRequest('invalid_value', `status must be one of ${CLICK_STATUSES.join(', ')}`, 'status');
    const filter: ClickFilter = { side, projectId, campaignId: filterText(q.campaign_id, 'campaign_id'), status: status as ClickStatus | undefined, reason: filterText(q.reason, 'reason') };
    const rows = await deps.repo.list(filter, parseCursor(q.cursor), q.limit + 1);
    const { page, has_more, next_cursor } = pageOf(rows, q.limit, (last) => `${last.created_at}_${last.id}`);
    return { object: 'list' as const, data: page.map(toClickView), has_more, next_cursor };
  }

  return { click, refund, list, get: deps.repo.get };
}
export type ClicksService = ReturnType<typeof createClicksService>;
