import { describe, expect, it } from 'vitest';
import { adSpans, type SpliceBreak, type SplicePiece, spliceHls, spliceMp3 } from './ad-splice.js';
import { buildConcatMap } from './mp3-concat.js';

// A CBR track of `seconds` seconds at 1000 bytes a second, a frame every 100 bytes.
const track = (id: string, seconds: number): SplicePiece<string> => ({
  source: id,
  sourceId: id,
  concat: {
    id,
    audioStart: 10,
    audioLength: seconds * 1000,
    seekIndex: Array.from({ length: seconds + 1 }, (_, s) => Math.min(s * 1000, seconds * 1000 - 100)),
    durationSeconds: seconds,
  },
  segments: Array.from({ length: Math.ceil(seconds / 6) }, (_, i) => ({
    uri: `s${i}.ts`,
    duration: Math.min(6, seconds - i * 6),
  })),
});
const ad = (markerId: string, positionSeconds: number, seconds = 5): SpliceBreak<string> => {
  const { adMarkerId: _, ...piece } = track(`ad-${markerId}`, seconds);
  return { markerId, positionSeconds, ad: { ...piece, sourceId: markerId } };
};

describe('spliceMp3', () => {
  it('splits the track playing at the marker at the indexed frame and keeps every programme byte', () => {
    const pieces = spliceMp3([track('a', 20), track('b', 10)], [ad('m1', 12)]);
    expect(pieces.map((p) => [p.source, p.concat.audioStart, p.concat.audioLength])).toEqual([
      ['a', 10, 12_000],
      ['ad-m1', 10, 5000],
      ['a', 12_010, 8000],
      ['b', 10, 10_000],
    ]);
    const map = buildConcatMap(pieces.map((p) => p.concat));
    expect(map.totalLength).toBe(35_000);
    expect(map.totalSeconds).toBeCloseTo(35, 6);
    expect(adSpans(pieces)).toEqual([{ markerId: 'm1', offset: 12_000, length: 5000, startSeconds: 12, durationSeconds: 5 }]);
    // The tail's seek index is relative to its own start.
    expect(pieces[2]!.concat.seekIndex.slice(0, 3)).toEqual([0, 1000, 2000]);
  });

  it('counts positions in programme time: a later marker is not moved by an earlier ad', () => {
    const spans = adSpans(spliceMp3([track('a', 30)], [ad('late', 20), ad('early', 10)]));
    expect(spans.map((s) => [s.markerId, s.startSeconds])).toEqual([
      ['early', 10],
      ['late', 25],
    ]);
  });

  it('puts a marker at a track boundary between the tracks, a pre-roll first and one past the end last', () => {
    const pieces = spliceMp3([track('a', 10), track('b', 10)], [ad('pre', 0), ad('mid', 10), ad('post', 99)]);
    expect(pieces.map((p) => p.source)).toEqual(['ad-pre', 'a', 'ad-mid', 'b', 'ad-post']);
  });
});

describe('spliceHls', () => {
  it('cuts at the segment boundary nearest the marker', () => {
    const pieces = spliceHls([track('a', 30)], [ad('m', 13)]);
    expect(pieces.map((p) => [p.sourceId, p.segments.map((s) => s.uri)])).toEqual([
      ['a', ['s0.ts', 's1.ts']],
      ['m', ['s0.ts']],
      ['a', ['s2.ts', 's3.ts', 's4.ts']],
    ]);
  });

  it('a pre-roll goes before the first segment', () => {
    expect(spliceHls([track('a', 12)], [ad('m', 0)]).map((p) => p.sourceId)).toEqual(['m', 'a']);
  });
});
