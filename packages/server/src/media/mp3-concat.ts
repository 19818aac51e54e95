// A playlist's continuous MP3 stream as one virtual byte sequence: the audio
// frames of each track (tags and VBR header frames cut off), back to back.
// The map and range arithmetic are pure; `streamConcat` only reads sources.

import { finished, Readable } from 'node:stream';

export interface ConcatTrackInput {
  id: string;
  /** Offset of the first audio frame in the track's file (from findAudioRange). */
  audioStart: number;
  /** Bytes of audio frames from audioStart. */
  audioLength: number;
  /** Offsets relative to audioStart of the frame nearest each whole second. */
  seekIndex: readonly number[];
  /** Exact duration when known; otherwise estimated from the seek index. */
  durationSeconds?: number;
}

export interface ConcatTrack extends ConcatTrackInput {
  /** Where this track's audio starts in the virtual stream. */
  offset: number;
  /** Where this track starts in time, in seconds. */
  startSeconds: number;
  durationSeconds: number;
}

export interface ConcatMap {
  totalLength: number;
  totalSeconds: number;
  tracks: readonly ConcatTrack[];
}

export interface ConcatSlice {
  trackIndex: number;
  /** Absolute offsets in the track's file, both inclusive (like an HTTP Range and BlobStore ByteRange). */
  fileStart: number;
  fileEnd: number;
}

export function buildConcatMap(tracks: readonly ConcatTrackInput[]): ConcatMap {
  let offset = 0;
  let seconds = 0;
  const out: ConcatTrack[] = tracks.map((t, i) => {
    for (const [name, value] of [
      ['audioStart', t.audioStart],
      ['audioLength', t.audioLength],
    ] as const) {
      if (!Number.isSafeInteger(value) || value < 0)
        throw new RangeError(`track ${i} (${t.id}): ${name} must be a non-negative integer`);
    }
    t.seekIndex.forEach((s, k) => {
      if (!Number.isSafeInteger(s) || s < 0 || (s >= t.audioLength && t.audioLength > 0) || (k > 0 && s < t.seekIndex[k - 1]!)) {
        throw new RangeError(`track ${i} (${t.id}): seekIndex[${k}] = ${s} is not an ascending offset inside the audio`);
      }
    });
    const durationSeconds = t.durationSeconds ?? estimateDuration(t);
    const track: ConcatTrack = { ...t, offset, startSeconds: seconds, durationSeconds };
    offset += t.audioLength;
    seconds += durationSeconds;
    return track;
  });
  return { totalLength: offset, totalSeconds: seconds, tracks: out };
}

/** Whole seconds from the index, plus the bytes after the last entry at the track's average byte rate. */
function estimateDuration(t: ConcatTrackInput): number {
  const n = t.seekIndex.length;
  if (n < 2 || t.audioLength === 0) return t.audioLength === 0 ? 0 : Math.max(0, n - 1);
  const last = t.seekIndex[n - 1]!;
  const bytesPerSecond = last / (n - 1);
  return n - 1 + (bytesPerSecond > 0 ? (t.audioLength - last) / bytesPerSecond : 0);
}

/** Index of the track whose audio contains virtual offset `at` (skipping empty tracks). */
function trackAt(map: ConcatMap, at: number): number {
  let lo = 0;
  let hi = map.tracks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (map.tracks[mid]!.offset <= at) lo = mid;
    else hi = mid - 1;
  }
  while (lo < map.tracks.length - 1 && map.tracks[lo]!.audioLength === 0) lo++;
  return lo;
}

/**
 * The file byte ranges that make up virtual bytes start..endInclusive, in
 * order. Throws RangeError when the range is empty or outside the stream
 * (parse HTTP ranges with `parseRangeHeader` first).
 */
export function resolveRange(map: ConcatMap, start: number, endInclusive: number): ConcatSlice[] {
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(endInclusive) ||
    start < 0 ||
    endInclusive < start ||
    endInclusive >= map.totalLength
  ) {
    throw new RangeError(`bytes ${start}-${endInclusive} are not inside a stream of ${map.totalLength} bytes`);
  }
  const slices: ConcatSlice[] = [];
  let at = start;
  for (let i = trackAt(map, start); at <= endInclusive; i++) {
    const t = map.tracks[i]!;
    if (t.audioLength === 0) continue;
    const localStart = at - t.offset;
    const localEnd = Math.min(endInclusive - t.offset, t.audioLength - 1);
    slices.push({ trackIndex: i, fileStart: t.audioStart + localStart, fileEnd: t.audioStart + localEnd });
    at = t.offset + localEnd + 1;
  }
  return slices;
}

/**
 * A virtual byte offset at a frame boundary for a playlist position: the
 * start of the frame nearest `seconds` in the track playing then (via its
 * seek index). 0 for negative times, totalLength past the end.
 */
export function offsetForSeconds(map: ConcatMap, seconds: number): number {
  if (!(seconds > 0)) return 0;
  if (seconds >= map.totalSeconds) return map.totalLength;
  let i = 0;
  while (i < map.tracks.length - 1 && seconds >= map.tracks[i]!.startSeconds + map.tracks[i]!.durationSeconds) i++;
  const t = map.tracks[i]!;
  if (t.seekIndex.length === 0) return t.offset;
  const second = Math.round(seconds - t.startSeconds);
  if (second >= t.seekIndex.length) {
    // Nearer the next track's start than any indexed frame of this one.
    return i + 1 < map.tracks.length ? map.tracks[i + 1]!.offset : t.offset + t.seekIndex.at(-1)!;
  }
  return t.offset + t.seekIndex[second]!;
}

export type RangeRequest =
  /** Serve the whole body with 200 (no Range header, or one we may ignore). */
  | { kind: 'full'; ignoredReason?: string }
  /** Serve bytes start..end (inclusive) with 206 and these headers. */
  | { kind: 'partial'; start: number; end: number; contentLength: number; contentRange: string }
  /** Answer 416 with `Content-Range: bytes *\/<length>`. */
  | { kind: 'unsatisfiable'; contentRange: string; reason: string };

/**
 * Interprets a Range header for a body of `totalLength` bytes (RFC 9110
 * §14). Single ranges only: `bytes=a-b`, `bytes=a-`, `bytes=-n`. A malformed
 * or unsatisfiable byte range gets 416; other units and multiple ranges are
 * ignored (a full 200 is always a valid answer to those).
 */
export function parseRangeHeader(header: string | null | undefined, totalLength: number): RangeRequest {
  if (header === null || header === undefined || header.trim() === '') return { kind: 'full' };
  const unsatisfiable = (reason: string): RangeRequest => ({
    kind: 'unsatisfiable',
    contentRange: `bytes */${totalLength}`,
    reason,
  });
  const eq = header.indexOf('=');
  const unit = (eq < 0 ? header : header.slice(0, eq)).trim().toLowerCase();
  if (unit !== 'bytes') return { kind: 'full', ignoredReason: `unsupported range unit "${unit}"` };
  const spec = header.slice(eq + 1);
  if (spec.includes(',')) return { kind: 'full', ignoredReason: 'multiple ranges are not supported' };
  const m = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return unsatisfiable(`malformed range "${header}"`);
  const first = m[1] === '' ? null : Number(m[1]);
  const last = m[2] === '' ? null : Number(m[2]);
  let start: number;
  let end: number;
  if (first === null) {
    if (last === 0) return unsatisfiable('a suffix range of 0 bytes selects nothing');
    if (totalLength === 0) return unsatisfiable('the body is empty');
    start = Math.max(0, totalLength - last!);
    end = totalLength - 1;
  } else {
    if (last !== null && last < first) return unsatisfiable(`range end ${last} is before its start ${first}`);
    if (first >= totalLength) return unsatisfiable(`range starts at ${first}, past the end of ${totalLength} bytes`);
    start = first;
    end = last === null ? totalLength - 1 : Math.min(last, totalLength - 1);
  }
  return { kind: 'partial', start, end, contentLength: end - start + 1, contentRange: `bytes ${start}-${end}/${totalLength}` };
}

/** Opens file bytes start..endInclusive of a track (blob store range GET, HTTP Range fetch). */
export type OpenTrack = (trackIndex: number, start: number, endInclusive: number) => Readable | Promise<Readable>;

/** A track source failed: it could not be opened, errored, or ended before its slice did. */
export class TrackSourceError extends Error {
  override readonly name = 'TrackSourceError';
  constructor(
    readonly trackIndex: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`track ${trackIndex}: ${message}`, options);
  }
}

export interface StreamConcatOptions {
  /**
   * The joined stream's own buffer (its highWaterMark), in bytes. Default
   * 64 KiB. Each open stream holds about this plus its source's buffer, so
   * servers with many concurrent listeners pass a smaller size here and to
   * the opener (createTrackOpener's `highWaterMark`).
   */
  highWaterMark?: number;
}

/**
 * The bytes of `slices` (from `resolveRange`) as one stream. Opens one
 * source at a time, only when the consumer wants more, and moves its data
 * with backpressure, so memory stays at a few stream buffers whatever the
 * track sizes. A source that returns more bytes than asked is cut off; one
 * that returns fewer fails the stream with TrackSourceError, because every
 * later byte would be misplaced (so does a source that cannot be opened,
 * e.g. an external file that changed since it was mapped). Destroying the
 * stream destroys the source being read.
 */
export function streamConcat(
  map: ConcatMap,
  slices: readonly ConcatSlice[],
  openTrack: OpenTrack,
  options: StreamConcatOptions = {},
): Readable {
  const { highWaterMark = 64 * 1024 } = options;
  if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1)
    throw new RangeError(`highWaterMark must be a positive integer, not ${highWaterMark}`);
  for (const s of slices) {
    const t = map.tracks[s.trackIndex];
    if (!t || s.fileStart < t.audioStart || s.fileEnd < s.fileStart || s.fileEnd >= t.audioStart + t.audioLength) {
      throw new RangeError(`slice ${JSON.stringify(s)} is not inside that track's audio`);
    }
  }
  return new ConcatStream(slices, openTrack, highWaterMark);
}

class ConcatStream extends Readable {
  private next = 0;
  private source: Readable | null = null;
  private sourceIndex = -1;
  private remaining = 0;
  private opening = false;
  private pulling = false;
  /** The consumer asked for data (_read) and has not yet been given its fill (push returned false). */
  private wanted = false;
  private stopWatching: (() => void) | null = null;

  constructor(
    private readonly slices: readonly ConcatSlice[],
    private readonly openTrack: OpenTrack,
    highWaterMark: number,
  ) {
    super({ highWaterMark });
  }

  override _read(): void {
    this.wanted = true;
    this.pull();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.dropSource();
    callback(error);
  }

  private pull(): void {
    if (this.pulling) return;
    this.pulling = true;
    try {
      while (this.wanted && !this.destroyed && !this.opening) {
        if (this.source === null) {
          if (this.next >= this.slices.length) {
            this.push(null);
            return;
          }
          this.open(this.next++);
          return;
        }
        const chunk = this.source.read() as Buffer | null;
        if (chunk === null) return; // 'readable' or the end of the source calls back
        const take = Math.min(chunk.length, this.remaining);
        this.remaining -= take;
        const wantsMore = take > 0 ? this.push(take === chunk.length ? chunk : chunk.subarray(0, take)) : true;
        if (this.remaining === 0) this.dropSource(); // the rest of the source is not ours
        if (!wantsMore) this.wanted = false;
      }
    } finally {
      this.pulling = false;
    }
  }

  private open(index: number): void {
    const slice = this.slices[index]!;
    this.opening = true;
    this.remaining = slice.fileEnd - slice.fileStart + 1;
    Promise.resolve()
      .then(() => this.openTrack(slice.trackIndex, slice.fileStart, slice.fileEnd))
      .then(
        (source) => {
          this.opening = false;
          if (this.destroyed) {
            source.destroy();
            return;
          }
          this.source = source;
          this.sourceIndex = index;
          source.on('readable', this.onReadable);
          this.stopWatching = finished(source, (error) => this.onSourceDone(source, error));
          this.pull();
        },
        (error: unknown) => {
          this.opening = false;
          this.destroy(new TrackSourceError(slice.trackIndex, `cannot open: ${(error as Error).message}`, { cause: error }));
        },
      );
  }

  private readonly onReadable = () => this.pull();

  private onSourceDone(source: Readable, error: Error | null | undefined): void {
    if (source !== this.source) return; // dropped on purpose
    const slice = this.slices[this.sourceIndex]!;
    if (error) {
      this.destroy(new TrackSourceError(slice.trackIndex, `source failed: ${error.message}`, { cause: error }));
      return;
    }
    if (this.remaining > 0) {
      const expected = slice.fileEnd - slice.fileStart + 1;
      this.destroy(
        new TrackSourceError(slice.trackIndex, `source ended after ${expected - this.remaining} of ${expected} bytes`),
      );
      return;
    }
    this.dropSource();
    this.pull();
  }

  private dropSource(): void {
    const source = this.source;
    if (!source) return;
    this.source = null;
    this.stopWatching?.();
    this.stopWatching = null;
    source.off('readable', this.onReadable);
    source.destroy();
  }
}

/**
 * Reads a track's file bytes by position, a piece at a time: the bytes from
 * `at` on, at least one and at most up to `endInclusive` (fewer when the
 * reader's own piece ends sooner). An empty buffer means the file ended
 * there. `close` releases what the reader holds open.
 */
export interface TrackPieceReader {
  read(trackIndex: number, at: number, endInclusive: number): Promise<Buffer>;
  close(): void;
}

/** A pull source of response bytes: each `next()` gives the next piece, null at the end. */
export interface PieceSource {
  next(): Promise<Buffer | null>;
  /** Stops early (the listener left): releases files and sockets. Idempotent. */
  destroy(): void;
}

/**
 * The bytes of `slices` (from `resolveRange`) pulled one piece at a time,
 * with nothing read ahead: a listener whose socket is full costs no buffer
 * here (the pieces come from `reader`, which may share them between
 * listeners). The same checks as `streamConcat`: a source that ends before
 * its slice fails with TrackSourceError, and so does one that cannot be read.
 */
export class ConcatReader implements PieceSource {
  private index = 0;
  private at: number;
  private done = false;

  constructor(
    map: ConcatMap,
    private readonly slices: readonly ConcatSlice[],
    private readonly reader: TrackPieceReader,
    private readonly onError?: (error: TrackSourceError) => void,
  ) {
    for (const s of slices) {
      const t = map.tracks[s.trackIndex];
      if (!t || s.fileStart < t.audioStart || s.fileEnd < s.fileStart || s.fileEnd >= t.audioStart + t.audioLength) {
        throw new RangeError(`slice ${JSON.stringify(s)} is not inside that track's audio`);
      }
    }
    this.at = slices[0]?.fileStart ?? 0;
  }

  async next(): Promise<Buffer | null> {
    if (this.done) return null;
    const slice = this.slices[this.index];
    if (!slice) {
      this.destroy();
      return null;
    }
    let piece: Buffer;
    try {
      piece = await this.reader.read(slice.trackIndex, this.at, slice.fileEnd);
    } catch (error) {
      throw this.fail(new TrackSourceError(slice.trackIndex, `source failed: ${(error as Error).message}`, { cause: error }));
    }
    if (this.done) return null;
    if (piece.length === 0) {
      const expected = slice.fileEnd - slice.fileStart + 1;
      throw this.fail(
        new TrackSourceError(slice.trackIndex, `source ended after ${this.at - slice.fileStart} of ${expected} bytes`),
      );
    }
    const take = Math.min(piece.length, slice.fileEnd - this.at + 1);
    this.at += take;
    if (this.at > slice.fileEnd) {
      this.index++;
      this.at = this.slices[this.index]?.fileStart ?? 0;
    }
    return take === piece.length ? piece : piece.subarray(0, take);
  }

  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.reader.close();
  }

  private fail(error: TrackSourceError): TrackSourceError {
    this.destroy();
    this.onError?.(error);
    return error;
  }
}
