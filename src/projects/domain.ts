/** Domain handling: normalisation and the DNS TXT check. The resolver is injected so tests need no DNS. */
export type TxtResolver = (hostname: string) => Promise<string[][]>;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** Accepts "example.com", "https://www.Example.com/path" and the like; returns the bare host, or null. */
export function normalizeDomain(input: string): string | null {
  let host = input.trim().toLowerCase();
  if (host.length === 0 || host.length > 300) return null;
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  host = host.split(/[/?#]/, 1)[0].replace(/:\d+$/, '').replace(/\.$/, '');
  if (host.length > 253) return null;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  // A top-level domain is never all digits (RFC 3696, 2): that is an IPv4 address ("127.0.0.1") or a number.
  if (/^\d+$/.test(labels[labels.length - 1])) return null;
  return host;
}

/** The TXT record lives on the root domain (host "@"): a leading "www." is not part of it. */
export function rootDomain(domain: string): string {
  return domain.startsWith('www.') ? domain.slice(4) : domain;
}

export function expectedTxtValue(token: string): string {
  return `vexrail-verification=${token}`;
}

export async function systemTxtResolver(hostname: string): Promise<string[][]> {
  const { resolveTxt } = await import('node:dns/promises');
  return resolveTxt(hostname);
}

/** True when one TXT record (its chunks joined, as DNS splits long strings) equals the expected value. */
export async function hasVerificationRecord(resolver: TxtResolver, domain: string, token: string): Promise<boolean> {
  const records = await resolver(rootDomain(domain));
  const expected = expectedTxtValue(token);
  return records.some((chunks) => chunks.join('').trim() === expected);
}
