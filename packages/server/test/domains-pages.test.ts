// A DJ's own hostname, once active, is the podcast's address: `/` is its
// listener page and `/rss.xml` its feed, picked by the Host header. Any other
// host (a pending domain, an unknown name) gets neither.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/core/ids.js';
import { createTestApp, signUp, type TestApp } from './harness.js';

describe('a podcast on its custom domain', () => {
  let t: TestApp;
  let podcastId: string;

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    const dj = await signUp(t);
    const created = await t.request('POST', '/v1/podcasts', {
      token: dj.token,
      body: {
        title: 'Night Drive Radio',
        description: 'Two hours of slow techno',
        author: 'DJ Nova',
        owner_email: 'nova@example.com',
        language: 'en',
        category: 'Music',
      },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    podcastId = ((await created.json()) as { id: string }).id;
    const now = new Date().toISOString();
    for (const [hostname, state] of [
      ['podcast.djnova.example', 'active'],
      ['pending.djnova.example', 'pending_verification'],
    ] as const) {
      await t.container.db.kysely
        .insertInto('domains')
        .values({
          id: newId('dom'),
          owner_id: dj.userId,
          podcast_id: podcastId,
          hostname,
          state,
          failure_reason: null,
          txt_name: `_djcast-challenge.${hostname}`,
          txt_value: 'djcast-verify=0123456789abcdef0123456789abcdef',
          cname_target: 'edge.djcast.example',
          cname_managed_by: null,
          records_found: JSON.stringify({ txt: [], cname: [] }),
          last_checked_at: null,
          verified_at: state === 'active' ? now : null,
          unverified_notice_sent_at: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
  });
  afterAll(() => t.close());

  const get = (path: string, host: string) => t.app.request(`http://${host}${path}`, { headers: { host } });

  it('serves the listener page at / of the active hostname', async () => {
    const page = await get('/', 'podcast.djnova.example');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('Night Drive Radio');
    expect(html).toContain('DJ Nova');
    expect(html).toContain(`/podcasts/${podcastId}/rss.xml`);
  });

  it('serves the feed at /rss.xml of the active hostname, with the port ignored', async () => {
    const feed = await get('/rss.xml', 'podcast.djnova.example:443');
    expect(feed.status).toBe(200);
    expect(await feed.text()).toContain('<title>Night Drive Radio</title>');
  });

  it('gives a pending or unknown hostname neither', async () => {
    for (const host of ['pending.djnova.example', 'unknown.example']) {
      expect((await get('/', host)).status, host).toBe(404);
      expect((await get('/rss.xml', host)).status, host).toBe(404);
    }
  });
});
