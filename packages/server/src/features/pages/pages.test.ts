import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestApp,
  DIALECTS,
  RecordingLauncher,
  startFakeIcecast,
  STRONG_PASSWORD,
  uniqueEmail,
  type FakeSource,
  type TestApp,
} from '../../../test/harness.js';
import { png } from '../../../test/podcasts-support.js';
import { BOUNDARY, insertReadyUpload, multipartHead, multipartTail } from '../../../test/uploads-support.js';

const BASE = 'http://djcast.test';

describe.each(DIALECTS)('listener pages on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  let dj: { token: string; userId: string };
  let streamId: string;
  let playlistId: string;

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, {}, { relayLauncher: new RecordingLauncher() });
    const email = uniqueEmail();
    const reg = await t.request('POST', '/v1/auth/register', {
      body: { email, password: STRONG_PASSWORD, display_name: 'DJ <Nul> & "Co"', role: 'dj' },
    });
    expect(reg.status).toBe(201);
    const login = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const me = (await (await t.request('GET', '/v1/me', { token })).json()) as { id: string };
    dj = { token, userId: me.id };
    const s = await t.api(token).POST('/v1/streams', {
      body: { name: 'Friday <script>alert(1)</script> set', source_url: `${source.url}/live` },
    });
    streamId = s.data!.id;
    const upload = await insertReadyUpload(t, dj.userId, { seconds: 125 });
    const p = await t.api(token).POST('/v1/playlists', { body: { title: 'Sunday "sets"', items: [{ upload_id: upload }] } });
    playlistId = p.data!.id;
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  it('serves a stream page: title escaped, DJ name, live state, player, OG and oEmbed links, strict CSP, no framing', async () => {
    const res = await t.request('GET', `/s/${streamId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('public, max-age=30');
    const page = await res.text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('<h1>Friday &lt;script&gt;alert(1)&lt;/script&gt; set</h1>');
    expect(page).toContain('by DJ &lt;Nul&gt; &amp; &quot;Co&quot;');
    expect(page).toContain(`<meta property="og:url" content="${BASE}/s/${streamId}">`);
    expect(page).toContain('<meta property="og:title" content="Friday &lt;script&gt;alert(1)&lt;/script&gt; set">');
    expect(page).toContain(`<meta name="twitter:player" content="${BASE}/embed/s/${streamId}">`);
    expect(page).toContain(`href="${BASE}/oembed?format=json&amp;url=${encodeURIComponent(`${BASE}/s/${streamId}`)}"`);
    expect(page).toMatch(
      new RegExp(
        `<djcast-player kind="live" src="${BASE}/streams/${streamId}/live.m3u8" now-playing-src="${BASE}/streams/${streamId}/now-playing.json"`,
      ),
    );
    // First content in one round trip: the styles are inline, the only script is the versioned player module.
    expect(page).not.toMatch(/<link rel="stylesheet"/);
    const scripts = [...page.matchAll(/<script[^>]*>/g)].map((m) => m[0]);
    expect(scripts).toEqual([expect.stringMatching(/^<script type="module" src="\/assets\/player\.[0-9a-f]{12}\.js">$/)]);
    // The embed snippet is on the page, escaped as text.
    expect(page).toContain(`&lt;iframe src=&quot;${BASE}/embed/s/${streamId}&quot;`);
  });

  it('the API gives each stream and playlist its page URL and embed snippet', async () => {
    const { data: stream } = await t.api(dj.token).GET('/v1/streams/{id}', { params: { path: { id: streamId } } });
    expect(stream?.page_url).toBe(`${BASE}/s/${streamId}`);
    expect(stream?.embed_html).toBe(
      `<iframe src="${BASE}/embed/s/${streamId}" title="Friday &lt;script&gt;alert(1)&lt;/script&gt; set on djcast" width="100%" height="152" style="border:0;max-width:640px" allow="autoplay; encrypted-media" loading="lazy"></iframe>`,
    );
    const { data: playlist } = await t.api(dj.token).GET('/v1/playlists/{id}', { params: { path: { id: playlistId } } });
    expect(playlist?.page_url).toBe(`${BASE}/p/${playlistId}`);
    expect(playlist?.embed_html).toContain(`src="${BASE}/embed/p/${playlistId}"`);
  });

  it('serves the embed for any site to frame', async () => {
    const res = await t.request('GET', `/embed/s/${streamId}?engine=hls.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain('frame-ancestors *');
    expect(res.headers.get('x-frame-options')).toBeNull();
    expect(await res.text()).toContain('engine="hls.js"');
  });

  it('serves a playlist page with its tracks and the MP3 fallback', async () => {
    const res = await t.request('GET', `/p/${playlistId}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<h1>Sunday &quot;sets&quot;</h1>');
    expect(page).toContain(`mp3-src="${BASE}/playlists/${playlistId}/stream.mp3"`);
    expect(page).toContain('<span class="len">2:05</span>');
    expect(page).toContain('tracks="[{&quot;title&quot;:');
  });

  it('answers oEmbed (rich, iframe) for page and embed URLs, with CORS; a foreign URL is 404', async () => {
    for (const url of [`${BASE}/p/${playlistId}`, `${BASE}/embed/p/${playlistId}`]) {
      const res = await t.request('GET', `/oembed?url=${encodeURIComponent(url)}&maxwidth=400`);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        version: '1.0',
        type: 'rich',
        provider_name: 'djcast',
        title: 'Sunday "sets"',
        width: 400,
        height: 152,
      });
      expect(body.author_name).toBe('DJ <Nul> & "Co"');
      expect(body.html).toBe(
        `<iframe src="${BASE}/embed/p/${playlistId}" title="Sunday &quot;sets&quot; on djcast" width="400" height="152" style="border:0;max-width:640px" allow="autoplay; encrypted-media" loading="lazy"></iframe>`,
      );
    }
    const foreign = await t.request('GET', `/oembed?url=${encodeURIComponent(`https://elsewhere.example/p/${playlistId}`)}`);
    expect(foreign.status).toBe(404);
    expect(foreign.headers.get('content-type')).toContain('application/problem+json');
  });

  it('serves now-playing for players: cacheable a few seconds, CORS', async () => {
    const res = await t.request('GET', `/streams/${streamId}/now-playing.json`, {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=5');
    expect(await res.json()).toMatchObject({ stream_id: streamId, state: 'starting', live: false, current_track: null });
  });

  it('monetized: the page says subscribe and shows no player; with the owner’s playback token it plays', async () => {
    await t.api(dj.token).PATCH('/v1/streams/{id}', { params: { path: { id: streamId } }, body: { monetization_enabled: true } });
    const locked = await (await t.request('GET', `/s/${streamId}`)).text();
    expect(locked).toContain('data-role="subscription-required"');
    expect(locked).not.toContain('<djcast-player');
    expect(locked).not.toContain('<script');
    const { data } = await t.api(dj.token).POST('/v1/streams/{id}/playback-token', { params: { path: { id: streamId } } });
    const res = await t.request('GET', `/s/${streamId}?token=${encodeURIComponent(data!.token)}`);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const granted = await res.text();
    expect(granted).toContain(`live.m3u8?token=${encodeURIComponent(data!.token)}`);
    expect(granted).toContain('<meta name="robots" content="noindex">');
    const np = await t.request('GET', `/streams/${streamId}/now-playing.json`);
    expect(np.status).toBe(403);
    expect(((await np.json()) as { code: string }).code).toBe('subscription_required');
  });

  it('monetized: the page lists the DJ’s plans that unlock it, with price, features and how to subscribe', async () => {
    await t.api(dj.token).PATCH('/v1/streams/{id}', { params: { path: { id: streamId } }, body: { monetization_enabled: true } });
    const none = await (await t.request('GET', `/s/${streamId}`)).text();
    expect(none).toContain('The DJ has no plan on sale for it yet.');
    const create = async (body: Record<string, unknown>) => {
      const res = await t.request('POST', '/v1/plans', { token: dj.token, body });
      expect(res.status, await res.clone().text()).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const gold = await create({
      name: 'Gold <club>',
      price_cents: 499,
      currency: 'usd',
      billing_interval: 'month',
      features: ['ad-free', 'archives'],
    });
    const other = await create({
      name: 'Other stream only',
      price_cents: 100,
      currency: 'eur',
      billing_interval: 'year',
      unlocks: ['str_01jd0v9m3x7k2p8q4r5s6t7u8v'],
    });
    const page = await (await t.request('GET', `/s/${streamId}`)).text();
    expect(page).toContain(`data-plan-id="${gold}"`);
    expect(page).toContain('<strong>Gold &lt;club&gt;</strong>');
    expect(page).toContain('4.99 USD / month');
    expect(page).toContain('(ad-free, archives)');
    expect(page).toContain(`djcast subscription create --plan ${gold}`);
    // A plan that unlocks other content is not offered here.
    expect(page).not.toContain(other);
    expect(page).not.toContain('<djcast-player');
  });

  it('private: the page is the same 404 as a missing one', async () => {
    await t.api(dj.token).PATCH('/v1/playlists/{id}', { params: { path: { id: playlistId } }, body: { visibility: 'private' } });
    const hidden = await t.request('GET', `/p/${playlistId}`);
    const missing = await t.request('GET', '/p/pls_01jd0v9m3x7k2p8q4r5s6t7u8v');
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(await hidden.text()).toBe(await missing.text());
    const oembed = await t.request('GET', `/oembed?url=${encodeURIComponent(`${BASE}/p/${playlistId}`)}`);
    expect(oembed.status).toBe(404);
  });

  it('serves the player and hls.js versioned and immutable, compressed, with CORS for other sites', async () => {
    const stable = await t.request('GET', '/player.js', { headers: { 'accept-encoding': 'br, gzip' } });
    expect(stable.status).toBe(200);
    expect(stable.headers.get('cache-control')).toMatch(/^public, max-age=300/);
    expect(stable.headers.get('content-encoding')).toBe('br');
    const player = await t.request('GET', '/player.js');
    const source = await player.text();
    const hlsPath = /new URL\('(\/assets\/hls\.[0-9a-f]{12}\.mjs)'/.exec(source)?.[1];
    expect(hlsPath).toBeTruthy();
    const hls = await t.request('GET', hlsPath!, { headers: { 'accept-encoding': 'gzip' } });
    expect(hls.status).toBe(200);
    expect(hls.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(hls.headers.get('access-control-allow-origin')).toBe('*');
    expect(hls.headers.get('content-encoding')).toBe('gzip');
    const again = await t.request('GET', hlsPath!, { headers: { 'if-none-match': hls.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await t.request('GET', '/assets/hls.000000000000.mjs')).status).toBe(404);
  });
  describe('podcast pages', () => {
    let podcastId: string;
    let artworkUrl: string;
    let feedUrl: string;
    let guid: string;
    const episodes: { id: string; url: string }[] = [];
    const HOSTILE = 'Ep <img src=x onerror=alert(1)> "two" & more';

    beforeAll(async () => {
      const art = await t.app.request('/v1/podcasts/artwork', {
        method: 'POST',
        headers: { authorization: `Bearer ${dj.token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: Buffer.concat([multipartHead('art.png', 'file', 'image/png'), png(1400, 1400), multipartTail()]),
      });
      expect(art.status, await art.clone().text()).toBe(201);
      const artwork = (await art.json()) as { id: string; url: string };
      artworkUrl = artwork.url;
      const created = await t.request('POST', '/v1/podcasts', {
        token: dj.token,
        body: {
          title: 'Warehouse <Sessions>',
          description: 'Weekly sets <b>live</b><script>alert(1)</script>',
          author: 'DJ "Nul"',
          language: 'en',
          category: 'Music',
          explicit: false,
          artwork_id: artwork.id,
        },
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const podcast = (await created.json()) as { id: string; feed_url: string; podcast_guid: string };
      podcastId = podcast.id;
      feedUrl = podcast.feed_url;
      guid = podcast.podcast_guid;
      // Two published episodes (the older first) and a draft the page must not show.
      for (const [title, at] of [
        ['Episode one', '2026-01-01T10:00:00.000Z'],
        [HOSTILE, '2026-02-01T10:00:00.000Z'],
        ['Unfinished draft', null],
      ] as const) {
        const upload = await insertReadyUpload(t, dj.userId, { seconds: 65 });
        const res = await t.request('POST', `/v1/podcasts/${podcastId}/episodes`, {
          token: dj.token,
          body: { title, description: '<p>Notes for <em>this</em> one</p>', upload_id: upload, draft: true },
        });
        expect(res.status, await res.clone().text()).toBe(201);
        const episode = (await res.json()) as { id: string; enclosure: { url: string } };
        if (at) {
          const pub = await t.request('POST', `/v1/episodes/${episode.id}/publish`, { token: dj.token });
          expect(pub.status).toBe(200);
          await t.container.db.kysely.updateTable('episodes').set({ published_at: at }).where('id', '=', episode.id).execute();
          episodes.push({ id: episode.id, url: episode.enclosure.url });
        }
      }
      // Show notes are sanitized when stored; the page's own allowlist holds even if a stored value is not.
      await t.container.db.kysely
        .updateTable('episodes')
        .set({
          description:
            '<p onclick="x()">Hi <a href="javascript:alert(1)">bad</a> <a href="https://ok.example/">ok</a></p><script>alert(2)</script><iframe src="https://evil.example/"></iframe>',
        })
        .where('id', '=', episodes[0]!.id)
        .execute();
    });

    it('serves the page: artwork (page, og:image, twitter:image), author, description, subscribe links, episodes newest first, escaped', async () => {
      const res = await t.request('GET', `/c/${podcastId}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('cache-control')).toBe('public, max-age=30');
      const page = await res.text();
      expect(page).toContain('<h1>Warehouse &lt;Sessions&gt;</h1>');
      expect(page).toContain('by DJ &quot;Nul&quot;');
      expect(page).toContain(`<img src="${artworkUrl}" alt=""`);
      expect(page).toContain(`<meta property="og:image" content="${artworkUrl}">`);
      expect(page).toContain(`<meta name="twitter:image" content="${artworkUrl}">`);
      expect(page).toContain('<meta property="og:title" content="Warehouse &lt;Sessions&gt;">');
      expect(page).toContain(`<meta property="og:url" content="${BASE}/c/${podcastId}">`);
      expect(page).toContain(`<meta name="twitter:player" content="${BASE}/embed/c/${podcastId}">`);
      expect(page).toContain(`href="${BASE}/oembed?format=json&amp;url=${encodeURIComponent(`${BASE}/c/${podcastId}`)}"`);
      // The description keeps its formatting, never a script.
      expect(page).toContain('Weekly sets <b>live</b>');
      expect(page).not.toContain('alert(1)</script>');
      // Subscribe: the feed, Apple Podcasts by the podcast:// scheme, the podcast:guid.
      expect(page).toContain(`<a href="${feedUrl}" rel="alternate" type="application/rss+xml" data-role="rss">`);
      expect(page).toContain(`<a href="podcast://djcast.test/podcasts/${podcastId}/rss.xml" data-role="apple">`);
      expect(page).toContain(`<code data-role="guid">${guid}</code>`);
      // Published episodes, newest first; the draft is not there; a hostile title is text.
      const order = [...page.matchAll(/data-episode="(epi_[0-9a-z]+)"/g)].map((m) => m[1]);
      expect(order).toEqual([episodes[1]!.id, episodes[0]!.id]);
      expect(page).not.toContain('Unfinished draft');
      expect(page).not.toContain('<img src=x');
      expect(page).toContain('<h3>Ep &lt;img src=x onerror=alert(1)&gt; &quot;two&quot; &amp; more</h3>');
      // Show notes pass the page's allowlist: formatting and http(s) links only.
      expect(page).toContain('<p>Notes for <em>this</em> one</p>');
      expect(page).toContain('<a href="https://ok.example/" rel="nofollow noopener ugc" target="_blank">ok</a>');
      expect(page).not.toContain('javascript:');
      expect(page).not.toContain('onclick');
      expect(page).not.toContain('alert(2)');
      expect(page).not.toContain('<iframe src="https://evil');
      // The player holds the newest episode: its enclosure (the counting media route), as MP3.
      expect(page).toContain(
        `<djcast-player kind="playlist" src="${episodes[1]!.url}" mp3-src="${episodes[1]!.url}" hls-script=`,
      );
      expect(page).toContain('engine="mp3"');
      expect(page).toContain(`<meta property="og:audio" content="${episodes[1]!.url}">`);
      expect(page).toContain(
        `href="${BASE}/c/${podcastId}?episode=${episodes[0]!.id}#player" aria-label="Play Episode one">Play</a>`,
      );
      const scripts = [...page.matchAll(/<script[^>]*>/g)].map((m) => m[0]);
      expect(scripts).toEqual([expect.stringMatching(/^<script type="module" src="\/assets\/player\.[0-9a-f]{12}\.js">$/)]);
    });

    it('?episode= puts that episode in the player; an unknown one falls back to the newest', async () => {
      const older = await (await t.request('GET', `/c/${podcastId}?episode=${episodes[0]!.id}`)).text();
      expect(older).toContain(`<djcast-player kind="playlist" src="${episodes[0]!.url}"`);
      expect(older).toContain(`<li data-episode="${episodes[0]!.id}" aria-current="true">`);
      expect(older).toContain('tracks="[{&quot;title&quot;:&quot;Episode one&quot;,&quot;duration&quot;:65}]"');
      const unknown = await (await t.request('GET', `/c/${podcastId}?episode=epi_01jd0v9m3x7k2p8q4r5s6t7u8v`)).text();
      expect(unknown).toContain(`<djcast-player kind="playlist" src="${episodes[1]!.url}"`);
      expect((await t.request('GET', `/c/${podcastId}?episode=nope`)).status).toBe(400);
    });

    it('the embed is frameable anywhere; the API gives page_url and embed_html; oEmbed answers for /c/ URLs', async () => {
      const embed = await t.request('GET', `/embed/c/${podcastId}`);
      expect(embed.status).toBe(200);
      expect(embed.headers.get('content-security-policy')).toContain('frame-ancestors *');
      expect(await embed.text()).toContain(`<djcast-player kind="playlist" src="${episodes[1]!.url}"`);
      const got = await t.request('GET', `/v1/podcasts/${podcastId}`, { token: dj.token });
      const view = (await got.json()) as { page_url: string; embed_html: string };
      expect(view.page_url).toBe(`${BASE}/c/${podcastId}`);
      expect(view.embed_html).toBe(
        `<iframe src="${BASE}/embed/c/${podcastId}" title="Warehouse &lt;Sessions&gt; on djcast" width="100%" height="152" style="border:0;max-width:640px" allow="autoplay; encrypted-media" loading="lazy"></iframe>`,
      );
      for (const url of [`${BASE}/c/${podcastId}`, `${BASE}/embed/c/${podcastId}`]) {
        const res = await t.request('GET', `/oembed?url=${encodeURIComponent(url)}`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body).toMatchObject({ type: 'rich', title: 'Warehouse <Sessions>', author_name: 'DJ "Nul"', height: 152 });
        expect(body.html).toContain(`src="${BASE}/embed/c/${podcastId}"`);
      }
    });

    it('monetized: the page says subscribe, lists episodes, and has no player; private: the same 404 as a missing id', async () => {
      await t.request('PATCH', `/v1/podcasts/${podcastId}`, { token: dj.token, body: { monetization_enabled: true } });
      const locked = await (await t.request('GET', `/c/${podcastId}`)).text();
      expect(locked).toContain('data-role="subscription-required"');
      expect(locked).toContain('This podcast is for the DJ’s subscribers');
      expect(locked).not.toContain('<djcast-player');
      expect(locked).not.toContain('<script');
      expect(locked).not.toContain('media.mp3');
      expect(locked).toContain(`data-episode="${episodes[0]!.id}"`);
      const lockedEmbed = await (await t.request('GET', `/embed/c/${podcastId}`)).text();
      expect(lockedEmbed).toContain('data-role="subscription-required"');
      expect(lockedEmbed).not.toContain('<djcast-player');

      const hide = await t.request('PATCH', `/v1/podcasts/${podcastId}`, {
        token: dj.token,
        body: { monetization_enabled: false, visibility: 'private' },
      });
      expect(hide.status, await hide.clone().text()).toBe(200);
      const hidden = await t.request('GET', `/c/${podcastId}`);
      const missing = await t.request('GET', '/c/pod_01jd0v9m3x7k2p8q4r5s6t7u8v');
      expect(hidden.status).toBe(404);
      expect(missing.status).toBe(404);
      expect(await hidden.text()).toBe(await missing.text());
      expect((await t.request('GET', `/embed/c/${podcastId}`)).status).toBe(404);
      expect((await t.request('GET', `/oembed?url=${encodeURIComponent(`${BASE}/c/${podcastId}`)}`)).status).toBe(404);
    });
  });
});
