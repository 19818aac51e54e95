// Ad normalization: one FFmpeg run that turns an ad source into the
// programme's MP3 format (sample rate, bitrate, channels), loudness-normalized
// with `loudnorm` so a break is never louder than the programme around it,
// and cut or padded with silence to exactly the marker's duration. The
// argument list is pure; `normalizeAd` only spawns.

import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { parseFrameHeader } from '../../media/mp3-header.js';

export interface AdTarget {
  /** The format every programme track's MP3 frames have; the ad's frames must match to join them. */
  sampleRate: number;
  bitrateKbps: number;
  channels: 1 | 2;
  durationSeconds: number;
  /** false: the MP3 only (a live break's variant at another sample rate), no HLS segments. */
  hls?: false;
}

/** EBU R128-style targets: integrated loudness, true peak, loudness range. */
export const LOUDNESS = { integratedLufs: -16, truePeakDb: -1.5, rangeLu: 11 } as const;

/** The MP3 bitrates an encoder may write (MPEG-1 layer III); the programme's is rounded to the nearest. */
const MP3_BITRATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

export function mp3Bitrate(kbps: number): number {
  return MP3_BITRATES.reduce((best, b) => (Math.abs(b - kbps) < Math.abs(best - kbps) ? b : best), 128);
}

/** FFmpeg reads the source on stdin (pipe only) and writes the normalized MP3 to `outFile`. */
export function buildNormalizeArgs(target: AdTarget, outFile: string): string[] {
  const { sampleRate, bitrateKbps, channels, durationSeconds } = target;
  if (![8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000].includes(sampleRate))
    throw new RangeError(`sampleRate ${sampleRate} is not an MP3 sample rate`);
  if (!(durationSeconds > 0 && durationSeconds <= 3600)) throw new RangeError('durationSeconds must be in (0, 3600]');
  const { integratedLufs, truePeakDb, rangeLu } = LOUDNESS;
  return [
    '-hide_banner',
    '-nostats',
    '-v',
    'error',
    '-y',
    '-protocol_whitelist',
    'pipe',
    '-i',
    'pipe:0',
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    // loudnorm resamples to 192 kHz internally: back to the programme's rate, then pad with silence to the duration.
    '-af',
    `loudnorm=I=${integratedLufs}:TP=${truePeakDb}:LRA=${rangeLu},aresample=${sampleRate},apad`,
    '-t',
    String(durationSeconds),
    '-c:a',
    'libmp3lame',
    '-b:a',
    `${mp3Bitrate(bitrateKbps)}k`,
    '-ar',
    String(sampleRate),
    '-ac',
    String(channels),
    // No Info frame and no tags: the file is audio frames only, ready to join.
    '-write_xing',
    '0',
    '-id3v2_version',
    '0',
    '-f',
    'mp3',
    outFile,
  ];
}

export class NormalizeError extends Error {
  override readonly name = 'NormalizeError';
}

/** Runs the normalization; the input stream is consumed (and destroyed). */
export async function normalizeAd(
  input: Readable,
  target: AdTarget,
  outFile: string,
  opts: { signal?: AbortSignal; ffmpegPath?: string; timeoutMs?: number } = {},
): Promise<void> {
  const args = buildNormalizeArgs(target, outFile);
  const child = execa(opts.ffmpegPath ?? 'ffmpeg', args, {
    reject: false,
    stdin: 'pipe',
    stdout: 'ignore',
    timeout: opts.timeoutMs ?? 10 * 60_000,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  // FFmpeg may stop reading once it has the duration it needs: a closed pipe is not a failure,
  // but a source that failed (unreachable mid-way, over the size limit) is.
  let inputError: Error | null = null;
  const feed = pipeline(input, child.stdin!).catch(() => {
    inputError = input.errored;
  });
  const result = await child;
  await feed;
  input.destroy();
  if (inputError) throw inputError;
  if (result.exitCode !== 0) {
    const stderr = String(result.stderr ?? '').slice(-2000);
    throw new NormalizeError(`ffmpeg could not normalize the ad (exit ${result.exitCode ?? result.signal}): ${stderr}`);
  }
}

export const openFile = (file: string) => createReadStream(file);

/**
 * The byte length of the first `frames` audio frames from `audioStart`: an
 * encoder adds a frame or two (priming and the last partial frame) beyond
 * the requested time, and the ad must last its duration to the frame.
 */
export function framesLength(bytes: Uint8Array, audioStart: number, frames: number): { length: number; frames: number } {
  let at = audioStart;
  let n = 0;
  while (n < frames) {
    const header = parseFrameHeader(bytes, at);
    if (!header || at + header.frameLength > bytes.length) break;
    at += header.frameLength;
    n++;
  }
  return { length: at - audioStart, frames: n };
}
