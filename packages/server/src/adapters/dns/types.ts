/** What the verifier reads from DNS: the records at a name, [] when there are none. */
export interface DnsLookup {
  txt(name: string): Promise<string[]>;
  cname(name: string): Promise<string[]>;
}

/**
 * Creates and deletes the CNAME of a custom domain in a zone the platform
 * manages for the DJ. `upsertCname` answers false when no zone of this
 * provider holds the hostname (the DJ then creates the record by hand).
 */
export interface DnsProvider {
  readonly kind: 'none' | 'powerdns' | 'cloudflare';
  upsertCname(hostname: string, target: string): Promise<boolean>;
  deleteCname(hostname: string): Promise<void>;
}

/** The longest zone name `hostname` is in (or equals), from a provider's zone list. */
export function zoneOf(hostname: string, zones: readonly string[]): string | undefined {
  const host = hostname.replace(/\.$/, '').toLowerCase();
  let best: string | undefined;
  for (const zone of zones) {
    const z = zone.replace(/\.$/, '').toLowerCase();
    if ((host === z || host.endsWith(`.${z}`)) && (!best || z.length > best.replace(/\.$/, '').length)) best = zone;
  }
  return best;
}
