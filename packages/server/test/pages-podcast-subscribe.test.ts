// The Subscribe button of a monetized podcast page and the subscriber's
// "Get my private feed" form, over HTTP: the button leads through the web
// subscribe flow back to /c/…; the page then offers the form (private,
// no-store); posting it mints a personal feed that answers with the feed
// and whose enclosure plays; forged posts (no token, another origin) and a
// non-subscriber's post get 403 and mint nothing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, signUp, STRONG_PASSWORD, uniqueEmail, type TestApp } from './harness.js';
import { insertReadyUpload } from './uploads-support.js';
import { Jar, webForms } from './web-forms.js';

const BASE = 'http://djcast.test';

describe.each(DIALECTS)('podcast page subscribe and private feed on %s', (dialect) => {
  let t: TestApp;
  let dj: string;
  let planId: string;
  let podcastId: string;

  const { get, post, csrfOf } = webForms(() => t);
  const feedTokens = async () =>
    (await t.container.db.kysely.selectFrom('podcast_feed_tokens').select('id').where('podcast_id', '=', podcastId).execute())
      .length;

  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_PUBLIC_URL: BASE });
    const email = uniqueEmail();
    await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD, role: 'dj' } });
    const login = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
    dj = ((await login.json()) as { access_token: string }).access_token;
    const me = (await (await t.request('GET', '/v1/me', { token: dj })).json()) as { id: string };
    const podcast = await t.request('POST', '/v1/podcasts', {
      token: dj,
      body: {
        title: 'Members Radio',
        description: 'Weekly sets for members',
        author: 'DJ Nul',
        owner_email: 'nul@example.com',
        language: 'en',
        category: 'Music',
        monetization_enabled: true,
      },
    });
    expect(podcast.status, await podcast.clone().text()).toBe(201);
    podcastId = ((await podcast.json()) as { id: string }).id;
    const upload = await insertReadyUpload(t, me.id, { audio: Buffer.alloc(500, 1) });
    const episode = await t.request('POST', `/v1/podcasts/${podcastId}/episodes`, {
      token: dj,
      body: { title: 'Members only', upload_id: upload },
    });
    expect(episode.status, await episode.clone().text()).toBe(201);
    const plan = await t.request('POST', '/v1/plans', {
      token: dj,
      body: { name: 'Gold', price_cents: 499, currency: 'usd', billing_interval: 'month', unlocks: [podcastId] },
    });
    expect(plan.status, await plan.clone().text()).toBe(201);
    planId = ((await plan.json()) as { id: string }).id;
  });
  afterAll(() => t.close());

  it('the anonymous podcast page has a Subscribe button per plan returning to /c/…, and no private-feed form', async () => {
    const res = await get(`/c/${podcastId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toMatch(/^public/);
    expect(res.headers.get('content-security-policy')).toContain("form-action 'none'");
    const page = await res.text();
    const href = `${BASE}/subscribe?plan=${planId}&amp;return=${encodeURIComponent(`/c/${podcastId}`)}`;
    expect(page).toContain(`<a class="btn" data-role="subscribe" href="${href}">Subscribe</a>`);
    expect(page).not.toContain('data-role="private-feed"');
    const form = await get(`/subscribe?plan=${planId}&return=${encodeURIComponent(`/c/${podcastId}`)}`);
    expect(form.status).toBe(200);
    expect(await form.text()).toContain(`value="/c/${podcastId}"`);
    // Strict: only this server's /c/pod_… paths.
    for (const bad of [
      `/c/${podcastId}/personal-feed`,
      `/c/${podcastId.replace('pod_', 'pls_')}`,
      `https://evil.example/c/${podcastId}`,
    ])
      expect((await get(`/subscribe?plan=${planId}&return=${encodeURIComponent(bad)}`)).status, bad).toBe(400);
  });

  it('sign up -> subscribed -> back on /c/…, which offers the private feed; posting mints a feed that plays', async () => {
    const jar = new Jar();
    const form = await get(`/subscribe?plan=${planId}&return=/c/${podcastId}`, jar);
    jar.take(form);
    const res = await post(
      '/subscribe/signup',
      {
        csrf: csrfOf(await form.text()),
        plan: planId,
        return: `/c/${podcastId}`,
        email: uniqueEmail(),
        password: STRONG_PASSWORD,
      },
      { cookie: jar.header(), origin: BASE },
    );
    expect(res.status, await res.clone().text()).toBe(303);
    expect(res.headers.get('location')).toBe(`${BASE}/c/${podcastId}`);
    jar.take(res);

    const page = await get(`/c/${podcastId}`, jar);
    jar.take(page);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    const html = await page.text();
    expect(html).toContain('data-role="private-feed"');
    expect(html).toContain(`action="/c/${podcastId}/personal-feed"`);
    expect(html).toContain('Get my private feed');
    expect(html).not.toContain('data-role="subscribe"');
    const csrf = csrfOf(html);
    expect(csrf).not.toBe('');

    // Forged posts: no token, another origin, no origin at all. 403, nothing minted.
    const before = await feedTokens();
    const forgeries: { fields: Record<string, string>; headers: Record<string, string> }[] = [
      { fields: {}, headers: { cookie: jar.header(), origin: BASE } },
      { fields: { csrf }, headers: { cookie: jar.header(), origin: 'https://evil.example' } },
      { fields: { csrf }, headers: { cookie: jar.header() } },
    ];
    for (const a of forgeries) {
      const forged = await post(`/c/${podcastId}/personal-feed`, a.fields, a.headers);
      expect(forged.status, JSON.stringify(a.headers)).toBe(403);
      expect(await forged.text()).not.toContain('/feeds/');
    }
    expect(await feedTokens()).toBe(before);

    const minted = await post(`/c/${podcastId}/personal-feed`, { csrf }, { cookie: jar.header(), origin: BASE });
    expect(minted.status, await minted.clone().text()).toBe(200);
    expect(minted.headers.get('cache-control')).toBe('private, no-store');
    const mintedHtml = await minted.text();
    expect(await feedTokens()).toBe(before + 1);
    const feedUrl = /data-role="private-feed-url">([^<]+)</.exec(mintedHtml)?.[1];
    expect(feedUrl).toMatch(new RegExp(`^${BASE}/podcasts/${podcastId}/feeds/[A-Za-z0-9_-]+/rss\\.xml$`));
    expect(mintedHtml).toContain(`data-role="private-rss"`);
    const feedPath = new URL(feedUrl!).pathname;
    expect(mintedHtml).toContain(`href="podcast://djcast.test${feedPath}" data-role="private-apple"`);

    const feed = await get(feedPath);
    expect(feed.status).toBe(200);
    const xml = await feed.text();
    expect(xml).toContain('Members only');
    const enclosure = /<enclosure url="([^"]+)"/.exec(xml)?.[1]?.replace(/&amp;/g, '&');
    expect(enclosure).toBeDefined();
    const media = new URL(enclosure!);
    expect((await get(`${media.pathname}${media.search}`)).status).toBe(200);
    // The same enclosure without its signature stays shut.
    expect((await get(media.pathname)).status).toBe(403);
  });

  it('a signed-in non-subscriber never sees the form, and their post gets 403 and mints nothing', async () => {
    const listener = await signUp(t, { role: 'listener' });
    const jar = new Jar();
    jar.cookies.set('djcast_session', listener.token);
    const page = await get(`/c/${podcastId}`, jar);
    jar.take(page);
    const html = await page.text();
    expect(html).not.toContain('data-role="private-feed"');
    expect(html).toContain('data-role="subscribe"');
    // A CSRF token from the subscribe form, so only the subscription is missing.
    const form = await get(`/subscribe?plan=${planId}&return=/c/${podcastId}`, jar);
    jar.take(form);
    const before = await feedTokens();
    const res = await post(
      `/c/${podcastId}/personal-feed`,
      { csrf: csrfOf(await form.text()) },
      { cookie: jar.header(), origin: BASE },
    );
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('/feeds/');
    expect(await feedTokens()).toBe(before);
  });
});
