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
  SharedFiles,
  TrackChangedError,
} from '../../media/track-sources.js';
import { findPlaylist } from './repository.js';
import { serveBlob, type MediaAnswer } from '../uploads/blob-response.js';
import { isNotModified, rangeAllowed, type ConditionalHeaders, type Validators } from './http-cache.js';
import { withPlaybackToken } from '../../media/hls-manifest.js';
import type { PlaylistPlayback, PlaylistsService } from './service.js';
import type { PlaylistAdBreak } from './ads-port.js';
import { adSpans, type AdSpan, type SplicePiece, spliceHls, spliceMp3 } from '../../media/ad-splice.js';
import { buildPlaylistManifest } from '../../media/hls-manifest.js';
import type { PieceSource } from '../../media/mp3-concat.js';
import type { TrackSource } from '../../media/track-sources.js';
import { readablePieces } from '../../http/stream-body.js';
import { Readable } from 'node:stream';
import { newId } from '../../core/ids.js';

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
  /** Ready mid-rolls (empty without the ads feature or markers). */
  breaks: PlaylistAdBreak[];
  /** The programme with its ads spliced in, built on first use. */
  withAds?: AdVariant;
}

/** What a listener who hears ads gets: the spliced MP3 map and sources, and the HLS manifest with the ads in. */
interface AdVariant {
  map: ConcatMap;
  sources: TrackSource[];
  spans: AdSpan[];
  manifest: string;
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
  /** Open track files, shared by every listener (see SharedFiles). */
  private readonly files = new SharedFiles();

  constructor(private readonly deps: PlaylistPlaybackDeps) {}

  /** stream.m3u8: the unified manifest, with a playback token in segment URLs when the playlist is not open. */
  async manifest(req: PlaybackRequest): Promise<MediaAnswer> {
    const loaded = await this.load(req);
    const { info, grant } = loaded;
    const ads = await this.adVariant(loaded, grant);
    const token = this.segmentToken(info, grant);
    const v = validators(info, `${token ? `m3u8.${token.slice(-12)}` : 'm3u8'}${ads ? '.ads' : ''}`);
    const headers = { ...this.documentHeaders(info, v), 'Content-Type': 'application/vnd.apple.mpegurl' };
    if (isNotModified(req.conditional, v)) return { status: 304, headers, body: null };
    return { status: 200, headers, body: withPlaybackToken(ads ? ads.manifest : (info.manifest ?? ''), token) };
  }

  /** One HLS segment of a track of the playlist. */
  async segment(req: PlaybackRequest & { source: string; file: string; listenerKey?: string }): Promise<MediaAnswer> {
    const { info, breaks, grant } = await this.load(req);
    const ad = breaks.find((b) => b.markerId === req.source);
    const key = ad ? `${ad.hlsPrefix}${req.file}` : await this.deps.playlists.segmentKey(req.id, req.source, req.file, info);
    const answer = key
      ? await serveBlob(this.deps.store, key, playbackCaching.segment({ open: isOpen(info.resource) }), req.head)
      : null;
    if (!answer) throw new NotFound('Segment', `${req.source}/${req.file}`);
    // An ad's segment fetched by a listener session: its impression starts, and the last one completes it.
    const port = this.deps.playlists.ads;
    if (ad && !req.head && req.listenerKey && port?.hlsAdSegment)
      await port.hlsAdSegment({
        markerId: ad.markerId,
        playlistId: info.resource.id,
        ownerId: info.resource.ownerId,
        listenerKey: req.listenerKey,
        listenerId: grant.userId,
        last: ad.ad.segments.at(-1)?.uri === req.file,
      });
    return answer;
  }

  /**
   * stream.mp3: every track's audio back to back. `start` (seconds) names
   * another representation (the stream from that frame on); `range` applies
   * within it.
   */
  async mp3(req: PlaybackRequest & { start?: number | undefined; range?: string | undefined }): Promise<MediaAnswer> {
    const loaded = await this.load(req);
    const { info, grant } = loaded;
    const ads = await this.adVariant(loaded, grant);
    const map = ads ? ads.map : loaded.map;
    const from = req.start ? offsetForSeconds(map, req.start) : 0;
    const length = map.totalLength - from;
    const v = validators(info, `${from > 0 ? `mp3.${from}` : 'mp3'}${ads ? '.ads' : ''}`);
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
    const sources = ads ? ads.sources : info.tracks.map((t) => t.source);
    const counted = (body: PieceSource | Readable): PieceSource | Readable =>
      ads && ads.spans.length > 0 ? this.countImpressions(info, grant.userId, ads.spans, from + first, body) : body;
    const paths = localTrackPaths(sources, this.deps.store);
    if (paths) {
      // Local files: pulled a piece at a time through the shared piece cache, nothing read ahead.
      const body = new ConcatReader(map, slices, localPieceReader(paths, this.pieces, this.files), (error) =>
        this.streamFailed(info, error),
      );
      return { status, headers, body: counted(body), audioBytesPerSecond: bytesPerSecond, ...(pace ? { pace } : {}) };
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
    return { status, headers, body: counted(body), audioBytesPerSecond: bytesPerSecond, ...(pace ? { pace } : {}) };
  }

  /** The spliced programme for a listener who hears ads; null when there are none or the listener is ad-free. */
  private async adVariant(loaded: CachedPlayback & { entry: CachedPlayback }, grant: PlaybackGrant): Promise<AdVariant | null> {
    const port = this.deps.playlists.ads;
    if (!port || loaded.breaks.length === 0) return null;
    if (await port.adFree(grant.userId, loaded.info.resource.ownerId)) return null;
    if (loaded.entry.withAds) return loaded.entry.withAds;
    const programme: SplicePiece<TrackSource>[] = loaded.info.tracks.map((t) => ({
      source: t.source,
      sourceId: t.sourceId,
      concat: t.concat,
      segments: t.segments,
    }));
    const mp3 = spliceMp3(programme, loaded.breaks);
    const hls = spliceHls(programme, loaded.breaks);
    loaded.entry.withAds = {
      map: buildConcatMap(mp3.map((p) => p.concat)),
      sources: mp3.map((p) => p.source),
      spans: adSpans(mp3),
      manifest: buildPlaylistManifest(hls.map((p) => ({ base: `hls/${p.sourceId}/`, segments: p.segments }))),
    };
    return loaded.entry.withAds;
  }

  /**
   * Passes the body through, telling the ads feature when this listener
   * session's bytes reach an ad's first byte (started) and its last
   * (completed). `at` is the stream offset of the body's first byte.
   */
  private countImpressions(
    info: PlaylistPlayback,
    listenerId: string | null,
    spans: readonly AdSpan[],
    at: number,
    body: PieceSource | Readable,
  ): PieceSource {
    const port = this.deps.playlists.ads!;
    const source = body instanceof Readable ? readablePieces(body) : body;
    const sessionId = newId('adi');
    const started = new Set<string>();
    const completed = new Set<string>();
    let position = at;
    // One after the other: a session's completion must not overtake its start.
    let recorded = Promise.resolve();
    const report = (markerId: string, event: 'started' | 'completed') => {
      const e = { markerId, playlistId: info.resource.id, ownerId: info.resource.ownerId, sessionId, listenerId, event };
      recorded = recorded.then(() => port.impression(e));
    };
    return {
      async next() {
        const piece = await source.next();
        if (piece === null) return null;
        const end = position + piece.length;
        for (const span of spans) {
          if (!started.has(span.markerId) && position <= span.offset && span.offset < end) {
            started.add(span.markerId);
            report(span.markerId, 'started');
          }
          if (started.has(span.markerId) && !completed.has(span.markerId) && end >= span.offset + span.length) {
            completed.add(span.markerId);
            report(span.markerId, 'completed');
          }
        }
        position = end;
        return piece;
      },
      destroy() {
        source.destroy();
      },
    };
  }

  private async load(req: PlaybackRequest): Promise<CachedPlayback & { grant: PlaybackGrant; entry: CachedPlayback }> {
    const entry = await this.playbackInfo(req.id);
    const { info } = entry;
    const grant = await this.deps.authorizer.authorizeCredentials(req.credentials, info.resource, 'playlist');
    if (info.pending.length > 0) {
      throw new DomainError(
        'unavailable',
        `${info.pending.length} external track(s) of this playlist are still being fetched and segmented; try again shortly.`,
        { pending_tracks: info.pending, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } },
      );
    }
    return { ...entry, grant, entry };
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
    const breaks = (await this.deps.playlists.ads?.breaks(id)) ?? [];
    const loaded: CachedPlayback = { info, map: buildConcatMap(info.tracks.map((t) => t.concat)), breaks };
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
