// Runs ffmpeg for the Transcoder interface: spawn, feed progress, map
// failures. Arguments and progress parsing are pure (ffmpeg-args.ts).

import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import HLS from 'hls-parser';
import { buildTranscodeArgs, DEFAULT_PLAYLIST_NAME, parseFfmpegProgress, splitProgressBlocks } from './ffmpeg-args.js';
import { TranscodeError, type TranscodeOptions, type TranscodeResult, type Transcoder } from './types.js';

export interface FfmpegTranscoderOptions {
  ffmpegPath?: string;
  /** Kill ffmpeg after this long. Default 30 minutes. */
  timeoutMs?: number;
  /** Characters of stderr kept for error messages. */
  stderrTailChars?: number;
  /** Seconds between progress reports from ffmpeg. Default 0.5. */
  progressIntervalSeconds?: number;
  /** Between SIGTERM and SIGKILL of the encoder's process group when aborted or timed out. Default 2 s. */
  killGraceMs?: number;
}

/**
 * FFmpeg runs in its own process group and reads the audio on its stdin,
 * which this process holds: if this process dies, even by SIGKILL, the
 * pipe closes, FFmpeg reads end-of-file and exits on its own. Aborts and
 * timeouts kill the whole group, not just the pid.
 */
export class FfmpegTranscoder implements Transcoder {
  readonly kind = 'ffmpeg' as const;

  constructor(private readonly options: FfmpegTranscoderOptions = {}) {}

  async toHls(input: Readable, outDir: string, opts: TranscodeOptions): Promise<TranscodeResult> {
    const { ffmpegPath = 'ffmpeg', timeoutMs = 30 * 60_000, stderrTailChars = 4000, killGraceMs = 2000 } = this.options;
    const { signal, onProgress } = opts;
    if (signal?.aborted) {
      input.destroy();
      throw aborted(signal);
    }

    let args: string[];
    try {
      args = buildTranscodeArgs({
        outDir,
        segmentSeconds: opts.segmentSeconds,
        ...(opts.inputFormat !== undefined ? { inputFormat: opts.inputFormat } : {}),
        ...(this.options.progressIntervalSeconds !== undefined
          ? { progressIntervalSeconds: this.options.progressIntervalSeconds }
          : {}),
        ...(opts.bitrateKbps !== undefined ? { bitrateKbps: opts.bitrateKbps } : {}),
      });
    } catch (error) {
      input.destroy();
      throw new TranscodeError('bad_input', (error as Error).message, undefined, { cause: error });
    }
    const duration = opts.durationSeconds;

    await mkdir(outDir, { recursive: true });
    const subprocess = execa(ffmpegPath, args, {
      reject: false,
      stdin: 'pipe',
      buffer: false,
      // Its own process group: killing the group reaches anything FFmpeg starts.
      detached: true,
    });

    let stop: 'aborted' | 'timeout' | null = null;
    let graceTimer: NodeJS.Timeout | undefined;
    const killGroup = (why: 'aborted' | 'timeout') => {
      stop ??= why;
      signalGroup(subprocess.pid, 'SIGTERM');
      graceTimer ??= setTimeout(() => signalGroup(subprocess.pid, 'SIGKILL'), killGraceMs);
    };
    const onAbort = () => killGroup('aborted');
    signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = setTimeout(() => killGroup('timeout'), timeoutMs);

    // The input goes in through stdin; a read error of the input must not pass for a short but complete file.
    let inputError: Error | undefined;
    const feeding = pipeline(input, subprocess.stdin!).catch((error: NodeJS.ErrnoException) => {
      // EPIPE: FFmpeg exited before reading everything (its exit status tells why).
      if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ERR_STREAM_DESTROYED') return;
      if (!inputError) inputError = error;
      signalGroup(subprocess.pid, 'SIGKILL');
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

    let result: Awaited<typeof subprocess>;
    try {
      result = await subprocess;
    } finally {
      clearTimeout(timeout);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      // Anything the encoder left behind in its group goes with it.
      signalGroup(subprocess.pid, 'SIGKILL');
      input.destroy();
      await feeding;
    }
    const tail = stderr.trim() || undefined;
    if (stop === 'aborted' || signal?.aborted) throw aborted(signal, tail);
    if (stop === 'timeout') throw new TranscodeError('timeout', `ffmpeg ran longer than ${timeoutMs} ms`, tail);
    if (result.code === 'ENOENT')
      throw new TranscodeError('not_installed', `${ffmpegPath} is not installed (apt-get install ffmpeg)`);
    if (inputError)
      throw new TranscodeError('input_error', `reading the input failed: ${inputError.message}`, tail, { cause: inputError });
    if (result.failed) {
      throw new TranscodeError(
        'failed',
        `ffmpeg failed (${result.exitCode !== undefined ? `exit code ${result.exitCode}` : (result.signal ?? 'killed')})`,
        tail,
      );
    }

    const playlistPath = path.resolve(outDir, DEFAULT_PLAYLIST_NAME);
    const segments = await readSegments(playlistPath);
    report(100);
    return { playlistPath, segments };
  }
}

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is gone already.
  }
}

async function readSegments(playlistPath: string): Promise<TranscodeResult['segments']> {
  let playlist;
  try {
    playlist = HLS.parse(await readFile(playlistPath, 'utf8'));
  } catch (error) {
    throw new TranscodeError(
      'bad_output',
      `ffmpeg left no readable playlist at ${playlistPath}: ${(error as Error).message}`,
      undefined,
      { cause: error },
    );
  }
  if (playlist.isMasterPlaylist)
    throw new TranscodeError('bad_output', 'ffmpeg wrote a master playlist instead of a media playlist');
  if (playlist.segments.length === 0) throw new TranscodeError('bad_output', 'ffmpeg wrote a playlist without segments');
  return playlist.segments.map((s) => ({ file: s.uri, duration: s.duration }));
}

function aborted(signal: AbortSignal | undefined, tail?: string): TranscodeError {
  return new TranscodeError('aborted', 'transcode aborted', tail, { cause: signal?.reason });
}
