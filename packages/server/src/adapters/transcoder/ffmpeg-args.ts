// Pure pieces of the FFmpeg transcoder: the argument list and the reading
// of `-progress` output. The shell in ffmpeg.ts only spawns and reports.

import path from 'node:path';

export interface TranscodeArgsOptions {
  /**
   * The demuxer of the audio fed on stdin (default mp3). FFmpeg reads only
   * its stdin (`-i pipe:0`, the pipe protocol alone whitelisted): it never
   * opens a path or URL a user chose, and no credentials reach its argv.
   */
  inputFormat?: string;
  outDir: string;
  segmentSeconds?: number;
  bitrateKbps?: number;
  /** One rate and layout for every upload, so playlists mixing uploads stay uniform. */
  sampleRate?: number;
  channels?: 1 | 2;
  playlistName?: string;
  /** printf pattern for segment files. */
  segmentPattern?: string;
  /** How often ffmpeg writes a -progress block. Default 0.5 s (ffmpeg's own default). */
  progressIntervalSeconds?: number;
}

export const DEFAULT_PLAYLIST_NAME = 'index.m3u8';
export const DEFAULT_SEGMENT_PATTERN = 'segment_%05d.ts';

export function buildTranscodeArgs(opts: TranscodeArgsOptions): string[] {
  const {
    inputFormat = 'mp3',
    outDir,
    segmentSeconds = 6,
    bitrateKbps = 128,
    sampleRate = 44100,
    channels = 2,
    playlistName = DEFAULT_PLAYLIST_NAME,
    segmentPattern = DEFAULT_SEGMENT_PATTERN,
    progressIntervalSeconds = 0.5,
  } = opts;
  if (!/^[a-z0-9_]{1,32}$/.test(inputFormat)) throw new RangeError('inputFormat must be an FFmpeg demuxer name');
  if (!(segmentSeconds > 0)) throw new RangeError('segmentSeconds must be positive');
  if (!Number.isInteger(bitrateKbps) || bitrateKbps < 16 || bitrateKbps > 512)
    throw new RangeError('bitrateKbps must be an integer in 16..512');
  for (const name of [playlistName, segmentPattern]) {
    if (name.includes('/') || name.includes('\\') || name.startsWith('.'))
      throw new RangeError(`${name} must be a plain file name`);
  }
  const dir = path.resolve(outDir);
  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-v',
    'error',
    '-y',
    '-progress',
    'pipe:1',
    '-stats_period',
    String(progressIntervalSeconds),
    '-protocol_whitelist',
    'pipe',
    '-f',
    inputFormat,
    '-i',
    'pipe:0',
    // The first audio stream only: cover art arrives as a video stream.
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    '-map_metadata',
    '-1',
    '-c:a',
    'aac',
    '-b:a',
    `${bitrateKbps}k`,
    '-ar',
    String(sampleRate),
    '-ac',
    String(channels),
    '-f',
    'hls',
    '-hls_time',
    String(segmentSeconds),
    '-hls_playlist_type',
    'vod',
    '-hls_list_size',
    '0',
    '-hls_segment_type',
    'mpegts',
    '-hls_flags',
    // temp_file: a segment gets its name only once complete, so it can be stored while FFmpeg runs on.
    'independent_segments+temp_file',
    '-hls_segment_filename',
    path.join(dir, segmentPattern),
    path.join(dir, playlistName),
  ];
}

export interface FfmpegProgress {
  /** Output position in seconds, null while ffmpeg reports N/A. */
  outTimeSeconds: number | null;
  /** 0..100, null when neither the duration nor the end is known. */
  percent: number | null;
  /** ffmpeg said progress=end. */
  done: boolean;
}

/**
 * Reads one `-progress` block (key=value lines ending with `progress=...`).
 * ffmpeg prints the position as out_time_us and out_time_ms, both in
 * microseconds (the _ms name is a historical mistake), and as out_time.
 */
export function parseFfmpegProgress(block: string, durationSeconds?: number | null): FfmpegProgress {
  const values = new Map<string, string>();
  for (const line of block.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const done = values.get('progress') === 'end';
  const micros = finite(values.get('out_time_us')) ?? finite(values.get('out_time_ms'));
  let outTimeSeconds = micros === null ? clockSeconds(values.get('out_time')) : micros / 1e6;
  if (outTimeSeconds !== null && outTimeSeconds < 0) outTimeSeconds = 0; // before the first packet
  let percent: number | null = null;
  if (done) percent = 100;
  else if (outTimeSeconds !== null && durationSeconds && durationSeconds > 0) {
    percent = Math.min(100, Math.max(0, (outTimeSeconds / durationSeconds) * 100));
  }
  return { outTimeSeconds, percent, done };
}

/** Splits accumulated `-progress` output into complete blocks and the unfinished rest. */
export function splitProgressBlocks(text: string): { blocks: string[]; rest: string } {
  const blocks: string[] = [];
  const re = /^progress=\w+[ \t\r]*$/gm;
  let from = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let end = m.index + m[0].length;
    if (text[end] === '\n') end++;
    if (end === text.length && !text.endsWith('\n')) break; // the progress line itself may be cut
    blocks.push(text.slice(from, end));
    from = end;
  }
  return { blocks, rest: text.slice(from) };
}

function finite(value: string | undefined): number | null {
  if (value === undefined || value === 'N/A' || value === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

function clockSeconds(value: string | undefined): number | null {
  const m = value ? /^(-?)(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value) : null;
  if (!m) return null;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}
