import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  TrackSourceError,
  buildConcatMap,
  offsetForSeconds,
  parseRangeHeader,
  resolveRange,
  streamConcat,
  type ConcatMap,
  type ConcatTrackInput,
} from './mp3-concat.js';

const trackArb: fc.Arbitrary<ConcatTrackInput> = fc
  .record({
    audioStart: fc.integer({ min: 0, max: 2000 }),
    audioLength: fc.integer({ min: 0, max: 5000 }),
    seconds: fc.integer({ min: 0, max: 20 }),
    id: fc.nat({ max: 9999 }),
  })
  .map(({ audioStart, audioLength, seconds, id }) => {
    // An evenly spaced index, like a CBR file: one entry per whole second.
    const n = audioLength === 0 ? 0 : seconds + 1;
    const seekIndex = Array.from({ length: n }, (_, s) => Math.floor((s * audioLength) / (seconds + 1)));
    return { id: `t${id}`, audioStart, audioLength, seekIndex, durationSeconds: audioLength === 0 ? 0 : seconds + 0.5 };
  });

const mapArb = fc
  .array(trackArb, { minLength: 1, maxLength: 8 })
  .map(buildConcatMap)
  .filter((m) => m.totalLength > 0);

/** Deterministic content of a track's file, so any slice can be checked byte for byte. */
const fileByte = (trackIndex: number, offset: number) => (trackIndex * 131 + offset * 7 + (offset >> 8)) & 0xff;

function fileBytes(trackIndex: number, start: number, endInclusive: number): Buffer {
  const out = Buffer.alloc(endInclusive - start + 1);
  for (let i = 0; i < out.length; i++) out[i] = fileByte(trackIndex, start + i);
  return out;
}

/** Reference: virtual byte → (track, file offset) by walking every byte. */
function expectedBytes(map: ConcatMap, start: number, end: number): Buffer {
  const out: number[] = [];
  let v = 0;
  map.tracks.forEach((t, i) => {
    for (let k = 0; k < t.audioLength; k++, v++) if (v >= start && v <= end) out.push(fileByte(i, t.audioStart + k));
  });
  return Buffer.from(out);
}

/** A source that hands out its bytes in small chunks. */
const chunkedSource = (bytes: Buffer, chunk = 97) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    })(),
    { objectMode: false },
  );

const rangeIn = (map: ConcatMap) =>
  fc
    .tuple(fc.integer({ min: 0, max: map.totalLength - 1 }), fc.integer({ min: 0, max: map.totalLength - 1 }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);

describe('buildConcatMap / resolveRange', () => {
  it('lays tracks back to back', () => {
    const map = buildConcatMap([
      { id: 'a', audioStart: 100, audioLength: 1000, seekIndex: [0, 400, 800], durationSeconds: 2.5 },
      { id: 'b', audioStart: 0, audioLength: 0, seekIndex: [] },
      { id: 'c', audioStart: 45, audioLength: 500, seekIndex: [0, 250], durationSeconds: 2 },
    ]);
    expect(map.totalLength).toBe(1500);
    expect(map.totalSeconds).toBe(4.5);
    expect(map.tracks.map((t) => [t.offset, t.startSeconds])).toEqual([
      [0, 0],
      [1000, 2.5],
      [1000, 2.5],
    ]);
    expect(resolveRange(map, 990, 1009)).toEqual([
      { trackIndex: 0, fileStart: 1090, fileEnd: 1099 },
      { trackIndex: 2, fileStart: 45, fileEnd: 54 },
    ]);
    expect(() => resolveRange(map, 0, 1500)).toThrow(RangeError);
    expect(() => resolveRange(map, 5, 4)).toThrow(RangeError);
  });

  it('rejects a track whose numbers cannot be right', () => {
    expect(() => buildConcatMap([{ id: 'x', audioStart: -1, audioLength: 10, seekIndex: [0] }])).toThrow(/audioStart/);
    expect(() => buildConcatMap([{ id: 'x', audioStart: 0, audioLength: 10, seekIndex: [0, 5, 3] }])).toThrow(/seekIndex/);
    expect(() => buildConcatMap([{ id: 'x', audioStart: 0, audioLength: 10, seekIndex: [0, 10] }])).toThrow(/seekIndex/);
  });

  it('estimates a duration from the seek index when none is given', () => {
    const [t] = buildConcatMap([{ id: 'a', audioStart: 0, audioLength: 2500, seekIndex: [0, 1000, 2000] }]).tracks;
    expect(t!.durationSeconds).toBeCloseTo(2.5);
  });

  it('slices are contiguous, cover exactly the requested bytes and never leave a track’s audio', () => {
    fc.assert(
      fc.property(
        mapArb.chain((map) => fc.tuple(fc.constant(map), rangeIn(map))),
        ([map, [start, end]]) => {
          const slices = resolveRange(map, start, end);
          let covered = 0;
          let virtual = start;
          let lastTrack = -1;
          for (const s of slices) {
            const t = map.tracks[s.trackIndex]!;
            expect(s.trackIndex).toBeGreaterThan(lastTrack);
            lastTrack = s.trackIndex;
            expect(s.fileStart).toBeGreaterThanOrEqual(t.audioStart);
            expect(s.fileEnd).toBeLessThan(t.audioStart + t.audioLength);
            expect(s.fileEnd).toBeGreaterThanOrEqual(s.fileStart);
            // Contiguous: each slice starts where the previous one's virtual bytes ended.
            expect(t.offset + (s.fileStart - t.audioStart)).toBe(virtual);
            virtual += s.fileEnd - s.fileStart + 1;
            covered += s.fileEnd - s.fileStart + 1;
          }
          expect(covered).toBe(end - start + 1);
          const got = Buffer.concat(slices.map((s) => fileBytes(s.trackIndex, s.fileStart, s.fileEnd)));
          expect(got.equals(expectedBytes(map, start, end))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('offsetForSeconds', () => {
  const map = buildConcatMap([
    { id: 'a', audioStart: 10, audioLength: 3000, seekIndex: [0, 1000, 2000], durationSeconds: 3 },
    { id: 'b', audioStart: 20, audioLength: 2000, seekIndex: [0, 1000, 1900], durationSeconds: 2.1 },
  ]);

  it('maps times to the nearest indexed frame of the track playing then', () => {
    expect(offsetForSeconds(map, -5)).toBe(0);
    expect(offsetForSeconds(map, 0)).toBe(0);
    expect(offsetForSeconds(map, 1.2)).toBe(1000);
    expect(offsetForSeconds(map, 1.6)).toBe(2000);
    expect(offsetForSeconds(map, 2.7)).toBe(3000); // nearer the next track than second 2 of track a
    expect(offsetForSeconds(map, 3)).toBe(3000);
    expect(offsetForSeconds(map, 4.2)).toBe(4000);
    expect(offsetForSeconds(map, 5.05)).toBe(4900);
    expect(offsetForSeconds(map, 99)).toBe(5000);
  });

  it('always lands on a frame boundary and never goes backwards in time', () => {
    fc.assert(
      fc.property(
        mapArb,
        fc.array(fc.double({ min: -5, max: 300, noNaN: true }), { minLength: 2, maxLength: 20 }),
        (m, times) => {
          const boundaries = new Set<number>([m.totalLength]);
          for (const t of m.tracks) {
            boundaries.add(t.offset);
            for (const s of t.seekIndex) boundaries.add(t.offset + s);
          }
          const sorted = [...times].sort((a, b) => a - b);
          let previous = -1;
          for (const seconds of sorted) {
            const offset = offsetForSeconds(m, seconds);
            expect(boundaries.has(offset)).toBe(true);
            expect(offset).toBeGreaterThanOrEqual(previous);
            previous = offset;
          }
        },
      ),
    );
  });
});

describe('parseRangeHeader', () => {
  it.each([
    [undefined, 1000, { kind: 'full' }],
    ['', 1000, { kind: 'full' }],
    ['bytes=0-499', 1000, { kind: 'partial', start: 0, end: 499, contentLength: 500, contentRange: 'bytes 0-499/1000' }],
    ['bytes=500-', 1000, { kind: 'partial', start: 500, end: 999, contentLength: 500, contentRange: 'bytes 500-999/1000' }],
    ['bytes=-200', 1000, { kind: 'partial', start: 800, end: 999, contentLength: 200, contentRange: 'bytes 800-999/1000' }],
    ['bytes=-5000', 1000, { kind: 'partial', start: 0, end: 999 }],
    ['bytes=900-5000', 1000, { kind: 'partial', start: 900, end: 999 }],
    ['Bytes = 1 - 2 ', 1000, { kind: 'partial', start: 1, end: 2 }],
    ['bytes=999-999', 1000, { kind: 'partial', start: 999, end: 999, contentLength: 1 }],
    ['bytes=1000-', 1000, { kind: 'unsatisfiable', contentRange: 'bytes */1000' }],
    ['bytes=5-4', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-0', 1000, { kind: 'unsatisfiable' }],
    ['bytes=abc', 1000, { kind: 'unsatisfiable' }],
    ['bytes=-', 1000, { kind: 'unsatisfiable' }],
    ['bytes=1.5-2', 1000, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable', contentRange: 'bytes */0' }],
    ['bytes=-1', 0, { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', 1000, { kind: 'full', ignoredReason: 'multiple ranges are not supported' }],
    ['items=0-1', 1000, { kind: 'full' }],
  ] as const)('%s of %i bytes', (header, total, expected) => {
    expect(parseRangeHeader(header, total)).toMatchObject(expected);
  });

  it('returns in-bounds ranges that resolveRange accepts', () => {
    fc.assert(
      fc.property(mapArb, fc.nat(), fc.nat(), fc.constantFrom('a-b', 'a-', '-n'), (map, x, y, form) => {
        const a = x % (map.totalLength + 10);
        const b = a + (y % 100);
        const header = form === 'a-b' ? `bytes=${a}-${b}` : form === 'a-' ? `bytes=${a}-` : `bytes=-${y}`;
        const r = parseRangeHeader(header, map.totalLength);
        if (r.kind === 'partial') {
          expect(r.end).toBeLessThan(map.totalLength);
          expect(resolveRange(map, r.start, r.end).length).toBeGreaterThan(0);
        } else {
          expect(r.kind).toBe('unsatisfiable');
          expect(form === '-n' ? y === 0 : a >= map.totalLength).toBe(true);
        }
      }),
    );
  });
});

describe('streamConcat', () => {
  it('streams exactly the requested bytes, in order, from chunked sources', async () => {
    await fc.assert(
      fc.asyncProperty(
        mapArb.chain((map) => fc.tuple(fc.constant(map), rangeIn(map), fc.integer({ min: 1, max: 700 }))),
        async ([map, [start, end], chunk]) => {
          const slices = resolveRange(map, start, end);
          const out = await buffer(streamConcat(map, slices, (i, s, e) => chunkedSource(fileBytes(i, s, e), chunk)));
          expect(out.equals(expectedBytes(map, start, end))).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  const map = buildConcatMap([
    { id: 'a', audioStart: 0, audioLength: 10, seekIndex: [0] },
    { id: 'b', audioStart: 5, audioLength: 10, seekIndex: [0] },
  ]);

  it('cuts off a source that returns more than its slice', async () => {
    const out = await buffer(
      streamConcat(map, resolveRange(map, 0, 19), (i, s, e) => chunkedSource(fileBytes(i, s, e + 1000), 3)),
    );
    expect(out.equals(expectedBytes(map, 0, 19))).toBe(true);
  });

  it('fails with TrackSourceError when a source ends early, fails, or cannot be opened', async () => {
    const short = streamConcat(map, resolveRange(map, 0, 19), (i, s, e) => chunkedSource(fileBytes(i, s, i === 1 ? e - 3 : e)));
    await expect(buffer(short)).rejects.toMatchObject({ name: 'TrackSourceError', trackIndex: 1, message: /7 of 10 bytes/ });
    const failing = streamConcat(
      map,
      resolveRange(map, 0, 19),
      () =>
        new Readable({
          read() {
            this.destroy(new Error('connection reset'));
          },
        }),
    );
    await expect(buffer(failing)).rejects.toThrow(/track 0: source failed: connection reset/);
    const unopenable = streamConcat(map, resolveRange(map, 0, 19), async () => {
      throw new Error('HTTP 404');
    });
    await expect(buffer(unopenable)).rejects.toBeInstanceOf(TrackSourceError);
  });

  it('rejects slices outside a track’s audio', () => {
    expect(() => streamConcat(map, [{ trackIndex: 1, fileStart: 0, fileEnd: 4 }], () => Readable.from([]))).toThrow(RangeError);
  });

  it('pulls from sources only as fast as the consumer reads and opens tracks lazily', async () => {
    const GB = 1024 ** 3;
    const big = buildConcatMap([
      { id: 'a', audioStart: 0, audioLength: GB, seekIndex: [0] },
      { id: 'b', audioStart: 0, audioLength: GB, seekIndex: [0] },
    ]);
    let produced = 0;
    const opened: number[] = [];
    let destroyedSource = false;
    const out = streamConcat(big, resolveRange(big, 0, 2 * GB - 1), (i) => {
      opened.push(i);
      const chunk = Buffer.alloc(64 * 1024, i);
      return new Readable({
        read() {
          produced += chunk.length;
          this.push(chunk);
        },
        destroy(error, callback) {
          destroyedSource = true;
          callback(error);
        },
      });
    });
    let consumed = 0;
    for await (const chunk of out) {
      consumed += (chunk as Buffer).length;
      if (consumed >= 8 * 1024 * 1024) break; // a listener leaves after 8 MB
    }
    expect(produced - consumed).toBeLessThan(1024 * 1024); // only stream buffers in flight
    expect(opened).toEqual([0]);
    expect(destroyedSource).toBe(true);
  });

  it('reads ahead only as far as the highWaterMark it is given', async () => {
    const GB = 1024 ** 3;
    const big = buildConcatMap([{ id: 'a', audioStart: 0, audioLength: GB, seekIndex: [0] }]);
    const readAhead = async (options?: { highWaterMark?: number }) => {
      let produced = 0;
      const out = streamConcat(
        big,
        resolveRange(big, 0, GB - 1),
        () =>
          new Readable({
            highWaterMark: 4096,
            read() {
              produced += 1024;
              this.push(Buffer.alloc(1024, 7));
            },
          }),
        options,
      );
      out.read(0); // a consumer that asked once, then stopped reading
      await new Promise((r) => setTimeout(r, 50));
      const result = { hwm: out.readableHighWaterMark, buffered: out.readableLength, produced };
      out.destroy();
      return result;
    };
    const small = await readAhead({ highWaterMark: 16 * 1024 });
    expect(small.hwm).toBe(16 * 1024);
    expect(small.buffered).toBeGreaterThanOrEqual(16 * 1024);
    expect(small.buffered).toBeLessThan(16 * 1024 + 1024);
    expect(small.produced).toBeLessThanOrEqual(16 * 1024 + 4096 + 2048); // its buffer, the source's, a chunk in hand
    const byDefault = await readAhead();
    expect(byDefault.hwm).toBe(64 * 1024);
    expect(byDefault.buffered).toBeGreaterThanOrEqual(64 * 1024);
    expect(byDefault.buffered).toBeLessThan(64 * 1024 + 1024);
    for (const bad of [0, -1, 0.5]) {
      expect(() => streamConcat(map, resolveRange(map, 0, 19), () => Readable.from([]), { highWaterMark: bad })).toThrow(
        RangeError,
      );
    }
  });

  it('destroys a stalled source as soon as the consumer goes away', async () => {
    let sourceDestroyed = false;
    const stalled = () =>
      new Readable({
        read() {},
        destroy(error, callback) {
          sourceDestroyed = true;
          callback(error);
        },
      });
    const out = streamConcat(map, resolveRange(map, 0, 19), stalled);
    out.resume();
    await new Promise((r) => setTimeout(r, 20));
    out.destroy();
    await new Promise((r) => setImmediate(r));
    expect(sourceDestroyed).toBe(true);
  });
});
