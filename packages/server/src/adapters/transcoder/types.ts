import type { Readable } from 'node:stream';

export interface TranscodeOptions {
  /** Target segment length; 6 s is the HLS authoring guideline. */
  segmentSeconds: number;
  /** AAC bitrate. Default 128. */
  bitrateKbps?: number;
  /** Called with 0..100, never decreasing, ending with exactly 100 on success. */
  onProgress?: (percent: number) => void;
  /** Aborting kills the encoder and rejects with TranscodeError code 'aborted' (name 'AbortError'). */
  signal?: AbortSignal;
  /** The input's duration, for progress (without it, progress reports only the end). */
  durationSeconds?: number;
  /** FFmpeg demuxer of the input (default mp3). */
  inputFormat?: string;
}

export interface TranscodeResult {
  /** Absolute path of the VOD media playlist (outDir/index.m3u8). */
  playlistPath: string;
  /** In playlist order; `file` is the segment's name inside outDir, as the playlist references it. */
  segments: { file: string; duration: number }[];
}

/**
 * Turns audio read from a stream into an HLS VOD rendition (AAC in MPEG-TS
 * segments) in a local folder; the caller uploads the folder and removes it.
 * The transcoder consumes (and always destroys) the stream: the encoder
 * never opens a path or URL itself. On failure the folder may hold partial
 * output. A segment file appears under its final name only once complete (it
 * is written under a `.tmp` name first), so it may be read while the encoder
 * runs on.
 */
export interface Transcoder {
  readonly kind: 'ffmpeg';
  toHls(input: Readable, outDir: string, opts: TranscodeOptions): Promise<TranscodeResult>;
}

/** `input_error`: reading the input stream failed (storage, network); a retry may succeed. */
export type TranscodeErrorCode = 'not_installed' | 'failed' | 'timeout' | 'aborted' | 'bad_input' | 'bad_output' | 'input_error';

export class TranscodeError extends Error {
  override readonly name: string;
  constructor(
    readonly code: TranscodeErrorCode,
    message: string,
    /** The end of ffmpeg's stderr, when it ran. */
    readonly stderrTail?: string,
    options?: { cause?: unknown },
  ) {
    super(stderrTail ? `${message}\n${stderrTail}` : message, options);
    // Aborts look like every other aborted operation to callers that check the name.
    this.name = code === 'aborted' ? 'AbortError' : 'TranscodeError';
  }
}
