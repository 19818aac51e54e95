import type { DnsProvider } from './types.js';

/** No provider: the API tells the DJ which CNAME to create, and the poller checks it. */
export class NoDnsProvider implements DnsProvider {
  readonly kind = 'none' as const;
  async upsertCname(): Promise<boolean> {
    return false;
  }
  async deleteCname(): Promise<void> {}
}
