// Runs ffmpeg for the Transcoder interface: spawn, feed progress, map
// failures. Arguments and progress parsing are pure (ffmpeg-args.ts).

import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import HLS from 'hls-parser';
import { probeAudio } from '../../media/ffprobe.js';
import { buildTranscodeArgs, DEFAULT_PLAYLIST_NAME, parseFfmpegProgress, splitProgressBlocks } from './ffmpeg-args.js';
import { TranscodeError, type TranscodeOptions, type TranscodeResult, type Transcoder } from './types.js';

export interface FfmpegTranscoderOptions {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Kill ffmpeg after this long. Default 30 minutes. */
  timeoutMs?: number;
  /** Characters of stderr kept for error messages. */
  stderrTailChars?: number;
  /** Seconds between progress reports from ffmpeg. Default 0.5. */
  progressIntervalSeconds?: number;
}

export class FfmpegTranscoder implements Transcoder {
  readonly kind = 'ffmpeg' as const;

  constructor(private readonly options: FfmpegTranscoderOptions = {}) {}

  async toHls(input: string, outDir: string, opts: TranscodeOptions): Promise<TranscodeResult> {
    const { ffmpegPath = 'ffmpeg', ffprobePath, timeoutMs = 30 * 60_000, stderrTailChars = 4000 } = this.options;
    const { signal, onProgress } = opts;
    if (signal?.aborted) throw aborted(signal);

    let args: string[];
    try {
      args = buildTranscodeArgs({
        input,
        outDir,
        segmentSeconds: opts.segmentSeconds,
        ...(this.options.progressIntervalSeconds !== undefined ? { progressIntervalSeconds: this.options.progressIntervalSeconds } : {}),
        ...(opts.bitrateKbps !== undefined ? { bitrateKbps: opts.bitrateKbps } : {}),
      });
    } catch (error) {
      throw new TranscodeError('bad_input', (error as Error).message, undefined, { cause: error });
    }

    let duration = opts.durationSeconds;
    if (duration === undefined && onProgress) {
      const probe = await probeAudio(input, { ...(ffprobePath ? { ffprobePath } : {}), ...(signal ? { signal } : {}) }).catch((error: unknown) => {
        if (signal?.aborted) throw aborted(signal);
        throw new TranscodeError('bad_input', `cannot probe the input: ${(error as Error).message}`, undefined, { cause: error });
      });
      duration = probe.durationSeconds ?? undefined;
    }

    await mkdir(outDir, { recursive: true });
    const subprocess = execa(ffmpegPath, args, {
      reject: false,
      stdin: 'ignore',
      buffer: false,
      timeout: timeoutMs,
      forceKillAfterDelay: 5000,
      ...(signal ? { cancelSignal: signal } : {}),
    });

    let lastPercent = -1;
    const report = (percent: number) => {
      // Whole tenths, strictly increasing: listeners see a clean, monotonic series.
      const p = Math.floor(percent * 10) / 10;
      if (p > lastPercent) {
        lastPercent = p;
        onProgress?.(p);
      }
    };
    let pending = '';
    subprocess.stdout?.setEncoding('utf8');
    subprocess.stdout?.on('data', (text: string) => {
      const { blocks, rest } = splitProgressBlocks(pending + text);
      pending = rest;
      for (const block of blocks) {
        const { percent, done } = parseFfmpegProgress(block, duration);
        // 100 only once ffmpeg has exited cleanly; 'end' can precede the final playlist write.
        if (percent !== null) report(done ? 99.9 : Math.min(percent, 99.9));
      }
    });
    let stderr = '';
    subprocess.stderr?.setEncoding('utf8');
    subprocess.stderr?.on('data', (text: string) => {
      stderr = (stderr + text).slice(-stderrTailChars);
    });

    const result = await subprocess;
    const tail = stderr.trim() || undefined;
    if (result.failed) {
      if (result.isCanceled || signal?.aborted) throw aborted(signal, tail);
      if (result.code === 'ENOENT') throw new TranscodeError('not_installed', `${ffmpegPath} is not installed (apt-get install ffmpeg)`);
      if (result.timedOut) throw new TranscodeError('timeout', `ffmpeg ran longer than ${timeoutMs} ms`, tail);
      throw new TranscodeError('failed', `ffmpeg failed (${result.exitCode !== undefined ? `exit code ${result.exitCode}` : result.signal ?? 'killed'})`, tail);
    }

    const playlistPath = path.resolve(outDir, DEFAULT_PLAYLIST_NAME);
    const segments = await readSegments(playlistPath);
    report(100);
    return { playlistPath, segments };
  }
}

async function readSegments(playlistPath: string): Promise<TranscodeResult['segments']> {
  let playlist;
  try {
    playlist = HLS.parse(await readFile(playlistPath, 'utf8'));
  } catch (error) {
    throw new TranscodeError('bad_output', `ffmpeg left no readable playlist at ${playlistPath}: ${(error as Error).message}`, undefined, { cause: error });
  }
  if (playlist.isMasterPlaylist) throw new TranscodeError('bad_output', 'ffmpeg wrote a master playlist instead of a media playlist');
  if (playlist.segments.length === 0) throw new TranscodeError('bad_output', 'ffmpeg wrote a playlist without segments');
  return playlist.segments.map((s) => ({ file: s.uri, duration: s.duration }));
}

function aborted(signal: AbortSignal | undefined, tail?: string): TranscodeError {
  return new TranscodeError('aborted', 'transcode aborted', tail, { cause: signal?.reason });
}
