// Podcasts through the API on SQLite and Postgres (stories 4001 and 4003):
// the feed from creation, episodes from uploads and external URLs, artwork
// rules, scheduled publishing on the injected clock, the GUID that survives a
// media replacement, signed enclosures, personal feeds, the counting
// redirect, ETag/304 and the CDN purge hook. Feeds are read by two
// independent parsers (podcast-partytime, rss-parser).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { jpegHead, partytime, png, RecordingPurger, rssParse } from './podcasts-support.js';
import { BOUNDARY, externalHost, insertReadyUpload, multipartHead, multipartTail, serveBytes } from './uploads-support.js';

interface PodcastJson {
  id: string;
  podcast_id: string;
  feed_url: string;
  podcast_guid: string;
  artwork_url: string | null;
  [k: string]: unknown;
}
interface EpisodeJson {
  id: string;
  guid: string;
  status: string;
  published_at: string | null;
  enclosure: { url: string; length: number; type: string };
  [k: string]: unknown;
}

const MP3ISH = Buffer.alloc(40_000, 0xab);

describe.each(DIALECTS)('podcasts on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let host: Awaited<ReturnType<typeof externalHost>>;
  const clock = manualClock(Date.parse('2026-06-01T12:00:00Z'));
  const cdn = new RecordingPurger();

  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { clock: clock.now, cdnPurger: cdn });
    t.container.worker.start();
    dj = await signUp(t);
    host = await externalHost((req, res) => {
      if ((req.url ?? '').startsWith('/ep.mp3')) return serveBytes(res, req, MP3ISH);
      if (req.url === '/page.html') return serveBytes(res, req, Buffer.from('<html></html>'), 'text/html');
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await host.close();
    await t.close();
  });

  const post = (url: string, body: unknown, token = dj.token) => t.request('POST', url, { token, body });
  /** The episode.published events (the outbox, through the API) about one episode. */
  const publishedEvents = async (episodeId: string) => {
    const res = await t.request('GET', '/v1/events?type=episode.published&limit=100', { token: dj.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { data: { object: { id: string } } }[] };
    return body.data.filter((e) => e.data.object.id === episodeId);
  };
  const feedOf = async (id: string, headers: Record<string, string> = {}) =>
    t.request('GET', `/podcasts/${id}/rss.xml`, { headers });

  async function createPodcast(extra: Record<string, unknown> = {}): Promise<PodcastJson> {
    const res = await post('/v1/podcasts', {
      title: 'Warehouse Sessions',
      description: 'Weekly sets <b>live</b><script>alert(1)</script>',
      author: 'DJ Nul',
      owner_email: 'nul@example.com',
      language: 'en',
      category: 'Music',
      subcategory: 'Music Commentary',
      explicit: true,
      ...extra,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as PodcastJson;
  }

  async function addEpisode(podcastId: string, body: Record<string, unknown>): Promise<EpisodeJson> {
    const res = await post(`/v1/podcasts/${podcastId}/episodes`, body);
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as EpisodeJson;
  }

  it('creates a podcast whose feed exists at once: RSS 2.0 with the iTunes and Podcasting 2.0 tags, explicit as yes', async () => {
    const podcast = await createPodcast();
    expect(podcast.podcast_id).toBe(podcast.id);
    expect(podcast.feed_url).toBe(`http://djcast.test/podcasts/${podcast.id}/rss.xml`);
    const res = await feedOf(podcast.id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/rss+xml');
    const xml = await res.text();
    expect(xml).toContain('<itunes:explicit>yes</itunes:explicit>');
    expect(xml).not.toContain('<script>');
    const feed = partytime(xml);
    expect(feed.title).toBe('Warehouse Sessions');
    expect(feed.explicit).toBe(true);
    expect(feed.itunesCategory).toEqual(['Music > Music Commentary']);
    expect(feed.guid).toBe(podcast.podcast_guid);
    expect(feed.owner).toEqual({ name: 'DJ Nul', email: 'nul@example.com' });
    expect(feed.locked).toBe(false);
    const rss = await rssParse(xml);
    expect(rss.title).toBe('Warehouse Sessions');
    expect(rss.items).toHaveLength(0);
    expect(cdn.urls).toContain(podcast.feed_url);
  });

  it('refuses a subcategory that is not under the category in Apple’s list (422 naming the field)', async () => {
    const res = await post('/v1/podcasts', { title: 'x', description: 'x', author: 'x', category: 'Music', subcategory: 'Golf' });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toEqual(['subcategory']);
  });

  it('adds an episode from an upload: the enclosure is the stored MP3’s exact length and audio/mpeg; the feed is regenerated and purged', async () => {
    const podcast = await createPodcast({ explicit: false });
    const audio = Buffer.alloc(12_345, 0x11);
    const upload = await insertReadyUpload(t, dj.userId, { audio });
    const res1 = await feedOf(podcast.id);
    const etag1 = res1.headers.get('etag')!;
    cdn.calls.length = 0;
    const episode = await addEpisode(podcast.id, { title: 'Episode 1', upload_id: upload, season: 1, episode_number: 1 });
    expect(episode.status).toBe('published');
    expect(episode.enclosure).toEqual({
      url: `http://djcast.test/podcasts/${podcast.id}/episodes/${episode.id}/media.mp3`,
      length: 12_345,
      type: 'audio/mpeg',
    });
    expect(cdn.urls).toEqual([podcast.feed_url]);
    const res2 = await feedOf(podcast.id);
    expect(res2.headers.get('etag')).not.toBe(etag1);
    const feed = partytime(await res2.text());
    expect(feed.items).toHaveLength(1);
    expect(feed.items[0]).toMatchObject({ title: 'Episode 1', guid: episode.guid, itunesSeason: 1, itunesEpisode: 1 });
    expect(feed.items[0]!.enclosure).toEqual({ url: episode.enclosure.url, length: 12_345, type: 'audio/mpeg' });
    expect(feed.explicit).toBe(false);

    // The counting redirect serves the local file, with Range, and records each request.
    const whole = await t.request('GET', new URL(episode.enclosure.url).pathname, { headers: { 'user-agent': 'Overcast/3.0' } });
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(audio)).toBe(true);
    const part = await t.request('GET', new URL(episode.enclosure.url).pathname, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 100-199/12345');
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const downloads = await t.container.db.kysely
      .selectFrom('episode_downloads')
      .selectAll()
      .where('episode_id', '=', episode.id)
      .execute();
    expect(downloads.map((d) => [d.user_agent, d.range])).toEqual(
      expect.arrayContaining([
        ['Overcast/3.0', null],
        [null, 'bytes=100-199'],
      ]),
    );
  });

  it('serves the feed with ETag and Last-Modified, and 304 on a conditional request', async () => {
    const podcast = await createPodcast();
    const first = await feedOf(podcast.id);
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect((await feedOf(podcast.id, { 'if-none-match': etag })).status).toBe(304);
    expect((await feedOf(podcast.id, { 'if-modified-since': lastModified })).status).toBe(304);
    await t.request('PATCH', `/v1/podcasts/${podcast.id}`, { token: dj.token, body: { title: 'Renamed' } });
    const changed = await feedOf(podcast.id, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(partytime(await changed.text()).title).toBe('Renamed');
  });

  it('adds an episode from an external URL: checked through the guarded client, length and type recorded, redirected (never re-hosted)', async () => {
    const podcast = await createPodcast();
    const episode = await addEpisode(podcast.id, { title: 'Guest mix', media_url: `${host.url}/ep.mp3` });
    expect(episode.enclosure.length).toBe(MP3ISH.length);
    expect(episode.enclosure.type).toBe('audio/mpeg');
    expect(host.requests.some((r) => r.method === 'HEAD' && r.url === '/ep.mp3')).toBe(true);
    const res = await t.request('GET', new URL(episode.enclosure.url).pathname);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe(`${host.url}/ep.mp3`);
    const html = await post(`/v1/podcasts/${podcast.id}/episodes`, { title: 'x', media_url: `${host.url}/page.html` });
    expect(html.status).toBe(422);
    expect(((await html.json()) as { code: string }).code).toBe('source_not_audio');
  });

  it('keeps the GUID when the media is replaced', async () => {
    const podcast = await createPodcast();
    const a = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(1000) });
    const b = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(2000) });
    const episode = await addEpisode(podcast.id, { title: 'Take 1', upload_id: a });
    const res = await t.request('PATCH', `/v1/episodes/${episode.id}`, {
      token: dj.token,
      body: { upload_id: b, title: 'Take 2' },
    });
    expect(res.status).toBe(200);
    const updated = (await res.json()) as EpisodeJson;
    expect(updated.guid).toBe(episode.guid);
    expect(updated.enclosure.length).toBe(2000);
    const feed = partytime(await (await feedOf(podcast.id)).text());
    expect(feed.items.map((i) => [i.guid, i.title, i.enclosure.length])).toEqual([[episode.guid, 'Take 2', 2000]]);
    // An upload an episode uses cannot be deleted.
    expect((await t.request('DELETE', `/v1/uploads/audio/${b}`, { token: dj.token })).status).toBe(409);
  });

  it('schedules an episode in the future and publishes it on time (injected clock)', async () => {
    const podcast = await createPodcast();
    const upload = await insertReadyUpload(t, dj.userId);
    const at = new Date(clock.ms + 3_600_000).toISOString();
    const episode = await addEpisode(podcast.id, { title: 'Tomorrow', upload_id: upload, published_at: at });
    expect(episode.status).toBe('scheduled');
    expect(partytime(await (await feedOf(podcast.id)).text()).items).toHaveLength(0);
    expect((await t.request('GET', new URL(episode.enclosure.url).pathname)).status).toBe(404);
    clock.advance(3_600_000 + 1000);
    t.container.jobs.wake();
    const feed = await waitFor('the scheduled episode in the feed', async () => {
      const parsed = partytime(await (await feedOf(podcast.id)).text());
      return parsed.items.length === 1 ? parsed : null;
    });
    expect(feed.items[0]!.guid).toBe(episode.guid);
    expect(feed.items[0]!.pubDate?.toISOString()).toBe(new Date(at).toISOString());
    const got = (await (await t.request('GET', `/v1/episodes/${episode.id}`, { token: dj.token })).json()) as EpisodeJson;
    expect(got.status).toBe('published');
    // The publish emitted exactly one episode.published event carrying the episode as the API shows it.
    const events = await publishedEvents(episode.id);
    expect(events).toHaveLength(1);
    expect(events[0]!.data.object).toMatchObject({ id: episode.id, guid: episode.guid, status: 'published' });
  });

  it('keeps a draft out of the feed until it is published', async () => {
    const podcast = await createPodcast();
    const upload = await insertReadyUpload(t, dj.userId);
    const draft = await addEpisode(podcast.id, { title: 'Draft', upload_id: upload, draft: true });
    expect(draft.status).toBe('draft');
    expect(partytime(await (await feedOf(podcast.id)).text()).items).toHaveLength(0);
    expect(await publishedEvents(draft.id)).toHaveLength(0);
    const res = await post(`/v1/episodes/${draft.id}/publish`, undefined);
    expect(res.status).toBe(200);
    expect(partytime(await (await feedOf(podcast.id)).text()).items.map((i) => i.guid)).toEqual([draft.guid]);
    // Publishing again changes nothing and emits nothing more.
    expect((await post(`/v1/episodes/${draft.id}/publish`, undefined)).status).toBe(200);
    expect(await publishedEvents(draft.id)).toHaveLength(1);
  });

  it('signs a monetized podcast’s enclosures for an hour: valid now, 403 when expired or tampered, 403 without', async () => {
    const podcast = await createPodcast({ monetization_enabled: true });
    const upload = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(500, 1) });
    const episode = await addEpisode(podcast.id, { title: 'Paid', upload_id: upload });
    // The public feed lists the episodes, but its enclosures carry no listener: the paywall keeps them shut.
    const publicFeed = partytime(await (await feedOf(podcast.id)).text());
    const anonymous = new URL(publicFeed.items[0]!.enclosure.url);
    const shut = await t.request('GET', `${anonymous.pathname}${anonymous.search}`);
    expect(shut.status).toBe(403);
    expect(((await shut.json()) as { code: string }).code).toBe('subscription_required');
    // The DJ's own personal feed: signed for the owner, who may always play.
    const mine = (await (await post(`/v1/podcasts/${podcast.id}/feed-tokens`, { user_id: dj.userId })).json()) as {
      feed_url: string;
    };
    const feed = partytime(await (await t.request('GET', new URL(mine.feed_url).pathname)).text());
    const signed = new URL(feed.items[0]!.enclosure.url);
    const exp = Number(signed.searchParams.get('exp'));
    expect(exp * 1000 - clock.ms).toBeLessThanOrEqual(3_600_000);
    expect(exp * 1000 - clock.ms).toBeGreaterThan(3_000_000);
    const path = `${signed.pathname}${signed.search}`;
    expect((await t.request('GET', path)).status).toBe(200);
    const unsigned = await t.request('GET', new URL(episode.enclosure.url).pathname);
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { code: string }).code).toBe('subscription_required');
    const tampered = new URL(signed);
    tampered.searchParams.set('exp', String(exp + 3600));
    expect((await t.request('GET', `${tampered.pathname}${tampered.search}`)).status).toBe(403);
    const saved = clock.ms;
    clock.set(exp * 1000);
    const expired = await t.request('GET', path);
    expect(expired.status).toBe(403);
    expect(((await expired.json()) as { reason: string }).reason).toBe('expired');
    clock.set(saved);
  });

  it('mints personal feeds whose enclosures are signed afresh on each fetch, and revokes them', async () => {
    const podcast = await createPodcast({ monetization_enabled: true });
    const listener = await signUp(t, { role: 'listener' });
    const upload = await insertReadyUpload(t, dj.userId);
    await addEpisode(podcast.id, { title: 'Paid', upload_id: upload });
    // A monetized podcast's personal feed plays for a subscriber (local test-mode billing).
    const plan = (await (
      await post('/v1/plans', {
        name: 'Feed',
        price_cents: 300,
        currency: 'usd',
        billing_interval: 'month',
        unlocks: [podcast.id],
      })
    ).json()) as { id: string };
    expect((await post('/v1/subscriptions', { plan_id: plan.id }, listener.token)).status).toBe(201);
    const res = await post(`/v1/podcasts/${podcast.id}/feed-tokens`, { user_id: listener.userId });
    expect(res.status).toBe(201);
    const token = (await res.json()) as { id: string; feed_url: string };
    const personal = new URL(token.feed_url).pathname;
    const first = partytime(await (await t.request('GET', personal)).text());
    clock.advance(10_000);
    const second = partytime(await (await t.request('GET', personal)).text());
    const u1 = new URL(first.items[0]!.enclosure.url);
    const u2 = new URL(second.items[0]!.enclosure.url);
    expect(u1.searchParams.get('u')).toBe(listener.userId);
    expect(Number(u2.searchParams.get('exp')) - Number(u1.searchParams.get('exp'))).toBe(10);
    expect(first.guid).toBe(podcast.podcast_guid);
    expect((await t.request('GET', `${u2.pathname}${u2.search}`)).status).toBe(200);
    const downloads = await t.container.db.kysely
      .selectFrom('episode_downloads')
      .select('user_id')
      .where('podcast_id', '=', podcast.id)
      .execute();
    expect(downloads.map((d) => d.user_id)).toContain(listener.userId);
    expect((await t.request('DELETE', `/v1/podcasts/${podcast.id}/feed-tokens/${token.id}`, { token: dj.token })).status).toBe(
      204,
    );
    expect((await t.request('GET', personal)).status).toBe(404);
  });

  it('a subscriber gets their own personal feed URL from their subscription; it stops playing when the subscription ends', async () => {
    const podcast = await createPodcast({ monetization_enabled: true });
    const upload = await insertReadyUpload(t, dj.userId);
    await addEpisode(podcast.id, { title: 'For subscribers', upload_id: upload });
    const listener = await signUp(t, { role: 'listener' });
    const mine = () => post(`/v1/podcasts/${podcast.id}/personal-feed`, {}, listener.token);

    // No subscription yet: 403 naming the plan that unlocks it.
    const plan = (await (
      await post('/v1/plans', {
        name: 'Feed pass',
        price_cents: 200,
        currency: 'usd',
        billing_interval: 'month',
        unlocks: [podcast.id],
      })
    ).json()) as { id: string };
    const denied = await mine();
    expect(denied.status).toBe(403);
    const problem = (await denied.json()) as { code: string; plans: { id: string }[] };
    expect(problem.code).toBe('subscription_required');
    expect(problem.plans.map((p) => p.id)).toContain(plan.id);

    // Subscribed (local test mode): the listener mints their own feed, and the paywall opens it and its enclosures.
    const sub = (await (await post('/v1/subscriptions', { plan_id: plan.id }, listener.token)).json()) as { id: string };
    const minted = await mine();
    expect(minted.status).toBe(201);
    const feed = (await minted.json()) as { user_id: string; feed_url: string };
    expect(feed.user_id).toBe(listener.userId);
    const personal = new URL(feed.feed_url).pathname;
    const rss = await t.request('GET', personal);
    expect(rss.status).toBe(200);
    const enclosure = new URL(partytime(await rss.text()).items[0]!.enclosure.url);
    expect(enclosure.searchParams.get('u')).toBe(listener.userId);
    expect((await t.request('GET', `${enclosure.pathname}${enclosure.search}`)).status).toBe(200);

    // Canceled now: the same URL answers 403, and no new one is minted.
    expect((await post(`/v1/subscriptions/${sub.id}/cancel`, { at_period_end: false }, listener.token)).status).toBe(200);
    expect((await t.request('GET', personal)).status).toBe(403);
    expect((await t.request('GET', `${enclosure.pathname}${enclosure.search}`)).status).toBe(403);
    expect((await mine()).status).toBe(403);

    // A free podcast needs no personal feed.
    const free = await createPodcast({});
    const conflict = await post(`/v1/podcasts/${free.id}/personal-feed`, {}, listener.token);
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { feed_url: string }).feed_url).toContain(`/podcasts/${free.id}/rss.xml`);
  });

  it('checks artwork against Apple’s rules (422 naming the rule) and serves it from storage', async () => {
    const upload = (file: Buffer, name = 'art.png') =>
      t.app.request('/v1/podcasts/artwork', {
        method: 'POST',
        headers: { authorization: `Bearer ${dj.token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: Buffer.concat([multipartHead(name, 'file', 'image/png'), file, multipartTail()]),
      });
    const rule = async (file: Buffer) => {
      const res = await upload(file);
      expect(res.status, await res.clone().text()).toBe(422);
      return ((await res.json()) as { rule: string }).rule;
    };
    expect(await rule(png(1400, 1500))).toBe('square');
    expect(await rule(png(1000, 1000))).toBe('min_size');
    expect(await rule(png(3200, 3200))).toBe('max_size');
    expect(await rule(png(1400, 1400, 0))).toBe('rgb');
    expect(await rule(jpegHead(1400, 1400, 4))).toBe('rgb');
    expect(await rule(Buffer.from('GIF89a not really'))).toBe('format');
    const ok = await upload(png(1400, 1400));
    expect(ok.status, await ok.clone().text()).toBe(201);
    const art = (await ok.json()) as { id: string; url: string; width: number };
    expect(art.width).toBe(1400);
    const podcast = await createPodcast({ artwork_id: art.id });
    expect(podcast.artwork_url).toBe(art.url);
    const feed = partytime(await (await feedOf(podcast.id)).text());
    expect(feed.itunesImage).toBe(art.url);
    const served = await t.request('GET', new URL(art.url).pathname);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
  });

  it('deletes an episode and the podcast; the feed follows', async () => {
    const podcast = await createPodcast();
    const upload = await insertReadyUpload(t, dj.userId);
    const episode = await addEpisode(podcast.id, { title: 'Gone soon', upload_id: upload });
    expect((await t.request('DELETE', `/v1/episodes/${episode.id}`, { token: dj.token })).status).toBe(204);
    expect(partytime(await (await feedOf(podcast.id)).text()).items).toHaveLength(0);
    expect((await t.request('DELETE', `/v1/podcasts/${podcast.id}`, { token: dj.token })).status).toBe(204);
    expect((await feedOf(podcast.id)).status).toBe(404);
  });
});
