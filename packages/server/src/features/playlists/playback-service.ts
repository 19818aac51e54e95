// Public playback of a playlist as answers (status, headers, body): the HLS
// manifest, its segments and the continuous MP3 stream, with conditional
// GET, Range over the joined bytes, and recovery when an external track
// changes under a listener. The routes only read the request and send.

import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import { isOpen, playbackCaching } from '../../http/playback-policy.js';
import type { PlaybackAuthorizer, PlaybackCredentials, PlaybackGrant } from '../../http/playback.js';
import { DomainError, NotFound } from '../../core/errors.js';
import type { Logger } from '../../logger.js';
import {
  buildConcatMap,
  type ConcatMap,
  ConcatReader,
  offsetForSeconds,
  parseRangeHeader,
  resolveRange,
  streamConcat,
  TrackSourceError,
} from '../../media/mp3-concat.js';
import {
  createTrackOpener,
  localPieceReader,
  localTrackPaths,
  PieceCache,
  TrackChangedError,
} from '../../media/track-sources.js';
import { findPlaylist } from './repository.js';
import { serveBlob, type MediaAnswer } from '../uploads/blob-response.js';
import { isNotModified, rangeAllowed, type ConditionalHeaders, type Validators } from './http-cache.js';
import { withPlaybackToken } from '../../media/hls-manifest.js';
import type { PlaylistPlayback, PlaylistsService } from './service.js';

export interface PlaylistPlaybackDeps {
  playlists: PlaylistsService;
  /** Read for the playlist's row on each request (one query by primary key); the rest is cached per content version. */
  db: Kysely<Database>;
  authorizer: PlaybackAuthorizer;
  store: BlobStore;
  logger: Logger;
  /** Whether external tracks may live on private addresses (DJCAST_ALLOW_PRIVATE_URLS); every fetch goes through the guarded client. */
  allowPrivateUrls: boolean;
  /** max-age for public, free playlists. */
  cacheSeconds: number;
  /** DJCAST_STREAM_PACE: a whole stream.mp3 after its head start goes at most this many times real time; 0 = unpaced. */
  paceFactor: number;
}

export interface PlaybackRequest {
  id: string;
  credentials: PlaybackCredentials;
  conditional: ConditionalHeaders;
  head: boolean;
}

/** Lifetime of the token a bearer-authorized manifest writes into its segment URLs. */
const TOKEN_SECONDS = 6 * 60 * 60;
/** Until every external track is fetched, playback answers 503 with this Retry-After. */
export const RETRY_AFTER_SECONDS = 5;
/**
 * Buffer size of each stream.mp3 response's streams (the joined stream and
 * the source it reads from). A slow listener waits on its socket with them
 * full: 16 KiB each instead of Node's 64 KiB default takes a paused
 * listener's buffers from 192 to 96 KiB (the rest is the socket's own
 * 64 KiB write buffer, set server-wide), while a 320 kbps stream still
 * needs only a few reads a second.
 */
const STREAM_BUFFER_BYTES = 16 * 1024;
/**
 * With pacing on (DJCAST_STREAM_PACE), a whole stream.mp3 goes out like a
 * radio stream on the Node server: the first BURST_SECONDS of audio at once
 * (a player's head start), then at most paceFactor times the stream's own
 * byte rate. A real-time player always has a lead; the server never stuffs a
 * new listener's socket buffers with megabytes it will play minutes later
 * (with thousands of direct listeners that burst alone took the CPU and
 * overflowed the accept queue). Ranged requests (seeking, a CDN's range
 * fills) are never paced.
 */
const BURST_SECONDS = 10;
/** Playlists whose playback info stays cached (least recently played go first). */
const CACHED_PLAYLISTS = 1000;

/** What a playlist's playback needs beyond its row, valid for one content version. */
interface CachedPlayback {
  info: PlaylistPlayback;
  map: ConcatMap;
}

export class PlaylistPlaybackService {
  /**
   * Playback info and track map per playlist, for the content version they
   * were loaded at: every change to what a playlist plays (items, their
   * state, its access) bumps the version in the same transaction, so a
   * request reads only the playlist's row and reloads the rest when the
   * version moved on.
   */
  private readonly cache = new Map<string, CachedPlayback>();
  /** Pieces of local track files, shared by every listener (see PieceCache). */
  private readonly pieces = new PieceCache();

  constructor(private readonly deps: PlaylistPlaybackDeps) {}

  /** stream.m3u8: the unified manifest, with a playback token in segment URLs when the playlist is not open. */
  async manifest(req: PlaybackRequest): Promise<MediaAnswer> {
    const { info, grant } = await this.load(req);
    const token = this.segmentToken(info, grant);
    const v = validators(info, token ? `m3u8.${token.slice(-12)}` : 'm3u8');
    const headers = { ...this.documentHeaders(info, v), 'Content-Type': 'application/vnd.apple.mpegurl' };
    if (isNotModified(req.conditional, v)) return { status: 304, headers, body: null };
    return { status: 200, headers, body: withPlaybackToken(info.manifest ?? '', token) };
  }

  /** One HLS segment of a track of the playlist. */
  async segment(req: PlaybackRequest & { source: string; file: string }): Promise<MediaAnswer> {
    const { info } = await this.load(req);
    const key = await this.deps.playlists.segmentKey(req.id, req.source, req.file, info);
    const answer = key
      ? await serveBlob(this.deps.store, key, playbackCaching.segment({ open: isOpen(info.resource) }), req.head)
      : null;
    if (!answer) throw new NotFound('Segment', `${req.source}/${req.file}`);
    return answer;
  }

  /**
   * stream.mp3: every track's audio back to back. `start` (seconds) names
   * another representation (the stream from that frame on); `range` applies
   * within it.
   */
  async mp3(req: PlaybackRequest & { start?: number | undefined; range?: string | undefined }): Promise<MediaAnswer> {
    const { info, map } = await this.load(req);
    const from = req.start ? offsetForSeconds(map, req.start) : 0;
    const length = map.totalLength - from;
    const v = validators(info, from > 0 ? `mp3.${from}` : 'mp3');
    const headers: Record<string, string> = {
      ...this.documentHeaders(info, v),
      'Content-Type': 'audio/mpeg',
      'Accept-Ranges': 'bytes',
    };
    if (isNotModified(req.conditional, v)) return { status: 304, headers, body: null };

    const range = rangeAllowed(req.conditional, v) ? parseRangeHeader(req.range, length) : ({ kind: 'full' } as const);
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
    } else if (!req.head && length > 0) {
      // The whole stream goes out chunked, as a radio-style stream would.
      headers['Transfer-Encoding'] = 'chunked';
    }
    if (req.head || length === 0) return { status, headers, body: null };

    const slices = resolveRange(map, from + first, from + last);
    const bytesPerSecond = map.totalSeconds > 0 ? map.totalLength / map.totalSeconds : 0;
    const pace =
      bytesPerSecond > 0 && this.deps.paceFactor > 0 && status === 200
        ? { bytesPerSecond: bytesPerSecond * this.deps.paceFactor, burstBytes: bytesPerSecond * BURST_SECONDS }
        : undefined;
    const sources = info.tracks.map((t) => t.source);
    const paths = localTrackPaths(sources, this.deps.store);
    if (paths) {
      // Local files: pulled a piece at a time through the shared piece cache, nothing read ahead.
      const body = new ConcatReader(map, slices, localPieceReader(paths, this.pieces), (error) => this.streamFailed(info, error));
      return { status, headers, body, audioBytesPerSecond: bytesPerSecond, ...(pace ? { pace } : {}) };
    }
    const opener = createTrackOpener(sources, {
      store: this.deps.store,
      http: { allowPrivate: this.deps.allowPrivateUrls },
      highWaterMark: STREAM_BUFFER_BYTES,
    });
    const body = streamConcat(map, slices, opener, { highWaterMark: STREAM_BUFFER_BYTES });
    // A failing source ends the response where its bytes would have started
    // (headers are out: the connection closes without the final chunk, so no
    // cache keeps the cut-short body as complete).
    body.on('error', (error: Error) => this.streamFailed(info, error));
    return { status, headers, body, audioBytesPerSecond: bytesPerSecond, ...(pace ? { pace } : {}) };
  }

  private async load(req: PlaybackRequest): Promise<CachedPlayback & { grant: PlaybackGrant }> {
    const { info, map } = await this.playbackInfo(req.id);
    const grant = await this.deps.authorizer.authorizeCredentials(req.credentials, info.resource, 'playlist');
    if (info.pending.length > 0) {
      throw new DomainError(
        'unavailable',
        `${info.pending.length} external track(s) of this playlist are still being fetched and segmented; try again shortly.`,
        { pending_tracks: info.pending, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      );
    }
    return { info, map, grant };
  }

  /** The playlist's playback info: its row read now, the rest from the cache when the content version matches. */
  private async playbackInfo(id: string): Promise<CachedPlayback> {
    const row = await findPlaylist(this.deps.db, id);
    if (!row) throw new NotFound('Playlist', id);
    const cached = this.cache.get(id);
    if (cached && cached.info.contentVersion === row.content_version) {
      this.cache.delete(id);
      this.cache.set(id, cached);
      // Only the stored manifest may be rebuilt without a new version (repairs): take it from the row.
      return cached.info.manifest === row.manifest ? cached : { ...cached, info: { ...cached.info, manifest: row.manifest } };
    }
    const info = await this.deps.playlists.playback(id);
    if (!info) throw new NotFound('Playlist', id);
    const loaded = { info, map: buildConcatMap(info.tracks.map((t) => t.concat)) };
    this.cache.delete(id);
    this.cache.set(id, loaded);
    while (this.cache.size > CACHED_PLAYLISTS) this.cache.delete(this.cache.keys().next().value as string);
    return loaded;
  }

  /** The token segment URLs carry: the caller's, or a fresh one when a bearer opened a protected playlist. */
  private segmentToken(info: PlaylistPlayback, grant: PlaybackGrant): string | null {
    if (grant.token) return grant.token;
    return isOpen(info.resource) ? null : this.deps.authorizer.sign(info.resource.id, grant.userId, TOKEN_SECONDS).token;
  }

  private documentHeaders(info: PlaylistPlayback, v: Validators): Record<string, string> {
    return {
      ETag: v.etag,
      'Last-Modified': v.lastModified.toUTCString(),
      'Cache-Control': playbackCaching.document({ open: isOpen(info.resource) }, this.deps.cacheSeconds),
    };
  }

  private streamFailed(info: PlaylistPlayback, error: Error): void {
    const { logger, playlists } = this.deps;
    const id = info.resource.id;
    logger.warn({ event: 'playlist.stream_failed', playlist_id: id, err: error }, 'continuous stream cut short');
    if (!(error instanceof TrackSourceError) || !(error.cause instanceof TrackChangedError)) return;
    const track = info.tracks[error.trackIndex];
    if (track?.source.kind !== 'url') return;
    // Its recorded offsets no longer describe the file: take it out of the playlist until it is added again.
    playlists.externalTrackChanged(id, track.sourceId, error.cause.detail).catch((markError: unknown) => {
      logger.error(
        { event: 'playlist.mark_changed_failed', playlist_id: id, track_id: track.sourceId, err: markError },
        'could not mark a changed external track',
      );
    });
  }
}

function validators(info: PlaylistPlayback, variant: string): Validators {
  return { etag: `"${info.resource.id}.v${info.contentVersion}.${variant}"`, lastModified: info.contentUpdatedAt };
}
