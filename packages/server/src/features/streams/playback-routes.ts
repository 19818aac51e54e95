import { Readable } from 'node:stream';
import { z } from '@hono/zod-openapi';
import type { App } from '../../http/env.js';
import { answerPlaybackPreflight, playbackRoute } from '../../http/playback-policy.js';
import type { PlaybackAuthorizer, PlayableResource } from '../../http/playback.js';
import type { LivePlayback } from './live-playback.js';
import { StreamIdParam } from './schemas.js';
import type { StreamsService } from './service.js';

const TokenQuery = z.object({
  token: z
    .string()
    .max(2000)
    .optional()
    .openapi({
      param: { name: 'token', in: 'query' },
      description: 'A playback token from POST /v1/streams/{id}/playback-token (private or monetized streams).',
    }),
});

const SegmentParams = StreamIdParam.extend({
  segment: z
    .string()
    .max(120)
    .openapi({ param: { name: 'segment', in: 'path' }, example: 'seg-42.ts' }),
});

const getLivePlaylist = playbackRoute({
  method: 'get',
  path: '/streams/{id}/live.m3u8',
  operationId: 'getLivePlaylist',
  summary: 'The live HLS playlist of a stream (public streams need no auth; private: bearer or ?token=)',
  request: { params: StreamIdParam, query: TokenQuery },
  responses: {
    200: {
      description: 'HLS media playlist',
      content: { 'application/vnd.apple.mpegurl': { schema: z.string() } },
      headers: z.object({ ETag: z.string(), 'Cache-Control': z.string() }),
    },
    304: { description: 'Not modified (If-None-Match)' },
  },
});

const getLiveSegment = playbackRoute({
  method: 'get',
  path: '/streams/{id}/live/{segment}',
  operationId: 'getLiveSegment',
  summary: 'One live HLS segment (immutable)',
  request: { params: SegmentParams, query: TokenQuery },
  responses: {
    200: { description: 'MPEG-TS segment', content: { 'video/mp2t': { schema: z.string().openapi({ format: 'binary' }) } } },
    302: { description: 'Object storage: a presigned URL for the segment' },
  },
});

function resourceOf(stream: {
  id: string;
  owner_id: string;
  visibility: 'public' | 'private';
  monetization_enabled: number;
}): PlayableResource {
  return { id: stream.id, ownerId: stream.owner_id, visibility: stream.visibility, monetized: stream.monetization_enabled === 1 };
}

export function registerLivePlaybackRoutes(
  app: App,
  deps: { streams: StreamsService; playback: PlaybackAuthorizer; live: LivePlayback },
): void {
  const { streams, playback, live } = deps;

  app.openapi(getLivePlaylist, async (c) => {
    const stream = await streams.findPlayable(c.req.valid('param').id);
    const grant = await playback.authorize(c, resourceOf(stream), 'stream');
    const served = await live.playlist(stream, {
      token: grant.token,
      userId: grant.userId,
      address: c.get('clientAddress'),
      userAgent: c.req.header('user-agent') ?? '',
      tokenPresented: Boolean(c.req.valid('query').token),
    });
    const headers = { ETag: served.etag, 'Cache-Control': served.cacheControl };
    if (served.varyOnAuthorization) c.header('Vary', 'Authorization', { append: true });
    const match = c.req.header('if-none-match');
    if (match && match.split(',').some((t) => t.trim() === served.etag)) return c.body(null, 304, headers);
    return c.body(served.body, 200, { ...headers, 'Content-Type': 'application/vnd.apple.mpegurl' });
  });

  app.openapi(getLiveSegment, async (c) => {
    const { id, segment } = c.req.valid('param');
    const stream = await streams.findPlayable(id);
    await playback.authorize(c, resourceOf(stream), 'stream');
    const served = await live.segment(stream, segment);
    if (served.kind === 'redirect') {
      return c.body(null, 302, { Location: served.url, 'Cache-Control': served.cacheControl });
    }
    return c.body(Readable.toWeb(served.body) as ReadableStream, 200, {
      'Content-Type': served.contentType,
      'Content-Length': String(served.size),
      'Cache-Control': served.cacheControl,
    });
  });

  for (const route of [getLivePlaylist, getLiveSegment]) answerPlaybackPreflight(app, route);
}
