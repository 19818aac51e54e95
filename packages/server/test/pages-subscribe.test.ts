// The web subscribe flow over HTTP: the Subscribe button of a monetized page,
// the sign-up form, CSRF refusals (no token, a wrong one, another origin),
// the session cookie's attributes, the subscription it creates (local test
// mode: active at once) and the page that then plays for the listener.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, DIALECTS, STRONG_PASSWORD, uniqueEmail, type TestApp } from './harness.js';
import { insertReadyUpload } from './uploads-support.js';
import { Jar, webForms } from './web-forms.js';

const BASE = 'http://djcast.test';

describe.each(DIALECTS)('web subscribe flow on %s', (dialect) => {
  let t: TestApp;
  let dj: string;
  let planId: string;
  let playlistId: string;

  const { get, post, csrfOf } = webForms(() => t);

  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_PUBLIC_URL: BASE });
    const email = uniqueEmail();
    await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD, role: 'dj' } });
    const login = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
    dj = ((await login.json()) as { access_token: string }).access_token;
    const me = (await (await t.request('GET', '/v1/me', { token: dj })).json()) as { id: string };
    const plan = await t.request('POST', '/v1/plans', {
      token: dj,
      body: { name: 'Gold', price_cents: 499, currency: 'usd', billing_interval: 'month' },
    });
    planId = ((await plan.json()) as { id: string }).id;
    const upload = await insertReadyUpload(t, me.id, { seconds: 30 });
    const created = await t.api(dj).POST('/v1/playlists', {
      body: { title: 'Members mix', items: [{ upload_id: upload }], monetization_enabled: true },
    });
    playlistId = created.data!.id;
  });
  afterAll(() => t.close());

  it('the locked page has a Subscribe button per plan, leading to the form and back to this page', async () => {
    const page = await (await get(`/p/${playlistId}`)).text();
    expect(page).not.toContain('<djcast-player');
    const href = `${BASE}/subscribe?plan=${planId}&amp;return=${encodeURIComponent(`/p/${playlistId}`)}`;
    expect(page).toContain(`<a class="btn" data-role="subscribe" href="${href}">Subscribe</a>`);
    const form = await get(`/subscribe?plan=${planId}&return=${encodeURIComponent(`/p/${playlistId}`)}`);
    expect(form.status).toBe(200);
    const csp = form.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('script-src');
    expect(csp).toContain("form-action 'self'");
    const cookie = form.headers.getSetCookie().find((c) => c.startsWith('djcast_csrf='));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    const html = await form.text();
    expect(html).toContain('Subscribe to Gold');
    expect(html).toContain('action="/subscribe/signup"');
    expect(csrfOf(html)).not.toBe('');
    // Only pages of this server are returned to: no open redirect.
    expect((await get(`/subscribe?plan=${planId}&return=${encodeURIComponent('https://evil.example/')}`)).status).toBe(400);
  });

  it('refuses a form post without the CSRF token, with a wrong one, or from another origin (403, nothing created)', async () => {
    const jar = new Jar();
    const form = await get(`/subscribe?plan=${planId}&return=/p/${playlistId}`, jar);
    jar.take(form);
    const csrf = csrfOf(await form.text());
    const email = uniqueEmail();
    const fields = { email, password: STRONG_PASSWORD, plan: planId, return: `/p/${playlistId}` };
    const attempts: { fields: Record<string, string>; headers: Record<string, string> }[] = [
      { fields, headers: { cookie: jar.header(), origin: BASE } },
      { fields: { ...fields, csrf: `${csrf.slice(0, -2)}xx` }, headers: { cookie: jar.header(), origin: BASE } },
      { fields: { ...fields, csrf }, headers: { cookie: jar.header(), origin: 'https://evil.example' } },
      { fields: { ...fields, csrf }, headers: { cookie: jar.header() } },
      // The token of another browser's cookie.
      { fields: { ...fields, csrf }, headers: { cookie: 'djcast_csrf=AAAAAAAAAAAAAAAAAAAAAAAA', origin: BASE } },
    ];
    for (const a of attempts) {
      const res = await post('/subscribe/signup', a.fields, a.headers);
      expect(res.status, JSON.stringify(a.headers)).toBe(403);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('djcast_session='))).toBe(false);
    }
    const users = await t.container.db.kysely.selectFrom('users').select('id').where('email', '=', email.toLowerCase()).execute();
    expect(users).toHaveLength(0);
  });

  it('sign up -> subscribed (local mode) -> back on the page, which now plays for the listener', async () => {
    const jar = new Jar();
    const form = await get(`/subscribe?plan=${planId}&return=/p/${playlistId}`, jar);
    jar.take(form);
    const csrf = csrfOf(await form.text());
    const fields = { csrf, plan: planId, return: `/p/${playlistId}` };

    const weak = await post(
      '/subscribe/signup',
      { ...fields, email: uniqueEmail(), password: 'short' },
      { cookie: jar.header(), origin: BASE },
    );
    expect(weak.status).toBe(400);
    expect(await weak.text()).toContain('data-role="error"');

    const email = uniqueEmail();
    const res = await post(
      '/subscribe/signup',
      { ...fields, email, password: STRONG_PASSWORD },
      { cookie: jar.header(), origin: BASE },
    );
    expect(res.status, await res.clone().text()).toBe(303);
    expect(res.headers.get('location')).toBe(`${BASE}/p/${playlistId}`);
    const session = jar.take(res).find((c) => c.startsWith('djcast_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).toMatch(/Max-Age=\d+/);
    expect(session).not.toMatch(/Secure/); // http public URL; https sets Secure (unit-tested)

    const user = await t.container.db.kysely
      .selectFrom('users')
      .select(['id', 'role'])
      .where('email', '=', email.toLowerCase())
      .executeTakeFirstOrThrow();
    expect(user.role).toBe('listener');
    const subs = await t.container.db.kysely.selectFrom('subscriptions').selectAll().where('listener_id', '=', user.id).execute();
    expect(subs.map((s) => [s.plan_id, s.status])).toEqual([[planId, 'active']]);

    const page = await get(`/p/${playlistId}`, jar);
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    const html = await page.text();
    const mp3 = /mp3-src="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(mp3).toMatch(/\/playlists\/pls_[0-9a-z]{26}\/stream\.mp3\?token=/);
    const audio = await t.app.request(new URL(mp3!).pathname + new URL(mp3!).search, { headers: { range: 'bytes=0-99' } });
    expect([200, 206]).toContain(audio.status);
    // Without the cookie, the page is still locked.
    expect(await (await get(`/p/${playlistId}`)).text()).not.toContain('<djcast-player');

    // Signed in: the form offers a confirm button; subscribing again goes straight back to the page.
    const again = await get(`/subscribe?plan=${planId}&return=/p/${playlistId}`, jar);
    const againHtml = await again.text();
    expect(againHtml).toContain('action="/subscribe/confirm"');
    const confirm = await post(
      '/subscribe/confirm',
      { csrf: csrfOf(againHtml), plan: planId, return: `/p/${playlistId}` },
      { cookie: jar.header(), origin: BASE },
    );
    expect(confirm.status).toBe(303);
    expect(confirm.headers.get('location')).toBe(`${BASE}/p/${playlistId}`);
  });
});
