import { Elysia } from 'elysia';
import { describe, pathParam } from '../http/docs';
import type { ClicksService } from './clicks.service';

/** Tracked links: always a 302 to the product's registered URL, charged only for a valid first click. */
export function clicksRoutes(deps: { clicks: ClicksService }) {
  return new Elysia({ name: 'clicks-routes' }).get(
    '/r/:token',
    async ({ params, request }) => {
      const { location } = await deps.clicks.click(params.token, request.headers.get('user-agent'));
      return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
    },
    {
      detail: describe({
        tags: ['Promotions'],
        summary: 'Follow a tracked promotion link',
        description: 'Redirects (302) to the product URL registered by the advertiser. The first valid click of an impression charges the advertiser; repeats, link previews and crawlers, and expired links are redirected but not charged. 404 when the token is not valid, or when the product URL is no longer on the advertiser\'s verified domain or link domains.',
        parameters: [pathParam('token', 'Signed link token')],
        ok: { status: 302, description: 'Redirect to the product', schema: { type: 'null' } },
        errors: [404],
      }),
    },
  );
}
