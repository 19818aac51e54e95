import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildTranscodeArgs, parseFfmpegProgress, splitProgressBlocks } from './ffmpeg-args.js';

describe('buildTranscodeArgs', () => {
  it('builds an AAC HLS VOD encode with 6 s segments and machine-readable progress', () => {
    expect(buildTranscodeArgs({ outDir: '/data/out' })).toEqual([
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-v',
      'error',
      '-y',
      '-progress',
      'pipe:1',
      '-stats_period',
      '0.5',
      '-protocol_whitelist',
      'pipe',
      '-f',
      'mp3',
      '-i',
      'pipe:0',
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
      '128k',
      '-ar',
      '44100',
      '-ac',
      '2',
      '-f',
      'hls',
      '-hls_time',
      '6',
      '-hls_playlist_type',
      'vod',
      '-hls_list_size',
      '0',
      '-hls_segment_type',
      'mpegts',
      '-hls_flags',
      'independent_segments+temp_file',
      '-hls_segment_filename',
      '/data/out/segment_%05d.ts',
      '/data/out/index.m3u8',
    ]);
  });

  it('reads only its stdin, never a path or URL, and takes the options it is given', () => {
    const args = buildTranscodeArgs({ outDir: '/o', segmentSeconds: 4, bitrateKbps: 96 });
    expect(args.filter((a) => a === '-i')).toHaveLength(1);
    expect(args[args.indexOf('-i') + 1]).toBe('pipe:0');
    expect(args.join(' ')).toContain('-protocol_whitelist pipe -f mp3 -i pipe:0');
    expect(args.some((a) => /^(file|https?|tcp|tls):/.test(a))).toBe(false);
    expect(args.join(' ')).toContain('-b:a 96k');
    expect(args.join(' ')).toContain('-hls_time 4');
  });

  it('refuses values that would produce a broken or escaping encode', () => {
    expect(() => buildTranscodeArgs({ outDir: '/o', segmentSeconds: 0 })).toThrow(RangeError);
    expect(() => buildTranscodeArgs({ outDir: '/o', bitrateKbps: 1.5 })).toThrow(RangeError);
    expect(() => buildTranscodeArgs({ outDir: '/o', playlistName: '../x.m3u8' })).toThrow(RangeError);
    expect(() => buildTranscodeArgs({ outDir: '/o', inputFormat: 'mp3 -i /etc/passwd' })).toThrow(RangeError);
  });
});

// Captured from `ffmpeg -progress pipe:1` (FFmpeg 5.1) encoding a 3 s MP3 to HLS.
const REAL_OUTPUT = `bitrate=N/A
total_size=N/A
out_time_us=0
out_time_ms=0
out_time=00:00:00.000000
dup_frames=0
drop_frames=0
speed=N/A
progress=continue
bitrate=N/A
total_size=N/A
out_time_us=1504000
out_time_ms=1504000
out_time=00:00:01.504000
dup_frames=0
drop_frames=0
speed=15.2x
progress=continue
bitrate=N/A
total_size=N/A
out_time_us=3018600
out_time_ms=3018600
out_time=00:00:03.018600
dup_frames=0
drop_frames=0
speed=17.1x
progress=end
`;

describe('ffmpeg -progress output', () => {
  it('splits real output into blocks and turns them into percentages', () => {
    const { blocks, rest } = splitProgressBlocks(REAL_OUTPUT);
    expect(rest).toBe('');
    expect(blocks.map((b) => parseFfmpegProgress(b, 3.03))).toEqual([
      { outTimeSeconds: 0, percent: 0, done: false },
      { outTimeSeconds: 1.504, percent: (1.504 / 3.03) * 100, done: false },
      { outTimeSeconds: 3.0186, percent: 100, done: true },
    ]);
  });

  it('keeps an unfinished block for later, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: REAL_OUTPUT.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        let pending = '';
        const blocks: string[] = [];
        let from = 0;
        for (const cut of [...points, REAL_OUTPUT.length]) {
          const r = splitProgressBlocks(pending + REAL_OUTPUT.slice(from, cut));
          blocks.push(...r.blocks);
          pending = r.rest;
          from = cut;
        }
        expect(pending).toBe('');
        expect(blocks).toEqual(splitProgressBlocks(REAL_OUTPUT).blocks);
      }),
    );
    // "progress=conti" at the very end is not a finished block yet.
    expect(splitProgressBlocks('out_time_us=5\nprogress=conti').blocks).toEqual([]);
    expect(splitProgressBlocks('out_time_us=5\nprogress=continue').blocks).toEqual([]);
  });

  it('falls back to out_time_ms (also microseconds) and out_time, and clamps', () => {
    expect(parseFfmpegProgress('out_time_ms=2000000\nprogress=continue', 4).percent).toBe(50);
    expect(parseFfmpegProgress('out_time_us=N/A\nout_time=00:01:00.500000\nprogress=continue', 121).percent).toBe(50);
    expect(parseFfmpegProgress('out_time_us=-23000\nprogress=continue', 10)).toMatchObject({ outTimeSeconds: 0, percent: 0 });
    expect(parseFfmpegProgress('out_time_us=12000000\nprogress=continue', 10).percent).toBe(100);
    expect(parseFfmpegProgress('out_time_us=N/A\nout_time=N/A\nprogress=continue', 10)).toEqual({
      outTimeSeconds: null,
      percent: null,
      done: false,
    });
    expect(parseFfmpegProgress('out_time_us=5000000\nprogress=continue')).toMatchObject({ outTimeSeconds: 5, percent: null });
    expect(parseFfmpegProgress('progress=end')).toMatchObject({ percent: 100, done: true });
  });
});
