import { describe, expect, it } from 'vitest';
import { buildNormalizeArgs, LOUDNESS } from './normalize.js';
import { LIVE_VARIANT_RATES, liveVariantTarget } from './service.js';

const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('live ad variants', () => {
  it('are the other MPEG-1 layer III rates, MP3 only, in the relay format', () => {
    expect([...LIVE_VARIANT_RATES]).toEqual([48000, 32000]);
    expect(liveVariantTarget(48000, 30)).toEqual({
      sampleRate: 48000,
      bitrateKbps: 128,
      channels: 2,
      durationSeconds: 30,
      hls: false,
    });
    // The rendition id is a hash of this JSON: one shape, whatever the order the fields were given in.
    expect(JSON.stringify(liveVariantTarget(32000, 12))).toBe(
      '{"sampleRate":32000,"bitrateKbps":128,"channels":2,"durationSeconds":12,"hls":false}',
    );
  });

  it('normalize with loudnorm, then resample to their rate, encoded at that rate', () => {
    for (const rate of [44100, ...LIVE_VARIANT_RATES]) {
      const args = buildNormalizeArgs(liveVariantTarget(rate, 30), '/tmp/out.mp3');
      const { integratedLufs, truePeakDb, rangeLu } = LOUDNESS;
      expect(after(args, '-af')).toBe(`loudnorm=I=${integratedLufs}:TP=${truePeakDb}:LRA=${rangeLu},aresample=${rate},apad`);
      expect(after(args, '-ar')).toBe(String(rate));
      expect(after(args, '-b:a')).toBe('128k');
      expect(after(args, '-ac')).toBe('2');
      expect(after(args, '-t')).toBe('30');
      expect(args.at(-1)).toBe('/tmp/out.mp3');
    }
  });

  it('refuses a rate MP3 does not have', () => {
    expect(() => buildNormalizeArgs(liveVariantTarget(44000, 30), '/tmp/out.mp3')).toThrow(RangeError);
  });
});
