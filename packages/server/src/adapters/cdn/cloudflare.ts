import Cloudflare from 'cloudflare';
import type { Logger } from '../../logger.js';
import type { CdnPurger } from './types.js';

export interface CloudflareCdnOptions {
  apiToken: string;
  /** The zone whose cache holds the public URLs (the zone of DJCAST_PUBLIC_URL's host). */
  zoneId: string;
  /** The real API unless set (a loopback fake in tests). */
  baseUrl?: string | undefined;
}

/**
 * Cloudflare in front of the public URLs: a rebuilt feed's URLs are purged by
 * URL (`POST /zones/{zone}/purge_cache` with `files`), through the official
 * client. Cloudflare takes at most 30 URLs per request on every plan, so longer
 * lists go in batches. A failed purge is logged, never thrown: the feed is
 * already rebuilt, and the cached copy expires by its max-age anyway.
 */
export class CloudflareCdnPurger implements CdnPurger {
  static readonly URLS_PER_REQUEST = 30;
  readonly kind = 'cloudflare';
  private readonly client: Cloudflare;

  constructor(
    private readonly opts: CloudflareCdnOptions,
    private readonly logger: Logger,
  ) {
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

  async purge(urls: readonly string[]): Promise<void> {
    const unique = [...new Set(urls)];
    for (let i = 0; i < unique.length; i += CloudflareCdnPurger.URLS_PER_REQUEST) {
      const files = unique.slice(i, i + CloudflareCdnPurger.URLS_PER_REQUEST);
      try {
        await this.client.cache.purge({ zone_id: this.opts.zoneId, files });
        this.logger.info({ event: 'cdn.purge', cdn: this.kind, urls: files }, 'purged from the CDN');
      } catch (error) {
        this.logger.warn(
          { event: 'cdn.purge_failed', cdn: this.kind, urls: files, error_type: (error as Error).name, err: error },
          'the CDN did not take the purge; its copies expire by their max-age',
        );
      }
    }
  }
}
