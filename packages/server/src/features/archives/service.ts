import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '@djcast/relay/blob';
import { runFfmpegTied } from '../../media/ffmpeg-run.js';
import type { Kysely, Transaction } from 'kysely';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { page } from '../../core/pagination.js';
import type { Principal } from '../../core/principal.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, StreamArchivesTable, StreamsTable, UploadsTable } from '../../db/tables.js';
import { emitEvent } from '../../events/emit.js';
import type { JobContext } from '../../jobs/definition.js';
import { enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import { probeAudio } from '../../media/ffprobe.js';
import type { FeedLiveItem } from '../podcasts/rss.js';
import type { PodcastsService } from '../podcasts/service.js';
import type { RelayState, RelaysService } from '../relays/service.js';
import type { StreamsService } from '../streams/service.js';
import type { UploadsService } from '../uploads/service.js';
import { JOIN_SET, MAKE_EPISODE, PURGE_FEED } from './jobs.js';
import { archivePrefix } from './keys.js';
import * as repo from './repository.js';
import type { ArchiveView } from './schemas.js';
import {
  buildJoinArgs,
  chaptersOf,
  concatScript,
  mp3BitrateFor,
  orderSegments,
  parseSegmentRecord,
  recordName,
  segmentName,
  type SegmentRecord,
} from './set-plan.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface ArchivesDeps {
  db: Kysely<Database>;
  store: BlobStore;
  streams: StreamsService;
  relays: RelaysService;
  podcasts: PodcastsService;
  uploads: UploadsService;
  jobs: Pick<JobQueue, 'wake'>;
  logger: Logger;
  /** Where FFmpeg joins a set (a temp folder per job, removed after). */
  workDir: string;
  /**
   * How long a set closed while the stream is still live waits before it is
   * joined: the relay learns the new set's prefix on its next heartbeat, and
   * a segment in flight may still land in the old one.
   */
  handoverMs: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  clock?: () => Date;
}

/** The sets a job may still change. */
const OPEN: StreamArchivesTable['status'][] = ['recording', 'processing'];

/**
 * Live sets become podcast episodes. A stream with `archive_to_podcast`
 * records each live period as an archive: the relay keeps every segment
 * (and the track titles it saw) under the archive's prefix while the
 * podcast's feed carries a podcast:liveItem; when the stream goes offline
 * (or the DJ asks), a job joins the segments into one MP3 at the source
 * bitrate, stores it as an upload, and, once the upload is ready, makes the
 * episode with chapters from the titles. Plugs into streams, relays,
 * uploads and podcasts through their hooks; none of them knows archives.
 */
export class ArchivesService {
  private readonly clock: () => Date;

  constructor(private readonly deps: ArchivesDeps) {
    this.clock = deps.clock ?? (() => new Date());
    deps.streams.useArchiveHooks({
      check: (principal, podcastId) => this.checkTarget(principal, podcastId),
      changed: (before, after) => this.settingsChanged(before, after),
    });
    deps.relays.onStreamStateChange((tx, streamId, state) => this.stateChanged(tx, streamId, state));
    deps.relays.extendReceipt(async (streamId) => ({ archive_prefix: await this.prefixFor(streamId) }));
    deps.podcasts.liveItemsFrom((db, podcastId) => this.liveItems(db, podcastId));
    deps.uploads.onFinished((tx, upload) => this.uploadFinished(tx, upload));
  }

  // -------------------------------------------------------------------------
  // Following the stream
  // -------------------------------------------------------------------------

  private async checkTarget(principal: Principal, podcastId: string): Promise<void> {
    try {
      await this.deps.podcasts.getOwned(principal, podcastId);
    } catch (error) {
      if (!(error instanceof NotFound) && !(error instanceof DomainError && error.code === 'not_owner')) throw error;
      throw new DomainError('unprocessable', `Podcast ${podcastId} is not one of yours.`, {
        errors: [{ path: 'archive_to_podcast', message: 'not found', code: 'not_found' }],
      });
    }
  }

  /** A stream was created with, or changed, its archive settings. */
  private async settingsChanged(before: StreamsTable | null, after: StreamsTable): Promise<void> {
    const touched = await this.deps.db.transaction().execute(async (tx) => {
      const podcasts = new Set<string>();
      const recording = await repo.findRecording(tx, after.id);
      const stream = (await repo.findStream(tx, after.id)) ?? after;
      if (recording && !stream.archive_to_podcast) {
        await this.discard(tx, recording, 'Archiving was turned off during the set.');
        podcasts.add(recording.podcast_id);
      } else if (recording && stream.archive_to_podcast) {
        await repo.updateArchive(tx, recording.id, {
          podcast_id: stream.archive_to_podcast,
          auto_publish: stream.archive_auto_publish,
          updated_at: nowIso(this.clock()),
        });
        podcasts.add(recording.podcast_id).add(stream.archive_to_podcast);
      } else if (stream.archive_to_podcast && (before === null || ['starting', 'live', 'reconnecting'].includes(stream.status))) {
        await this.startSet(tx, stream);
        podcasts.add(stream.archive_to_podcast);
      }
      for (const podcastId of podcasts) await this.feedChanged(tx, podcastId);
      return podcasts.size > 0;
    });
    if (touched) this.deps.jobs.wake();
  }

  /** In the transaction of a stream's state change (relay heartbeats). */
  private async stateChanged(tx: Transaction<Database>, streamId: string, state: RelayState): Promise<void> {
    const stream = await repo.findStream(tx, streamId);
    if (!stream) return;
    const recording = await repo.findRecording(tx, streamId);
    if (state === 'offline') {
      if (recording) await this.closeSet(tx, recording, 0);
      return;
    }
    if (!stream.archive_to_podcast) return;
    if (!recording) {
      await this.startSet(tx, stream);
      await this.feedChanged(tx, stream.archive_to_podcast);
      return;
    }
    if (state === 'live' && recording.started_at === recording.created_at) {
      // Recorded since the stream was registered (pending): the set starts when it goes live.
      const now = nowIso(this.clock());
      await repo.updateArchive(tx, recording.id, { started_at: now, updated_at: now });
    }
    if (state === 'live') await this.feedChanged(tx, recording.podcast_id);
  }

  private async startSet(tx: Q, stream: StreamsTable): Promise<StreamArchivesTable> {
    const now = this.clock();
    const row: StreamArchivesTable = {
      id: newId('arc'),
      stream_id: stream.id,
      owner_id: stream.owner_id,
      podcast_id: stream.archive_to_podcast!,
      status: 'recording',
      auto_publish: stream.archive_auto_publish,
      title: `${stream.name} (live ${now.toISOString().slice(0, 16).replace('T', ' ')} UTC)`.slice(0, 200),
      started_at: nowIso(now),
      ended_at: null,
      upload_id: null,
      episode_id: null,
      duration_seconds: null,
      bitrate_kbps: null,
      segment_count: null,
      chapters: null,
      failure_reason: null,
      created_at: nowIso(now),
      updated_at: nowIso(now),
    };
    await repo.insertArchive(tx, row);
    return row;
  }

  /** The set ends: the feed says so (liveItem ended) and the join job is queued, in one transaction. */
  private async closeSet(tx: Q, recording: StreamArchivesTable, delayMs: number): Promise<void> {
    const now = this.clock();
    const bitrate = await repo.sourceBitrate(tx, recording.stream_id);
    await repo.updateArchive(tx, recording.id, {
      status: 'processing',
      ended_at: nowIso(now),
      bitrate_kbps: mp3BitrateFor(bitrate),
      updated_at: nowIso(now),
    });
    await enqueue(
      tx,
      JOIN_SET,
      { archive_id: recording.id },
      { now, delayMs, ownerId: recording.owner_id, resourceId: recording.id },
    );
    await this.feedChanged(tx, recording.podcast_id);
  }

  private async discard(tx: Q, row: StreamArchivesTable, reason: string): Promise<void> {
    await repo.updateArchive(tx, row.id, { status: 'failed', failure_reason: reason, updated_at: nowIso(this.clock()) });
    await emitEvent(tx, {
      type: 'stream.archive_failed',
      ownerId: row.owner_id,
      object: this.view({ ...row, status: 'failed', failure_reason: reason }),
      now: this.clock(),
    });
    await enqueue(
      tx,
      PURGE_FEED,
      { podcast_id: row.podcast_id, remove_prefix: archivePrefix(row.stream_id, row.id) },
      { now: this.clock() },
    );
  }

  /** The podcast's stored feed is rebuilt in this transaction; the CDN is told by a job once it committed. */
  private async feedChanged(tx: Q, podcastId: string): Promise<void> {
    await this.deps.podcasts.rebuildFeedIn(tx, podcastId);
    await enqueue(tx, PURGE_FEED, { podcast_id: podcastId }, { now: this.clock() });
  }

  /** What the relay is told on each heartbeat: where to keep segments, or null. */
  private async prefixFor(streamId: string): Promise<string | null> {
    const recording = await repo.findRecording(this.deps.db, streamId);
    return recording ? archivePrefix(streamId, recording.id) : null;
  }

  /** podcast:liveItem for each set that is live (pending before the first audio) or ended but not yet an episode. */
  private async liveItems(db: Q, podcastId: string): Promise<FeedLiveItem[]> {
    const sets = await repo.openSetsOf(db, podcastId);
    return sets.map((s) => ({
      guid: `djcast-live-${s.id}`,
      title: s.title,
      status:
        s.status === 'processing'
          ? 'ended'
          : s.stream_status === 'live' || s.stream_status === 'reconnecting'
            ? 'live'
            : 'pending',
      start: new Date(s.started_at),
      end: s.ended_at ? new Date(s.ended_at) : null,
      streamUrl: this.deps.streams.playbackUrl(s.stream_id),
    }));
  }

  // -------------------------------------------------------------------------
  // The API
  // -------------------------------------------------------------------------

  /** `POST /v1/streams/{id}/archive`: ends the set being recorded now; a live stream goes on into a new one. */
  async archiveNow(principal: Principal, streamId: string): Promise<ArchiveView> {
    const stream = await this.deps.streams.getOwned(principal, streamId);
    if (!stream.archive_to_podcast) {
      throw new DomainError('unprocessable', 'This stream is not archived: set archive_to_podcast first.', {
        errors: [{ path: 'archive_to_podcast', message: 'not set', code: 'not_set' }],
      });
    }
    const closed = await this.deps.db.transaction().execute(async (tx) => {
      const recording = await repo.findRecording(tx, streamId);
      if (!recording) return null;
      const current = (await repo.findStream(tx, streamId)) ?? stream;
      const live = ['starting', 'live', 'reconnecting'].includes(current.status);
      await this.closeSet(tx, recording, live ? this.deps.handoverMs : 0);
      if (live && current.archive_to_podcast) await this.startSet(tx, current);
      return recording.id;
    });
    if (!closed) {
      throw new DomainError(
        'conflict',
        'Nothing is being recorded: the stream has not been live since its last set was archived.',
      );
    }
    this.deps.jobs.wake();
    return this.view((await repo.findArchive(this.deps.db, closed))!);
  }

  async list(principal: Principal, streamId: string, opts: { limit: number; starting_after?: string }) {
    await this.deps.streams.getOwned(principal, streamId);
    const rows = await repo.listArchives(this.deps.db, streamId, { startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.view(r)) };
  }

  view(row: StreamArchivesTable): ArchiveView {
    return {
      id: row.id,
      stream_id: row.stream_id,
      podcast_id: row.podcast_id,
      status: row.status,
      title: row.title,
      auto_publish: row.auto_publish === 1,
      started_at: row.started_at,
      ended_at: row.ended_at,
      upload_id: row.upload_id,
      episode_id: row.episode_id,
      duration_seconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
      bitrate_kbps: row.bitrate_kbps,
      segment_count: row.segment_count,
      chapters: row.chapters ? (JSON.parse(row.chapters) as { start_time: number; title: string }[]) : null,
      failure_reason: row.failure_reason,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  // -------------------------------------------------------------------------
  // Jobs
  // -------------------------------------------------------------------------

  /** JOIN_SET: the kept segments, in order, into one MP3 stored as an upload of the DJ's. */
  async joinSet(archiveId: string, ctx: JobContext): Promise<void> {
    const row = await repo.findArchive(this.deps.db, archiveId);
    if (!row || row.status !== 'processing' || row.upload_id) return; // gone, settled, or waiting for its upload
    const prefix = archivePrefix(row.stream_id, row.id);
    const keys = await this.deps.store.list(prefix);
    const present = new Set(keys);
    const records: SegmentRecord[] = [];
    for (const key of keys.filter((k) => k.endsWith('.json'))) {
      const object = await this.deps.store.get(key);
      const record = object ? parseSegmentRecord(await text(object.body)) : null;
      if (record && present.has(prefix + segmentName(record.msn)) && key === prefix + recordName(record.msn))
        records.push(record);
    }
    const segments = orderSegments(records);
    const log = ctx.logger.child({ archive_id: row.id, stream_id: row.stream_id });
    if (segments.length === 0) {
      await this.deps.db.transaction().execute(async (tx) => {
        await repo.updateArchive(tx, row.id, { status: 'empty', segment_count: 0, updated_at: nowIso(this.clock()) });
        await this.feedChanged(tx, row.podcast_id);
      });
      await this.deps.store.deletePrefix(prefix);
      log.info({ event: 'archive.empty' }, 'the set kept no audio; nothing to archive');
      return;
    }

    await mkdir(this.deps.workDir, { recursive: true });
    const dir = await mkdtemp(path.join(this.deps.workDir, `${row.id}-`));
    try {
      for (const s of segments) {
        const object = await this.deps.store.get(prefix + segmentName(s.msn));
        if (!object) throw new Error(`segment ${s.msn} of ${row.id} vanished from storage`);
        await pipeline(object.body, createWriteStream(path.join(dir, segmentName(s.msn))), { signal: ctx.signal });
      }
      const concatFile = path.join(dir, 'set.ffconcat');
      await writeFile(concatFile, concatScript(segments.map((s) => ({ path: segmentName(s.msn), duration: s.duration }))));
      const output = path.join(dir, 'set.mp3');
      const bitrate = row.bitrate_kbps ?? 128;
      // From files, with no stdin to tie it to this worker: runFfmpegTied has the kernel end it if the worker dies.
      await runFfmpegTied(buildJoinArgs({ concatFile, output, bitrateKbps: bitrate }), {
        signal: ctx.signal,
        ...(this.deps.ffmpegPath ? { ffmpegPath: this.deps.ffmpegPath } : {}),
      });
      const probe = await probeAudio(output, { ...(this.deps.ffprobePath ? { ffprobePath: this.deps.ffprobePath } : {}) });
      const chapters = chaptersOf(segments);
      const upload = await this.deps.uploads.create(principalOf(row.owner_id), {
        stream: createReadStream(output),
        filename: `${row.id}.mp3`,
        title: row.title,
        signal: ctx.signal,
      });
      await repo.updateArchive(this.deps.db, row.id, {
        upload_id: upload.id,
        duration_seconds: probe.durationSeconds,
        segment_count: segments.length,
        chapters: JSON.stringify(chapters),
        updated_at: nowIso(this.clock()),
      });
      log.info(
        { event: 'archive.joined', upload_id: upload.id, segments: segments.length, duration_seconds: probe.durationSeconds },
        'live set joined into one MP3',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** In the transaction that settles an upload: an archive's MP3 is ready (make the episode) or not (the set failed). */
  private async uploadFinished(tx: Transaction<Database>, upload: UploadsTable): Promise<void> {
    const row = await repo.findByUpload(tx, upload.id);
    if (!row || row.status !== 'processing') return;
    if (upload.status === 'ready') {
      await enqueue(tx, MAKE_EPISODE, { archive_id: row.id }, { now: this.clock(), ownerId: row.owner_id, resourceId: row.id });
      return;
    }
    await this.fail(tx, row, `The joined MP3 was ${upload.status}: ${upload.status_reason ?? 'no reason given'}`);
  }

  /** MAKE_EPISODE: the draft (or published) episode from the joined MP3, then the kept segments go. */
  async makeEpisode(archiveId: string, ctx: JobContext): Promise<void> {
    const row = await repo.findArchive(this.deps.db, archiveId);
    if (!row || row.status !== 'processing' || !row.upload_id) return;
    const chapters = row.chapters ? (JSON.parse(row.chapters) as { start_time: number; title: string }[]) : [];
    const episode = await this.deps.podcasts.createEpisode(principalOf(row.owner_id), row.podcast_id, {
      title: row.title,
      description: `Recorded live on ${row.started_at.slice(0, 10)}.`,
      upload_id: row.upload_id,
      draft: row.auto_publish !== 1,
      duration_seconds: row.duration_seconds === null ? null : Number(row.duration_seconds),
      episode_type: 'full',
      chapters: chapters.length > 0 ? chapters.slice(0, 500) : null,
    });
    await this.deps.db.transaction().execute(async (tx) => {
      const now = this.clock();
      await repo.updateArchive(tx, row.id, { status: 'done', episode_id: episode.id, updated_at: nowIso(now) });
      const done = await repo.findArchive(tx, row.id);
      await emitEvent(tx, { type: 'stream.archived', ownerId: row.owner_id, object: this.view(done!), now });
      await this.feedChanged(tx, row.podcast_id);
    });
    this.deps.jobs.wake();
    await this.deps.store.deletePrefix(archivePrefix(row.stream_id, row.id));
    ctx.logger.info({ event: 'archive.done', archive_id: row.id, episode_id: episode.id }, 'live set archived as an episode');
  }

  /** A job gave up (or the joined MP3 was refused): the set failed, its segments go, its liveItem leaves the feed. */
  async failById(archiveId: string, reason: string): Promise<void> {
    await this.deps.db.transaction().execute(async (tx) => {
      const row = await repo.findArchive(tx, archiveId);
      if (row && OPEN.includes(row.status)) await this.fail(tx, row, reason);
    });
    this.deps.jobs.wake();
  }

  private async fail(tx: Q, row: StreamArchivesTable, reason: string): Promise<void> {
    await this.discard(tx, row, reason.slice(0, 500));
    await this.deps.podcasts.rebuildFeedIn(tx, row.podcast_id);
  }

  /** PURGE_FEED: after the feed change committed. */
  async purgeFeed(podcastId: string, removePrefix: string | undefined): Promise<void> {
    if (removePrefix) await this.deps.store.deletePrefix(removePrefix);
    await this.deps.podcasts.purgeFeed(podcastId);
  }
}

/** The DJ, for the work done on their behalf (the upload and the episode are theirs). */
function principalOf(userId: string): Principal {
  return { userId, role: 'dj', scopes: new Set(), via: 'jwt' };
}

async function text(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
