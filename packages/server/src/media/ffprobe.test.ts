import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProbeArgs, parseProbeOutput, ProbeError } from './ffprobe.js';

/** Real ffprobe output captured from FFmpeg 5.1 (see test/fixtures/media/README.md). */
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/media/ffprobe/${name}.json`, import.meta.url), 'utf8'));

describe('parseProbeOutput', () => {
  it('reads a CBR MP3', () => {
    expect(parseProbeOutput(fixture('cbr-id3'))).toEqual({
      durationSeconds: 3.030204,
      bitrateKbps: 128,
      sampleRate: 44100,
      channels: 2,
      codec: 'mp3',
      formatName: 'mp3',
    });
  });

  it('reads a VBR MP3 and a WAV', () => {
    expect(parseProbeOutput(fixture('vbr-xing'))).toEqual({
      durationSeconds: 4.032,
      bitrateKbps: 101,
      sampleRate: 48000,
      channels: 2,
      codec: 'mp3',
      formatName: 'mp3',
    });
    expect(parseProbeOutput(fixture('pcm'))).toMatchObject({
      codec: 'pcm_s16le',
      formatName: 'wav',
      channels: 1,
      durationSeconds: 2,
    });
  });

  it('picks the audio stream when cover art comes along as a video stream', () => {
    expect(parseProbeOutput(fixture('cover-art'))).toMatchObject({ codec: 'mp3', sampleRate: 44100, bitrateKbps: 128 });
  });

  it('says there is no audio stream in an image', () => {
    expect(() => parseProbeOutput(fixture('image'))).toThrow(
      expect.objectContaining({ code: 'no_audio', message: 'no audio stream (only video)' }),
    );
    // ffprobe prints an empty object when it cannot open the input at all.
    expect(() => parseProbeOutput({})).toThrow(expect.objectContaining({ code: 'no_audio', message: 'no streams at all' }));
  });

  it('falls back to the container for unknown stream duration and bitrate, and to null', () => {
    const json = fixture('cbr-id3') as { streams: Record<string, unknown>[]; format: Record<string, unknown> };
    json.streams[0]!.duration = 'N/A';
    delete json.streams[0]!.bit_rate;
    expect(parseProbeOutput(json)).toMatchObject({ durationSeconds: 3.030204, bitrateKbps: 129 });
    delete json.format.duration;
    delete json.format.bit_rate;
    expect(parseProbeOutput(json)).toMatchObject({ durationSeconds: null, bitrateKbps: null });
  });

  it('rejects output of the wrong shape', () => {
    for (const bad of [null, 'text', { streams: 'x' }, { streams: [{ codec_type: 'audio', codec_name: 'mp3' }] }]) {
      expect(() => parseProbeOutput(bad)).toThrow(ProbeError);
    }
    expect(() => parseProbeOutput({ streams: [{ codec_type: 'audio' }] })).toThrow(
      expect.objectContaining({ code: 'bad_output' }),
    );
  });
});

describe('buildProbeArgs', () => {
  it('reads local files through the file protocol only, by absolute path', () => {
    expect(buildProbeArgs('/data/uploads/a.mp3')).toEqual([
      '-v',
      'error',
      '-print_format',
      'json',
      '-show_format',
      '-show_streams',
      '-protocol_whitelist',
      'file',
      '-i',
      'file:/data/uploads/a.mp3',
    ]);
    expect(buildProbeArgs('-evil.mp3').at(-1)).toMatch(/^file:\/.*\/-evil\.mp3$/);
    expect(buildProbeArgs('http:foo.mp3').at(-1)).toMatch(/^file:\/.*\/http:foo\.mp3$/);
  });

  it('reads URLs through http(s) only, with a network timeout', () => {
    expect(buildProbeArgs('https://cdn.example.com/mix.mp3').slice(6)).toEqual([
      '-protocol_whitelist',
      'http,https,tcp,tls',
      '-rw_timeout',
      '15000000',
      '-i',
      'https://cdn.example.com/mix.mp3',
    ]);
    expect(() => buildProbeArgs('ftp://example.com/a.mp3')).toThrow(expect.objectContaining({ code: 'bad_input' }));
  });
});
