/**
 * Is a URL host an internal address? Works on hosts as the WHATWG URL parser serializes them, so every
 * numeric, hex, octal and short IPv4 form (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) has already
 * become a dotted quad, and IPv6 is bracketed, lowercase and compressed. Host names are not resolved: a
 * tracked link is a redirect the user's browser follows, and the advertiser's domain is checked elsewhere.
 */

/** [first address, prefix length] of the IPv4 blocks a public product page never lives in. */
const INTERNAL_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // carrier-grade NAT (RFC 6598); also cloud metadata such as 100.100.100.200
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata 169.254.169.254
  ['172.16.0.0', 12], // private (RFC 1918)
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private (RFC 1918)
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function v4ToInt(address: string): number | null {
  const m = DOTTED_QUAD.exec(address);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
}

const V4_BLOCKS = INTERNAL_V4.map(([first, bits]) => {
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: (v4ToInt(first)! & mask) >>> 0, mask };
});

function isInternalV4(value: number): boolean {
  return V4_BLOCKS.some(({ base, mask }) => ((value & mask) >>> 0) === base);
}

/** The eight 16-bit groups of a serialized IPv6 address (no brackets), or null. */
function v6Groups(address: string): number[] | null {
  const halves = address.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if ([...head, ...tail].some(Number.isNaN) || (halves.length === 1 ? missing !== 0 : missing < 1)) return null;
  return [...head, ...new Array(missing).fill(0), ...tail];
}

function isInternalV6(g: number[]): boolean {
  const embeddedV4 = (hi: number, lo: number) => ((hi << 16) | lo) >>> 0;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(5) && g[5] === 0xffff) return true; // v4-mapped ::ffff:a.b.c.d
  if (zeros(6)) return true; // unspecified ::, loopback ::1, deprecated v4-compatible ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0))
    return isInternalV4(embeddedV4(g[6], g[7])); // NAT64 64:ff9b::a.b.c.d
  if (g[0] === 0x2002) return isInternalV4(embeddedV4(g[1], g[2])); // 6to4 2002:aabb:ccdd::
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return true; // discard-only 100::/64
  if ((g[0] & 0xfe00) === 0xfc00) return true; // unique local fc00::/7 (AWS metadata fd00:ec2::254)
  if ((g[0] & 0xffc0) === 0xfe80 || (g[0] & 0xffc0) === 0xfec0) return true; // link-local, old site-local
  if ((g[0] & 0xff00) === 0xff00) return true; // multicast
  return false;
}

/** An IPv4 or bracketed IPv6 literal, as serialized by the URL parser. */
export function isIpLiteral(host: string): boolean {
  return host.startsWith('[') || v4ToInt(host) !== null;
}

/** True for loopback, private, CGNAT, link-local, metadata, unspecified, multicast and reserved IP literals, and `localhost`. */
export function isInternalHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true; // RFC 6761: always loopback
  if (name.startsWith('[') && name.endsWith(']')) {
    const groups = v6Groups(name.slice(1, -1));
    return groups === null || isInternalV6(groups); // an address we cannot read is not trusted
  }
  const v4 = v4ToInt(name);
  return v4 !== null && isInternalV4(v4);
}
