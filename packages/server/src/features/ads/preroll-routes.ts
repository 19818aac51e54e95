import { z } from '@hono/zod-openapi';
import type { App } from '../../http/env.js';
import { answerPlaybackPreflight, playbackRoute } from '../../http/playback-policy.js';
import type { PlaybackAuthorizer } from '../../http/playback.js';
import { sendMedia } from '../uploads/blob-response.js';
import type { StreamsService } from '../streams/service.js';
import { type LivePrerolls, prerollSessionKey } from './preroll.js';
import { StreamIdParam } from './schemas.js';

const PrerollSegmentParams = StreamIdParam.extend({
  marker_id: z
    .string()
    .regex(/^adm_[0-9a-z]{26}$/)
    .openapi({ param: { name: 'marker_id', in: 'path' }, example: 'adm_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
  segment: z
    .string()
    .max(120)
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
    .openapi({ param: { name: 'segment', in: 'path' }, example: 'seg-00000.ts' }),
});

const TokenQuery = z.object({
  token: z
    .string()
    .max(2000)
    .optional()
    .openapi({
      param: { name: 'token', in: 'query' },
      description: 'The playback token of the live playlist that listed the segment (private or monetized streams).',
    }),
});

const getPrerollSegment = playbackRoute({
  method: 'get',
  path: '/streams/{id}/ads/{marker_id}/{segment}',
  operationId: 'getLivePrerollSegment',
  summary: 'One HLS segment of a stream’s pre-roll, as listed in a listener’s live playlist (immutable)',
  request: { params: PrerollSegmentParams, query: TokenQuery },
  responses: {
    200: { description: 'MPEG-TS segment', content: { 'video/mp2t': { schema: z.string().openapi({ format: 'binary' }) } } },
    302: { description: 'Object storage: a presigned URL for the segment' },
  },
});

/** The pre-roll's segments, served next to the live ones (a listener's live.m3u8 lists them as `ads/{marker_id}/{segment}`). */
export function registerPrerollRoutes(
  app: App,
  deps: { streams: StreamsService; playback: PlaybackAuthorizer; prerolls: LivePrerolls },
): void {
  app.openapi(getPrerollSegment, async (c) => {
    const { id, marker_id, segment } = c.req.valid('param');
    const stream = await deps.streams.findPlayable(id);
    const grant = await deps.playback.authorize(
      c,
      { id: stream.id, ownerId: stream.owner_id, visibility: stream.visibility, monetized: stream.monetization_enabled === 1 },
      'stream',
    );
    // The same listener key as the live playlist's (LivePlayback), so the last segment completes that session's impression.
    const sessionKey = prerollSessionKey({
      token: c.req.valid('query').token ?? null,
      userId: grant.userId,
      address: c.get('clientAddress'),
      userAgent: c.req.header('user-agent') ?? '',
    });
    return sendMedia(await deps.prerolls.segment(stream, marker_id, segment, sessionKey, c.req.method === 'HEAD'));
  });
  answerPlaybackPreflight(app, getPrerollSegment);
}
