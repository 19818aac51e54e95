// Makes the HLS rendition of one audio input (an upload's original or a
// playlist's external track) and publishes it to the blob store: FFmpeg
// writes into a temp folder, the segments are uploaded, then the playlist
// last, so a reader never finds a playlist naming missing segments.

import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BlobStore } from '@djcast/relay/blob';
import type { Transcoder } from '../../adapters/transcoder/types.js';
import type { HlsSegmentRef } from '../playlists/manifest.js';
import { hlsContentType } from './keys.js';

export const SEGMENT_SECONDS = 6;

export interface RenditionResult {
  segments: HlsSegmentRef[];
  targetDuration: number;
}

export interface RenditionOptions {
  /** Local path or http(s) URL FFmpeg reads. */
  input: string;
  /** Blob folder for the rendition, ending in "/". */
  prefix: string;
  durationSeconds?: number;
  onProgress?: (percent: number) => void;
  signal?: AbortSignal;
  /** Parent of the temp folder (the data dir, so big renditions do not fill /tmp). */
  workDir?: string;
}

export async function publishHlsRendition(transcoder: Transcoder, store: BlobStore, opts: RenditionOptions): Promise<RenditionResult> {
  const parent = opts.workDir ?? tmpdir();
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, 'djcast-hls-'));
  try {
    const result = await transcoder.toHls(opts.input, dir, {
      segmentSeconds: SEGMENT_SECONDS,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.durationSeconds !== undefined ? { durationSeconds: opts.durationSeconds } : {}),
    });
    // A previous attempt may have left other segment names behind.
    await store.deletePrefix(opts.prefix);
    for (const segment of result.segments) {
      await store.put(`${opts.prefix}${segment.file}`, createReadStream(path.join(dir, segment.file)), {
        contentType: hlsContentType(segment.file),
        cacheControl: 'public, max-age=31536000, immutable',
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
    const playlistName = path.basename(result.playlistPath);
    await store.put(`${opts.prefix}${playlistName}`, await readFile(result.playlistPath), {
      contentType: hlsContentType(playlistName),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const segments = result.segments.map((s) => ({ uri: s.file, duration: s.duration }));
    return { segments, targetDuration: Math.max(1, ...segments.map((s) => Math.round(s.duration))) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
