import { badRequest } from '../http/errors';
import { rootDomain } from '../projects/domain';
import type { ProjectRow } from '../projects/projects.repo';
import { isInternalHost, isIpLiteral } from './internal-address';

/**
 * Where an advertiser's products may send people: http(s) pages, without userinfo, on the advertiser's
 * verified domain (the root that carries the TXT record, and its subdomains) or on a domain the operator
 * listed in the project's link_domains. Internal addresses are refused unless the operator allows them.
 */
export type ProductUrlRule = { domain: string; domainVerified: boolean; linkDomains: string[]; allowInternal: boolean };

export function productUrlRule(project: ProjectRow, allowInternal: boolean): ProductUrlRule {
  return {
    domain: rootDomain(project.domain),
    domainVerified: project.domain_status === 'verified',
    linkDomains: JSON.parse(project.link_domains) as string[],
    allowInternal,
  };
}

export type ProductUrlResult = { ok: true; url: string } | { ok: false; code: string; message: string };

/** A host on `domain`: the domain itself or one of its subdomains; an IP literal only matches itself. */
function isOn(host: string, domain: string): boolean {
  return host === domain || (!isIpLiteral(host) && host.endsWith(`.${domain}`));
}

const refused = (code: string, message: string): ProductUrlResult => ({ ok: false, code, message });

/** Judges a product URL; returns its canonical form (the one stored and redirected to) or the reason it is refused. */
export function safeParseProductUrl(value: string, rule: ProductUrlRule): ProductUrlResult {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refused('invalid_url', 'url must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return refused('invalid_url', 'url must use http or https');
  if (url.username !== '' || url.password !== '') return refused('url_has_userinfo', 'url must not contain a user name or password (user@host)');
  const host = url.hostname.replace(/\.$/, '');
  if (!rule.allowInternal && isInternalHost(host))
    return refused('url_internal_address', `url points at an internal address (${host}); an operator can allow these with allow_internal_product_urls`);
  if (rule.linkDomains.some((d) => isOn(host, d))) return { ok: true, url: url.toString() };
  if (isOn(host, rule.domain)) {
    if (rule.domainVerified) return { ok: true, url: url.toString() };
    return refused('advertiser_domain_not_verified', `url is on ${rule.domain}, which is not verified yet: verify the project domain first`);
  }
  return refused('url_not_on_advertiser_domain', `url must be on the advertiser's domain ${rule.domain} or its subdomains, or on a domain the operator added to link_domains`);
}

/** As safeParseProductUrl, but throws the refusal as a 400 naming the `url` field. */
export function parseProductUrl(value: string, rule: ProductUrlRule): string {
  const result = safeParseProductUrl(value, rule);
  if (!result.ok) throw badRequest(result.code, result.message, 'url');
  return result.url;
}
