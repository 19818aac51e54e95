import { Resolver } from 'node:dns/promises';
import type { DnsLookup } from './types.js';

const NO_RECORDS = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/**
 * Reads TXT and CNAME records through node:dns, from the configured servers
 * (`1.1.1.1`, `127.0.0.1:5300`) or the system's when none are given. A name
 * without records is an empty list; a server failure is an error.
 */
export class NodeDnsLookup implements DnsLookup {
  private readonly resolver: Resolver;
  constructor(servers: readonly string[] = [], opts: { timeoutMs?: number; tries?: number } = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 5000, tries: opts.tries ?? 2 });
    if (servers.length > 0) this.resolver.setServers([...servers]);
  }

  async txt(name: string): Promise<string[]> {
    return this.records(() => this.resolver.resolveTxt(name).then((rows) => rows.map((chunks) => chunks.join(''))));
  }

  async cname(name: string): Promise<string[]> {
    return this.records(() => this.resolver.resolveCname(name));
  }

  private async records(lookup: () => Promise<string[]>): Promise<string[]> {
    try {
      return await lookup();
    } catch (error) {
      if (NO_RECORDS.has((error as NodeJS.ErrnoException).code ?? '')) return [];
      throw error;
    }
  }
}
