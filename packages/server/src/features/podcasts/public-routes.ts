import type { Context } from 'hono';
import { NotFound } from '../../core/errors.js';
import type { App, AppEnv } from '../../http/env.js';
import { answerPlaybackPreflight, playbackRoute } from '../../http/playback-policy.js';
import { isNotModified } from '../playlists/http-cache.js';
import { sendMedia, serveBlob } from '../uploads/blob-response.js';
import type { EpisodeMediaService } from './media-service.js';
import { ArtworkParams, MediaParams, PersonalFeedParams, PublicPodcastParam, SignedMediaQuery } from './schemas.js';
import type { PodcastsService, RenderedFeed } from './service.js';

const RSS = 'application/rss+xml; charset=utf-8';
/** How long a shared cache may keep the public feed of a free podcast (the CDN is purged on change anyway). */
const FEED_MAX_AGE_SECONDS = 300;

const feed = playbackRoute({
  method: 'get',
  path: '/podcasts/{id}/rss.xml',
  operationId: 'getPodcastFeed',
  summary: 'The podcast’s RSS feed (RSS 2.0, iTunes and Podcasting 2.0 tags); ETag and Last-Modified, 304 when unchanged',
  request: { params: PublicPodcastParam },
  responses: {
    200: { description: 'The feed', content: { 'application/rss+xml': { schema: { type: 'string' } } } },
    304: { description: 'Not modified' },
  },
});

const personalFeed = playbackRoute({
  method: 'get',
  path: '/podcasts/{id}/feeds/{token}/rss.xml',
  operationId: 'getPersonalPodcastFeed',
  summary: 'A subscriber’s personal feed: every enclosure signed afresh on each fetch; 404 once revoked',
  request: {
    params: PersonalFeedParams.extend({
      token: PersonalFeedParams.shape.token.openapi({
        param: { name: 'token', in: 'path' },
        example: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      }),
    }),
  },
  responses: {
    200: { description: 'The feed', content: { 'application/rss+xml': { schema: { type: 'string' } } } },
    304: { description: 'Not modified' },
  },
});

const media = playbackRoute({
  method: 'get',
  path: '/podcasts/{id}/episodes/{episode_id}/media.mp3',
  operationId: 'getEpisodeMedia',
  summary: 'An episode’s enclosure: counted, then served (Range supported) or redirected to storage or the external host',
  description: 'Monetized and private podcasts: the URL must carry a valid signature (`exp`, `sig`); expired or tampered is 403.',
  request: {
    params: MediaParams.extend({
      episode_id: MediaParams.shape.episode_id.openapi({
        param: { name: 'episode_id', in: 'path' },
        example: 'epi_01jd0v9m3x7k2p8q4r5s6t7u8v',
      }),
    }),
    query: SignedMediaQuery,
  },
  responses: {
    200: { description: 'The audio', content: { 'audio/mpeg': { schema: { type: 'string', format: 'binary' } } } },
    206: { description: 'Part of the audio' },
    302: { description: 'Redirect to the object store or the external host' },
  },
});

const chapters = playbackRoute({
  method: 'get',
  path: '/podcasts/{id}/episodes/{episode_id}/chapters.json',
  operationId: 'getEpisodeChapters',
  summary: 'An episode’s chapters (podcast:chapters JSON)',
  request: {
    params: MediaParams.extend({
      episode_id: MediaParams.shape.episode_id.openapi({
        param: { name: 'episode_id', in: 'path' },
        example: 'epi_01jd0v9m3x7k2p8q4r5s6t7u8v',
      }),
    }),
  },
  responses: { 200: { description: 'Chapters (application/json+chapters)' } },
});

const artwork = playbackRoute({
  method: 'get',
  path: '/podcasts/artwork/{file}',
  operationId: 'getPodcastArtwork',
  summary: 'Podcast artwork, served from storage',
  request: {
    params: ArtworkParams.extend({
      file: ArtworkParams.shape.file.openapi({
        param: { name: 'file', in: 'path' },
        example: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v.jpg',
      }),
    }),
  },
  responses: { 200: { description: 'The image' }, 302: { description: 'Redirect to the object store (S3)' } },
});

export interface PodcastPublicDeps {
  podcasts: PodcastsService;
  media: EpisodeMediaService;
}

export function registerPodcastPublicRoutes(app: App, deps: PodcastPublicDeps): void {
  const { podcasts } = deps;
  app.openapi(feed, async (c) => sendFeed(c, await podcasts.publicFeed(c.req.valid('param').id)));
  app.openapi(personalFeed, async (c) => {
    const { id, token } = c.req.valid('param');
    return sendFeed(c, await podcasts.personalFeed(id, token));
  });
  app.openapi(media, async (c) => {
    const { id, episode_id } = c.req.valid('param');
    const answer = await deps.media.serve({
      podcastId: id,
      episodeId: episode_id,
      signature: c.req.valid('query'),
      address: c.get('clientAddress'),
      userAgent: c.req.header('user-agent'),
      range: c.req.header('range'),
      head: c.req.method === 'HEAD',
    });
    return sendMedia(answer);
  });
  app.openapi(chapters, async (c) => {
    const { id, episode_id } = c.req.valid('param');
    const list = await podcasts.publicChapters(id, episode_id);
    const body = { version: '1.2.0', chapters: list.map((ch) => ({ startTime: ch.start_time, title: ch.title })) };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'Content-Type': 'application/json+chapters', 'Cache-Control': 'public, max-age=300' },
    });
  });
  app.openapi(artwork, async (c) => {
    const file = c.req.valid('param').file;
    const row = await podcasts.artworkObject(file.replace(/\.(jpg|png)$/, ''));
    if (!row || row.storage_key !== `podcasts/artwork/${file}`) throw new NotFound('Artwork', file);
    const answer = await serveBlob(
      podcasts.store,
      row.storage_key,
      'public, max-age=31536000, immutable',
      c.req.method === 'HEAD',
    );
    if (!answer) throw new NotFound('Artwork', file);
    return sendMedia(answer);
  });
  for (const route of [feed, personalFeed, media, chapters, artwork]) answerPlaybackPreflight(app, route);
}

async function sendFeed(c: Context<AppEnv>, rendered: RenderedFeed): Promise<Response> {
  const headers: Record<string, string> = {
    'Content-Type': RSS,
    ETag: rendered.etag,
    'Last-Modified': rendered.lastModified.toUTCString(),
    'Cache-Control': rendered.shared ? `public, max-age=${FEED_MAX_AGE_SECONDS}` : 'private, no-store',
  };
  const conditional = { ifNoneMatch: c.req.header('if-none-match'), ifModifiedSince: c.req.header('if-modified-since') };
  if (isNotModified(conditional, { etag: rendered.etag, lastModified: rendered.lastModified })) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(c.req.method === 'HEAD' ? null : await rendered.xml(), { status: 200, headers });
}
