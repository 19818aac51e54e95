// The Cloudflare CDN purger: when a feed changes, its URLs are purged by URL
// through the official client against a loopback fake of Cloudflare's API that
// checks the path, the method, the Bearer token and the body (at most 30 full
// URLs). The whole path too: with DJCAST_CDN=cloudflare, creating a podcast and
// changing it purges its feed URL. A CDN outage is logged, never thrown.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudflareCdnPurger } from '../src/adapters/cdn/cloudflare.js';
import { createLogger } from '../src/logger.js';
import { startFakeCloudflare, type FakeCloudflare } from './fake-cloudflare.js';
import { createTestApp, signUp, waitFor } from './harness.js';

const ZONE = '023e105f4ecef8ad9ca31a8372d0c353';
let cf: FakeCloudflare;

beforeAll(async () => {
  cf = await startFakeCloudflare([{ id: ZONE, name: 'djcast.example.com' }]);
});
afterAll(() => cf.close());

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('the Cloudflare CDN purger', () => {
  it('purges by URL in requests of at most 30, each URL once, as Cloudflare documents it', async () => {
    const { logger } = recordingLogger();
    const purger = new CloudflareCdnPurger({ apiToken: cf.token, zoneId: ZONE, baseUrl: cf.baseUrl }, logger);
    const urls = Array.from({ length: 35 }, (_, i) => `https://djcast.example.com/podcasts/pod_${i}/rss.xml`);
    const before = cf.requests.length;
    await purger.purge([...urls, urls[0]!]);
    const sent = cf.requests.slice(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      `POST /client/v4/zones/${ZONE}/purge_cache`,
      `POST /client/v4/zones/${ZONE}/purge_cache`,
    ]);
    expect((sent[0]!.body as { files: string[] }).files).toHaveLength(30);
    expect(cf.purged.slice(-35)).toEqual(urls);
    expect(cf.violations).toEqual([]);
  });

  it('logs a purge Cloudflare refuses (an unknown zone) and does not throw', async () => {
    const { logger, lines } = recordingLogger();
    const purger = new CloudflareCdnPurger(
      { apiToken: cf.token, zoneId: 'ffffffffffffffffffffffffffffffff', baseUrl: cf.baseUrl },
      logger,
    );
    await expect(purger.purge(['https://djcast.example.com/podcasts/pod_x/rss.xml'])).resolves.toBeUndefined();
    await waitFor('the failure logged', () => lines.find((l) => l.event === 'cdn.purge_failed') ?? null);
    expect(JSON.stringify(lines)).not.toContain(cf.token);
  });

  it('with DJCAST_CDN=cloudflare, a podcast’s feed URL is purged when it is created and when it changes', async () => {
    const t = await createTestApp('sqlite', {
      DJCAST_CDN: 'cloudflare',
      DJCAST_CLOUDFLARE_API_TOKEN: cf.token,
      DJCAST_CLOUDFLARE_ZONE_ID: ZONE,
      DJCAST_CLOUDFLARE_API_URL: cf.baseUrl,
    });
    try {
      expect(((await (await t.request('GET', '/healthz')).json()) as { backends: Record<string, string> }).backends.cdn).toBe(
        'cloudflare',
      );
      const dj = await signUp(t);
      const created = await t.request('POST', '/v1/podcasts', {
        token: dj.token,
        body: {
          title: 'Purged',
          description: 'A feed behind Cloudflare',
          author: 'DJ',
          owner_email: 'dj@example.com',
          language: 'en',
          category: 'Music',
        },
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const podcast = (await created.json()) as { id: string; feed_url: string };
      await waitFor('the new feed purged', () => (cf.purged.includes(podcast.feed_url) ? true : null));
      const count = cf.purged.filter((u) => u === podcast.feed_url).length;
      const patched = await t.request('PATCH', `/v1/podcasts/${podcast.id}`, {
        token: dj.token,
        body: { title: 'Purged again' },
      });
      expect(patched.status).toBe(200);
      await waitFor('the changed feed purged', () =>
        cf.purged.filter((u) => u === podcast.feed_url).length > count ? true : null,
      );
      expect(cf.violations).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
