export interface HlsArgsOptions {
  /** aac: re-encode to AAC-LC (plays everywhere); copy: keep the source's MP3/AAC frames as they are. */
  audio: 'aac' | 'copy';
  /** AAC bitrate when audio is aac (default 128). */
  aacBitrateKbps?: number;
}

/**
 * Largest PES payload FFmpeg's MPEG-TS muxer packs before starting a new PES
 * (its default is 2930 bytes, ~0.2 s at 128 kb/s). The relay can only cut
 * between PES packets, so this bounds how far past 6.0 s a segment can run:
 * 1024 bytes is 2-3 AAC frames (~60 ms) at 128 kb/s.
 */
export const PES_PAYLOAD_BYTES = 1024;

/**
 * The FFmpeg command line (without the binary) of one relay run: the
 * source's bytes come in on stdin (`pipe:0`, written by the relay, which
 * opens the source through its own HTTP client), and one continuous MPEG-TS
 * stream goes out on stdout (`pipe:1`), which the relay cuts into segments
 * itself (TsSegmenter).
 *
 * FFmpeg never sees a URL or a credential: nothing user-supplied is in its
 * argv, and `-protocol_whitelist pipe` stops a source that sends a playlist
 * from making FFmpeg open anything else. EOF on stdin ends the process.
 */
export function buildHlsArgs(opts: HlsArgsOptions): string[] {
  const aacKbps = opts.aacBitrateKbps ?? 128;
  if (!Number.isInteger(aacKbps) || aacKbps < 8 || aacKbps > 512)
    throw new RangeError(`aacBitrateKbps must be an integer in 8..512, got ${aacKbps}`);
  const codec = opts.audio === 'aac' ? ['-c:a', 'aac', '-b:a', `${aacKbps}k`] : ['-c:a', 'copy'];
  return [
    '-hide_banner',
    '-nostats',
    '-loglevel',
    'info',
    '-protocol_whitelist',
    'pipe',
    '-i',
    'pipe:0',
    '-map',
    '0:a:0',
    '-vn',
    '-sn',
    '-dn',
    ...codec,
    '-f',
    'mpegts',
    '-pes_payload_size',
    String(PES_PAYLOAD_BYTES),
    // Hand each packet to the relay as soon as it is muxed: a segment is
    // published one frame after its last one, not a 32 KiB buffer later.
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}
