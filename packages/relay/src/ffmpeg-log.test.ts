import { describe, expect, it } from 'vitest';
import { isInputOpenedLine, parseFfmpegInputInfo } from './ffmpeg-log.js';

// Captured from FFmpeg 5.1 pulling an Icecast MP3 mount and re-encoding to AAC.
const AAC_RUN = `[mp3 @ 0x55c0866e8bc0] Skipping 303 bytes of junk at 0.
Input #0, mp3, from 'http://127.0.0.1:18000/live':
  Metadata:
    icy-pub         : 0
    icy-metadata    : 1
  Duration: N/A, start: 0.000000, bitrate: 128 kb/s
  Stream #0:0: Audio: mp3, 44100 Hz, mono, fltp, 128 kb/s
Stream mapping:
  Stream #0:0 -> #0:0 (mp3 (mp3float) -> aac (native))
Output #0, hls, to 'run-1/index.m3u8':
  Stream #0:0: Audio: aac (LC), 44100 Hz, mono, fltp, 96 kb/s
[hls @ 0x55c0866f82c0] Opening 'run-1/seg-0.ts.tmp' for writing`;

describe('parseFfmpegInputInfo', () => {
  it('reads the input codec and bitrate, not the output encoder', () => {
    expect(parseFfmpegInputInfo(AAC_RUN)).toEqual({
      format: 'mp3',
      codec: 'mp3',
      sampleRate: 44100,
      bitrateKbps: 128,
      contentType: 'audio/mpeg',
    });
  });

  it('handles an AAC source with a language tag and no stream bitrate', () => {
    const text = `Input #0, aac, from 'http://h/stream':\n  Duration: N/A, bitrate: 64 kb/s\n  Stream #0:0(und): Audio: aac (HE-AAC), 48000 Hz, stereo, fltp\nOutput #0, hls`;
    expect(parseFfmpegInputInfo(text)).toEqual({
      format: 'aac',
      codec: 'aac',
      sampleRate: 48000,
      bitrateKbps: 64,
      contentType: 'audio/aac',
    });
  });

  it('returns nulls when the input never opened', () => {
    const text = `[http @ 0x1] HTTP error 404 Not Found\nhttp://h/live: Server returned 404 Not Found`;
    expect(parseFfmpegInputInfo(text)).toEqual({
      format: null,
      codec: null,
      sampleRate: null,
      bitrateKbps: null,
      contentType: null,
    });
  });

  it('spots the line that says the input is open', () => {
    expect(isInputOpenedLine("Input #0, mp3, from 'http://h/live':")).toBe(true);
    expect(isInputOpenedLine('  Stream #0:0: Audio: mp3')).toBe(false);
  });
});
