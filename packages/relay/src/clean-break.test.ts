import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanPieceSpan, joinPieces, nearestBoundary } from './clean-break.js';
import { TS_PACKET_SIZE } from './ts-segmenter.js';

/** Cumulative ends of pieces of the given durations. */
function ends(durations: number[]): number[] {
  let t = 0;
  return durations.map((d) => (t += d));
}

describe('grouping the clean rendition into twins of the main break segments', () => {
  // One PES of AAC at 44.1 kHz is about 0.046 s here.
  const pieces = ends(Array.from({ length: 300 }, () => 0.046));

  it('cuts at the piece boundary nearest to each main segment end, earlier on a tie', () => {
    expect(nearestBoundary(pieces, 6.0)).toBe(130); // 5.98 is nearer than 6.026
    expect(nearestBoundary(pieces, 6.02)).toBe(131);
    expect(nearestBoundary([0.5, 1.0], 0.75)).toBe(1);
    expect(nearestBoundary([0.5, 1.0], 0.1)).toBe(0);
    expect(cleanPieceSpan(pieces, 0, 6.02, false)).toEqual({ from: 0, to: 131 });
    expect(cleanPieceSpan(pieces, 6.02, 12.0, false)).toEqual({ from: 131, to: 261 });
  });

  it('waits while a boundary is not decided yet, and for the encoder to finish before the last twin', () => {
    const partial = pieces.slice(0, 100); // 4.6 s so far
    expect(cleanPieceSpan(partial, 0, 6.02, false)).toBe('wait');
    expect(cleanPieceSpan(pieces, 6.02, null, false)).toBe('wait');
    expect(cleanPieceSpan(pieces, 6.02, null, true)).toEqual({ from: 131, to: 300 });
    // Finished short of the segment's end: the rest is what there is.
    expect(cleanPieceSpan(partial, 0, 6.02, true)).toEqual({ from: 0, to: 100 });
    expect(cleanPieceSpan([], 0, 6, true)).toBe('none');
    expect(cleanPieceSpan(partial, 6.02, 12, true)).toBe('none');
  });

  it('never gives an empty twin when pieces are left', () => {
    expect(cleanPieceSpan([1, 2, 3], 1.0, 1.2, false)).toEqual({ from: 1, to: 2 });
  });

  it('gives every main segment of a break exactly one twin: contiguous, covering everything, each within half a piece of its span', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.02, max: 0.07, noNaN: true }), { minLength: 50, maxLength: 600 }),
        fc.array(fc.double({ min: 5.9, max: 6.1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (pieceDurations, mainDurations) => {
          const e = ends(pieceDurations);
          const longest = Math.max(...pieceDurations);
          let start = 0;
          let next = 0;
          mainDurations.forEach((d, k) => {
            const last = k === mainDurations.length - 1;
            const span = cleanPieceSpan(e, start, last ? null : start + d, true);
            start += d;
            if (span === 'none' || span === 'wait') {
              // Only when the rendition ran out before this segment (the ad outlasted its pieces here).
              expect(next).toBe(e.length);
              return;
            }
            expect(span.from).toBe(next);
            next = span.to;
            if (!last && e[span.to - 1]! < e.at(-1)!)
              expect(Math.abs(e[span.to - 1]! - start)).toBeLessThanOrEqual(longest / 2 + 1e-9);
          });
          expect(next).toBe(e.length);
        },
      ),
    );
  });
});

describe('joinPieces', () => {
  const packet = (pid: number, fill: number) => {
    const p = Buffer.alloc(TS_PACKET_SIZE, fill);
    p[0] = 0x47;
    p[1] = (pid >> 8) & 0x1f;
    p[2] = pid & 0xff;
    return p;
  };
  const piece = (fill: number) => Buffer.concat([packet(0, 0xa0), packet(0x1000, 0xb0), packet(0x100, fill)]);

  it('keeps the PAT and PMT once, at the start of the twin', () => {
    const joined = joinPieces([piece(1), piece(2), piece(3)]);
    expect(joined.length).toBe(5 * TS_PACKET_SIZE);
    const pids = Array.from(
      { length: 5 },
      (_, i) => ((joined[i * TS_PACKET_SIZE + 1]! & 0x1f) << 8) | joined[i * TS_PACKET_SIZE + 2]!,
    );
    expect(pids).toEqual([0, 0x1000, 0x100, 0x100, 0x100]);
    expect([2, 3, 4].map((i) => joined[i * TS_PACKET_SIZE + 10])).toEqual([1, 2, 3]);
  });
});
