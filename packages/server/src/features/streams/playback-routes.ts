import { Readable } from 'node:stream';
import { z } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../http/env.js';
import { publicRoute } from '../../http/openapi.js';
import type { PlaybackAuthorizer, PlayableResource } from '../../http/playback.js';
import type { LivePlayback } from './live-playback.js';
import { StreamIdParam } from './schemas.js';
import type { StreamsService } from './service.js';

const TokenQuery = z.object({
  token: z
    .string()
    .max(2000)
    .optional()
    .openapi({ param: { name: 'token', in: 'query' }, description: 'A playback token from POST /v1/streams/{id}/playback-token (private or monetized streams).' }),
});

const SegmentParams = StreamIdParam.extend({
  segment: z
    .string()
    .max(120)
    .openapi({ param: { name: 'segment', in: 'path' }, example: 'seg-42.ts' }),
});

const getLivePlaylist = publicRoute({
  method: 'get',
  path: '/streams/{id}/live.m3u8',
  operationId: 'getLivePlaylist',
  tags: ['playback'],
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

const getLiveSegment = publicRoute({
  method: 'get',
  path: '/streams/{id}/live/{segment}',
  operationId: 'getLiveSegment',
  tags: ['playback'],
  summary: 'One live HLS segment (immutable)',
  request: { params: SegmentParams, query: TokenQuery },
  responses: {
    200: { description: 'MPEG-TS segment', content: { 'video/mp2t': { schema: z.string().openapi({ format: 'binary' }) } } },
    302: { description: 'Object storage: a presigned URL for the segment' },
  },
});

/** Browser players (hls.js) fetch cross-origin; the URLs carry no cookies, so any origin may read them. */
const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'ETag' };

function resourceOf(stream: { id: string; owner_id: string; visibility: 'public' | 'private'; monetization_enabled: number }): PlayableResource {
  return { id: stream.id, ownerId: stream.owner_id, visibility: stream.visibility, monetized: stream.monetization_enabled === 1 };
}

function clientAddress(c: Context<AppEnv>): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function registerLivePlaybackRoutes(app: App, deps: { streams: StreamsService; playback: PlaybackAuthorizer; live: LivePlayback }): void {
  const { streams, playback, live } = deps;

  app.openapi(getLivePlaylist, async (c) => {
    const stream = await streams.findPlayable(c.req.valid('param').id);
    const grant = await playback.authorize(c, resourceOf(stream), 'stream');
    const served = await live.playlist(stream, {
      token: grant.token,
      userId: grant.userId,
      address: clientAddress(c),
      userAgent: c.req.header('user-agent') ?? '',
    });
    const headers = { ...CORS, ETag: served.etag, 'Cache-Control': served.cacheControl };
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
      return c.body(null, 302, { ...CORS, Location: served.url, 'Cache-Control': served.cacheControl });
    }
    return c.body(Readable.toWeb(served.body) as ReadableStream, 200, {
      ...CORS,
      'Content-Type': served.contentType,
      'Content-Length': String(served.size),
      'Cache-Control': served.cacheControl,
    });
  });
}
