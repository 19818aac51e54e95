// Reading an audio file's technical facts with the system ffprobe.
// `parseProbeOutput` is pure (tested against captured real output);
// `probeAudio` only spawns ffprobe and maps its failures to ProbeError.

import path from 'node:path';
import { execa, type Result } from 'execa';
import { z } from 'zod';

export interface AudioProbe {
  /** Null when the container does not say (live streams, some raw inputs). */
  durationSeconds: number | null;
  /** Stream bitrate, else the container's average; null when neither is known. */
  bitrateKbps: number | null;
  sampleRate: number;
  channels: number;
  /** ffmpeg's codec name: mp3, aac, pcm_s16le... */
  codec: string;
  /** ffmpeg's demuxer name(s): mp3, wav, "mov,mp4,m4a,3gp,3g2,mj2"... */
  formatName: string;
}

export type ProbeErrorCode = 'not_installed' | 'unreadable' | 'no_audio' | 'bad_output' | 'timeout' | 'aborted' | 'bad_input';

export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  constructor(
    readonly code: ProbeErrorCode,
    message: string,
    readonly stderr?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ffprobe prints most numbers as strings; "N/A" or absence means unknown.
const numeric = z
  .union([z.string(), z.number()])
  .optional()
  .transform((v) => {
    if (v === undefined || v === 'N/A' || v === '') return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  });

const probeSchema = z.object({
  streams: z
    .array(
      z.object({
        index: z.number().optional(),
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        sample_rate: numeric,
        channels: z.number().optional(),
        duration: numeric,
        bit_rate: numeric,
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
      }),
    )
    .default([]),
  format: z
    .object({
      format_name: z.string().optional(),
      duration: numeric,
      bit_rate: numeric,
    })
    .optional(),
});

/** Turns ffprobe's `-show_format -show_streams` JSON into an AudioProbe; throws ProbeError. */
export function parseProbeOutput(json: unknown): AudioProbe {
  const parsed = probeSchema.safeParse(json);
  if (!parsed.success)
    throw new ProbeError('bad_output', `unexpected ffprobe output: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const { streams, format } = parsed.data;
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!audio) {
    const kinds = streams.map((s) => s.codec_type ?? 'unknown');
    throw new ProbeError('no_audio', kinds.length ? `no audio stream (only ${kinds.join(', ')})` : 'no streams at all');
  }
  if (!audio.sample_rate || !audio.channels || !audio.codec_name) {
    throw new ProbeError('bad_output', 'the audio stream has no sample rate, channel count or codec');
  }
  const bitrate = audio.bit_rate ?? format?.bit_rate ?? null;
  return {
    durationSeconds: audio.duration ?? format?.duration ?? null,
    bitrateKbps: bitrate === null ? null : Math.round(bitrate / 1000),
    sampleRate: audio.sample_rate,
    channels: audio.channels,
    codec: audio.codec_name,
    formatName: format?.format_name ?? 'unknown',
  };
}

export interface ProbeOptions {
  ffprobePath?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Input arguments for a local path or an http(s) URL. Protocols are
 * whitelisted so a crafted file (an HLS or concat playlist posing as audio)
 * cannot make ffmpeg read other local files or other hosts.
 */
export function inputArgs(pathOrUrl: string, networkTimeoutMs = 15_000): string[] {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUrl)) {
    const url = new URL(pathOrUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ProbeError('bad_input', `only local files and http(s) URLs can be read, not ${url.protocol}`);
    }
    return ['-protocol_whitelist', 'http,https,tcp,tls', '-rw_timeout', String(networkTimeoutMs * 1000), '-i', url.href];
  }
  // An absolute path cannot be mistaken for an option or a protocol ("-x", "http:foo").
  return ['-protocol_whitelist', 'file', '-i', `file:${path.resolve(pathOrUrl)}`];
}

export function buildProbeArgs(pathOrUrl: string): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...inputArgs(pathOrUrl)];
}

export async function probeAudio(pathOrUrl: string, options: ProbeOptions = {}): Promise<AudioProbe> {
  const { ffprobePath = 'ffprobe', timeoutMs = 30_000, signal } = options;
  const result = await execa(ffprobePath, buildProbeArgs(pathOrUrl), {
    reject: false,
    timeout: timeoutMs,
    ...(signal ? { cancelSignal: signal } : {}),
    maxBuffer: 10_000_000,
    stdin: 'ignore',
  });
  return probeResult(result, ffprobePath, timeoutMs);
}

/** ffprobe reading the audio on its stdin (the pipe protocol alone whitelisted). */
export function buildStdinProbeArgs(): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-protocol_whitelist', 'pipe', '-i', 'pipe:0'];
}

/** An ffprobe that reads the input's first bytes as the caller receives them. */
export interface StreamProbe {
  /** Hands ffprobe the next bytes; a no-op once it has exited or the input was ended. */
  write(chunk: Uint8Array): void;
  /** No more bytes: ffprobe reads end-of-file, and from here its timeout runs. */
  end(): void;
  /** Bytes handed over that ffprobe has not read yet. */
  readonly pendingBytes: number;
  /** Kills ffprobe; `result` rejects with code 'aborted'. */
  cancel(): void;
  /** The answer, once ffprobe has read enough (or everything it was given). */
  readonly result: Promise<AudioProbe>;
}

/**
 * Starts ffprobe on its stdin before any byte is there, so its start-up overlaps with the
 * transfer of the file instead of following it. FFmpeg reads the head of an MP3 only (no
 * seeking on a pipe), so the caller feeds the first bytes and ends. The timeout counts from
 * `end()`: a slow client's upload is not ffprobe's fault.
 */
export function startStreamProbe(options: Omit<ProbeOptions, 'signal'> = {}): StreamProbe {
  const { ffprobePath = 'ffprobe', timeoutMs = 30_000 } = options;
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const subprocess = execa(ffprobePath, buildStdinProbeArgs(), {
    reject: false,
    cancelSignal: controller.signal,
    maxBuffer: 10_000_000,
    stdin: 'pipe',
  });
  const stdin = subprocess.stdin!;
  // EPIPE once ffprobe has its answer and exits without reading the rest: expected.
  stdin.on('error', () => {});
  const result = subprocess.then((done) => {
    clearTimeout(timer);
    if (timedOut) throw new ProbeError('timeout', `ffprobe took longer than ${timeoutMs} ms`, tail(done.stderr));
    return probeResult(done, ffprobePath, timeoutMs);
  });
  // The caller may give up before asking for the answer; nothing must go unhandled meanwhile.
  result.catch(() => {});
  let ended = false;
  const open = () => !ended && stdin.writable && !stdin.destroyed;
  return {
    write(chunk) {
      if (open()) stdin.write(chunk);
    },
    end() {
      if (ended) return;
      if (open()) stdin.end();
      ended = true;
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      timer.unref();
    },
    get pendingBytes() {
      return stdin.writableLength;
    },
    cancel() {
      ended = true;
      clearTimeout(timer);
      controller.abort();
    },
    result,
  };
}

function probeResult(result: Result<{ reject: false }>, ffprobePath: string, timeoutMs: number): AudioProbe {
  const stderr = tail(result.stderr);
  if (result.failed) {
    if (result.code === 'ENOENT') {
      throw new ProbeError('not_installed', `${ffprobePath} is not installed (apt-get install ffmpeg)`, undefined, {
        cause: result,
      });
    }
    if (result.isCanceled) throw new ProbeError('aborted', 'probe aborted', stderr, { cause: result });
    if (result.timedOut) throw new ProbeError('timeout', `ffprobe took longer than ${timeoutMs} ms`, stderr, { cause: result });
    throw new ProbeError('unreadable', `ffprobe cannot read the input: ${stderr || `exit code ${result.exitCode}`}`, stderr, {
      cause: result,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch (error) {
    throw new ProbeError('bad_output', 'ffprobe printed invalid JSON', stderr, { cause: error });
  }
  return parseProbeOutput(json);
}

/** The last lines of a process's stderr, for error messages. */
export function tail(text: string | undefined, maxChars = 2000): string {
  const trimmed = (text ?? '').trim();
  return trimmed.length <= maxChars ? trimmed : `…${trimmed.slice(-maxChars)}`;
}
