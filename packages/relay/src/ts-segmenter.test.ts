import { describe, expect, it } from 'vitest';
import { ptsDiff, readPesPts, TS_PACKET_SIZE, TsSegmenter, TsSyncError } from './ts-segmenter.js';

const PMT_PID = 0x1000;
const AUDIO_PID = 0x100;

function packet(pid: number, unitStart: boolean, payload: number[]): Buffer {
  const p = Buffer.alloc(TS_PACKET_SIZE, 0xff);
  p[0] = 0x47;
  p[1] = (unitStart ? 0x40 : 0) | ((pid >> 8) & 0x1f);
  p[2] = pid & 0xff;
  p[3] = 0x10; // payload only
  Buffer.from(payload).copy(p, 4);
  return p;
}

function pat(): Buffer {
  // pointer, table 0, length 13, tsid 1, version, section 0/0, program 1 -> PMT_PID, CRC
  return packet(0, true, [0, 0x00, 0xb0, 13, 0, 1, 0xc1, 0, 0, 0, 1, 0xe0 | (PMT_PID >> 8), PMT_PID & 0xff, 1, 2, 3, 4]);
}

function pmt(): Buffer {
  // pointer, table 2, length 18, program 1, version, 0/0, PCR pid, no program info, AAC stream on AUDIO_PID, CRC
  return packet(PMT_PID, true, [
    0,
    0x02,
    0xb0,
    18,
    0,
    1,
    0xc1,
    0,
    0,
    0xe0 | (AUDIO_PID >> 8),
    AUDIO_PID & 0xff,
    0xf0,
    0,
    0x0f,
    0xe0 | (AUDIO_PID >> 8),
    AUDIO_PID & 0xff,
    0xf0,
    0,
    1,
    2,
    3,
    4,
  ]);
}

function pes(pts: number, tag: number): Buffer[] {
  const b = [
    ((Math.floor(pts / 2 ** 30) & 0x07) << 1) | 0x21,
    Math.floor(pts / 2 ** 22) & 0xff,
    ((Math.floor(pts / 2 ** 15) & 0x7f) << 1) | 1,
    Math.floor(pts / 2 ** 7) & 0xff,
    ((pts & 0x7f) << 1) | 1,
  ];
  const head = packet(AUDIO_PID, true, [0, 0, 1, 0xc0, 0, 0, 0x80, 0x80, 5, ...b, tag]);
  const tail = packet(AUDIO_PID, false, [tag]);
  return [head, tail];
}

/** A stream like FFmpeg's: PAT/PMT now and then, one PES per audio frame. */
function stream(frames: number, frameTicks: number, firstPts = 126_000): { bytes: Buffer; ptsOf: number[] } {
  const out: Buffer[] = [pat(), pmt()];
  const ptsOf: number[] = [];
  for (let i = 0; i < frames; i++) {
    if (i > 0 && i % 40 === 0) out.push(pat(), pmt());
    const pts = (firstPts + i * frameTicks) % 2 ** 33;
    ptsOf.push(pts);
    out.push(...pes(pts, i & 0xff));
  }
  return { bytes: Buffer.concat(out), ptsOf };
}

function feedInChunks(seg: TsSegmenter, bytes: Buffer, sizes: number[]) {
  const out = [];
  let i = 0;
  for (let offset = 0; offset < bytes.length; i++) {
    const size = sizes[i % sizes.length]!;
    out.push(...seg.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return out;
}

describe('TsSegmenter', () => {
  it('cutAt starts a segment at the requested stream time and hands back its mark, the timeline unbroken', () => {
    const frameTicks = 2090;
    const { bytes } = stream(1400, frameTicks);
    const seg = new TsSegmenter({ minSeconds: 6 });
    seg.cutAt(8.5, { kind: 'ad_started' });
    seg.cutAt(20, { kind: 'ad_ended' });
    const segments = feedInChunks(seg, bytes, [500, 188 * 5]);
    const starts = [0];
    for (const s of segments) starts.push(starts.at(-1)! + s.duration);
    const marked = segments
      .map((s, i) => ({ at: starts[i]!, kinds: s.marks.map((m) => m.kind) }))
      .filter((s) => s.kinds.length > 0);
    expect(marked.map((m) => m.kinds)).toEqual([['ad_started'], ['ad_ended']]);
    // At the first frame at or after the requested time: within one frame.
    expect(marked[0]!.at).toBeGreaterThanOrEqual(8.5);
    expect(marked[0]!.at).toBeLessThan(8.5 + frameTicks / 90_000);
    expect(marked[1]!.at).toBeGreaterThanOrEqual(20);
    expect(marked[1]!.at).toBeLessThan(20 + frameTicks / 90_000);
    // The cut shortens the segment before each edge; the others keep their minimum length.
    expect(segments.filter((s) => s.duration < 6)).toHaveLength(2);
    // The segment before each edge knows, when it completes, what the next one begins with.
    const before = segments.map((s) => s.followedBy.map((m) => m.kind));
    const edges = segments.flatMap((s, i) => (s.marks.length > 0 ? [i] : []));
    expect(edges.map((i) => before[i - 1])).toEqual([['ad_started'], ['ad_ended']]);
    expect(before.filter((k) => k.length > 0)).toHaveLength(2);
  });

  it('flush hands out the open tail once the stream has ended, its last PES as long as the one before', () => {
    const frameTicks = 2090;
    const { bytes } = stream(300, frameTicks); // one 6 s segment, the rest open
    const seg = new TsSegmenter({ minSeconds: 6 });
    const [full] = seg.push(bytes);
    const tail = seg.flush()!;
    expect(full!.duration + tail.duration).toBeCloseTo((300 * frameTicks) / 90_000, 6);
    const pids = [0, 1, 2].map((i) => ((tail.bytes[i * TS_PACKET_SIZE + 1]! & 0x1f) << 8) | tail.bytes[i * TS_PACKET_SIZE + 2]!);
    expect(pids).toEqual([0, PMT_PID, AUDIO_PID]);
    expect(seg.flush()).toBeNull();
  });

  it('cuts at the first frame at or after 6.0 s of each segment, never on a cumulative grid', () => {
    // AAC at 44.1 kHz: 1024 samples = 2089.8 ticks; a grid would give 5.99/6.01 s.
    const frameTicks = 2090;
    const { bytes } = stream(2000, frameTicks);
    const segments = feedInChunks(new TsSegmenter({ minSeconds: 6 }), bytes, [1000, 7, 188 * 3, 4096, 333]);
    expect(segments.length).toBe(Math.floor((2000 - 1) / Math.ceil(540_000 / frameTicks)));
    for (const s of segments) {
      expect(s.duration).toBeGreaterThanOrEqual(6);
      expect(s.duration).toBeLessThan(6 + frameTicks / 90_000 + 1e-9);
      expect(Math.round(s.duration)).toBe(6);
      expect(s.discontinuity).toBe(false);
    }
  });

  it('starts every segment with PAT, PMT and a PES carrying a PTS, and loses no audio packet between segments', () => {
    const { bytes, ptsOf } = stream(800, 1920); // 48 kHz AAC frames: 21.33 ms
    const segments = feedInChunks(new TsSegmenter({ minSeconds: 6 }), bytes, [188 * 17 + 5]);
    expect(segments.length).toBeGreaterThanOrEqual(2);
    const firstPtsOfEach: number[] = [];
    let audioPackets = 0;
    for (const s of segments) {
      expect(s.bytes.length % TS_PACKET_SIZE).toBe(0);
      const pids = [];
      for (let o = 0; o < s.bytes.length; o += TS_PACKET_SIZE) pids.push(((s.bytes[o + 1]! & 0x1f) << 8) | s.bytes[o + 2]!);
      expect(pids.slice(0, 3)).toEqual([0, PMT_PID, AUDIO_PID]);
      firstPtsOfEach.push(readPesPts(s.bytes.subarray(2 * TS_PACKET_SIZE, 3 * TS_PACKET_SIZE))!);
      audioPackets += pids.filter((pid) => pid === AUDIO_PID).length;
    }
    // Segments are back to back: each starts at the frame right after the previous one's last.
    const perSegment = Math.ceil(540_000 / 1920);
    expect(firstPtsOfEach).toEqual(segments.map((_, i) => ptsOf[i * perSegment]));
    expect(audioPackets).toBe(2 * perSegment * segments.length);
  });

  it('measures durations across the 33-bit PTS wrap', () => {
    const { bytes } = stream(1200, 2090, 2 ** 33 - 600_000);
    const segments = new TsSegmenter({ minSeconds: 6 }).push(bytes);
    expect(segments.length).toBeGreaterThanOrEqual(3);
    for (const s of segments) expect(s.duration).toBeGreaterThanOrEqual(6);
    expect(ptsDiff(100, 2 ** 33 - 100)).toBe(200);
    expect(ptsDiff(2 ** 33 - 100, 100)).toBe(-200);
  });

  it('drops the open segment on a timestamp jump and flags the next one as a discontinuity', () => {
    const a = stream(400, 2090, 0); // 9.3 s: one segment out, 3.3 s open
    const b = stream(700, 2090, 90_000 * 3600); // an hour later
    const seg = new TsSegmenter({ minSeconds: 6 });
    const first = seg.push(a.bytes);
    expect(first.map((s) => s.discontinuity)).toEqual([false]);
    const second = seg.push(b.bytes);
    expect(second.length).toBe(2);
    expect(second.map((s) => s.discontinuity)).toEqual([true, false]);
    for (const s of second) expect(s.duration).toBeGreaterThanOrEqual(6);
  });

  it('holds back a short tail instead of publishing a segment shorter than the minimum', () => {
    const { bytes } = stream(300, 2090); // ~7 s: one 6 s segment, ~1 s open
    const seg = new TsSegmenter({ minSeconds: 6 });
    expect(seg.push(bytes)).toHaveLength(1);
    expect(seg.pendingSeconds).toBeGreaterThan(0.5);
    expect(seg.pendingSeconds).toBeLessThan(6);
  });

  it('rejects bytes that are not MPEG-TS', () => {
    expect(() => new TsSegmenter({ minSeconds: 6 }).push(Buffer.alloc(400, 0x12))).toThrow(TsSyncError);
  });
});
