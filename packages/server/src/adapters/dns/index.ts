import { NoDnsProvider } from './none.js';
import { PowerDnsProvider } from './powerdns.js';
import type { DnsProvider } from './types.js';

export type DnsProviderConfig =
  | { kind: 'none' }
  | { kind: 'powerdns'; apiUrl: string; apiKey: string; serverId: string }
  | { kind: 'cloudflare'; apiToken: string; baseUrl?: string };

/** The provider config picks; the `cloudflare` client is imported only when it is the one. */
export async function createDnsProvider(config: DnsProviderConfig): Promise<DnsProvider> {
  switch (config.kind) {
    case 'powerdns':
      return new PowerDnsProvider(config);
    case 'cloudflare': {
      const { CloudflareDnsProvider } = await import('./cloudflare.js');
      return new CloudflareDnsProvider(config);
    }
    default:
      return new NoDnsProvider();
  }
}

export type { DnsLookup, DnsProvider } from './types.js';
