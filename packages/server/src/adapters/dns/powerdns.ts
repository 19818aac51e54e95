import type { DnsProvider } from './types.js';
import { zoneOf } from './types.js';

export interface PowerDnsOptions {
  /** The API base, e.g. http://127.0.0.1:8081 (operator configuration, not a user's URL). */
  apiUrl: string;
  apiKey: string;
  serverId?: string;
  ttl?: number;
  fetch?: typeof fetch;
}

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`);

/** PowerDNS's HTTP API: the CNAME is one rrset REPLACEd (or DELETEd) in the zone that holds the hostname. */
export class PowerDnsProvider implements DnsProvider {
  readonly kind = 'powerdns' as const;
  private readonly base: string;
  private readonly fetch: typeof fetch;
  constructor(private readonly opts: PowerDnsOptions) {
    this.base = `${opts.apiUrl.replace(/\/+$/, '')}/api/v1/servers/${encodeURIComponent(opts.serverId ?? 'localhost')}`;
    this.fetch = opts.fetch ?? fetch;
  }

  async upsertCname(hostname: string, target: string): Promise<boolean> {
    const zone = await this.zoneFor(hostname);
    if (!zone) return false;
    await this.patch(zone, {
      name: fqdn(hostname),
      type: 'CNAME',
      ttl: this.opts.ttl ?? 300,
      changetype: 'REPLACE',
      records: [{ content: fqdn(target), disabled: false }],
    });
    return true;
  }

  async deleteCname(hostname: string): Promise<void> {
    const zone = await this.zoneFor(hostname);
    if (!zone) return;
    await this.patch(zone, { name: fqdn(hostname), type: 'CNAME', changetype: 'DELETE' });
  }

  private async zoneFor(hostname: string): Promise<string | undefined> {
    const zones = (await this.call('GET', '/zones')) as { name: string }[];
    return zoneOf(
      hostname,
      zones.map((z) => z.name),
    );
  }

  private async patch(zone: string, rrset: Record<string, unknown>): Promise<void> {
    await this.call('PATCH', `/zones/${encodeURIComponent(zone)}`, { rrsets: [rrset] });
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.fetch(`${this.base}${path}`, {
      method,
      headers: {
        'x-api-key': this.opts.apiKey,
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`PowerDNS ${method} ${path}: ${res.status} ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : null;
  }
}
