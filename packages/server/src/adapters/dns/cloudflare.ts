import Cloudflare from 'cloudflare';
import type { DnsProvider } from './types.js';

export interface CloudflareOptions {
  apiToken: string;
  /** The real API unless set (a loopback fake in tests). */
  baseUrl?: string;
  /** Whether Cloudflare proxies the name (orange cloud); off: the CNAME points straight at the edge. */
  proxied?: boolean;
}

/** The CNAME in the Cloudflare zone that holds the hostname, through the official `cloudflare` client. */
export class CloudflareDnsProvider implements DnsProvider {
  readonly kind = 'cloudflare' as const;
  private readonly client: Cloudflare;
  constructor(private readonly opts: CloudflareOptions) {
    // Explicit nulls: the client would otherwise read credentials from process.env.
    this.client = new Cloudflare({
      apiToken: opts.apiToken,
      apiKey: null,
      apiEmail: null,
      userServiceKey: null,
      baseURL: opts.baseUrl ?? 'https://api.cloudflare.com/client/v4',
      maxRetries: 2,
      timeout: 15_000,
    });
  }

  async upsertCname(hostname: string, target: string): Promise<boolean> {
    const zoneId = await this.zoneFor(hostname);
    if (!zoneId) return false;
    const existing = await this.cnames(zoneId, hostname);
    const record = {
      zone_id: zoneId,
      type: 'CNAME' as const,
      name: hostname,
      content: target,
      ttl: 1,
      proxied: this.opts.proxied ?? false,
    };
    if (existing[0]) await this.client.dns.records.update(existing[0], record);
    else await this.client.dns.records.create(record);
    return true;
  }

  async deleteCname(hostname: string): Promise<void> {
    const zoneId = await this.zoneFor(hostname);
    if (!zoneId) return;
    for (const id of await this.cnames(zoneId, hostname)) await this.client.dns.records.delete(id, { zone_id: zoneId });
  }

  /** The most specific zone of the account that holds the hostname (podcast.djname.com, then djname.com). */
  private async zoneFor(hostname: string): Promise<string | undefined> {
    const labels = hostname.split('.');
    for (let i = 0; i < labels.length - 1; i++) {
      const page = await this.client.zones.list({ name: labels.slice(i).join('.') });
      const zone = page.result[0];
      if (zone) return zone.id;
    }
    return undefined;
  }

  private async cnames(zoneId: string, hostname: string): Promise<string[]> {
    const page = await this.client.dns.records.list({ zone_id: zoneId, type: 'CNAME', name: { exact: hostname } });
    return page.result.map((r) => r.id);
  }
}
