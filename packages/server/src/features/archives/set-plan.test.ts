import { describe, expect, it } from 'vitest';
import {
  buildJoinArgs,
  chaptersOf,
  concatScript,
  mp3BitrateFor,
  orderSegments,
  parseSegmentRecord,
  type SegmentRecord,
  totalDuration,
} from './set-plan.js';

const T0 = Date.parse('2026-06-01T20:00:00Z');
/** Six-second segments, complete at T0 + 6 s, + 12 s, ... */
const seg = (msn: number, extra: Partial<SegmentRecord> = {}): SegmentRecord => ({
  msn,
  duration: 6,
  ended_at_ms: T0 + (msn + 1) * 6000,
  title_at_start: null,
  titles: [],
  ...extra,
});

describe('chaptersOf', () => {
  it('starts with the title playing at the start and places each change inside its segment by the wall clock', () => {
    const chapters = chaptersOf([
      seg(0, { title_at_start: 'Intro' }),
      seg(1),
      // seen 2 s into the third segment (which ended at T0 + 18 s): 14 s into the set
      seg(2, { titles: [{ title: 'Track B', at_ms: T0 + 14_000 }] }),
      seg(3, { titles: [{ title: 'Track C', at_ms: T0 + 23_500 }] }),
    ]);
    expect(chapters).toEqual([
      { start_time: 0, title: 'Intro' },
      { start_time: 14, title: 'Track B' },
      { start_time: 23.5, title: 'Track C' },
    ]);
  });

  it('uses the measured durations, not the nominal ones, for the offsets', () => {
    const chapters = chaptersOf([
      seg(5, { duration: 6.2, ended_at_ms: T0 + 6200, title_at_start: 'A' }),
      seg(6, { duration: 6.1, ended_at_ms: T0 + 12_300, titles: [{ title: 'B', at_ms: T0 + 12_300 }] }),
    ]);
    expect(chapters).toEqual([
      { start_time: 0, title: 'A' },
      { start_time: 12.3, title: 'B' },
    ]);
  });

  it('clamps a change seen after the segment was complete to its end, and one before it to its start', () => {
    const chapters = chaptersOf([
      seg(0, { title_at_start: 'A', titles: [{ title: 'B', at_ms: T0 + 9000 }] }),
      seg(1, { titles: [{ title: 'C', at_ms: T0 - 60_000 }] }),
    ]);
    // B is clamped to the end of the first segment and C to the start of the second: the same second, the later one wins.
    expect(chapters).toEqual([
      { start_time: 0, title: 'A' },
      { start_time: 6, title: 'C' },
    ]);
  });

  it('makes no chapter of a repeat or an empty title, and none at all without titles', () => {
    expect(chaptersOf([seg(0), seg(1)])).toEqual([]);
    const chapters = chaptersOf([
      seg(0, { title_at_start: 'A', titles: [{ title: 'A', at_ms: T0 + 3000 }] }),
      seg(1, {
        titles: [
          { title: null, at_ms: T0 + 7000 },
          { title: '  ', at_ms: T0 + 9000 },
        ],
      }),
      seg(2, { titles: [{ title: 'B', at_ms: T0 + 15_000 }] }),
    ]);
    expect(chapters).toEqual([
      { start_time: 0, title: 'A' },
      { start_time: 15, title: 'B' },
    ]);
  });
});

describe('segment records', () => {
  it('parses what the relay writes and skips anything else', () => {
    const good = seg(3, { title_at_start: 'X', titles: [{ title: 'Y', at_ms: T0 }] });
    expect(parseSegmentRecord(JSON.stringify(good))).toEqual(good);
    expect(parseSegmentRecord('{')).toBeNull();
    expect(parseSegmentRecord(JSON.stringify({ ...good, duration: 0 }))).toBeNull();
    expect(parseSegmentRecord(JSON.stringify({ ...good, msn: 'x' }))).toBeNull();
    expect(parseSegmentRecord(JSON.stringify({ ...good, titles: [{ title: 5, at_ms: 1 }] }))?.titles).toEqual([]);
  });

  it('orders by media sequence, once each, and sums the exact duration', () => {
    const ordered = orderSegments([seg(9, { duration: 6.05 }), seg(7), seg(8, { duration: 5.99 }), seg(7)]);
    expect(ordered.map((s) => s.msn)).toEqual([7, 8, 9]);
    expect(totalDuration(ordered)).toBeCloseTo(18.04, 9);
  });
});

describe('joining', () => {
  it('writes an ffconcat script with each segment’s duration, quoting names', () => {
    expect(
      concatScript([
        { path: 'seg-1.ts', duration: 6.0213 },
        { path: "it's.ts", duration: 6 },
      ]),
    ).toBe("ffconcat version 1.0\nfile 'seg-1.ts'\nduration 6.021300\nfile 'it'\\''s.ts'\nduration 6.000000\n");
  });

  it('encodes a constant-bitrate MP3 at the source bitrate (the nearest LAME writes), 128 when unknown', () => {
    expect(mp3BitrateFor(128)).toBe(128);
    expect(mp3BitrateFor(192)).toBe(192);
    expect(mp3BitrateFor(125)).toBe(128);
    expect(mp3BitrateFor(null)).toBe(128);
    expect(mp3BitrateFor(0)).toBe(128);
    expect(mp3BitrateFor(1000)).toBe(320);
    const args = buildJoinArgs({ concatFile: '/w/set.ffconcat', output: '/w/set.mp3', bitrateKbps: 192 });
    expect(args.slice(args.indexOf('-f'), args.indexOf('-f') + 2)).toEqual(['-f', 'concat']);
    expect(args[args.indexOf('-i') + 1]).toBe('/w/set.ffconcat');
    expect(args[args.indexOf('-c:a') + 1]).toBe('libmp3lame');
    expect(args[args.indexOf('-b:a') + 1]).toBe('192k');
    expect(args[args.indexOf('-protocol_whitelist') + 1]).toBe('file');
    expect(args.at(-1)).toBe('/w/set.mp3');
  });
});
