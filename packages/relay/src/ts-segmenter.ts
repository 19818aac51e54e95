/**
 * Cuts one continuous MPEG-TS stream (FFmpeg's stdout) into HLS segments.
 *
 * FFmpeg's own HLS muxer cuts on a cumulative grid (the first frame at or
 * after n x 6 s since the start), so segments come out at 5.99 / 6.01 s and
 * a 6 s target needs four of them in the window. This cuts each segment at
 * the first audio PES (one or a few audio frames) whose PTS is at least
 * `minSeconds` after the segment's own first PTS, so every segment lasts at
 * least `minSeconds` and at most that plus one PES. The duration of a segment
 * is the PTS distance to the first packet of the next one: exact, not
 * estimated.
 *
 * Every segment starts with the latest PAT and PMT followed by a PES start,
 * so it decodes on its own. Pure: no I/O, bytes in, segments out.
 */

export const TS_PACKET_SIZE = 188;
const SYNC_BYTE = 0x47;
const PTS_HZ = 90_000;
const PTS_WRAP = 2 ** 33;

export interface TsSegment {
  bytes: Buffer;
  /** Seconds, from this segment's first PTS to the next segment's first PTS. */
  duration: number;
  /** The segment follows a gap or jump in timestamps (or is the first after one). */
  discontinuity: boolean;
  /** What cutAt asked to begin with this segment (an ad break starting or ending), oldest first. */
  marks: SegmentMark[];
  /** The marks the next segment begins with, known when this one completes (an ad break's last segment is followed by its end). */
  followedBy: SegmentMark[];
}

/** Opaque to the segmenter: handed back on the segment that starts at the requested time. */
export interface SegmentMark {
  readonly kind: string;
}

export interface TsSegmenterOptions {
  /** Minimum segment length in seconds (DJCAST_RELAY_SEGMENT_SECONDS). */
  minSeconds: number;
  /**
   * A PTS step larger than this (or backwards) is a timestamp discontinuity:
   * the open segment is dropped and the next one is flagged (default 5 s).
   */
  maxGapSeconds?: number;
}

export class TsSyncError extends Error {
  override readonly name = 'TsSyncError';
}

export class TsSegmenter {
  private readonly minTicks: number;
  private readonly maxGapTicks: number;
  private remainder: Buffer = Buffer.alloc(0);
  private pat: Buffer | null = null;
  private pmt: Buffer | null = null;
  private pmtPid: number | null = null;
  private audioPid: number | null = null;
  private packets: Buffer[] = [];
  private startPts: number | null = null;
  private lastPts: number | null = null;
  private discontinuityPending = false;
  /** First audio PTS of the stream: input time 0. */
  private firstPts: number | null = null;
  private cuts: Array<{ ticks: number; mark: SegmentMark }> = [];
  private nextMarks: SegmentMark[] = [];

  constructor(options: TsSegmenterOptions) {
    if (!(options.minSeconds > 0)) throw new RangeError(`minSeconds must be > 0, got ${options.minSeconds}`);
    this.minTicks = Math.round(options.minSeconds * PTS_HZ);
    this.maxGapTicks = Math.round((options.maxGapSeconds ?? 5) * PTS_HZ);
  }

  /** Feeds bytes (any chunking); returns the segments completed by them, oldest first. */
  push(chunk: Buffer): TsSegment[] {
    const data = this.remainder.length > 0 ? Buffer.concat([this.remainder, chunk]) : chunk;
    const done: TsSegment[] = [];
    let offset = 0;
    for (; offset + TS_PACKET_SIZE <= data.length; offset += TS_PACKET_SIZE) {
      if (data[offset] !== SYNC_BYTE) throw new TsSyncError(`lost MPEG-TS sync at byte ${offset}`);
      // Copy: the caller's chunk buffers may be reused.
      const segment = this.packet(Buffer.from(data.subarray(offset, offset + TS_PACKET_SIZE)));
      if (segment) done.push(segment);
    }
    this.remainder = Buffer.from(data.subarray(offset));
    return done;
  }

  /**
   * Asks for a segment to start at the first audio PES at or after `seconds`
   * of the stream (counted from its first PTS), whatever the open segment's
   * length, and for `mark` to come with that segment. Used to put an ad's
   * first and last frames at segment boundaries.
   */
  cutAt(seconds: number, mark: SegmentMark): void {
    this.cuts.push({ ticks: Math.max(0, Math.round(seconds * PTS_HZ)), mark });
    this.cuts.sort((a, b) => a.ticks - b.ticks);
  }

  /** Seconds of audio held in the open (unfinished) segment. */
  get pendingSeconds(): number {
    if (this.startPts === null || this.lastPts === null) return 0;
    return ptsDiff(this.lastPts, this.startPts) / PTS_HZ;
  }

  private packet(p: Buffer): TsSegment | null {
    const pid = ((p[1]! & 0x1f) << 8) | p[2]!;
    const unitStart = (p[1]! & 0x40) !== 0;
    if (pid === 0) {
      this.pat = p;
      if (unitStart) this.pmtPid = parsePatPmtPid(p) ?? this.pmtPid;
      return this.append(p);
    }
    if (pid === this.pmtPid) {
      this.pmt = p;
      if (unitStart) this.audioPid = parsePmtFirstPid(p) ?? this.audioPid;
      return this.append(p);
    }
    if (pid !== this.audioPid || !unitStart) return this.append(p);

    const pts = readPesPts(p);
    if (pts === null) return this.append(p);
    this.firstPts ??= pts;
    let completed: TsSegment | null = null;
    const due: SegmentMark[] = [];
    while (this.cuts.length > 0 && ptsDiff(pts, this.firstPts) >= this.cuts[0]!.ticks) due.push(this.cuts.shift()!.mark);
    if (due.length > 0 && this.startPts !== null && this.lastPts !== null && ptsDiff(pts, this.startPts) > 0) {
      const step = ptsDiff(pts, this.lastPts);
      if (step >= 0 && step <= this.maxGapTicks) {
        completed = this.complete(pts);
      }
    }
    if (due.length > 0) this.nextMarks.push(...due);
    if (completed) {
      // fall through to open the next segment with this packet
    } else if (this.startPts !== null && this.lastPts !== null) {
      const step = ptsDiff(pts, this.lastPts);
      if (step < 0 || step > this.maxGapTicks) {
        // Timestamps jumped: what is open cannot be given an honest duration.
        this.packets = [];
        this.startPts = null;
        this.discontinuityPending = true;
        this.nextMarks = [...this.openMarks, ...this.nextMarks];
        this.openMarks = [];
      } else if (ptsDiff(pts, this.startPts) >= this.minTicks) {
        completed = this.complete(pts);
      }
    }
    if (this.startPts === null) {
      this.startPts = pts;
      this.openMarks = this.nextMarks;
      this.nextMarks = [];
      if (this.pat) this.packets.push(this.pat);
      if (this.pmt) this.packets.push(this.pmt);
    }
    if (this.lastPts !== null && ptsDiff(pts, this.lastPts) > 0) this.lastStep = ptsDiff(pts, this.lastPts);
    this.lastPts = pts;
    this.packets.push(p);
    if (completed) completed.followedBy = [...this.openMarks];
    return completed;
  }

  private openMarks: SegmentMark[] = [];
  /** Ticks between the last two audio PES starts: the best guess for the last one's length. */
  private lastStep = 0;

  /**
   * The open segment as a final one, once the stream has ended (nothing
   * follows to measure it by): its duration counts the last PES as long as
   * the one before it. Null when nothing is open.
   */
  flush(): TsSegment | null {
    if (this.startPts === null || this.lastPts === null || this.packets.length === 0) return null;
    const ticks = ptsDiff(this.lastPts, this.startPts) + this.lastStep;
    if (!(ticks > 0)) return null;
    const segment = this.complete(this.lastPts);
    segment.duration = ticks / PTS_HZ;
    this.lastPts = null;
    return segment;
  }

  private complete(pts: number): TsSegment {
    const segment: TsSegment = {
      bytes: Buffer.concat(this.packets),
      duration: ptsDiff(pts, this.startPts!) / PTS_HZ,
      discontinuity: this.discontinuityPending,
      marks: this.openMarks,
      followedBy: [],
    };
    this.discontinuityPending = false;
    this.packets = [];
    this.startPts = null;
    this.openMarks = [];
    return segment;
  }

  private append(p: Buffer): null {
    // Nothing is kept before the first audio PES start: a segment must begin decodable.
    if (this.startPts !== null) this.packets.push(p);
    return null;
  }
}

/** a - b in 90 kHz ticks, across the 33-bit wrap; negative when a is before b. */
export function ptsDiff(a: number, b: number): number {
  let d = (a - b) % PTS_WRAP;
  if (d < 0) d += PTS_WRAP;
  return d >= PTS_WRAP / 2 ? d - PTS_WRAP : d;
}

function payloadOffset(p: Buffer): number | null {
  const afc = (p[3]! >> 4) & 0x3;
  if ((afc & 0x1) === 0) return null; // no payload
  let offset = 4;
  if (afc & 0x2) offset += 1 + p[4]!;
  return offset < TS_PACKET_SIZE ? offset : null;
}

function sectionStart(p: Buffer): number | null {
  const offset = payloadOffset(p);
  if (offset === null) return null;
  const start = offset + 1 + p[offset]!; // pointer_field
  return start + 12 <= TS_PACKET_SIZE ? start : null;
}

/** The PMT PID of the first program in a PAT packet. */
export function parsePatPmtPid(p: Buffer): number | null {
  const s = sectionStart(p);
  if (s === null || p[s] !== 0x00) return null;
  const sectionLength = ((p[s + 1]! & 0x0f) << 8) | p[s + 2]!;
  const end = Math.min(s + 3 + sectionLength - 4, TS_PACKET_SIZE);
  for (let i = s + 8; i + 4 <= end; i += 4) {
    const program = (p[i]! << 8) | p[i + 1]!;
    if (program !== 0) return ((p[i + 2]! & 0x1f) << 8) | p[i + 3]!;
  }
  return null;
}

/** The PID of the first elementary stream in a PMT packet. */
export function parsePmtFirstPid(p: Buffer): number | null {
  const s = sectionStart(p);
  if (s === null || p[s] !== 0x02) return null;
  const sectionLength = ((p[s + 1]! & 0x0f) << 8) | p[s + 2]!;
  const end = Math.min(s + 3 + sectionLength - 4, TS_PACKET_SIZE);
  const programInfoLength = ((p[s + 10]! & 0x0f) << 8) | p[s + 11]!;
  const i = s + 12 + programInfoLength;
  if (i + 5 > end) return null;
  return ((p[i + 1]! & 0x1f) << 8) | p[i + 2]!;
}

/** The PTS of the PES packet starting in this TS packet, or null. */
export function readPesPts(p: Buffer): number | null {
  const o = payloadOffset(p);
  if (o === null || o + 14 > TS_PACKET_SIZE) return null;
  if (p[o] !== 0 || p[o + 1] !== 0 || p[o + 2] !== 1) return null;
  if ((p[o + 7]! & 0x80) === 0) return null;
  const b = o + 9;
  return (
    ((p[b]! >> 1) & 0x07) * 2 ** 30 + (((p[b + 1]! << 8) | p[b + 2]!) >> 1) * 2 ** 15 + (((p[b + 3]! << 8) | p[b + 4]!) >> 1)
  );
}
