import { createWriteStream } from 'node:fs';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely, Transaction } from 'kysely';
import type { Transcoder } from '../../adapters/transcoder/types.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, PlaylistItemsTable, PlaylistsTable } from '../../db/tables.js';
import { DomainError, NotFound, type ErrorCode, type FieldError } from '../../core/errors.js';
import { page } from '../../core/pagination.js';
import { newId } from '../../core/ids.js';
import type { JobContext } from '../../jobs/definition.js';
import { cancelJobsOf, enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import { withInternalDetail } from '../../net/outbound.js';
import { probeAudio } from '../../media/ffprobe.js';
import { findAudioRange, NotMp3Error } from '../../media/mp3.js';
import type { PlaylistAdsPort } from './ads-port.js';
import type { ConcatTrackInput } from '../../media/mp3-concat.js';
import { fetchHttpRange, type OriginFingerprint, type TrackSource } from '../../media/track-sources.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import { makeWorkDir, publishHlsRendition } from '../../media/rendition.js';
import type { ArtworkPort } from '../artworks/service.js';
import type { UploadsService, UploadTrack } from '../uploads/service.js';
import { ExternalUrlError, type ExternalCheck, type ExternalCheckOptions } from './external-url.js';
import { buildPlaylistManifest, type HlsSegmentRef } from '../../media/hls-manifest.js';
import { FETCH_EXTERNAL_TRACK, type ExternalTrackJobPayload } from './jobs.js';
import { embedSnippet, pageUrl } from '../pages/urls.js';
import * as repo from './repository.js';
import { emitEvent } from '../../events/emit.js';
import type { PlaylistItemView, PlaylistView } from './schemas.js';

/** The views are the routes' response types, inferred from the schemas. */
export type { PlaylistItemView, PlaylistView };

export type ItemInput = { upload_id: string } | { url: string };

export interface CreatePlaylistInput {
  title: string;
  visibility: 'public' | 'private';
  monetization_enabled: boolean;
  items: ItemInput[];
  /** artworks.id; null (update) removes it. */
  artwork_id?: string | null | undefined;
}

export type UpdatePlaylistInput = Partial<CreatePlaylistInput>;

/** One playable track of a playlist, whatever it came from. */
export interface PlaybackTrack {
  /** upl_… or trk_…: the folder segments are served from. */
  sourceId: string;
  source: TrackSource;
  hlsPrefix: string;
  segments: HlsSegmentRef[];
  concat: ConcatTrackInput;
}

/** Everything the public playback routes need, read in one go. */
export interface PlaylistPlayback {
  resource: { id: string; ownerId: string; visibility: 'public' | 'private'; monetized: boolean };
  contentVersion: number;
  contentUpdatedAt: Date;
  manifest: string | null;
  /** External tracks still being fetched; playback waits for them. */
  pending: string[];
  /** Tracks that could not be fetched; left out of playback. */
  omitted: string[];
  tracks: PlaybackTrack[];
}

export interface PlaylistsDeps {
  db: Kysely<Database>;
  store: BlobStore;
  uploads: UploadsService;
  transcoder: Transcoder;
  logger: Logger;
  publicUrl: string;
  /** Wakes local workers after a job was enqueued or cancelled. */
  jobs: Pick<JobQueue, 'wake'>;
  checkUrl: (url: string, options: ExternalCheckOptions) => Promise<ExternalCheck>;
  allowPrivateUrls: boolean;
  externalMaxBytes: number;
  /** Checks and serves `artwork_id` (the artworks feature). */
  artworks: ArtworkPort;
  workDir?: string;
  clock?: () => Date;
}

/** Item ids share the time-sortable id format under their own prefix. */
const newTrackId = () => newId('trk');

export const externalHlsPrefix = (playlistId: string, trackId: string) => `playlists/${playlistId}/tracks/${trackId}/hls/`;

export class PlaylistsService {
  private readonly clock: () => Date;
  private adsPort: PlaylistAdsPort | null = null;

  constructor(private readonly deps: PlaylistsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async create(principal: Principal, input: CreatePlaylistInput): Promise<PlaylistView> {
    await this.deps.artworks.assertUsable(principal, input.artwork_id);
    const now = nowIso(this.clock());
    const id = newId('pls');
    const { rows, fresh } = await this.resolveItems(principal, id, input.items, []);
    const playlist: PlaylistsTable = {
      id,
      owner_id: principal.userId,
      title: input.title,
      visibility: input.visibility,
      monetization_enabled: input.monetization_enabled ? 1 : 0,
      content_version: 1,
      content_updated_at: now,
      manifest: null,
      artwork_id: input.artwork_id ?? null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.insertPlaylist(tx, playlist);
      await repo.replaceItems(tx, id, rows);
      await this.enqueueExternal(tx, principal.userId, fresh);
      await this.rebuildIn(tx, id, { bump: false });
      // Only uploads (or nothing) to wait for: ready at once.
      if (fresh.length === 0) await this.emitIn(tx, id, 'playlist.ready');
    });
    this.deps.jobs.wake();
    return this.get(principal, id);
  }

  async list(principal: Principal, opts: { limit: number; starting_after?: string }) {
    const ownerId = isAdmin(principal) ? undefined : principal.userId;
    const rows = await repo.listPlaylists(this.deps.db, { ownerId, startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    const items = await repo.itemsOfMany(
      this.deps.db,
      result.data.map((p) => p.id),
    );
    const uploads = await this.deps.uploads.tracks(items.flatMap((i) => (i.upload_id ? [i.upload_id] : [])));
    return {
      ...result,
      data: result.data.map((p) =>
        this.view(
          p,
          items.filter((i) => i.playlist_id === p.id),
          uploads,
        ),
      ),
    };
  }

  async getOwned(principal: Principal, id: string): Promise<PlaylistsTable> {
    const row = await repo.findPlaylist(this.deps.db, id);
    if (!row) throw new NotFound('Playlist', id);
    assertCanAccess(principal, row.owner_id, 'playlist');
    return row;
  }

  async get(principal: Principal, id: string): Promise<PlaylistView> {
    const row = await this.getOwned(principal, id);
    const items = await repo.itemsOf(this.deps.db, id);
    const uploads = await this.deps.uploads.tracks(items.flatMap((i) => (i.upload_id ? [i.upload_id] : [])));
    return this.view(row, items, uploads);
  }

  /** The playlist as its public page shows it: no ownership check (the page decides what a visitor sees), 404 when missing. */
  async findViewable(id: string): Promise<PlaylistView> {
    const row = await repo.findPlaylist(this.deps.db, id);
    if (!row) throw new NotFound('Playlist', id);
    const items = await repo.itemsOf(this.deps.db, id);
    const uploads = await this.deps.uploads.tracks(items.flatMap((i) => (i.upload_id ? [i.upload_id] : [])));
    return this.view(row, items, uploads);
  }

  async update(principal: Principal, id: string, input: UpdatePlaylistInput): Promise<PlaylistView> {
    const row = await this.getOwned(principal, id);
    await this.deps.artworks.assertUsable(principal, input.artwork_id);
    const patch: Partial<PlaylistsTable> = { updated_at: nowIso(this.clock()) };
    if (input.artwork_id !== undefined) patch.artwork_id = input.artwork_id;
    if (input.title !== undefined) patch.title = input.title;
    if (input.visibility !== undefined) patch.visibility = input.visibility;
    if (input.monetization_enabled !== undefined) patch.monetization_enabled = input.monetization_enabled ? 1 : 0;
    let removed: PlaylistItemsTable[] = [];
    let fresh: string[] = [];
    let rows: PlaylistItemsTable[] | null = null;
    if (input.items) {
      const existing = await repo.itemsOf(this.deps.db, id);
      const resolved = await this.resolveItems(principal, row.id, input.items, existing);
      fresh = resolved.fresh;
      rows = resolved.rows;
      const kept = new Set(rows.map((r) => r.id));
      removed = existing.filter((e) => !kept.has(e.id));
    }
    // Who may listen is part of what a cached response means: move the version on for that too.
    const accessChanged =
      (input.visibility !== undefined && input.visibility !== row.visibility) ||
      (input.monetization_enabled !== undefined && (input.monetization_enabled ? 1 : 0) !== row.monetization_enabled);
    // One transaction: the items, the manifest and the content version change together,
    // so no reader sees new items under the old version (and its cached ETag).
    await this.deps.db.transaction().execute(async (tx) => {
      if (rows) await repo.replaceItems(tx, id, rows);
      await repo.updatePlaylist(tx, id, patch);
      for (const item of removed) await cancelJobsOf(tx, item.id, this.clock());
      await this.enqueueExternal(tx, row.owner_id, fresh);
      if (rows || accessChanged) await this.rebuildIn(tx, id, { bump: true });
    });
    if (fresh.length > 0 || removed.length > 0) this.deps.jobs.wake();
    for (const item of removed) {
      if (item.url) await this.deps.store.deletePrefix(`playlists/${id}/tracks/${item.id}/`).catch(() => {});
    }
    return this.get(principal, id);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.getOwned(principal, id);
    const items = await repo.itemsOf(this.deps.db, id);
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.deletePlaylist(tx, id);
      for (const item of items) if (item.url) await cancelJobsOf(tx, item.id, this.clock());
    });
    this.deps.jobs.wake();
    await this.deps.store.deletePrefix(`playlists/${id}/`).catch((error: unknown) => {
      this.deps.logger.warn(
        { event: 'playlist.blob_cleanup_failed', playlist_id: id, err: error },
        'could not delete playlist media',
      );
    });
  }

  playlistsUsingUpload(uploadId: string): Promise<string[]> {
    return repo.playlistsWithUpload(this.deps.db, uploadId);
  }

  /** For the public routes: null when the playlist does not exist. */
  async playback(id: string, db: Kysely<Database> | Transaction<Database> = this.deps.db): Promise<PlaylistPlayback | null> {
    const row = await repo.findPlaylist(db, id);
    if (!row) return null;
    const items = await repo.itemsOf(db, id);
    const uploads = await this.deps.uploads.tracks(
      items.flatMap((i) => (i.upload_id ? [i.upload_id] : [])),
      db,
    );
    const tracks: PlaybackTrack[] = [];
    const pending: string[] = [];
    const omitted: string[] = [];
    for (const item of items) {
      const track = this.playbackTrack(row.id, item, uploads);
      if (track === 'pending') pending.push(item.id);
      else if (track === 'omitted') omitted.push(item.id);
      else tracks.push(track);
    }
    return {
      resource: { id: row.id, ownerId: row.owner_id, visibility: row.visibility, monetized: row.monetization_enabled === 1 },
      contentVersion: row.content_version,
      contentUpdatedAt: new Date(row.content_updated_at),
      manifest: row.manifest,
      pending,
      omitted,
      tracks,
    };
  }

  /** The job for an external track: fetch it (guarded), map its MP3 frames, segment it, publish, rebuild the manifest. */
  async processExternalTrack(payload: ExternalTrackJobPayload, ctx: JobContext): Promise<void> {
    const { db, store } = this.deps;
    const item = await repo.findItem(db, payload.track_id);
    if (!item || !item.url || item.status !== 'pending') return; // removed from the playlist, or done already
    const log = ctx.logger.child({ track_id: item.id, playlist_id: item.playlist_id });
    const dir = await makeWorkDir(this.deps.workDir, 'ext');
    try {
      const file = path.join(dir, 'source.mp3');
      const origin = await this.download(item.url, file, ctx.signal);
      const map = await findAudioRange(file);
      if (origin.size !== null && origin.size !== map.fileSize) {
        throw new Error(`the download ended after ${map.fileSize} of ${origin.size} bytes`);
      }
      const probe = await probeAudio(file, { signal: ctx.signal });
      if (probe.codec !== 'mp3') throw new NotMp3Error('foreign_format', `it holds ${probe.codec} audio`);
      const rendition = await publishHlsRendition(this.deps.transcoder, store, {
        input: createReadStream(file),
        prefix: externalHlsPrefix(item.playlist_id, item.id),
        durationSeconds: map.durationSeconds,
        signal: ctx.signal,
        workDir: dir,
      });
      if (!(await repo.findItem(db, item.id))) {
        // Removed from its playlist (or the playlist deleted) while this ran: drop what was just published.
        await store.deletePrefix(`playlists/${item.playlist_id}/tracks/${item.id}/`);
        return;
      }
      const ready = {
        status: 'ready' as const,
        status_reason: null,
        size_bytes: map.fileSize,
        duration_seconds: map.durationSeconds,
        bitrate_kbps: probe.bitrateKbps ?? map.bitrateKbps,
        sample_rate: probe.sampleRate,
        audio_start: map.audioStart,
        audio_end: map.audioEnd,
        seek_index: JSON.stringify(map.seekIndex),
        hls_segments: JSON.stringify(rendition.segments),
        hls_target_duration: rendition.targetDuration,
        // The version these offsets describe; stream.mp3 checks every later ranged fetch against it.
        source_etag: origin.etag,
        source_last_modified: origin.lastModified,
        updated_at: nowIso(this.clock()),
      };
      // The item and the manifest that lists it change together: a reader never sees a ready
      // track missing from the manifest (or the manifest under the old content version).
      await db.transaction().execute(async (tx) => {
        await repo.updateItem(tx, item.id, ready);
        await this.rebuildIn(tx, item.playlist_id, { bump: true });
        await this.emitIn(tx, item.playlist_id, 'playlist.ready', { onlyWhenSettled: true });
      });
      this.deps.jobs.wake();
      log.info({ event: 'playlist.external_track_ready', duration_seconds: map.durationSeconds }, 'external track ready');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The job gave up on an external track: the item says why, and playback leaves it out. */
  async markExternalTrackFailed(trackId: string, reason: string, error: unknown, logger: Logger): Promise<void> {
    const item = await repo.findItem(this.deps.db, trackId);
    if (!item || item.status !== 'pending') return;
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updateItem(tx, trackId, { status: 'failed', status_reason: reason, updated_at: nowIso(this.clock()) });
      await this.rebuildIn(tx, item.playlist_id, { bump: true });
      await this.emitIn(tx, item.playlist_id, 'playlist.item_failed');
      // The last pending track failed: nothing is left to wait for.
      await this.emitIn(tx, item.playlist_id, 'playlist.ready', { onlyWhenSettled: true });
    });
    this.deps.jobs.wake();
    logger.warn(
      { event: 'playlist.external_track_failed', track_id: trackId, playlist_id: item.playlist_id, err: error },
      'external track failed',
    );
  }

  /**
   * stream.mp3 found that an external track's file changed after it was
   * mapped (TrackChangedError): its recorded offsets no longer apply. The
   * item is marked failed with the reason, so playback leaves it out (HLS
   * too: the playlist stays consistent) and the content version moves on;
   * putting the URL in the playlist again fetches and maps the new file.
   * It is not re-fetched by itself: an origin whose validators change on
   * every request (per-node ETags behind a load balancer) would otherwise
   * loop through re-fetches, each making the playlist answer 503. Only the
   * first caller for a ready item does anything; returns whether it did.
   */
  async externalTrackChanged(playlistId: string, trackId: string, reason: string): Promise<boolean> {
    const now = nowIso(this.clock());
    const marked = await this.deps.db.transaction().execute(async (tx) => {
      const failed = await repo.failReadyExternalItem(tx, playlistId, trackId, {
        status_reason: `The file changed after it was added to the playlist: ${reason}. Add the URL again to use the new file.`,
        updated_at: now,
      });
      if (failed) {
        await this.rebuildIn(tx, playlistId, { bump: true });
        await this.emitIn(tx, playlistId, 'playlist.item_failed');
      }
      return failed;
    });
    if (!marked) return false;
    this.deps.logger.warn(
      { event: 'playlist.external_track_changed', playlist_id: playlistId, track_id: trackId, reason },
      'external track changed at its origin',
    );
    return true;
  }

  /**
   * Emits a playlist event in the caller's transaction, with the playlist as
   * the API returns it (read in that transaction). `onlyWhenSettled`: only if
   * no track is pending any more.
   */
  private async emitIn(
    tx: Transaction<Database>,
    playlistId: string,
    type: 'playlist.ready' | 'playlist.item_failed',
    opts: { onlyWhenSettled?: boolean } = {},
  ): Promise<void> {
    const row = await repo.findPlaylist(tx, playlistId);
    if (!row) return;
    const items = await repo.itemsOf(tx, playlistId);
    if (opts.onlyWhenSettled && items.some((i) => i.status === 'pending')) return;
    const uploads = await this.deps.uploads.tracks(
      items.flatMap((i) => (i.upload_id ? [i.upload_id] : [])),
      tx,
    );
    await emitEvent(tx, { type, ownerId: row.owner_id, object: this.view(row, items, uploads), now: this.clock() });
  }

  /** Plugs in ad insertion (the ads module calls this); without it playback has no ads. */
  useAds(port: PlaylistAdsPort): void {
    this.adsPort = port;
  }

  get ads(): PlaylistAdsPort | null {
    return this.adsPort;
  }

  /** Moves the content version on (what the playlist plays changed elsewhere, e.g. its ads): caches and ETags follow. */
  touch(playlistId: string, db: Kysely<Database> | Transaction<Database> = this.deps.db): Promise<unknown> {
    return repo.bumpContentVersion(db, playlistId, { content_updated_at: nowIso(this.clock()) });
  }

  /** Rebuilds the stored HLS manifest on its own (for repairs and tests); changes in this file use rebuildIn. */
  rebuild(playlistId: string, opts: { bump: boolean }): Promise<void> {
    return this.deps.db.transaction().execute((tx) => this.rebuildIn(tx, playlistId, opts));
  }

  /**
   * Rebuilds the stored HLS manifest from the ready tracks; `bump` moves the
   * content version on. Runs in the transaction of the change that calls for
   * it, so the manifest never lags the items it lists.
   */
  private async rebuildIn(tx: Transaction<Database>, playlistId: string, opts: { bump: boolean }): Promise<void> {
    const playback = await this.playback(playlistId, tx);
    if (!playback) return;
    const manifest = buildPlaylistManifest(playback.tracks.map((t) => ({ base: `hls/${t.sourceId}/`, segments: t.segments })));
    const now = nowIso(this.clock());
    if (opts.bump) await repo.bumpContentVersion(tx, playlistId, { manifest, content_updated_at: now });
    else await repo.updatePlaylist(tx, playlistId, { manifest });
  }

  /** The blob key of one HLS segment of a playlist, or null when the source is not part of it. */
  async segmentKey(playlistId: string, sourceId: string, file: string, playback?: PlaylistPlayback): Promise<string | null> {
    const info = playback ?? (await this.playback(playlistId));
    const track = info?.tracks.find((t) => t.sourceId === sourceId);
    return track ? `${track.hlsPrefix}${file}` : null;
  }

  private playbackTrack(
    playlistId: string,
    item: PlaylistItemsTable,
    uploads: Map<string, UploadTrack>,
  ): PlaybackTrack | 'pending' | 'omitted' {
    if (item.upload_id) {
      const u = uploads.get(item.upload_id);
      if (!u || u.status !== 'ready') return 'omitted';
      return {
        sourceId: u.id,
        source: { kind: 'blob', key: u.originalKey },
        hlsPrefix: u.hlsPrefix,
        concat: {
          id: u.id,
          audioStart: u.audioStart,
          audioLength: u.audioEnd - u.audioStart,
          seekIndex: u.seekIndex,
          ...(u.durationSeconds !== null ? { durationSeconds: u.durationSeconds } : {}),
        },
        segments: u.segments,
      };
    }
    if (item.status === 'pending') return 'pending';
    if (item.status === 'failed' || item.audio_start === null || item.audio_end === null) return 'omitted';
    const origin: OriginFingerprint = { etag: item.source_etag, lastModified: item.source_last_modified, size: item.size_bytes };
    return {
      sourceId: item.id,
      source: { kind: 'url', url: item.url!, origin },
      hlsPrefix: externalHlsPrefix(playlistId, item.id),
      concat: {
        id: item.id,
        audioStart: item.audio_start,
        audioLength: item.audio_end - item.audio_start,
        seekIndex: item.seek_index ? (JSON.parse(item.seek_index) as number[]) : [],
        ...(item.duration_seconds !== null ? { durationSeconds: item.duration_seconds } : {}),
      },
      segments: item.hls_segments ? (JSON.parse(item.hls_segments) as HlsSegmentRef[]) : [],
    };
  }

  /**
   * Validates the requested items and turns them into rows. Uploads must be
   * the caller's own and ready; URLs are checked over the network (in
   * parallel) unless the playlist already holds them. Every bad item is
   * reported at once, each under its `items.<i>.…` path.
   */
  private async resolveItems(
    principal: Principal,
    playlistId: string,
    items: ItemInput[],
    existing: PlaylistItemsTable[],
  ): Promise<{ rows: PlaylistItemsTable[]; fresh: string[] }> {
    const now = nowIso(this.clock());
    const errors: (FieldError & { code: ErrorCode })[] = [];
    const internal: string[] = [];
    const uploadIds = items.flatMap((i) => ('upload_id' in i ? [i.upload_id] : []));
    const uploads = await this.deps.uploads.tracks(uploadIds);
    const reusable = existing.filter((e) => e.url && e.status !== 'failed');
    const reusableUploads = existing.filter((e) => e.upload_id);
    const fresh: string[] = [];
    const rows = await Promise.all(
      items.map(async (input, position): Promise<PlaylistItemsTable | null> => {
        const base = { playlist_id: playlistId, position, updated_at: now };
        if ('upload_id' in input) {
          const u = uploads.get(input.upload_id);
          const fail = (message: string, code: ErrorCode = 'unprocessable') => {
            errors.push({ path: `items.${position}.upload_id`, message, code });
            return null;
          };
          if (!u) return fail(`upload ${input.upload_id} does not exist`);
          if (u.ownerId !== principal.userId) return fail(`upload ${input.upload_id} is not yours`);
          if (u.status !== 'ready') return fail(`upload ${input.upload_id} is ${u.status}, not ready`);
          const again = takeFirst(reusableUploads, (e) => e.upload_id === u.id);
          return { ...emptyItem(again?.id ?? newTrackId(), now), ...base, upload_id: u.id, status: 'ready' };
        }
        const again = takeFirst(reusable, (e) => e.url === input.url);
        if (again) return { ...again, ...base };
        try {
          const check = await this.deps.checkUrl(input.url, {
            allowPrivate: this.deps.allowPrivateUrls,
            maxBytes: this.deps.externalMaxBytes,
          });
          const id = newTrackId();
          fresh.push(id);
          return {
            ...emptyItem(id, now),
            ...base,
            url: input.url,
            content_type: check.contentType,
            size_bytes: check.sizeBytes,
            status: 'pending',
          };
        } catch (error) {
          if (!(error instanceof ExternalUrlError)) throw error;
          errors.push({ path: `items.${position}.url`, message: error.message, code: error.code });
          if (error.internalDetail) internal.push(`items.${position}.url: ${error.internalDetail}`);
          return null;
        }
      }),
    );
    if (errors.length > 0) {
      errors.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
      const first = errors[0]!;
      const problem = new DomainError(first.code, errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
      throw internal.length > 0 ? withInternalDetail(problem, internal.join('; ')) : problem;
    }
    return { rows: rows as PlaylistItemsTable[], fresh };
  }

  private async enqueueExternal(tx: Transaction<Database>, ownerId: string, trackIds: string[]): Promise<void> {
    for (const id of trackIds)
      await enqueue(tx, FETCH_EXTERNAL_TRACK, { track_id: id }, { ownerId, resourceId: id, now: this.clock() });
  }

  /**
   * Downloads an external file to disk through the address guard, capped at
   * the configured size; returns what the origin said identifies that file.
   */
  private async download(url: string, file: string, signal: AbortSignal): Promise<OriginFingerprint> {
    const max = this.deps.externalMaxBytes;
    const { body, origin } = await fetchHttpRange(url, 0, max - 1, { allowPrivate: this.deps.allowPrivateUrls, signal });
    if (origin.size !== null && origin.size > max) {
      body.destroy();
      throw new ExternalUrlError(
        'unprocessable',
        `The file is ${origin.size} bytes; external tracks are limited to ${max} bytes.`,
      );
    }
    let seen = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (seen > max) return callback(new ExternalUrlError('unprocessable', `The file is larger than ${max} bytes.`));
        callback(null, chunk);
      },
    });
    await pipeline(body, cap, createWriteStream(file), { signal });
    return origin;
  }

  private view(row: PlaylistsTable, items: PlaylistItemsTable[], uploads: Map<string, UploadTrack>): PlaylistView {
    const views = items.map((i): PlaylistItemView => {
      const u = i.upload_id ? uploads.get(i.upload_id) : undefined;
      const duration = u ? u.durationSeconds : i.duration_seconds;
      return {
        id: i.id,
        position: i.position,
        kind: i.upload_id ? 'upload' : 'external',
        upload_id: i.upload_id,
        url: i.url,
        title: u?.title ?? (i.url ? decodeURIComponent(new URL(i.url).pathname.split('/').pop() || '') || null : null),
        status: i.upload_id ? (u?.status === 'ready' ? 'ready' : 'failed') : i.status,
        reason: i.status_reason,
        duration_seconds: duration === null ? null : Math.round(duration * 1000) / 1000,
      };
    });
    const total = views.reduce((sum, v) => sum + (v.status === 'ready' ? (v.duration_seconds ?? 0) : 0), 0);
    const base = `${this.deps.publicUrl}/playlists/${row.id}`;
    return {
      id: row.id,
      owner_id: row.owner_id,
      title: row.title,
      visibility: row.visibility,
      monetization_enabled: row.monetization_enabled === 1,
      status: views.some((v) => v.status === 'pending') ? 'processing' : 'ready',
      content_version: row.content_version,
      duration_seconds: Math.round(total * 1000) / 1000,
      items: views,
      stream_m3u8_url: `${base}/stream.m3u8`,
      stream_mp3_url: `${base}/stream.mp3`,
      page_url: pageUrl(this.deps.publicUrl, 'playlist', row.id),
      artwork_id: row.artwork_id,
      artwork_url: this.deps.artworks.url(row.artwork_id),
      embed_html: embedSnippet(this.deps.publicUrl, 'playlist', row.id, row.title),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }
}

function takeFirst<T>(list: T[], match: (t: T) => boolean): T | undefined {
  const i = list.findIndex(match);
  return i < 0 ? undefined : list.splice(i, 1)[0];
}

function emptyItem(id: string, now: string): PlaylistItemsTable {
  return {
    id,
    playlist_id: '',
    position: 0,
    upload_id: null,
    url: null,
    status: 'pending',
    status_reason: null,
    content_type: null,
    size_bytes: null,
    duration_seconds: null,
    bitrate_kbps: null,
    sample_rate: null,
    audio_start: null,
    audio_end: null,
    seek_index: null,
    hls_segments: null,
    hls_target_duration: null,
    source_etag: null,
    source_last_modified: null,
    created_at: now,
    updated_at: now,
  };
}
