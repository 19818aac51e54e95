import { describe, expect, it } from 'vitest';
import { buildHlsArgs, redactArgs } from './ffmpeg-args.js';

const base = {
  sourceUrl: 'http://radio.example.com:8000/live',
  audio: 'aac' as const,
  segmentSeconds: 6,
  outputDir: '/work/run-3',
  userAgent: 'djcast-relay/0.1.0',
};

/** The value that follows a flag; throws when the flag is absent so a typo cannot pass silently. */
function flag(args: string[], name: string): string {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length) throw new Error(`${name} not in ${args.join(' ')}`);
  return args[i + 1]!;
}

describe('buildHlsArgs', () => {
  it('builds the whole AAC command line', () => {
    expect(buildHlsArgs(base)).toEqual([
      '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info',
      '-user_agent', 'djcast-relay/0.1.0',
      '-icy', '0',
      '-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_on_network_error', '1', '-reconnect_delay_max', '2',
      '-rw_timeout', '10000000',
      '-protocol_whitelist', 'http,https,tcp,tls',
      '-i', 'http://radio.example.com:8000/live',
      '-map', '0:a:0', '-vn', '-sn', '-dn',
      '-c:a', 'aac', '-b:a', '128k',
      '-f', 'hls', '-hls_time', '6', '-hls_list_size', '10', '-hls_segment_type', 'mpegts',
      '-hls_flags', 'temp_file+independent_segments', '-start_number', '0',
      '-hls_segment_filename', '/work/run-3/seg-%d.ts',
      '-y', '/work/run-3/index.m3u8',
    ]);
  });

  it('puts every input option before -i and every output option after it', () => {
    const args = buildHlsArgs({ ...base, username: 'dj', password: 's3cret' });
    const input = args.indexOf('-i');
    for (const name of ['-user_agent', '-icy', '-reconnect', '-reconnect_streamed', '-rw_timeout', '-headers', '-protocol_whitelist']) {
      expect(args.indexOf(name), name).toBeGreaterThan(-1);
      expect(args.indexOf(name), name).toBeLessThan(input);
    }
    for (const name of ['-map', '-c:a', '-f', '-hls_time', '-hls_segment_filename']) {
      expect(args.indexOf(name), name).toBeGreaterThan(input);
    }
    expect(args.at(-1)).toBe('/work/run-3/index.m3u8');
  });

  it('copies the source codec in copy mode', () => {
    const args = buildHlsArgs({ ...base, audio: 'copy' });
    expect(flag(args, '-c:a')).toBe('copy');
    expect(args).not.toContain('-b:a');
    expect(flag(args, '-hls_segment_type')).toBe('mpegts');
  });

  it('honours segment length, AAC bitrate, list size and read timeout', () => {
    const args = buildHlsArgs({ ...base, segmentSeconds: 4, aacBitrateKbps: 96, localListSize: 20, readTimeoutMs: 2500 });
    expect(flag(args, '-hls_time')).toBe('4');
    expect(flag(args, '-b:a')).toBe('96k');
    expect(flag(args, '-hls_list_size')).toBe('20');
    expect(flag(args, '-rw_timeout')).toBe('2500000');
  });

  it('sends credentials as a Basic header, never in the URL, and redacts them for logs', () => {
    const args = buildHlsArgs({ ...base, username: 'dj', password: 'p:ss' });
    expect(flag(args, '-headers')).toBe(`Authorization: Basic ${Buffer.from('dj:p:ss').toString('base64')}\r\n`);
    expect(flag(args, '-i')).toBe('http://radio.example.com:8000/live');
    const redacted = redactArgs(args).join(' ');
    expect(redacted).toContain('Authorization: Basic [redacted]');
    expect(redacted).not.toContain(Buffer.from('dj:p:ss').toString('base64'));
    expect(redactArgs(buildHlsArgs(base))).toEqual(buildHlsArgs(base));
  });

  it('refuses URLs FFmpeg must not open', () => {
    expect(() => buildHlsArgs({ ...base, sourceUrl: 'file:///etc/passwd' })).toThrow(/http or https/);
    expect(() => buildHlsArgs({ ...base, sourceUrl: 'not a url' })).toThrow(/valid URL/);
    expect(() => buildHlsArgs({ ...base, sourceUrl: 'http://u:p@h/live' })).toThrow(/credentials/);
    expect(() => buildHlsArgs({ ...base, segmentSeconds: 0 })).toThrow(RangeError);
  });
});
