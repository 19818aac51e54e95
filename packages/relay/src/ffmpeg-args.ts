import path from 'node:path';

/** FFmpeg's own playlist in the run directory; the relay reads it, never publishes it. */
export const LOCAL_PLAYLIST_NAME = 'index.m3u8';
/** FFmpeg's segment names in the run directory: seg-0.ts, seg-1.ts, ... (numbered per run). */
export const LOCAL_SEGMENT_PATTERN = 'seg-%d.ts';

export interface HlsArgsOptions {
  /** http(s) URL of the source stream, mount included. Credentials go in username/password, not here. */
  sourceUrl: string;
  username?: string;
  password?: string;
  /** aac: re-encode to AAC-LC (plays everywhere); copy: keep the source's MP3/AAC frames as they are. */
  audio: 'aac' | 'copy';
  /** Target segment length; FFmpeg cuts on the first audio frame after it. */
  segmentSeconds: number;
  /** Directory FFmpeg writes this run's segments and its local playlist into. */
  outputDir: string;
  userAgent: string;
  /** AAC bitrate when audio is aac (default 128). */
  aacBitrateKbps?: number;
  /** Entries FFmpeg keeps in its local playlist (default 10); the relay must read each before it drops off. */
  localListSize?: number;
  /** FFmpeg gives up on a source that sends nothing for this long (default 10 s). */
  readTimeoutMs?: number;
}

/**
 * The FFmpeg command line (without the binary) that pulls a live source and
 * cuts it into MPEG-TS segments in a local directory. Segments are `.ts` in
 * both audio modes: AAC or MP3 elementary streams in MPEG-TS, which
 * hls.js, Safari and ExoPlayer all play.
 *
 * FFmpeg's ICY metadata handling is off (`-icy 0`): the relay reads titles
 * on its own connection, and ICY bytes must not reach the demuxer.
 */
export function buildHlsArgs(opts: HlsArgsOptions): string[] {
  const url = parseSourceUrl(opts.sourceUrl);
  if (!Number.isFinite(opts.segmentSeconds) || opts.segmentSeconds < 1) {
    throw new RangeError(`segmentSeconds must be >= 1, got ${opts.segmentSeconds}`);
  }
  const aacKbps = opts.aacBitrateKbps ?? 128;
  const listSize = opts.localListSize ?? 10;
  const readTimeoutUs = Math.round((opts.readTimeoutMs ?? 10_000) * 1000);

  const input = [
    '-user_agent', opts.userAgent,
    '-icy', '0',
    // Ride out a network blip inside FFmpeg; a source that is really gone
    // (404, refused) still ends the process and the relay's backoff takes over.
    '-reconnect', '1',
    '-reconnect_streamed', '1',
    '-reconnect_on_network_error', '1',
    '-reconnect_delay_max', '2',
    '-rw_timeout', String(readTimeoutUs),
    // A source URL that answers with a playlist must not make FFmpeg open file: or other URLs.
    '-protocol_whitelist', 'http,https,tcp,tls',
  ];
  if (opts.username !== undefined || opts.password !== undefined) {
    const basic = Buffer.from(`${opts.username ?? ''}:${opts.password ?? ''}`).toString('base64');
    input.push('-headers', `Authorization: Basic ${basic}\r\n`);
  }

  const codec = opts.audio === 'aac' ? ['-c:a', 'aac', '-b:a', `${aacKbps}k`] : ['-c:a', 'copy'];

  return [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel', 'info',
    ...input,
    '-i', url.href,
    '-map', '0:a:0',
    '-vn', '-sn', '-dn',
    ...codec,
    '-f', 'hls',
    '-hls_time', String(opts.segmentSeconds),
    '-hls_list_size', String(listSize),
    '-hls_segment_type', 'mpegts',
    // temp_file: a segment appears under its final name only once complete.
    '-hls_flags', 'temp_file+independent_segments',
    '-start_number', '0',
    '-hls_segment_filename', path.join(opts.outputDir, LOCAL_SEGMENT_PATTERN),
    '-y',
    path.join(opts.outputDir, LOCAL_PLAYLIST_NAME),
  ];
}

/** The args with any Authorization header value masked, for logs and error messages. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => (args[i - 1] === '-headers' ? arg.replace(/(authorization:\s*\w+\s+)[^\r\n]*/gi, '$1[redacted]') : arg));
}

function parseSourceUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`source URL is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`source URL must be http or https, got ${url.protocol}`);
  }
  if (url.username || url.password) {
    throw new TypeError('source URL must not carry credentials; pass username/password so they stay out of logs');
  }
  return url;
}
