/**
 * Generated from openapi.yaml: every public media operation (tagged
 * `playback`, or answering audio, video or an HLS playlist) must be
 * declared with playbackRoute(), answer a CORS preflight with 204 and carry
 * the playback CORS headers on what it serves and on its errors, so hls.js
 * on another site plays every kind of media djcast serves. A new media
 * route fails here until it does, and until `playableUrl` below is taught
 * how to make something it can serve.
 */
import { insertReadyPreroll } from './ads-support.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { Readable } from 'node:stream';
import { png } from './podcasts-support.js';
import { insertReadyUpload } from './uploads-support.js';

interface Operation {
  operationId: string;
  tags?: string[];
  security?: unknown[];
  'x-cors'?: string;
  parameters?: { name: string; in: string; schema?: { example?: string } }[];
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const document = parse(readFileSync(path.join(root, 'openapi.yaml'), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};
const operations = Object.entries(document.paths).flatMap(([route, methods]) =>
  Object.entries(methods).map(([method, op]) => ({ route, method: method.toUpperCase(), op })),
);

const MEDIA_TYPE = /^(audio|video)\/|mpegurl/i;
const servesMedia = (op: Operation) =>
  (op.tags ?? []).includes('playback') ||
  Object.values(op.responses ?? {}).some((r) => Object.keys(r.content ?? {}).some((type) => MEDIA_TYPE.test(type)));
const media = operations.filter(({ op }) => servesMedia(op));

const ORIGIN = 'https://player.example.org';
const EXPOSED = ['ETag', 'Last-Modified', 'Content-Range', 'Content-Length', 'Accept-Ranges'];

function expectCors(res: Response, what: string): void {
  expect(res.headers.get('access-control-allow-origin'), `${what}: Access-Control-Allow-Origin`).toBe('*');
  const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
  for (const header of EXPOSED) expect(exposed, `${what}: exposes ${header}`).toContain(header.toLowerCase());
}

/** A value for each path parameter that passes validation (the document's examples), so the handler answers. */
function exampleUrl(route: string, op: Operation): string {
  return route.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const example = op.parameters?.find((p) => p.in === 'path' && p.name === name)?.schema?.example;
    if (!example)
      throw new Error(`playback CORS test: ${op.operationId} has no example for path parameter "${name}"; add one to its schema`);
    return example;
  });
}

describe('the document lists the public media operations', () => {
  it('has the live, playlist and upload playback operations', () => {
    const ids = media.map(({ op }) => op.operationId);
    for (const id of [
      'getLivePlaylist',
      'getLiveSegment',
      'getPlaylistHls',
      'getPlaylistSegment',
      'streamPlaylistMp3',
      'getUploadHls',
    ]) {
      expect(ids).toContain(id);
    }
  });

  it.each(media.map((m) => [m.op.operationId, m] as const))('%s is public and declared with playbackRoute()', (_id, { op }) => {
    expect(op.security, 'playback URLs are opened by players: public, the handler decides who may play').toEqual([]);
    expect(op['x-cors'], 'declare public media routes with playbackRoute() from http/playback-policy.ts').toBe('playback');
    expect(op.tags).toEqual(['playback']);
  });
});

describe('every public media operation, from another origin', () => {
  let t: TestApp;
  let source: FakeSource;
  let dj: Awaited<ReturnType<typeof signUp>>;
  const real = new Map<string, string>();

  /** A URL under the operation's route that serves real media (200), made through the API where it can be. */
  async function playableUrl(route: string): Promise<string> {
    const cached = real.get(route);
    if (cached) return cached;
    const upload = await insertReadyUpload(t, dj.userId);
    const hls = `uploads/audio/${upload}/hls/`;
    await t.container.blobs.put(`${hls}index.m3u8`, '#EXTM3U\n#EXTINF:6,\nsegment_00000.ts\n#EXT-X-ENDLIST\n', {
      contentType: 'application/vnd.apple.mpegurl',
    });
    await t.container.blobs.put(`${hls}segment_00000.ts`, Buffer.alloc(188 * 4, 7), { contentType: 'video/mp2t' });
    const playlist = async () => {
      const res = await t.request('POST', '/v1/playlists', {
        token: dj.token,
        body: { title: 'cors', visibility: 'public', items: [{ upload_id: upload }] },
      });
      if (res.status !== 201) throw new Error(`could not create a playlist: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const stream = async () => {
      const res = await t.request('POST', '/v1/streams', {
        token: dj.token,
        body: { name: 'cors', source_url: `${source.url}/live` },
      });
      if (res.status !== 201) throw new Error(`could not register a stream: ${res.status} ${await res.text()}`);
      const id = ((await res.json()) as { id: string }).id;
      await t.container.blobs.put(`streams/${id}/live/live.m3u8`, '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.0,\nseg-1.ts\n', {
        contentType: 'application/vnd.apple.mpegurl',
      });
      await t.container.blobs.put(`streams/${id}/live/seg-1.ts`, Buffer.alloc(188 * 4, 1), { contentType: 'video/mp2t' });
      return id;
    };
    const podcast = async (): Promise<{ id: string; episode: string; artwork: string; personalFeed: string }> => {
      const created = await t.api(dj.token).POST('/v1/podcasts', {
        body: { title: 'cors', description: 'cors', author: 'dj', category: 'Music' },
      });
      if (!created.data) throw new Error(`could not create a podcast: ${JSON.stringify(created.error)}`);
      const episode = await t.api(dj.token).POST('/v1/podcasts/{id}/episodes', {
        params: { path: { id: created.data.id } },
        body: { title: 'cors', upload_id: upload, chapters: [{ start_time: 0, title: 'Intro' }] },
      });
      if (!episode.data) throw new Error(`could not add an episode: ${JSON.stringify(episode.error)}`);
      const token = await t.api(dj.token).POST('/v1/podcasts/{id}/feed-tokens', {
        params: { path: { id: created.data.id } },
        body: { user_id: dj.userId },
      });
      if (!token.data) throw new Error(`could not mint a feed token: ${JSON.stringify(token.error)}`);
      const art = await t.container.podcasts.uploadArtwork(
        { userId: dj.userId, role: 'dj', scopes: new Set(), via: 'jwt' },
        Readable.from([png(1400, 1400)]),
      );
      return {
        id: created.data.id,
        episode: episode.data.id,
        artwork: new URL(art.url).pathname,
        personalFeed: new URL(token.data.feed_url).pathname,
      };
    };
    let url: string;
    switch (route) {
      case '/podcasts/{id}/rss.xml':
        url = `/podcasts/${(await podcast()).id}/rss.xml`;
        break;
      case '/podcasts/{id}/feeds/{token}/rss.xml':
        url = (await podcast()).personalFeed;
        break;
      case '/podcasts/{id}/episodes/{episode_id}/media.mp3': {
        const p = await podcast();
        url = `/podcasts/${p.id}/episodes/${p.episode}/media.mp3`;
        break;
      }
      case '/podcasts/{id}/episodes/{episode_id}/chapters.json': {
        const p = await podcast();
        url = `/podcasts/${p.id}/episodes/${p.episode}/chapters.json`;
        break;
      }
      case '/podcasts/artwork/{file}':
        url = (await podcast()).artwork;
        break;
      case '/artworks/{id}': {
        const art = await t.container.artworks.upload(
          { userId: dj.userId, role: 'dj', scopes: new Set(), via: 'jwt' },
          Readable.from([png(400, 400)]),
        );
        url = new URL(art.url).pathname;
        break;
      }
      case '/streams/{id}/live.m3u8':
        url = `/streams/${await stream()}/live.m3u8`;
        break;
      case '/streams/{id}/live/{segment}':
        url = `/streams/${await stream()}/live/seg-1.ts`;
        break;
      case '/streams/{id}/ads/{marker_id}/{segment}': {
        // A stream with a ready pre-roll (as the normalize job leaves it).
        const id = await stream();
        url = `/streams/${id}/ads/${await insertReadyPreroll(t, dj.userId, id, upload)}/segment_00000.ts`;
        break;
      }
      case '/streams/{id}/now-playing.json':
        url = `/streams/${await stream()}/now-playing.json`;
        break;
      case '/playlists/{id}/stream.m3u8':
        url = `/playlists/${await playlist()}/stream.m3u8`;
        break;
      case '/playlists/{id}/stream.mp3':
        url = `/playlists/${await playlist()}/stream.mp3`;
        break;
      case '/playlists/{id}/hls/{source}/{file}':
        url = `/playlists/${await playlist()}/hls/${upload}/segment_00000.ts`;
        break;
      case '/uploads/audio/{id}/hls/{file}':
        url = `/uploads/audio/${upload}/hls/index.m3u8?token=${encodeURIComponent(t.container.playback.sign(upload, dj.userId, 600).token)}`;
        break;
      default:
        throw new Error(`playback CORS test: teach playableUrl() to make something "${route}" serves`);
    }
    real.set(route, url);
    return url;
  }

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp('sqlite', {}, { relayLauncher: new RecordingLauncher() });
    dj = await signUp(t);
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  it.each(media.map((m) => [m.op.operationId, m] as const))(
    '%s: preflight with Range -> 204 allowing GET and Range',
    async (_id, { route, op }) => {
      const res = await t.request('OPTIONS', exampleUrl(route, op), {
        headers: { origin: ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
      });
      expect(res.status).toBe(204);
      expectCors(res, `OPTIONS ${route}`);
      expect(res.headers.get('access-control-allow-methods')).toMatch(/\bGET\b/);
      expect((res.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/,\s*/)).toContain('range');
    },
  );

  it.each(media.map((m) => [m.op.operationId, m] as const))(
    '%s: the media itself carries the CORS headers',
    async (_id, { route, method }) => {
      const res = await t.request(method, await playableUrl(route), { headers: { origin: ORIGIN } });
      expect(res.status, `${method} ${route}: ${res.status}`).toBe(200);
      expectCors(res, `${method} ${route}`);
      await res.arrayBuffer();
    },
  );

  it.each(media.map((m) => [m.op.operationId, m] as const))(
    '%s: an error is readable cross-origin too (problem+json with CORS)',
    async (_id, { route, method, op }) => {
      const res = await t.request(method, exampleUrl(route, op), { headers: { origin: ORIGIN } });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expectCors(res, `${method} ${route} (error)`);
    },
  );

  it('a ranged stream.mp3 request resumes with 206 and exposes Content-Range', async () => {
    const res = await t.request('GET', await playableUrl('/playlists/{id}/stream.mp3'), {
      headers: { origin: ORIGIN, range: 'bytes=10-99' },
    });
    expect(res.status).toBe(206);
    expectCors(res, 'ranged stream.mp3');
    expect(res.headers.get('content-range')).toMatch(/^bytes 10-99\//);
    expect((await res.arrayBuffer()).byteLength).toBe(90);
  });
});
