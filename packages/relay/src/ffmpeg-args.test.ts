import { describe, expect, it } from 'vitest';
import { buildHlsArgs } from './ffmpeg-args.js';

describe('buildHlsArgs', () => {
  it('reads the source from stdin and writes one MPEG-TS stream to stdout (AAC)', () => {
    expect(buildHlsArgs({ audio: 'aac' })).toEqual([
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
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-f',
      'mpegts',
      '-pes_payload_size',
      '1024',
      '-flush_packets',
      '1',
      'pipe:1',
    ]);
  });

  it('copies the audio in copy mode and takes the AAC bitrate in aac mode', () => {
    const copy = buildHlsArgs({ audio: 'copy' });
    expect(copy.slice(copy.indexOf('-c:a'), copy.indexOf('-c:a') + 2)).toEqual(['-c:a', 'copy']);
    expect(copy).not.toContain('-b:a');
    const aac = buildHlsArgs({ audio: 'aac', aacBitrateKbps: 96 });
    expect(aac[aac.indexOf('-b:a') + 1]).toBe('96k');
    expect(() => buildHlsArgs({ audio: 'aac', aacBitrateKbps: 0 })).toThrow(RangeError);
  });

  it('carries no URL, host or credential: FFmpeg opens nothing but its pipes', () => {
    const args = buildHlsArgs({ audio: 'aac' });
    expect(args.filter((a) => /:\/\/|^https?|authorization|@/i.test(a))).toEqual([]);
    expect(args[args.indexOf('-protocol_whitelist') + 1]).toBe('pipe');
    expect(args.indexOf('-protocol_whitelist')).toBeLessThan(args.indexOf('-i'));
  });
});
