// Public playback of playlists: the unified HLS manifest, its segments and
// the continuous MP3 stream. Players hold these URLs, so they live outside
// /v1; who may play is decided by the playback authorizer (public, owner,
// admin, subscriber, or a signed ?token=), the answers by
// PlaylistPlaybackService.

import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../http/env.js';
import { answerPlaybackPreflight, playbackRoute } from '../../http/playback-policy.js';
import { playbackCredentials } from '../../http/playback.js';
import { extraErrors } from '../../http/openapi.js';
import { SEGMENT_SECONDS } from '../../media/rendition.js';
import type { PieceSource } from '../../media/mp3-concat.js';
import type { ListenerSessionSink } from '../analytics/sessions.js';
import { sessionKeyFor } from '../relays/service.js';
import { readablePieces } from '../../http/stream-body.js';
import { Readable } from 'node:stream';
import { sendMedia } from '../uploads/blob-response.js';
import { RETRY_AFTER_SECONDS, type PlaylistPlaybackService, type PlaybackRequest } from './playback-service.js';
import { PlaylistIdParam, SegmentParams, StreamQuery } from './schemas.js';

export interface PlaybackRouteDeps {
  playback: PlaylistPlaybackService;
  /** A stream.mp3 listener whose connection takes nothing for this long is disconnected. */
  listenerIdleMs: number;
  /** Listener sessions for analytics: segment fetches (HLS) and stream.mp3 connections. */
  sessions?: ListenerSessionSink;
}

const binary = (type: string) => ({ [type]: { schema: z.string().openapi({ format: 'binary' }) } });
const cachingHeaders = {
  ETag: { schema: { type: 'string' as const }, description: 'Strong; derived from the playlist content version.' },
  'Last-Modified': { schema: { type: 'string' as const } },
  'Cache-Control': { schema: { type: 'string' as const } },
};

const streamM3u8 = playbackRoute({
  method: 'get',
  path: '/playlists/{id}/stream.m3u8',
  operationId: 'getPlaylistHls',
  summary: 'The playlist as one HLS VOD manifest (discontinuities between tracks)',
  description:
    'Public, free playlists need no credentials; private or subscriber playlists need a bearer token or `?token=`. ' +
    `While an external track is still being fetched the answer is 503 with Retry-After: ${RETRY_AFTER_SECONDS} and the pending track ids.`,
  request: { params: PlaylistIdParam, query: StreamQuery.pick({ token: true }) },
  responses: {
    200: { description: 'The manifest', headers: cachingHeaders, content: binary('application/vnd.apple.mpegurl') },
    304: { description: 'Not modified' },
    ...extraErrors(503),
  },
});

const segment = playbackRoute({
  method: 'get',
  path: '/playlists/{id}/hls/{source}/{file}',
  operationId: 'getPlaylistSegment',
  summary: 'One HLS segment of a playlist track (the manifest links these)',
  request: { params: SegmentParams, query: StreamQuery.pick({ token: true }) },
  responses: {
    200: { description: 'The segment', content: binary('video/mp2t') },
    302: { description: 'Redirect to the object store (S3)' },
  },
});

const streamMp3 = playbackRoute({
  method: 'get',
  path: '/playlists/{id}/stream.mp3',
  operationId: 'streamPlaylistMp3',
  summary: 'The playlist as one continuous MP3 stream',
  description:
    'Every track’s audio frames back to back (tags and Xing/Info frames left out), chunked. ' +
    '`Range: bytes=N-` resumes with 206 over the joined bytes; `?start=<seconds>` starts at the frame nearest that time. ' +
    'Public, free playlists are cacheable (ETag, Last-Modified, 304). A listener that stops reading is disconnected.',
  request: { params: PlaylistIdParam, query: StreamQuery },
  responses: {
    200: { description: 'The whole stream (chunked, no Content-Length)', headers: cachingHeaders, content: binary('audio/mpeg') },
    206: { description: 'The requested byte range', headers: cachingHeaders, content: binary('audio/mpeg') },
    304: { description: 'Not modified' },
    ...extraErrors(416, 503),
  },
});

function playbackRequest(c: Context<AppEnv>, id: string): PlaybackRequest {
  return {
    id,
    credentials: playbackCredentials(c),
    conditional: {
      ifNoneMatch: c.req.header('if-none-match'),
      ifModifiedSince: c.req.header('if-modified-since'),
      ifRange: c.req.header('if-range'),
    },
    head: c.req.method === 'HEAD',
  };
}

/** Who is listening (hashed): the playback token or bearer credential, else address + user agent. */
function listenerKey(c: Context<AppEnv>): string {
  const credentials = playbackCredentials(c);
  return sessionKeyFor({
    token: credentials.token ?? credentials.authorization ?? null,
    userId: null,
    address: c.get('clientAddress'),
    userAgent: c.req.header('user-agent') ?? '',
  });
}

/** Drops the listener's connection (on a Node server; elsewhere the stream just ends). */
function dropConnection(c: Context<AppEnv>): () => boolean {
  const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
  return () => {
    outgoing?.destroy();
    return outgoing !== undefined;
  };
}

export function registerPlaylistPlaybackRoutes(app: App, deps: PlaybackRouteDeps): void {
  const { playback, listenerIdleMs, sessions } = deps;

  app.openapi(streamM3u8, async (c) => sendMedia(await playback.manifest(playbackRequest(c, c.req.valid('param').id))));

  app.openapi(segment, async (c) => {
    const { id, source, file } = c.req.valid('param');
    const answer = await playback.segment({ ...playbackRequest(c, id), source, file, listenerKey: listenerKey(c) });
    // An HLS playlist session is its segment fetches (the VOD manifest is fetched once, and with a bearer
    // credential its segments carry a different token): the audio is in the segments.
    if (sessions && c.req.method === 'GET') sessions.hls('playlist', id, listenerKey(c), SEGMENT_SECONDS);
    return sendMedia(answer);
  });

  app.openapi(streamMp3, async (c) => {
    const answer = await playback.mp3({
      ...playbackRequest(c, c.req.valid('param').id),
      start: c.req.valid('query').start,
      range: c.req.header('range'),
    });
    const { body } = answer;
    if (sessions && body !== null && typeof body !== 'string') {
      const source: PieceSource = body instanceof Readable ? readablePieces(body) : body;
      answer.body = sessions.mp3('playlist', c.req.valid('param').id, listenerKey(c), source, answer.audioBytesPerSecond ?? 0);
    }
    return sendMedia(answer, { idle: { ms: listenerIdleMs, onIdle: dropConnection(c) } });
  });

  for (const route of [streamM3u8, segment, streamMp3]) answerPlaybackPreflight(app, route);
}
