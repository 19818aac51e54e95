import { createHash } from 'node:crypto';
import { readFile, rm, truncate } from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely } from 'kysely';
import type { Transcoder } from '../../adapters/transcoder/types.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { page } from '../../core/pagination.js';
import { assertCanAccess, type Principal } from '../../core/principal.js';
import type { AdMarkersTable, AdRenditionsTable, Database } from '../../db/tables.js';
import type { JobContext } from '../../jobs/definition.js';
import { enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import type { HlsSegmentRef } from '../../media/hls-manifest.js';
import { findAudioRange } from '../../media/mp3.js';
import { makeWorkDir, publishHlsRendition } from '../../media/rendition.js';
import { fetchHttpRange } from '../../media/track-sources.js';
import type { AdHlsSegmentEvent, AdImpressionEvent, PlaylistAdBreak, PlaylistAdsPort } from '../playlists/ads-port.js';
import { recordHlsAdSegment } from './hls-impressions.js';
import type { PlaylistsService } from '../playlists/service.js';
import type { StreamsService } from '../streams/service.js';
import type { LivePlayback } from '../streams/live-playback.js';
import type { PlaybackAuthorizer } from '../../http/playback.js';
import { originalKey } from '../uploads/keys.js';
import type { UploadsService } from '../uploads/service.js';
import { NORMALIZE_AD } from './jobs.js';
import { type AdTarget, framesLength, mp3Bitrate, NormalizeError, normalizeAd, openFile } from './normalize.js';
import * as repo from './repository.js';
import type { AdMarkerView, CreatePlaylistAdMarker, CreateStreamAdMarker } from './schemas.js';

/** Whether a listener hears no ads from a DJ (the money feature's "ad-free" plans answer it). */
export type AdFreePort = (userId: string | null, djOwnerId: string) => Promise<boolean>;

export interface AdsDeps {
  db: Kysely<Database>;
  store: BlobStore;
  transcoder: Transcoder;
  playlists: PlaylistsService;
  streams: StreamsService;
  uploads: UploadsService;
  logger: Logger;
  jobs: Pick<JobQueue, 'wake'>;
  /** Default: nobody is ad-free. */
  adFree?: AdFreePort;
  allowPrivateUrls: boolean;
  /** Largest ad source fetched from a URL. */
  sourceMaxBytes: number;
  workDir?: string;
  clock?: () => Date;
  /** Live playback, to serve each new listener the stream's pre-roll (optional: without it no pre-roll plays). */
  live?: Pick<LivePlayback, 'useAds'>;
  /** Authorizes the pre-roll's segment route like the live playlist's. */
  playback?: PlaybackAuthorizer;
}

/** The format live streams' ads are normalized to until the relay inserts them (the relay's own output format). */
const LIVE_TARGET = { sampleRate: 44100, bitrateKbps: 128, channels: 2 as const };

/**
 * The other sample rates of MPEG-1 layer III, which live MP3 sources use: the relay swaps the source's frames
 * for the ad's one for one, so a live mid-roll is also normalized at each of them up front (MP3 only), and the
 * relay plays the one of its source's rate. Up front rather than on request: a scheduled break must not wait
 * for FFmpeg, and three short runs per ad cost little.
 */
export const LIVE_VARIANT_RATES = [48000, 32000] as const;

/** The target of a live ad's variant at `sampleRate` (its rendition id is derived from it, so it is one object shape). */
export function liveVariantTarget(sampleRate: number, durationSeconds: number): AdTarget {
  return { ...LIVE_TARGET, sampleRate, durationSeconds, hls: false };
}

/** A live ad's normalized MP3 at one sample rate. */
export interface LiveAdVariant {
  sampleRate: number;
  mp3Key: string;
}

export const adPrefix = (renditionId: string) => `ads/${renditionId}/`;

export class AdsService implements PlaylistAdsPort {
  private readonly clock: () => Date;
  private adFreePort: AdFreePort;

  constructor(private readonly deps: AdsDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.adFreePort = deps.adFree ?? (() => Promise.resolve(false));
  }

  /** Wires who hears no ads (the money feature's ad-free plans). */
  useAdFree(port: AdFreePort): void {
    this.adFreePort = port;
  }

  private now(): string {
    return this.clock().toISOString();
  }

  async createForPlaylist(principal: Principal, playlistId: string, input: CreatePlaylistAdMarker): Promise<AdMarkerView> {
    const playlist = await this.deps.playlists.get(principal, playlistId);
    const first = playlist.items.find((i) => i.upload_id);
    let format: Omit<AdTarget, 'durationSeconds'> = LIVE_TARGET;
    if (first?.upload_id) {
      const u = await this.deps.uploads.getOwned(principal, first.upload_id);
      format = {
        sampleRate: u.sample_rate ?? 44100,
        bitrateKbps: mp3Bitrate(u.bitrate_kbps ?? 128),
        channels: u.channels === 1 ? 1 : 2,
      };
    }
    const position = input.kind === 'pre-roll' ? 0 : input.position_seconds;
    const id = await this.insert(
      principal,
      input,
      { ...format, durationSeconds: input.duration_seconds },
      {
        playlist_id: playlistId,
        stream_id: null,
        position_seconds: position,
        starts_at: null,
      },
    );
    return this.get(principal, id);
  }

  async createForStream(principal: Principal, streamId: string, input: CreateStreamAdMarker): Promise<AdMarkerView> {
    await this.deps.streams.get(principal, streamId);
    if (input.starts_at && input.kind === 'pre-roll')
      throw new DomainError('validation_failed', 'A pre-roll plays to each new listener; it has no `starts_at`.', {
        errors: [{ path: 'starts_at', message: 'only for a mid-roll (a scheduled break)' }],
      });
    const id = await this.insert(
      principal,
      input,
      { ...LIVE_TARGET, durationSeconds: input.duration_seconds },
      {
        playlist_id: null,
        stream_id: streamId,
        position_seconds: null,
        starts_at: input.starts_at ? new Date(input.starts_at).toISOString() : null,
      },
      // A break plays the ad in place of the source's frames: one variant per MP3 sample rate a source may have.
      input.kind === 'mid-roll' ? LIVE_VARIANT_RATES.map((rate) => liveVariantTarget(rate, input.duration_seconds)) : [],
    );
    return this.get(principal, id);
  }

  async listForPlaylist(principal: Principal, playlistId: string, opts: { limit: number; starting_after?: string | undefined }) {
    await this.deps.playlists.get(principal, playlistId);
    const rows = await repo.listMarkers(this.deps.db, { playlistId, startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map(view) };
  }

  async listForStream(principal: Principal, streamId: string, opts: { limit: number; starting_after?: string | undefined }) {
    await this.deps.streams.get(principal, streamId);
    const rows = await repo.listMarkers(this.deps.db, { streamId, startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map(view) };
  }

  async get(principal: Principal, id: string): Promise<AdMarkerView> {
    const row = await repo.findMarker(this.deps.db, id);
    if (!row) throw new NotFound('Ad marker', id);
    assertCanAccess(principal, row.owner_id, 'ad marker');
    return view(row);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    const row = await repo.findMarker(this.deps.db, id);
    if (!row) throw new NotFound('Ad marker', id);
    assertCanAccess(principal, row.owner_id, 'ad marker');
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.deleteMarker(tx, id);
      if (row.playlist_id) await this.deps.playlists.touch(row.playlist_id, tx);
    });
  }

  private async insert(
    principal: Principal,
    input: CreatePlaylistAdMarker | CreateStreamAdMarker,
    target: AdTarget,
    where: Pick<AdMarkersTable, 'playlist_id' | 'stream_id' | 'position_seconds' | 'starts_at'>,
    variants: AdTarget[] = [],
  ): Promise<string> {
    const source = input.source;
    const uploadId = 'upload_id' in source ? source.upload_id : null;
    const url = 'url' in source ? source.url : null;
    if (uploadId) {
      const u = await this.deps.uploads.getOwned(principal, uploadId);
      if (u.status !== 'ready')
        throw new DomainError('validation_failed', `Upload ${uploadId} is ${u.status}; an ad source must be ready.`, {
          errors: [{ path: 'source.upload_id', message: `upload is ${u.status}` }],
        });
    }
    const now = this.now();
    const renditionId = renditionIdOf(principal.userId, uploadId ?? url!, target);
    const id = newId('adm');
    await this.deps.db.transaction().execute(async (tx) => {
      // Once per source and format: a second marker with the same ad reuses the first one's audio.
      const addRendition = async (rid: string, t: AdTarget): Promise<boolean> => {
        const created = await repo.insertRenditionIfAbsent(tx, {
          id: rid,
          owner_id: principal.userId,
          source_upload_id: uploadId,
          source_url: url,
          target: JSON.stringify(t),
          status: 'pending',
          reason: null,
          mp3_key: null,
          audio_start: null,
          audio_end: null,
          seek_index: null,
          duration_seconds: null,
          hls_prefix: null,
          hls_segments: null,
          created_at: now,
          updated_at: now,
        });
        if (created)
          await enqueue(
            tx,
            NORMALIZE_AD,
            { rendition_id: rid },
            { ownerId: principal.userId, resourceId: rid, now: this.clock() },
          );
        return created;
      };
      await addRendition(renditionId, target);
      for (const variant of variants) await addRendition(renditionIdOf(principal.userId, uploadId ?? url!, variant), variant);
      await repo.insertMarker(tx, {
        id,
        owner_id: principal.userId,
        kind: input.kind,
        duration_seconds: input.duration_seconds,
        source_upload_id: uploadId,
        source_url: url,
        rendition_id: renditionId,
        created_at: now,
        ...where,
      });
      if (where.playlist_id) await this.deps.playlists.touch(where.playlist_id, tx);
    });
    this.deps.jobs.wake();
    return id;
  }

  /** The normalization job: fetch the source, normalize it (FFmpeg, loudnorm), map its frames, segment it, publish. */
  async normalize(renditionId: string, ctx: JobContext): Promise<void> {
    const { db, store } = this.deps;
    const rendition = await repo.findRendition(db, renditionId);
    if (!rendition || rendition.status !== 'pending') return;
    const target = JSON.parse(rendition.target) as AdTarget;
    const dir = await makeWorkDir(this.deps.workDir, 'ext');
    try {
      const file = path.join(dir, 'ad.mp3');
      await normalizeAd(await this.openSource(rendition, ctx.signal), target, file, { signal: ctx.signal });
      const analysed = await findAudioRange(file);
      // Exactly the frames of the marker's duration (to the nearest frame), so the programme resumes where it should.
      const wanted = Math.round((target.durationSeconds * analysed.sampleRate) / 1152);
      const kept = framesLength(await readFile(file), analysed.audioStart, wanted);
      await truncate(file, analysed.audioStart + kept.length);
      const map = {
        ...analysed,
        audioEnd: analysed.audioStart + kept.length,
        seekIndex: analysed.seekIndex.filter((offset) => offset < kept.length),
        durationSeconds: (kept.frames * 1152) / analysed.sampleRate,
      };
      const prefix = adPrefix(renditionId);
      const mp3Key = `${prefix}ad.mp3`;
      await store.put(mp3Key, openFile(file), { contentType: 'audio/mpeg', signal: ctx.signal });
      // A live break's variant is played by the relay from its MP3 only.
      const hls =
        target.hls === false
          ? null
          : await publishHlsRendition(this.deps.transcoder, store, {
              input: openFile(file),
              prefix: `${prefix}hls/`,
              durationSeconds: map.durationSeconds,
              signal: ctx.signal,
              workDir: dir,
            });
      await db.transaction().execute(async (tx) => {
        await repo.updateRendition(tx, renditionId, {
          status: 'ready',
          mp3_key: mp3Key,
          audio_start: map.audioStart,
          audio_end: map.audioEnd,
          seek_index: JSON.stringify(map.seekIndex),
          duration_seconds: map.durationSeconds,
          hls_prefix: hls ? `${prefix}hls/` : null,
          hls_segments: hls ? JSON.stringify(hls.segments) : null,
          updated_at: this.now(),
        });
        for (const { playlist_id } of await repo.playlistsOfRendition(tx, renditionId))
          if (playlist_id) await this.deps.playlists.touch(playlist_id, tx);
      });
      ctx.logger.info(
        { event: 'ads.normalized', rendition_id: renditionId, duration_seconds: map.durationSeconds },
        'ad normalized',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A live mid-roll's normalized MP3 at the other sample rates, those that are ready (derived ids: no link rows). */
  async liveVariants(marker: {
    owner_id: string;
    source_upload_id: string | null;
    source_url: string | null;
    duration_seconds: number;
  }): Promise<LiveAdVariant[]> {
    const source = marker.source_upload_id ?? marker.source_url;
    if (!source) return [];
    const ids = LIVE_VARIANT_RATES.map((rate) => ({
      rate,
      id: renditionIdOf(marker.owner_id, source, liveVariantTarget(rate, marker.duration_seconds)),
    }));
    const rows = await repo.readyRenditions(
      this.deps.db,
      ids.map((v) => v.id),
    );
    return ids.flatMap(({ rate, id }) => {
      const key = rows.find((r) => r.id === id)?.mp3_key;
      return key ? [{ sampleRate: rate, mp3Key: key }] : [];
    });
  }

  async markFailed(renditionId: string, reason: string, logger: Logger): Promise<void> {
    await repo.updateRendition(this.deps.db, renditionId, { status: 'failed', reason, updated_at: this.now() });
    logger.warn({ event: 'ads.normalize_failed', rendition_id: renditionId, reason }, 'ad could not be normalized');
  }

  private async openSource(rendition: AdRenditionsTable, signal: AbortSignal): Promise<Readable> {
    if (rendition.source_upload_id) {
      const object = await this.deps.store.get(originalKey(rendition.source_upload_id));
      if (!object) throw new Error(`upload ${rendition.source_upload_id} has no stored audio`);
      return object.body;
    }
    // Through the guarded client: loopback and private addresses are refused unless allowed.
    const max = this.deps.sourceMaxBytes;
    const { body } = await fetchHttpRange(rendition.source_url!, 0, max - 1, {
      allowPrivate: this.deps.allowPrivateUrls,
      signal,
    });
    // An origin that ignores Range sends the whole file: stop at the limit all the same.
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (seen > max) return callback(new NormalizeError(`The ad source is larger than ${max} bytes.`));
        callback(null, chunk);
      },
    });
    body.on('error', (error) => cap.destroy(error));
    return body.pipe(cap);
  }

  // The playlists' port (PlaylistAdsPort)

  async breaks(playlistId: string): Promise<PlaylistAdBreak[]> {
    const rows = await repo.readyPlaylistBreaks(this.deps.db, playlistId);
    return rows.map((r) => ({
      markerId: r.marker_id,
      positionSeconds: r.position_seconds ?? 0,
      hlsPrefix: r.hls_prefix!,
      ad: {
        source: { kind: 'blob', key: r.mp3_key! },
        sourceId: r.marker_id,
        concat: {
          id: r.rendition_id,
          audioStart: r.audio_start!,
          audioLength: r.audio_end! - r.audio_start!,
          seekIndex: JSON.parse(r.seek_index!) as number[],
          durationSeconds: r.duration_seconds!,
        },
        segments: JSON.parse(r.hls_segments!) as HlsSegmentRef[],
      },
    }));
  }

  adFree(listenerId: string | null, ownerId: string): Promise<boolean> {
    return this.adFreePort(listenerId, ownerId);
  }

  impression(event: AdImpressionEvent): Promise<void> {
    return this.recordImpression(event).catch((error: unknown) =>
      this.deps.logger.error(
        { event: 'ads.impression_failed', marker_id: event.markerId, err: error },
        'could not record an ad impression',
      ),
    );
  }

  hlsAdSegment(event: AdHlsSegmentEvent): Promise<void> {
    return recordHlsAdSegment(this.deps.db, event, this.clock()).catch((error: unknown) =>
      this.deps.logger.error(
        { event: 'ads.impression_failed', marker_id: event.markerId, err: error },
        'could not record an HLS ad impression',
      ),
    );
  }

  private async recordImpression(e: AdImpressionEvent): Promise<void> {
    const now = this.now();
    if (e.event === 'started') {
      if (await repo.findImpression(this.deps.db, e.markerId, e.sessionId)) return;
      await repo.insertImpression(this.deps.db, {
        id: newId('adi'),
        marker_id: e.markerId,
        owner_id: e.ownerId,
        resource_id: e.playlistId,
        session_id: e.sessionId,
        listener_id: e.listenerId,
        started_at: now,
        completed_at: null,
      });
    } else {
      await repo.completeImpression(this.deps.db, e.markerId, e.sessionId, now);
    }
  }
}

function renditionIdOf(ownerId: string, source: string, target: AdTarget): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([ownerId, source, target]))
    .digest('hex');
  return `adr_${digest.slice(0, 32)}`;
}

function view(row: repo.MarkerRow): AdMarkerView {
  return {
    id: row.id,
    playlist_id: row.playlist_id,
    stream_id: row.stream_id,
    kind: row.kind,
    position_seconds: row.position_seconds,
    starts_at: row.starts_at,
    duration_seconds: row.duration_seconds,
    source: { upload_id: row.source_upload_id, url: row.source_url },
    status: row.status,
    reason: row.reason,
    created_at: row.created_at,
  };
}
