// Playlists through the API on SQLite and Postgres: items from uploads and
// external URLs (checked over loopback HTTP), the pre-built HLS manifest,
// updates, deletion, and who may play what.

import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, signUp, signUpAdmin, type TestApp } from './harness.js';
import { externalHost, insertReadyUpload, serveBytes } from './uploads-support.js';

interface PlaylistJson {
  id: string;
  status: string;
  content_version: number;
  visibility: string;
  monetization_enabled: boolean;
  duration_seconds: number;
  items: { id: string; kind: string; upload_id: string | null; url: string | null; status: string; position: number }[];
  stream_m3u8_url: string;
  stream_mp3_url: string;
}
interface ProblemJson {
  code: string;
  detail: string;
  errors?: { path: string; message: string; code?: string }[];
  [k: string]: unknown;
}

const MP3ISH = Buffer.alloc(50_000, 0xaa);

describe.each(DIALECTS)('playlists on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let host: Awaited<ReturnType<typeof externalHost>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    dj = await signUp(t);
    host = await externalHost((req, res) => {
      const path = req.url ?? '';
      if (path.startsWith('/set.mp3')) return serveBytes(res, req, MP3ISH);
      if (path === '/no-head.mp3') {
        if (req.method === 'HEAD') {
          res.writeHead(405).end();
          return;
        }
        return serveBytes(res, req, MP3ISH);
      }
      if (path === '/page.html') return serveBytes(res, req, Buffer.from('<html></html>'), 'text/html; charset=utf-8');
      if (path === '/tune.ogg') return serveBytes(res, req, MP3ISH, 'audio/ogg');
      if (path === '/live') {
        res.writeHead(200, { 'content-type': 'audio/mpeg' }); // no length: a live stream
        res.end();
        return;
      }
      res.writeHead(404).end();
    });
  });
  afterAll(async () => {
    await host.close();
    await t.close();
  });

  const create = (body: unknown, token = dj.token) => t.request('POST', '/v1/playlists', { token, body });

  it('creates a playlist of ready uploads with the HLS manifest already built: one VOD playlist, a discontinuity between tracks', async () => {
    const a = await insertReadyUpload(t, dj.userId, {
      segments: [
        { uri: 'segment_00000.ts', duration: 6 },
        { uri: 'segment_00001.ts', duration: 4.5 },
      ],
    });
    const b = await insertReadyUpload(t, dj.userId, { segments: [{ uri: 'segment_00000.ts', duration: 6 }] });
    const res = await create({ title: 'Sunday', items: [{ upload_id: a }, { upload_id: b }] });
    expect(res.status, await res.clone().text()).toBe(201);
    const playlist = (await res.json()) as PlaylistJson;
    expect(playlist).toMatchObject({
      status: 'ready',
      visibility: 'public',
      monetization_enabled: false,
      content_version: 1,
      duration_seconds: 24,
    });
    expect(playlist.items.map((i) => [i.kind, i.upload_id, i.status])).toEqual([
      ['upload', a, 'ready'],
      ['upload', b, 'ready'],
    ]);
    expect(playlist.stream_m3u8_url).toBe(`http://djcast.test/playlists/${playlist.id}/stream.m3u8`);
    expect(playlist.stream_mp3_url).toBe(`http://djcast.test/playlists/${playlist.id}/stream.mp3`);

    const row = await t.container.db.kysely
      .selectFrom('playlists')
      .select('manifest')
      .where('id', '=', playlist.id)
      .executeTakeFirstOrThrow();
    expect(row.manifest).toContain('#EXT-X-DISCONTINUITY');

    const m3u8 = await t.app.request(`/playlists/${playlist.id}/stream.m3u8`);
    expect(m3u8.status).toBe(200);
    expect(m3u8.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    HLS.setOptions({ strictMode: true });
    try {
      const parsed = HLS.parse(await m3u8.text());
      if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
      expect(parsed.playlistType).toBe('VOD');
      expect(parsed.segments.map((s) => [s.uri, Boolean(s.discontinuity)])).toEqual([
        [`hls/${a}/segment_00000.ts`, false],
        [`hls/${a}/segment_00001.ts`, false],
        [`hls/${b}/segment_00000.ts`, true],
      ]);
    } finally {
      HLS.setOptions({ strictMode: false });
    }
  });

  it('refuses uploads that do not exist, are not ready or are someone else’s, naming each item', async () => {
    const other = await signUp(t);
    const theirs = await insertReadyUpload(t, other.userId);
    const mine = await insertReadyUpload(t, dj.userId);
    await t.container.db.kysely.updateTable('uploads').set({ status: 'processing' }).where('id', '=', mine).execute();
    const res = await create({
      title: 'Bad',
      items: [{ upload_id: theirs }, { upload_id: mine }, { upload_id: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v' }],
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as ProblemJson;
    expect(problem.errors!.map((e) => e.path)).toEqual(['items.0.upload_id', 'items.1.upload_id', 'items.2.upload_id']);
    expect(problem.errors!.map((e) => e.message)).toEqual([
      expect.stringMatching(/not yours/),
      expect.stringMatching(/processing, not ready/),
      expect.stringMatching(/does not exist/),
    ]);
  });

  it('checks external URLs with HEAD and queues the fetch; until it is done playback says so with 503 and Retry-After', async () => {
    const upload = await insertReadyUpload(t, dj.userId);
    const before = host.requests.length;
    const res = await create({ title: 'Mixed', items: [{ upload_id: upload }, { url: `${host.url}/set.mp3` }] });
    expect(res.status, await res.clone().text()).toBe(201);
    const playlist = (await res.json()) as PlaylistJson;
    expect(playlist.status).toBe('processing');
    expect(playlist.items[1]).toMatchObject({ kind: 'external', url: `${host.url}/set.mp3`, status: 'pending' });
    expect(host.requests.slice(before)).toEqual([{ method: 'HEAD', url: '/set.mp3', range: undefined }]);

    const jobs = await t.container.db.kysely
      .selectFrom('jobs')
      .select('payload')
      .where('kind', '=', 'playlist.external_track')
      .execute();
    expect(jobs.map((j) => JSON.parse(j.payload))).toContainEqual({ track_id: playlist.items[1]!.id });

    for (const path of ['stream.m3u8', 'stream.mp3']) {
      const play = await t.app.request(`/playlists/${playlist.id}/${path}`);
      expect(play.status).toBe(503);
      expect(play.headers.get('retry-after')).toBe('5');
      const problem = (await play.json()) as ProblemJson;
      expect(problem.code).toBe('unavailable');
      expect(problem.pending_tracks).toEqual([playlist.items[1]!.id]);
    }
  });

  it('falls back to a one-byte ranged GET when the host refuses HEAD', async () => {
    const before = host.requests.length;
    const res = await create({ title: 'No HEAD', items: [{ url: `${host.url}/no-head.mp3` }] });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(host.requests.slice(before)).toEqual([
      { method: 'HEAD', url: '/no-head.mp3', range: undefined },
      { method: 'GET', url: '/no-head.mp3', range: 'bytes=0-0' },
    ]);
  });

  it('refuses bad external URLs with 422, each error under items.<i>.url with the reason', async () => {
    const upload = await insertReadyUpload(t, dj.userId);
    const res = await create({
      title: 'Bad URLs',
      items: [
        { upload_id: upload },
        { url: `${host.url}/missing.mp3` },
        { url: `${host.url}/page.html` },
        { url: `${host.url}/tune.ogg` },
        { url: `${host.url}/live` },
        { url: 'http://unresolvable.invalid/x.mp3' },
      ],
    });
    expect(res.status).toBe(422);
    const problem = (await res.json()) as ProblemJson;
    expect(problem.code).toBe('source_unreachable');
    const byPath = Object.fromEntries(problem.errors!.map((e) => [e.path, e]));
    expect(Object.keys(byPath)).toEqual(['items.1.url', 'items.2.url', 'items.3.url', 'items.4.url', 'items.5.url']);
    expect(byPath['items.1.url']).toMatchObject({
      code: 'source_unreachable',
      message: 'The source could not be reached, or did not answer as expected.',
    });
    expect(byPath['items.2.url']).toMatchObject({
      code: 'source_not_audio',
      message: expect.stringMatching(/text\/html, not audio/),
    });
    expect(byPath['items.3.url']).toMatchObject({ code: 'source_not_audio', message: expect.stringMatching(/audio\/ogg.*MP3/) });
    expect(byPath['items.4.url']).toMatchObject({ code: 'source_not_audio', message: expect.stringMatching(/how big/) });
    expect(byPath['items.5.url']).toMatchObject({ code: 'source_unreachable', message: byPath['items.1.url']!.message }); // DNS failure and a 404 look alike
    const logged = t.rawLogs.filter((l) => l.includes('"event":"outbound.failed"')).join('\n');
    expect(logged).toMatch(/items\.1\.url: [^;]*answered HTTP 404/);
    expect(logged).toMatch(/items\.5\.url: [^;]*unresolvable\.invalid/);
    const count = await t.container.db.kysely.selectFrom('playlists').select('id').where('title', '=', 'Bad URLs').execute();
    expect(count).toEqual([]);
  });

  it('replaces items with PATCH: order kept, known URLs not fetched again, content version and ETag move on', async () => {
    const a = await insertReadyUpload(t, dj.userId);
    const b = await insertReadyUpload(t, dj.userId);
    const created = (await (
      await create({ title: 'Edit me', items: [{ upload_id: a }, { url: `${host.url}/set.mp3?v=edit` }] })
    ).json()) as PlaylistJson;
    const external = created.items[1]!;
    const etagBefore = await t.container.playlists.playback(created.id).then((p) => p!.contentVersion);
    const before = host.requests.length;
    const res = await t.request('PATCH', `/v1/playlists/${created.id}`, {
      token: dj.token,
      body: { title: 'Edited', items: [{ url: `${host.url}/set.mp3?v=edit` }, { upload_id: b }, { upload_id: a }] },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const updated = (await res.json()) as PlaylistJson & { title: string };
    expect(updated.title).toBe('Edited');
    expect(updated.items.map((i) => i.upload_id ?? i.url)).toEqual([`${host.url}/set.mp3?v=edit`, b, a]);
    expect(updated.items[0]!.id).toBe(external.id); // the same track, its fetch job still valid
    expect(host.requests.length).toBe(before);
    expect(updated.content_version).toBe(etagBefore + 1);

    const renamed = (await (
      await t.request('PATCH', `/v1/playlists/${created.id}`, { token: dj.token, body: { title: 'Just a title' } })
    ).json()) as PlaylistJson;
    expect(renamed.content_version).toBe(updated.content_version); // what listeners hear did not change
  });

  it('lists playlists with cursor pagination and deletes one, leaving its uploads', async () => {
    const owner = await signUp(t);
    const upload = await insertReadyUpload(t, owner.userId);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        ((await (await create({ title: `p${i}`, items: [{ upload_id: upload }] }, owner.token)).json()) as PlaylistJson).id,
      );
    const page1 = (await (await t.request('GET', '/v1/playlists?limit=2', { token: owner.token })).json()) as {
      data: PlaylistJson[];
      next_cursor: string;
      has_more: boolean;
    };
    expect(page1.data.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    expect(page1.has_more).toBe(true);
    const page2 = (await (
      await t.request('GET', `/v1/playlists?limit=2&starting_after=${page1.next_cursor}`, { token: owner.token })
    ).json()) as { data: PlaylistJson[]; has_more: boolean };
    expect(page2.data.map((p) => p.id)).toEqual([ids[0]]);

    // An upload in a playlist cannot be deleted out from under it.
    const blocked = await t.request('DELETE', `/v1/uploads/audio/${upload}`, { token: owner.token });
    expect(blocked.status).toBe(409);
    expect(((await blocked.json()) as ProblemJson).playlist_ids).toEqual(expect.arrayContaining(ids));

    for (const id of ids) expect((await t.request('DELETE', `/v1/playlists/${id}`, { token: owner.token })).status).toBe(204);
    expect((await t.request('GET', `/v1/playlists/${ids[0]}`, { token: owner.token })).status).toBe(404);
    expect((await t.app.request(`/playlists/${ids[0]}/stream.m3u8`)).status).toBe(404);
    expect((await t.request('GET', `/v1/uploads/audio/${upload}`, { token: owner.token })).status).toBe(200);
    expect((await t.request('DELETE', `/v1/uploads/audio/${upload}`, { token: owner.token })).status).toBe(204);
  });
});

describe.each(DIALECTS)('who may play a playlist on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let listener: Awaited<ReturnType<typeof signUp>>;
  let admin: Awaited<ReturnType<typeof signUpAdmin>>;
  const ids: Record<'open' | 'private' | 'monetized', string> = { open: '', private: '', monetized: '' };
  beforeAll(async () => {
    t = await createTestApp(dialect);
    dj = await signUp(t);
    listener = await signUp(t, { role: 'listener' });
    admin = await signUpAdmin(t);
    const upload = await insertReadyUpload(t, dj.userId);
    for (const [name, extra] of [
      ['open', {}],
      ['private', { visibility: 'private' }],
      ['monetized', { visibility: 'public', monetization_enabled: true }],
    ] as const) {
      const res = await t.request('POST', '/v1/playlists', {
        token: dj.token,
        body: { title: name, items: [{ upload_id: upload }], ...extra },
      });
      ids[name] = ((await res.json()) as PlaylistJson).id;
    }
  });
  afterAll(() => t.close());

  const play = (id: string, path: string, token?: string, query = '') =>
    t.app.request(`/playlists/${id}/${path}${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('lets anyone play a public playlist, cacheable by a CDN', async () => {
    for (const path of ['stream.m3u8', 'stream.mp3']) {
      const res = await play(ids.open, path);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      await res.arrayBuffer();
    }
  });

  it('answers 403 subscription_required for a monetized playlist, to anonymous listeners and non-subscribers alike', async () => {
    for (const token of [undefined, listener.token]) {
      for (const path of ['stream.m3u8', 'stream.mp3']) {
        const res = await play(ids.monetized, path, token);
        expect(res.status).toBe(403);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = (await res.json()) as ProblemJson;
        expect(problem.code).toBe('subscription_required');
        expect(problem.detail).toMatch(/subscri/i);
      }
    }
  });

  it('answers 403 for a private playlist to anyone but its owner and admins', async () => {
    for (const token of [undefined, listener.token]) {
      const res = await play(ids.private, 'stream.mp3', token);
      expect(res.status).toBe(403);
      expect(((await res.json()) as ProblemJson).code).toBe('forbidden');
    }
  });

  it('lets the owner and admins play private and monetized playlists, never cached by shared caches, segments carrying a token', async () => {
    for (const token of [dj.token, admin.token]) {
      for (const id of [ids.private, ids.monetized]) {
        const mp3 = await play(id, 'stream.mp3', token);
        expect(mp3.status).toBe(200);
        expect(mp3.headers.get('cache-control')).toBe('private, no-store');
        await mp3.arrayBuffer();
        const m3u8 = await play(id, 'stream.m3u8', token);
        expect(m3u8.status).toBe(200);
        const uris = (await m3u8.text()).split('\n').filter((l) => l && !l.startsWith('#'));
        expect(uris.length).toBeGreaterThan(0);
        // A player fetches segments without the bearer token: the signed token in each URI lets it.
        const segment = uris[0]!;
        const tokenParam = new URL(segment, 'http://x/').searchParams.get('token');
        expect(tokenParam).toBeTruthy();
        const anonymous = await t.app.request(`/playlists/${id}/stream.mp3?token=${encodeURIComponent(tokenParam!)}`);
        expect(anonymous.status).toBe(200);
        await anonymous.arrayBuffer();
      }
    }
  });

  it('answers 304 to a conditional request for an unchanged playlist', async () => {
    const first = await play(ids.open, 'stream.m3u8');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"pls_[0-9a-z]+\.v\d+\.m3u8"$/);
    await first.text();
    const again = await t.app.request(`/playlists/${ids.open}/stream.m3u8`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const since = await t.app.request(`/playlists/${ids.open}/stream.m3u8`, {
      headers: { 'if-modified-since': first.headers.get('last-modified')! },
    });
    expect(since.status).toBe(304);
  });
});

describe('external URLs when private addresses are not allowed', () => {
  it('refuses a loopback URL with 422 url_not_allowed under items.0.url', async () => {
    const t = await createTestApp('sqlite', { DJCAST_ALLOW_PRIVATE_URLS: 'false' });
    const host = await externalHost((req, res) => serveBytes(res, req, MP3ISH));
    try {
      const dj = await signUp(t);
      const res = await t.request('POST', '/v1/playlists', {
        token: dj.token,
        body: { title: 'x', items: [{ url: `${host.url}/set.mp3` }] },
      });
      expect(res.status).toBe(422);
      const problem = (await res.json()) as ProblemJson;
      expect(problem.code).toBe('url_not_allowed');
      expect(problem.errors).toEqual([
        expect.objectContaining({
          path: 'items.0.url',
          code: 'url_not_allowed',
          message: expect.not.stringMatching(/127\.0\.0\.1/),
        }),
      ]);
      expect(host.requests).toEqual([]); // refused before any request left the server
    } finally {
      await host.close();
      await t.close();
    }
  });
});
