import { Transform, pipeline, type Readable } from 'node:stream';
import { LocalBlobStore, type BlobStore } from '@djcast/relay/blob';
import type { Kysely, Transaction } from 'kysely';
import type { Scanner } from '../../adapters/scanner/types.js';
import type { Transcoder } from '../../adapters/transcoder/types.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, UploadsTable } from '../../db/tables.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { page } from '../../core/pagination.js';
import { newId } from '../../core/ids.js';
import type { JobContext } from '../../jobs/definition.js';
import { cancelJobsOf, enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import {
  probeAudio,
  ProbeError,
  startStreamProbe,
  type AudioProbe,
  type ProbeOptions,
  type StreamProbe,
} from '../../media/ffprobe.js';
import { Mp3Analyzer, NotMp3Error, type Mp3AudioInfo } from '../../media/mp3.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import type { HlsSegmentRef } from '../../media/hls-manifest.js';
import { originalKey, uploadHlsPrefix, uploadPrefix } from './keys.js';
import { publishHlsRendition } from '../../media/rendition.js';
import { PROCESS_UPLOAD, type UploadJobPayload } from './jobs.js';
import { emitEvent } from '../../events/emit.js';
import * as repo from './repository.js';
import type { UploadView } from './schemas.js';

/** The views are the routes' response types, inferred from the schemas. */
export type { UploadView };

export type UploadStatus = UploadsTable['status'];

/** What a playlist needs of an upload: its MP3 map and HLS segments. */
export interface UploadTrack {
  id: string;
  ownerId: string;
  title: string;
  status: UploadStatus;
  durationSeconds: number | null;
  audioStart: number;
  audioEnd: number;
  seekIndex: number[];
  segments: HlsSegmentRef[];
  originalKey: string;
  hlsPrefix: string;
}

export interface UploadsDeps {
  db: Kysely<Database>;
  store: BlobStore;
  transcoder: Transcoder;
  scanner: Scanner;
  logger: Logger;
  publicUrl: string;
  /** Wakes local workers after a job was enqueued or cancelled. */
  jobs: Pick<JobQueue, 'wake'>;
  /** Longest audio accepted, in seconds (a low bitrate packs many hours into the byte limit). */
  maxDurationSeconds: number;
  /** Signs a playback grant for one resource (the HLS URL carries it). */
  signPlayback: (resourceId: string, userId: string) => string;
  /** Where FFmpeg writes its temp output. */
  workDir?: string;
  clock?: () => Date;
  ffprobePath?: string;
}

export interface IncomingFile {
  stream: Readable;
  filename: string | null;
  title?: string | undefined;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
}

const PLAYBACK_TOKEN_SECONDS = 6 * 60 * 60;

/** Names the playlists (or other resources) that still use an upload; any name blocks its deletion. */
export type UploadDeleteGuard = (uploadId: string) => Promise<string[]>;

/** Told, inside the transaction that settles it, that an upload is ready, failed or rejected. */
export type UploadFinishedListener = (tx: Transaction<Database>, upload: UploadsTable) => Promise<void>;

export class UploadsService {
  private readonly clock: () => Date;
  private readonly deleteGuards: UploadDeleteGuard[] = [];
  private readonly finishedListeners: UploadFinishedListener[] = [];
  private spareProbe: StreamProbe | null = null;
  private closed = false;

  constructor(private readonly deps: UploadsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /**
   * Streams an uploaded file into storage, checking it is MP3 as the bytes
   * pass (a file that is not is refused as soon as that is clear, and its
   * object is never completed); ffprobe reads its head on the way, so its
   * answer is there when the last byte is stored. The bitrate is the
   * analyzer's average over every frame. The virus scan and the HLS
   * transcode run in a background job.
   */
  async create(principal: Principal, file: IncomingFile): Promise<UploadView> {
    const { store } = this.deps;
    const id = newId('upl');
    const key = originalKey(id);
    const analyzer = new Mp3Analyzer();
    const early = new EarlyProbe(analyzer, this.takeProbe());
    let size = 0;
    const inspect = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        const offset = size;
        size += chunk.length;
        analyzer.push(chunk);
        if (analyzer.isMp3 === false) return callback(analyzer.rejection);
        early.feed(chunk, offset);
        callback(null, chunk);
      },
    });
    const body = pipeline(file.stream, inspect, () => {});
    let map: Mp3AudioInfo;
    let probe: AudioProbe;
    try {
      try {
        await store.put(key, body, { contentType: 'audio/mpeg', ...(file.signal ? { signal: file.signal } : {}) });
      } catch (error) {
        // A put that failed leaves nothing behind; say why in upload terms.
        if (analyzer.rejection) throw notMp3(analyzer.rejection);
        throw error;
      }
      try {
        try {
          map = analyzer.finish();
        } catch (error) {
          if (error instanceof NotMp3Error) throw notMp3(error);
          throw error;
        }
        const max = this.deps.maxDurationSeconds;
        if (map.durationSeconds > max) {
          throw new DomainError(
            'unprocessable',
            `The audio is ${Math.round(map.durationSeconds)} s long; uploads are limited to ${max} s.`,
            { reason: 'too_long', duration_seconds: Math.round(map.durationSeconds), max_duration_seconds: max },
          );
        }
        probe = await this.probe(key, early.answer());
      } catch (error) {
        await store.delete(key).catch(() => {});
        throw error;
      }
    } finally {
      early.cancel();
      setImmediate(() => this.prepareSpareProbe());
    }

    const now = nowIso(this.clock());
    const title = file.title?.trim() || titleFromFilename(file.filename) || 'Untitled';
    const row: UploadsTable = {
      id,
      owner_id: principal.userId,
      title: title.slice(0, 200),
      original_filename: file.filename?.slice(0, 500) ?? null,
      status: 'processing',
      status_reason: null,
      progress: 0,
      size_bytes: size,
      duration_seconds: map.durationSeconds,
      bitrate_kbps: map.bitrateKbps,
      sample_rate: probe.sampleRate,
      channels: probe.channels,
      audio_start: map.audioStart,
      audio_end: map.audioEnd,
      seek_index: JSON.stringify(map.seekIndex),
      hls_segments: null,
      hls_target_duration: null,
      created_at: now,
      updated_at: now,
      ready_at: null,
    };
    try {
      // One transaction: an upload row never exists without the job that finishes it.
      await this.deps.db.transaction().execute(async (tx) => {
        await repo.insertUpload(tx, row);
        await enqueue(tx, PROCESS_UPLOAD, { upload_id: id }, { ownerId: principal.userId, resourceId: id, now: this.clock() });
      });
    } catch (error) {
      await store.delete(key).catch(() => {});
      throw error;
    }
    this.deps.jobs.wake();
    this.deps.logger.info(
      { event: 'upload.received', upload_id: id, size_bytes: size, duration_seconds: map.durationSeconds },
      'upload received',
    );
    return this.view(row);
  }

  async list(principal: Principal, opts: { limit: number; starting_after?: string; status?: UploadStatus }) {
    const ownerId = isAdmin(principal) ? undefined : principal.userId;
    const rows = await repo.listUploads(this.deps.db, {
      ownerId,
      status: opts.status,
      startingAfter: opts.starting_after,
      limit: opts.limit,
    });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((r) => this.view(r)) };
  }

  async getOwned(principal: Principal, id: string): Promise<UploadsTable> {
    const row = await repo.findUpload(this.deps.db, id);
    if (!row) throw new NotFound('Upload', id);
    assertCanAccess(principal, row.owner_id, 'upload');
    return row;
  }

  async get(principal: Principal, id: string): Promise<UploadView> {
    return this.view(await this.getOwned(principal, id));
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.getOwned(principal, id);
    const playlists = (await Promise.all(this.deleteGuards.map((guard) => guard(id)))).flat();
    if (playlists.length > 0) {
      throw new DomainError(
        'conflict',
        `Upload ${id} is part of playlist(s) ${playlists.join(', ')}; remove it from them first.`,
        {
          playlist_ids: playlists,
        },
      );
    }
    // Row and jobs together: a running transcode is aborted (its worker's lease renewal fails), and
    // one that already finished publishing sees the row gone and removes what it wrote.
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.deleteUpload(tx, id);
      await cancelJobsOf(tx, id, this.clock());
    });
    this.deps.jobs.wake();
    await this.deps.store.deletePrefix(uploadPrefix(id));
  }

  /** A feature that uses uploads (playlists) registers what blocks deleting one. */
  /** A feature waiting for an upload it made (archives) registers here, so uploads need not know it. */
  onFinished(listener: UploadFinishedListener): void {
    this.finishedListeners.push(listener);
  }

  guardDelete(guard: UploadDeleteGuard): void {
    this.deleteGuards.push(guard);
  }

  /** For the public HLS route: the upload as a playable (private) resource. */
  async playable(id: string): Promise<{ id: string; ownerId: string; status: UploadStatus } | null> {
    const row = await repo.findUpload(this.deps.db, id);
    return row ? { id: row.id, ownerId: row.owner_id, status: row.status } : null;
  }

  /** Uploads by id with what a playlist needs; ids that do not exist are absent. */
  /** `db` may be the caller's transaction, so what it reads agrees with what that transaction writes. */
  async tracks(
    ids: readonly string[],
    db: Kysely<Database> | Transaction<Database> = this.deps.db,
  ): Promise<Map<string, UploadTrack>> {
    const rows = await repo.findUploads(db, ids);
    return new Map(rows.map((r) => [r.id, toTrack(r)]));
  }

  /** The job: virus scan (when configured), then the HLS transcode with progress. Failures are the job's (jobs.ts). */
  async process(payload: UploadJobPayload, ctx: JobContext): Promise<void> {
    const { db, store, scanner } = this.deps;
    const id = payload.upload_id;
    const row = await repo.findUpload(db, id);
    if (!row || row.status !== 'processing') return; // deleted, or finished by an earlier attempt
    const log = ctx.logger.child({ upload_id: id });
    if (scanner.kind !== 'off') {
      const object = await store.get(originalKey(id));
      if (!object) throw new Error(`the original of ${id} is missing from storage`);
      // Shutdown aborts the scan at once (ScannerError 'aborted'); the job is retried like an interrupted transcode.
      const verdict = await scanner.scan(object.body, { signal: ctx.signal });
      if (!verdict.clean) {
        await store.deletePrefix(uploadPrefix(id));
        await this.finish(id, { status: 'rejected', status_reason: `Virus found: ${verdict.signature}. The file was deleted.` });
        log.warn({ event: 'upload.rejected', signature: verdict.signature }, 'upload rejected by the virus scan');
        return;
      }
    }
    const original = await store.get(originalKey(id));
    if (!original) throw new Error(`the original of ${id} is missing from storage`);
    let lastWrite = 0;
    let lastPercent = 0;
    const rendition = await publishHlsRendition(this.deps.transcoder, store, {
      input: original.body,
      prefix: uploadHlsPrefix(id),
      ...(row.duration_seconds ? { durationSeconds: row.duration_seconds } : {}),
      signal: ctx.signal,
      ...(this.deps.workDir ? { workDir: this.deps.workDir } : {}),
      onProgress: (percent) => {
        const whole = Math.min(99, Math.floor(percent));
        const now = Date.now();
        if (whole > lastPercent && now - lastWrite >= 250) {
          lastPercent = whole;
          lastWrite = now;
          void repo.updateProgress(db, id, whole, nowIso(this.clock())).catch(() => {});
        }
      },
    });
    if (!(await repo.findUpload(db, id))) {
      // Deleted while transcoding: the rendition just published must go too.
      await store.deletePrefix(uploadPrefix(id));
      return;
    }
    const now = nowIso(this.clock());
    await this.finish(id, {
      status: 'ready',
      progress: 100,
      hls_segments: JSON.stringify(rendition.segments),
      hls_target_duration: rendition.targetDuration,
      ready_at: now,
    });
    log.info({ event: 'upload.ready', segments: rendition.segments.length }, 'upload ready');
  }

  /** The job gave up: the upload says why. */
  async markFailed(id: string, reason: string, error: unknown, logger: Logger): Promise<void> {
    await this.finish(id, { status: 'failed', status_reason: reason });
    logger.error({ event: 'upload.failed', upload_id: id, err: error }, 'upload failed');
  }

  view(row: UploadsTable): UploadView {
    const ready = row.status === 'ready';
    return {
      id: row.id,
      owner_id: row.owner_id,
      title: row.title,
      original_filename: row.original_filename,
      status: row.status,
      progress: ready ? 100 : row.progress,
      reason: row.status_reason,
      size_bytes: row.size_bytes,
      duration_seconds: row.duration_seconds === null ? null : Math.round(row.duration_seconds * 1000) / 1000,
      bitrate_kbps: row.bitrate_kbps,
      sample_rate: row.sample_rate,
      channels: row.channels,
      hls_url: ready
        ? `${this.deps.publicUrl}/uploads/audio/${row.id}/hls/index.m3u8?token=${encodeURIComponent(this.deps.signPlayback(row.id, row.owner_id))}`
        : null,
      created_at: row.created_at,
      updated_at: row.updated_at,
      ready_at: row.ready_at,
    };
  }

  static readonly playbackTokenSeconds = PLAYBACK_TOKEN_SECONDS;

  /**
   * The upload reaches an end state (ready, failed, rejected): the row and
   * its event change in one transaction, and only from `processing`, so a
   * job that runs again after a crash never reports the same change twice.
   */
  private async finish(id: string, patch: Partial<UploadsTable> & { status: 'ready' | 'failed' | 'rejected' }): Promise<void> {
    const now = this.clock();
    const changed = await this.deps.db.transaction().execute(async (tx) => {
      const updated = await repo.finishUpload(tx, id, { ...patch, updated_at: nowIso(now) });
      if (!updated) return false;
      const row = await repo.findUpload(tx, id);
      if (!row) return false;
      await emitEvent(tx, { type: `upload.${patch.status}`, ownerId: row.owner_id, object: this.view(row), now });
      for (const listener of this.finishedListeners) await listener(tx, row);
      return true;
    });
    if (changed) this.deps.jobs.wake();
  }

  /** What FFmpeg and ffprobe read: the local file, or a presigned URL on S3. */
  private async inputFor(key: string): Promise<string> {
    const { store } = this.deps;
    if (store instanceof LocalBlobStore) return store.filePath(key);
    const url = await store.presignedGetUrl(key, 60 * 60);
    if (!url) throw new Error(`the ${store.kind} store cannot give a URL for ${key}`);
    return url;
  }

  /** Stops the ffprobe kept waiting for the next upload. */
  close(): void {
    this.closed = true;
    this.spareProbe?.cancel();
    this.spareProbe = null;
  }

  /** The ffprobe started ahead for this upload, or a new one. */
  private takeProbe(): StreamProbe {
    const probe = this.spareProbe ?? startStreamProbe(this.probeOptions());
    this.spareProbe = null;
    return probe;
  }

  /**
   * Starts the ffprobe the next upload will use, once this one is answered: waiting on its
   * stdin, its start-up (about 0.1 s of loading libraries) is off the next request's path.
   */
  private prepareSpareProbe(): void {
    if (this.closed || this.spareProbe) return;
    const spare = startStreamProbe(this.probeOptions());
    this.spareProbe = spare;
    // One that exits before it is used (killed, not installed) is not handed out.
    const drop = () => {
      if (this.spareProbe === spare) this.spareProbe = null;
    };
    spare.result.then(drop, drop);
  }

  private probeOptions(): ProbeOptions {
    return this.deps.ffprobePath ? { ffprobePath: this.deps.ffprobePath } : {};
  }

  /**
   * What ffprobe makes of the upload: the answer of the probe that read its head as it arrived,
   * when there is one and it found MP3, else a probe of the stored file, which decides.
   */
  private async probe(key: string, early: Promise<AudioProbe> | null): Promise<AudioProbe> {
    if (early) {
      try {
        const probe = await early;
        if (probe.codec === 'mp3') return probe;
      } catch (error) {
        if (error instanceof ProbeError && (error.code === 'not_installed' || error.code === 'timeout')) throw error;
      }
    }
    let probe: AudioProbe;
    try {
      probe = await probeAudio(await this.inputFor(key), this.probeOptions());
    } catch (error) {
      if (error instanceof ProbeError && error.code !== 'not_installed' && error.code !== 'timeout') {
        throw new DomainError('unprocessable', `The file could not be read as audio: ${error.message}`, { reason: error.code });
      }
      throw error;
    }
    if (probe.codec !== 'mp3') {
      throw new DomainError('unsupported_media_type', `The file holds ${probe.codec} audio, not MP3.`, { reason: 'not_mp3' });
    }
    return probe;
  }
}

/** Bytes past the first audio frame that the early probe gets: FFmpeg reads a few frames of an MP3's head. */
export const EARLY_PROBE_BYTES_AFTER_FIRST_FRAME = 1024 * 1024;
/** Bytes ffprobe may fall behind by (huge tags before the audio) before the upload stops feeding it. */
export const EARLY_PROBE_MAX_PENDING_BYTES = 16 * 1024 * 1024;

/**
 * ffprobe started with the upload and fed its head as the bytes pass, so its start-up and
 * reading overlap the transfer. Gives up (and the stored file is probed instead) when ffprobe
 * lags too far behind; ends ffprobe's input once the first frames are well past.
 */
class EarlyProbe {
  private probe: StreamProbe | null;

  constructor(
    private readonly analyzer: Mp3Analyzer,
    probe: StreamProbe,
  ) {
    this.probe = probe;
  }

  feed(chunk: Buffer, offset: number): void {
    const probe = this.probe;
    if (!probe) return;
    const first = this.analyzer.firstFrame;
    if (first && offset >= first.offset + EARLY_PROBE_BYTES_AFTER_FIRST_FRAME) return probe.end();
    if (probe.pendingBytes > EARLY_PROBE_MAX_PENDING_BYTES) {
      probe.cancel();
      this.probe = null;
      return;
    }
    probe.write(chunk);
  }

  /** The probe's answer once every byte has passed; null when it gave up. */
  answer(): Promise<AudioProbe> | null {
    if (!this.probe) return null;
    this.probe.end();
    return this.probe.result;
  }

  cancel(): void {
    this.probe?.cancel();
  }
}

function toTrack(r: UploadsTable): UploadTrack {
  return {
    id: r.id,
    ownerId: r.owner_id,
    title: r.title,
    status: r.status,
    durationSeconds: r.duration_seconds,
    audioStart: r.audio_start ?? 0,
    audioEnd: r.audio_end ?? 0,
    seekIndex: r.seek_index ? (JSON.parse(r.seek_index) as number[]) : [],
    segments: r.hls_segments ? (JSON.parse(r.hls_segments) as HlsSegmentRef[]) : [],
    originalKey: originalKey(r.id),
    hlsPrefix: uploadHlsPrefix(r.id),
  };
}

/** Not MP3 at all is 415; an MP3 too damaged to use is 422. Either way the reason is the analyzer's. */
function notMp3(error: NotMp3Error): DomainError {
  const code = error.code === 'too_few_frames' ? 'unprocessable' : 'unsupported_media_type';
  return new DomainError(code, `The file is not a usable MP3: ${error.reason}.`, { reason: error.code });
}

function titleFromFilename(name: string | null): string | null {
  if (!name) return null;
  const base = name
    .replace(/^.*[\\/]/, '')
    .replace(/\.[^.]+$/, '')
    .trim();
  return base || null;
}
