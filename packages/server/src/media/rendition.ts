// Makes the HLS rendition of one audio input (an upload's original or a
// playlist's external track) and publishes it to the blob store: FFmpeg
// reads the audio on its stdin and writes into a temp folder, the segments
// are uploaded as FFmpeg finishes them, then the playlist last, so a reader
// never finds a playlist naming missing segments.

import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import type { Transcoder } from '../adapters/transcoder/types.js';
import type { HlsSegmentRef } from './hls-manifest.js';

export const SEGMENT_SECONDS = 6;

export interface RenditionResult {
  segments: HlsSegmentRef[];
  targetDuration: number;
}

export interface RenditionOptions {
  /** The audio, fed to FFmpeg on its stdin: FFmpeg never opens a path or URL itself. */
  input: Readable;
  /** Blob folder for the rendition, ending in "/". */
  prefix: string;
  durationSeconds?: number;
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
  /** Parent of the temp folder (the data dir, so big renditions do not fill /tmp). */
  workDir?: string;
}

export function hlsContentType(file: string): string {
  if (file.endsWith('.m3u8')) return 'application/vnd.apple.mpegurl';
  if (file.endsWith('.aac')) return 'audio/aac';
  if (file.endsWith('.m4s') || file.endsWith('.mp4')) return 'audio/mp4';
  return 'video/mp2t';
}

/**
 * A temp folder for one job's work, named after this process
 * (`djcast-<purpose>-<pid>-…`), so sweepWorkDir can tell the folders of a
 * process that died from those of one still running.
 */
export async function makeWorkDir(parent: string | undefined, purpose: 'hls' | 'ext'): Promise<string> {
  const dir = parent ?? tmpdir();
  await mkdir(dir, { recursive: true });
  return mkdtemp(path.join(dir, `djcast-${purpose}-${process.pid}-`));
}

const WORK_DIR_NAME = /^djcast-(?:hls|ext)-(\d+)-/;

/**
 * Removes the temp folders that processes which are gone left in `workDir`
 * (a crash or SIGKILL skips their `finally`). Folders of live processes,
 * this one or another worker sharing the data dir, are left alone. Returns
 * the names removed.
 */
export async function sweepWorkDir(workDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = WORK_DIR_NAME.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    await rm(path.join(workDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Segments stored at once while a rendition is published. */
export const PUBLISH_CONCURRENCY = 8;

/**
 * Runs `task` over `items`, at most `limit` at a time. Every started task settles before this
 * returns or throws (the first error), so nothing is still writing when the caller cleans up.
 */
export async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== null) throw (failure as { error: unknown }).error;
}

/** How often the work folder is checked for segments FFmpeg has finished, while it runs. */
export const SEGMENT_POLL_MS = 200;

export async function publishHlsRendition(
  transcoder: Transcoder,
  store: BlobStore,
  opts: RenditionOptions,
): Promise<RenditionResult> {
  const dir = await makeWorkDir(opts.workDir, 'hls');
  try {
    // A previous attempt may have left other segment names behind.
    await store.deletePrefix(opts.prefix);
    const signal = opts.signal ? { signal: opts.signal } : {};
    // Segments are stored while FFmpeg is still encoding the next ones, so little is left to do
    // once it exits. The playlist goes last, once every segment it lists is stored.
    const segments = new SegmentPublisher(store, dir, opts.prefix, signal);
    let result;
    const poll = setInterval(() => segments.sweep(), SEGMENT_POLL_MS);
    try {
      result = await transcoder.toHls(opts.input, dir, {
        segmentSeconds: SEGMENT_SECONDS,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        ...signal,
        ...(opts.durationSeconds !== undefined ? { durationSeconds: opts.durationSeconds } : {}),
      });
    } catch (error) {
      clearInterval(poll);
      await segments.settled().catch(() => {});
      await store.deletePrefix(opts.prefix).catch(() => {});
      throw error;
    }
    clearInterval(poll);
    const listed = result.segments.map((s) => s.file);
    await segments.settled();
    await segments.publish(listed, { recheck: true });
    await segments.dropUnlisted(listed);
    const playlistName = path.basename(result.playlistPath);
    await store.put(`${opts.prefix}${playlistName}`, await readFile(result.playlistPath), {
      contentType: hlsContentType(playlistName),
      ...signal,
    });
    const refs = result.segments.map((s) => ({ uri: s.file, duration: s.duration }));
    return { segments: refs, targetDuration: Math.max(1, ...refs.map((s) => Math.round(s.duration))) };
  } finally {
    opts.input.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Stores the segments of a rendition as FFmpeg finishes them. A segment has its final name
 * only once it is complete (the transcoder writes to a `.tmp` name first), so any other file
 * in the folder but the playlist is ready to store. One sweep runs at a time.
 */
export class SegmentPublisher {
  /** Segments stored, with the size each had. */
  private readonly stored = new Map<string, number>();
  private running: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly store: BlobStore,
    private readonly dir: string,
    private readonly prefix: string,
    private readonly options: { signal?: AbortSignal },
  ) {}

  /** Starts storing what is finished, unless a sweep is still running or one has failed. */
  sweep(): void {
    if (this.running || this.failure) return;
    this.running = readdir(this.dir)
      .then((names) => this.publish(names.filter(isFinishedSegment)))
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.running = null;
      });
  }

  /** Waits for the sweep in progress; throws what a sweep failed with. */
  async settled(): Promise<void> {
    await this.running;
    if (this.failure) throw this.failure.error;
  }

  /**
   * Stores the named segments not stored yet, several at a time. With `recheck`, a segment
   * whose file has changed size since it was stored is stored again (a transcoder that wrote
   * under the final name before finishing).
   */
  async publish(files: readonly string[], { recheck = false } = {}): Promise<void> {
    const changed = await Promise.all(
      files.map(async (file) => {
        const size = this.stored.get(file);
        return size === undefined || (recheck && (await stat(path.join(this.dir, file))).size !== size);
      }),
    );
    const pending = files.filter((_, i) => changed[i]);
    await eachLimited(pending, PUBLISH_CONCURRENCY, async (file) => {
      // Each put waits for its file to reach the disk (or S3): several at a time keep those waits short.
      const head = await this.store.put(`${this.prefix}${file}`, createReadStream(path.join(this.dir, file)), {
        contentType: hlsContentType(file),
        cacheControl: 'public, max-age=31536000, immutable',
        ...this.options,
      });
      this.stored.set(file, head.size);
    });
  }

  /** Deletes what was stored but the final playlist does not name. */
  async dropUnlisted(listed: readonly string[]): Promise<void> {
    const keep = new Set(listed);
    for (const file of [...this.stored.keys()]) {
      if (keep.has(file)) continue;
      await this.store.delete(`${this.prefix}${file}`);
      this.stored.delete(file);
    }
  }
}

function isFinishedSegment(name: string): boolean {
  return !name.endsWith('.tmp') && !name.endsWith('.m3u8');
}
