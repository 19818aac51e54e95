// Public playback of playlists: the unified HLS manifest, its segments and
// the continuous MP3 stream. Players hold these URLs, so they live outside
// /v1; who may play is decided by the playback authorizer (public, owner,
// admin, subscriber, or a signed ?token=).

import type { BlobStore } from '@djcast/relay/blob';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { App, AppEnv } from '../../http/env.js';
import { publicRoute } from '../../http/openapi.js';
import type { PlaybackAuthorizer, PlaybackGrant } from '../../http/playback.js';
import { DomainError, extraErrors, NotFound } from '../../http/problem.js';
import type { Logger } from '../../logger.js';
import { buildConcatMap, offsetForSeconds, parseRangeHeader, resolveRange, streamConcat, TrackSourceError } from '../../media/mp3-concat.js';
import { createTrackOpener, TrackChangedError } from '../../media/track-sources.js';
import { guardedLookup } from '../../net/address-guard.js';
import { blobResponse, toWebStream } from '../uploads/blob-response.js';
import { cacheControl, isNotModified, rangeAllowed, type Validators } from './http-cache.js';
import { withPlaybackToken } from '../../media/hls-manifest.js';
import { PlaylistIdParam, SegmentParams, StreamQuery } from './schemas.js';
import type { PlaylistPlayback, PlaylistsService } from './service.js';

export interface PlaybackRouteDeps {
  playlists: PlaylistsService;
  playback: PlaybackAuthorizer;
  store: BlobStore;
  logger: Logger;
  allowPrivateUrls: boolean;
  /** max-age for public, free playlists. */
  cacheSeconds: number;
}

const TOKEN_SECONDS = 6 * 60 * 60;
/** Until every external track is fetched, playback answers 503 with this Retry-After. */
const RETRY_AFTER_SECONDS = 5;
/**
 * Buffer size of each stream.mp3 response's streams (the joined stream and
 * the source it reads from). A slow listener waits on its socket with them
 * full: 16 KiB each instead of Node's 64 KiB default takes a paused
 * listener's buffers from 192 to 96 KiB (the rest is the socket's own
 * 64 KiB write buffer, set server-wide), while a 320 kbps stream still
 * needs only a few reads a second.
 */
const STREAM_BUFFER_BYTES = 16 * 1024;

const binary = (type: string) => ({ [type]: { schema: z.string().openapi({ format: 'binary' }) } });
const cachingHeaders = {
  ETag: { schema: { type: 'string' as const }, description: 'Strong; derived from the playlist content version.' },
  'Last-Modified': { schema: { type: 'string' as const } },
  'Cache-Control': { schema: { type: 'string' as const } },
};

const streamM3u8 = publicRoute({
  method: 'get',
  path: '/playlists/{id}/stream.m3u8',
  operationId: 'getPlaylistHls',
  tags: ['playback'],
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

const segment = publicRoute({
  method: 'get',
  path: '/playlists/{id}/hls/{source}/{file}',
  operationId: 'getPlaylistSegment',
  tags: ['playback'],
  summary: 'One HLS segment of a playlist track (the manifest links these)',
  request: { params: SegmentParams, query: StreamQuery.pick({ token: true }) },
  responses: {
    200: { description: 'The segment', content: binary('video/mp2t') },
    302: { description: 'Redirect to the object store (S3)' },
  },
});

const streamMp3 = publicRoute({
  method: 'get',
  path: '/playlists/{id}/stream.mp3',
  operationId: 'streamPlaylistMp3',
  tags: ['playback'],
  summary: 'The playlist as one continuous MP3 stream',
  description:
    'Every track’s audio frames back to back (tags and Xing/Info frames left out), chunked. ' +
    '`Range: bytes=N-` resumes with 206 over the joined bytes; `?start=<seconds>` starts at the frame nearest that time. ' +
    'Public, free playlists are cacheable (ETag, Last-Modified, 304).',
  request: { params: PlaylistIdParam, query: StreamQuery },
  responses: {
    200: { description: 'The whole stream (chunked, no Content-Length)', headers: cachingHeaders, content: binary('audio/mpeg') },
    206: { description: 'The requested byte range', headers: cachingHeaders, content: binary('audio/mpeg') },
    304: { description: 'Not modified' },
    ...extraErrors(416, 503),
  },
});

export function registerPlaylistPlaybackRoutes(app: App, deps: PlaybackRouteDeps): void {
  const { playlists, playback, store, logger } = deps;
  const lookup = guardedLookup(deps.allowPrivateUrls);

  async function load(c: Context<AppEnv>, id: string): Promise<{ info: PlaylistPlayback; grant: PlaybackGrant }> {
    const info = await playlists.playback(id);
    if (!info) throw new NotFound('Playlist', id);
    const grant = await playback.authorize(c, info.resource, 'playlist');
    if (info.pending.length > 0) {
      throw new DomainError(
        'unavailable',
        `${info.pending.length} external track(s) of this playlist are still being fetched and segmented; try again shortly.`,
        { pending_tracks: info.pending, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      );
    }
    return { info, grant };
  }

  /** The token segment URLs carry: the caller's, or a fresh one when a bearer opened a protected playlist. */
  function segmentToken(info: PlaylistPlayback, grant: PlaybackGrant): string | null {
    if (grant.token) return grant.token;
    const free = info.resource.visibility === 'public' && !info.resource.monetized;
    return free ? null : playback.sign(info.resource.id, grant.userId, TOKEN_SECONDS).token;
  }

  function validators(info: PlaylistPlayback, variant: string): Validators {
    return { etag: `"${info.resource.id}.v${info.contentVersion}.${variant}"`, lastModified: info.contentUpdatedAt };
  }

  function conditional(c: Context<AppEnv>) {
    return {
      ifNoneMatch: c.req.header('if-none-match'),
      ifModifiedSince: c.req.header('if-modified-since'),
      ifRange: c.req.header('if-range'),
    };
  }

  function baseHeaders(info: PlaylistPlayback, v: Validators): Record<string, string> {
    return {
      ETag: v.etag,
      'Last-Modified': v.lastModified.toUTCString(),
      'Cache-Control': cacheControl(info.resource, deps.cacheSeconds),
    };
  }

  app.openapi(streamM3u8, async (c) => {
    const { info, grant } = await load(c, c.req.valid('param').id);
    const token = segmentToken(info, grant);
    const v = validators(info, token ? `m3u8.${token.slice(-12)}` : 'm3u8');
    const headers = { ...baseHeaders(info, v), 'Content-Type': 'application/vnd.apple.mpegurl' };
    if (isNotModified(conditional(c), v)) return c.body(null, 304, headers);
    return c.body(withPlaybackToken(info.manifest ?? '', token), 200, headers);
  });

  app.openapi(segment, async (c) => {
    const { id, source, file } = c.req.valid('param');
    const { info } = await load(c, id);
    const key = await playlists.segmentKey(id, source, file, info);
    if (!key) throw new NotFound('Segment', `${source}/${file}`);
    const free = info.resource.visibility === 'public' && !info.resource.monetized;
    const res = await blobResponse(
      store,
      key,
      { 'Cache-Control': free ? 'public, max-age=31536000, immutable' : 'private, max-age=3600' },
      c.req.method === 'HEAD',
    );
    if (!res) throw new NotFound('Segment', `${source}/${file}`);
    return res;
  });

  app.openapi(streamMp3, async (c) => {
    const { id } = c.req.valid('param');
    const { start } = c.req.valid('query');
    const { info } = await load(c, id);
    const map = buildConcatMap(info.tracks.map((t) => t.concat));
    // ?start= names another representation (the stream from that frame on); Range applies within it.
    const from = start ? offsetForSeconds(map, start) : 0;
    const length = map.totalLength - from;
    const v = validators(info, from > 0 ? `mp3.${from}` : 'mp3');
    const headers: Record<string, string> = { ...baseHeaders(info, v), 'Content-Type': 'audio/mpeg', 'Accept-Ranges': 'bytes' };
    const cond = conditional(c);
    if (isNotModified(cond, v)) return c.body(null, 304, headers);

    const range = rangeAllowed(cond, v) ? parseRangeHeader(c.req.header('range'), length) : ({ kind: 'full' } as const);
    if (range.kind === 'unsatisfiable') {
      throw new DomainError('range_not_satisfiable', `${range.reason}.`, { headers: { 'Content-Range': range.contentRange } });
    }
    let status: 200 | 206 = 200;
    let first = 0;
    let last = length - 1;
    if (range.kind === 'partial') {
      status = 206;
      first = range.start;
      last = range.end;
      headers['Content-Range'] = range.contentRange;
      headers['Content-Length'] = String(range.contentLength);
    } else {
      // The whole stream goes out chunked, as a radio-style stream would.
      headers['Transfer-Encoding'] = 'chunked';
    }
    if (c.req.method === 'HEAD' || length === 0) {
      delete headers['Transfer-Encoding'];
      return c.body(null, status, headers);
    }
    const slices = resolveRange(map, from + first, from + last);
    const opener = createTrackOpener(
      info.tracks.map((t) => t.source),
      { store, http: { lookup }, highWaterMark: STREAM_BUFFER_BYTES },
    );
    const body = streamConcat(map, slices, opener, { highWaterMark: STREAM_BUFFER_BYTES });
    // A failing source ends the response where its bytes would have started
    // (headers are out: the connection closes without the final chunk, so no
    // cache keeps the cut-short body as complete).
    const stream = toWebStream(body, (error) => {
      logger.warn({ event: 'playlist.stream_failed', playlist_id: id, err: error }, 'continuous stream cut short');
      const cause = error instanceof TrackSourceError ? error.cause : undefined;
      const track = cause instanceof TrackChangedError ? info.tracks[(error as TrackSourceError).trackIndex] : undefined;
      if (cause instanceof TrackChangedError && track?.source.kind === 'url') {
        // Its recorded offsets no longer describe the file: take it out of the playlist until it is added again.
        void playlists.externalTrackChanged(id, track.sourceId, cause.detail).catch((markError: unknown) => {
          logger.error({ event: 'playlist.mark_changed_failed', playlist_id: id, track_id: track.sourceId, err: markError }, 'could not mark a changed external track');
        });
      }
    });
    return c.body(stream, status, headers);
  });
}
