import { CloudflareDnsProvider } from './cloudflare.js';
import { NoDnsProvider } from './none.js';
import { PowerDnsProvider } from './powerdns.js';
import type { DnsProvider } from './types.js';

export type DnsProviderConfig =
  | { kind: 'none' }
  | { kind: 'powerdns'; apiUrl: string; apiKey: string; serverId: string }
  | { kind: 'cloudflare'; apiToken: string; baseUrl?: string };

export function createDnsProvider(config: DnsProviderConfig): DnsProvider {
  switch (config.kind) {
    case 'powerdns':
      return new PowerDnsProvider(config);
    case 'cloudflare':
      return new CloudflareDnsProvider(config);
    default:
      return new NoDnsProvider();
  }
}

export type { DnsLookup, DnsProvider } from './types.js';
