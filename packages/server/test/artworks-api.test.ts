// Artwork of stream and playlist pages: the upload's rules (a 422 naming the
// rule), storage and serving, setting it on create and update (only one's
// own), and where it shows: the page, its share tags, the embed and oEmbed.

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
} from './harness.js';
import { jpegHead, png } from './podcasts-support.js';
import { BOUNDARY, insertReadyUpload, multipartHead, multipartTail } from './uploads-support.js';

interface Artwork {
  id: string;
  url: string;
  width: number;
  height: number;
  content_type: string;
}

describe.each(DIALECTS)('stream and playlist artwork on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  let dj: { token: string; userId: string };
  let other: { token: string; userId: string };

  const account = async () => {
    const email = uniqueEmail();
    expect(
      (await t.request('POST', '/v1/auth/register', { body: { email, password: STRONG_PASSWORD, role: 'dj' } })).status,
    ).toBe(201);
    const login = await t.request('POST', '/v1/auth/login', { body: { email, password: STRONG_PASSWORD } });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const me = (await (await t.request('GET', '/v1/me', { token })).json()) as { id: string };
    return { token, userId: me.id };
  };
  const upload = (token: string, file: Buffer, type = 'image/png') =>
    t.app.request('/v1/artworks', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: Buffer.concat([multipartHead('art.png', 'file', type), file, multipartTail()]),
    });
  const stored = async (token: string, file: Buffer): Promise<Artwork> => {
    const res = await upload(token, file);
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as Artwork;
  };

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, {}, { relayLauncher: new RecordingLauncher() });
    dj = await account();
    other = await account();
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  it('refuses an image that breaks a rule with a 422 naming it, and stores nothing', async () => {
    const refused = async (file: Buffer) => {
      const res = await upload(dj.token, file);
      expect(res.status, await res.clone().text()).toBe(422);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { rule: string; detail: string; errors: { path: string; code: string }[] };
      expect(problem.errors[0]).toMatchObject({ path: 'file', code: problem.rule });
      return problem;
    };
    const square = await refused(png(600, 400));
    expect(square.rule).toBe('square');
    expect(square.detail).toContain('square');
    expect((await refused(png(200, 200))).rule).toBe('min_size');
    expect((await refused(png(3200, 3200))).rule).toBe('max_size');
    expect((await refused(jpegHead(600, 600, 4))).rule).toBe('rgb');
    expect((await refused(Buffer.from('GIF89a not really'))).rule).toBe('format');
    const rows = await t.container.db.kysely.selectFrom('artworks').select('id').where('owner_id', '=', dj.userId).execute();
    expect(rows).toHaveLength(0);
  });

  it('stores a square JPEG or PNG and serves it from storage, immutable', async () => {
    const bytes = png(600, 600);
    const art = await stored(dj.token, bytes);
    expect(art).toMatchObject({ width: 600, height: 600, content_type: 'image/png' });
    expect(art.url).toBe(`${t.container.config.publicUrl}/artworks/${art.id}`);
    const served = await t.request('GET', new URL(art.url).pathname);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toContain('immutable');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await t.request('GET', '/artworks/art_01jd0v9m3x7k2p8q4r5s6t7u8v')).status).toBe(404);
    const jpeg = await stored(dj.token, jpegHead(300, 300, 3));
    expect(jpeg.content_type).toBe('image/jpeg');
  });

  it('a stream shows its artwork on its page, in og:image/twitter:image, in the embed and as the oEmbed thumbnail', async () => {
    const art = await stored(dj.token, png(800, 800));
    const created = await t.api(dj.token).POST('/v1/streams', {
      body: { name: 'Friday set', source_url: `${source.url}/live`, artwork_id: art.id },
    });
    expect(created.response.status, JSON.stringify(created.error)).toBe(201);
    const stream = created.data!;
    expect(stream.artwork_id).toBe(art.id);
    expect(stream.artwork_url).toBe(art.url);
    expect((await t.api(dj.token).GET('/v1/streams/{id}', { params: { path: { id: stream.id } } })).data!.artwork_url).toBe(
      art.url,
    );

    const page = await (await t.request('GET', `/s/${stream.id}`)).text();
    expect(page).toContain(`<img src="${art.url}" alt=""`);
    expect(page).toContain(`<meta property="og:image" content="${art.url}">`);
    expect(page).toContain(`<meta name="twitter:image" content="${art.url}">`);
    const embed = await (await t.request('GET', `/embed/s/${stream.id}`)).text();
    expect(embed).toContain(`<img src="${art.url}" alt=""`);
    const oembed = (await (await t.request('GET', `/oembed?url=${encodeURIComponent(stream.page_url)}`)).json()) as Record<
      string,
      unknown
    >;
    expect(oembed).toMatchObject({ thumbnail_url: art.url, thumbnail_width: 800, thumbnail_height: 800 });

    // Replaced, then removed.
    const next = await stored(dj.token, png(400, 400));
    const updated = await t.api(dj.token).PATCH('/v1/streams/{id}', {
      params: { path: { id: stream.id } },
      body: { artwork_id: next.id },
    });
    expect(updated.data!.artwork_url).toBe(next.url);
    expect(await (await t.request('GET', `/s/${stream.id}`)).text()).toContain(
      `<meta property="og:image" content="${next.url}">`,
    );
    const removed = await t
      .api(dj.token)
      .PATCH('/v1/streams/{id}', { params: { path: { id: stream.id } }, body: { artwork_id: null } });
    expect(removed.data!.artwork_url).toBeNull();
    const bare = await (await t.request('GET', `/s/${stream.id}`)).text();
    expect(bare).not.toContain('og:image');
    const bareOembed = (await (await t.request('GET', `/oembed?url=${encodeURIComponent(stream.page_url)}`)).json()) as Record<
      string,
      unknown
    >;
    expect(bareOembed.thumbnail_url).toBeUndefined();
  });

  it('a playlist shows its artwork; set on create and update', async () => {
    const art = await stored(dj.token, png(500, 500));
    const track = await insertReadyUpload(t, dj.userId, { seconds: 60 });
    const created = await t.api(dj.token).POST('/v1/playlists', {
      body: { title: 'Sunday sets', items: [{ upload_id: track }], artwork_id: art.id },
    });
    expect(created.response.status, JSON.stringify(created.error)).toBe(201);
    const playlist = created.data!;
    expect(playlist.artwork_url).toBe(art.url);
    const page = await (await t.request('GET', `/p/${playlist.id}`)).text();
    expect(page).toContain(`<img src="${art.url}" alt=""`);
    expect(page).toContain(`<meta property="og:image" content="${art.url}">`);
    expect(page).toContain(`<meta name="twitter:image" content="${art.url}">`);
    expect(await (await t.request('GET', `/embed/p/${playlist.id}`)).text()).toContain(`<img src="${art.url}" alt=""`);

    const plain = await t.api(dj.token).POST('/v1/playlists', { body: { title: 'No art', items: [{ upload_id: track }] } });
    expect(plain.data!.artwork_url).toBeNull();
    const set = await t
      .api(dj.token)
      .PATCH('/v1/playlists/{id}', { params: { path: { id: plain.data!.id } }, body: { artwork_id: art.id } });
    expect(set.data!.artwork_url).toBe(art.url);
    const oembed = (await (await t.request('GET', `/oembed?url=${encodeURIComponent(plain.data!.page_url)}`)).json()) as Record<
      string,
      unknown
    >;
    expect(oembed).toMatchObject({ thumbnail_url: art.url, thumbnail_width: 500, thumbnail_height: 500 });
  });

  it('refuses another DJ’s artwork (422 naming artwork_id) and an id that does not exist', async () => {
    const theirs = await stored(other.token, png(300, 300));
    const track = await insertReadyUpload(t, dj.userId, { seconds: 30 });
    for (const artwork_id of [theirs.id, 'art_01jd0v9m3x7k2p8q4r5s6t7u8v']) {
      const p = await t.request('POST', '/v1/playlists', {
        token: dj.token,
        body: { title: 'x', items: [{ upload_id: track }], artwork_id },
      });
      expect(p.status).toBe(422);
      expect(((await p.json()) as { errors: { path: string }[] }).errors[0]!.path).toBe('artwork_id');
      const s = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'x', source_url: `${source.url}/live`, artwork_id },
      });
      expect(s.status).toBe(422);
    }
  });
});
