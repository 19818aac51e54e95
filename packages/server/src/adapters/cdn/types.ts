/**
 * Tells a CDN in front of the public URLs that some of them changed (a feed
 * was rebuilt), so it drops its copies. The local default only logs; a real
 * CDN (Cloudflare, Fastly, CloudFront) implements this with its purge API.
 */
export interface CdnPurger {
  readonly kind: string;
  /** Absolute public URLs whose cached copies are stale. Never throws for a CDN outage: logs instead. */
  purge(urls: readonly string[]): Promise<void>;
}
