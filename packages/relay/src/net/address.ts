import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which remote addresses a server-side fetch of a user's URL may connect to.
 * Refused: loopback, private, link-local (cloud metadata), CGNAT, multicast,
 * unspecified, documentation and benchmarking ranges, and every IPv6 form
 * that can carry or reach an IPv4 address of those (IPv4-mapped,
 * IPv4-compatible, NAT64, 6to4, Teredo). Anything that is not a plain
 * address (a zone id, a name) is refused too.
 */

const IPV4_BLOCKED: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const IPV6_BLOCKED: readonly (readonly [string, number])[] = [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ['64:ff9b::', 96], // NAT64 (reaches any IPv4 address, private ones included)
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, Teredo among them
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['3fff::', 20], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

function ipv4ToInt(address: string): number {
  const parts = address.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function inIpv4Subnet(value: number, [net, prefix]: readonly [string, number]): boolean {
  if (prefix === 0) return true;
  const mask = (~0 << (32 - prefix)) >>> 0;
  return (value & mask) === (ipv4ToInt(net) & mask);
}

/** The 16 bytes of an IPv6 address (no zone id), or null when it is not one. */
export function ipv6Bytes(address: string): Uint8Array | null {
  if (!isIPv6(address) || address.includes('%')) return null;
  let text = address.toLowerCase();
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4ToInt(dotted[1]!);
    tail.push((v4 >>> 16) & 0xffff, v4 & 0xffff);
    text = text.slice(0, -dotted[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groups(head);
  const right = [...(rest === undefined ? [] : groups(rest)), ...tail];
  const fill = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  const all = rest === undefined ? [...left, ...tail] : [...left, ...fill, ...right];
  if (all.length !== 8) return null;
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = (g >> 8) & 0xff;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function inIpv6Subnet(bytes: Uint8Array, [net, prefix]: readonly [string, number]): boolean {
  const base = ipv6Bytes(net)!;
  for (let bit = 0; bit < prefix; bit += 8) {
    const bits = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((bytes[bit / 8]! & mask) !== (base[bit / 8]! & mask)) return false;
  }
  return true;
}

/** `::ffff:a.b.c.d` (in any spelling, e.g. `::ffff:7f00:1`) as `a.b.c.d`; other addresses unchanged. */
export function unmapIpv4(address: string): string {
  const bytes = ipv6Bytes(address);
  if (!bytes) return address;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}` : address;
}

/** True when a fetch of a user's URL must not connect to `address` (an IP address as a socket reports it). */
export function isPrivateAddress(address: string): boolean {
  const plain = unmapIpv4(address);
  if (isIPv4(plain)) {
    const value = ipv4ToInt(plain);
    return IPV4_BLOCKED.some((subnet) => inIpv4Subnet(value, subnet));
  }
  const bytes = ipv6Bytes(plain);
  if (!bytes) return true;
  return IPV6_BLOCKED.some((subnet) => inIpv6Subnet(bytes, subnet));
}
