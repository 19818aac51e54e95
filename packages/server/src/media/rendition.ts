// Makes the HLS rendition of one audio input (an upload's original or a
// playlist's external track) and publishes it to the blob store: FFmpeg
// reads the audio on its stdin and writes into a temp folder, the segments
// are uploaded, then the playlist last, so a reader never finds a playlist
// naming missing segments.

import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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

export async function publishHlsRendition(
  transcoder: Transcoder,
  store: BlobStore,
  opts: RenditionOptions,
): Promise<RenditionResult> {
  const dir = await makeWorkDir(opts.workDir, 'hls');
  try {
    const result = await transcoder.toHls(opts.input, dir, {
      segmentSeconds: SEGMENT_SECONDS,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.durationSeconds !== undefined ? { durationSeconds: opts.durationSeconds } : {}),
    });
    // A previous attempt may have left other segment names behind.
    await store.deletePrefix(opts.prefix);
    // Several segments at a time: each put waits for its file to reach the disk (or S3), and
    // one after the other those waits added seconds to every upload. The playlist goes last,
    // once every segment it lists is stored.
    await eachLimited(result.segments, PUBLISH_CONCURRENCY, (segment) =>
      store.put(`${opts.prefix}${segment.file}`, createReadStream(path.join(dir, segment.file)), {
        contentType: hlsContentType(segment.file),
        cacheControl: 'public, max-age=31536000, immutable',
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    );
    const playlistName = path.basename(result.playlistPath);
    await store.put(`${opts.prefix}${playlistName}`, await readFile(result.playlistPath), {
      contentType: hlsContentType(playlistName),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const segments = result.segments.map((s) => ({ uri: s.file, duration: s.duration }));
    return { segments, targetDuration: Math.max(1, ...segments.map((s) => Math.round(s.duration))) };
  } finally {
    opts.input.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
