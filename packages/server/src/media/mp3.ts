// Deciding whether a file is really MP3, and where its audio frames are.
//
// `Mp3Analyzer` is a pure, incremental parser: push the file's bytes in any
// chunking, then `finish()`. It keeps only a bounded window of bytes, so a
// 100 MB upload can be analysed while it streams past (or from disk in
// chunks by `findAudioRange`). `sniffMp3` runs the same parser on a file's
// first bytes to accept or reject it early.

import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import {
  describeForeignFormat,
  detectVbrHeader,
  parseFrameHeader,
  parseId3v2Header,
  sameStream,
  trailingTagAt,
  type FrameHeader,
  type MpegVersion,
  type TrailingTagKind,
  type VbrHeaderKind,
} from './mp3-header.js';

export * from './mp3-header.js';

export interface Mp3AnalyzerOptions {
  /** Consecutive valid frames, each exactly where the previous one ends, needed to accept the file. */
  minConsecutiveFrames?: number;
  /** How far past the ID3v2 tag(s) to look for the first frame. */
  maxLeadingJunkBytes?: number;
  /** Bytes held back from the frame walk until the end is known, so trailing tags can be stripped first. */
  tailReserveBytes?: number;
  /** Strip ID3v1/APEv2/appended ID3v2 at the end (off when the caller already cut them off). */
  stripTrailingTags?: boolean;
}

export interface Mp3AudioInfo {
  /** Bytes the analyzer saw (the file size). */
  fileSize: number;
  /** Offset of the first audio frame: after ID3v2 tags, leading junk and a Xing/Info/VBRI frame. */
  audioStart: number;
  /** End of the last complete audio frame (exclusive). */
  audioEnd: number;
  audioLength: number;
  frameCount: number;
  durationSeconds: number;
  sampleRate: number;
  channels: 1 | 2;
  mpegVersion: MpegVersion;
  /** Average over the audio range. */
  bitrateKbps: number;
  /** Frames use more than one bitrate. */
  vbr: boolean;
  /**
   * Offset, relative to `audioStart`, of the frame whose start is nearest to
   * each whole second: `seekIndex[s]` for s = 0..floor(durationSeconds).
   */
  seekIndex: number[];
  leading: { id3v2Bytes: number; junkBytes: number; vbrHeader: VbrHeaderKind | null; vbrHeaderBytes: number };
  trailing: { tags: { kind: TrailingTagKind; length: number }[]; junkBytes: number };
  /** Bytes inside the audio range that were not frames (the walker resynchronised over them). */
  innerJunkBytes: number;
}

export type NotMp3Code = 'empty' | 'foreign_format' | 'no_frames' | 'too_few_frames';

/** The bytes are not an MP3 file; `reason` is fit to show to the uploader. */
export class NotMp3Error extends Error {
  override readonly name = 'NotMp3Error';
  constructor(
    readonly code: NotMp3Code,
    readonly reason: string,
  ) {
    super(`Not an MP3 file: ${reason}`);
  }
}

const DEFAULTS = {
  minConsecutiveFrames: 4,
  maxLeadingJunkBytes: 64 * 1024,
  tailReserveBytes: 256 * 1024,
  stripTrailingTags: true,
} satisfies Required<Mp3AnalyzerOptions>;

type Phase = 'tags' | 'sync' | 'frames' | 'resync' | 'done' | 'failed';

export class Mp3Analyzer {
  private readonly opts: Required<Mp3AnalyzerOptions>;
  private buf: Uint8Array = new Uint8Array(0);
  /**
   * Backing memory `buf` usually lies in, with room to append after it: a push copies only
   * its own bytes, not the tail reserve held before them (that copy per chunk was most of
   * the CPU of a 100 MB upload).
   */
  private store: Uint8Array = new Uint8Array(0);
  /** Absolute offset of buf[0]. */
  private bufStart = 0;
  /** Absolute number of bytes pushed. */
  private total = 0;
  /** First bytes of the file and of the data after the ID3v2 tags, for error messages. */
  private head: Uint8Array = new Uint8Array(0);
  private finished = false;

  private phase: Phase = 'tags';
  private failure: NotMp3Error | null = null;
  /** Next byte to interpret. */
  private pos = 0;
  /** End of the data the walker may look at, once known. */
  private limit = Infinity;

  private id3v2Bytes = 0;
  private syncFrom = 0;
  private longestChain = 0;
  private stream: FrameHeader | null = null;
  private firstFrameOffset = -1;
  private vbrHeader: VbrHeaderKind | null = null;
  private vbrHeaderBytes = 0;
  private audioStart = 0;
  private audioEnd = 0;
  private resyncFrom = 0;
  private innerJunk = 0;
  private trailingTags: { kind: TrailingTagKind; length: number }[] = [];

  private frameCount = 0;
  private lastFrameStart = 0;
  /** Junk between the last frame and a resynchronised one; it only counts once a frame follows it. */
  private pendingJunk = 0;
  private samples = 0;
  private minBitrate = Infinity;
  private maxBitrate = 0;
  private nextSecond = 0;
  private readonly seekIndex: number[] = [];

  constructor(options: Mp3AnalyzerOptions = {}) {
    this.opts = { ...DEFAULTS, ...options };
    if (this.opts.minConsecutiveFrames < 2) throw new RangeError('minConsecutiveFrames must be at least 2');
  }

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('Mp3Analyzer: push() after finish()');
    if (chunk.length === 0) return;
    if (this.head.length < 512) this.head = concat(this.head, chunk.subarray(0, 512 - this.head.length));
    const chunkStart = this.total;
    this.total += chunk.length;
    if (this.phase === 'failed' || this.phase === 'done') return;
    // Bytes before `pos` (inside an ID3v2 tag being skipped) are never needed.
    const skip = Math.max(0, this.pos - chunkStart);
    if (skip >= chunk.length) {
      this.buf = new Uint8Array(0);
      this.bufStart = this.total;
      return;
    }
    const useful = chunk.subarray(skip);
    if (this.buf.length === 0 || this.bufStart + this.buf.length !== chunkStart + skip) {
      this.buf = new Uint8Array(0);
      this.bufStart = chunkStart + skip;
    }
    this.append(useful);
    this.run();
    this.compact();
  }

  /**
   * True once the data is known to be MP3 (the first frames were found), false
   * once it is known not to be, undefined while more bytes are needed to tell.
   */
  get isMp3(): boolean | undefined {
    if (this.phase === 'failed') return false;
    if (this.phase === 'tags' || this.phase === 'sync') return undefined;
    return true;
  }

  /** Why the data was rejected, once `isMp3` is false. */
  get rejection(): NotMp3Error | null {
    return this.failure;
  }

  get firstFrame(): { offset: number; header: FrameHeader; id3v2Bytes: number; vbrHeader: VbrHeaderKind | null } | null {
    if (this.stream === null) return null;
    return { offset: this.firstFrameOffset, header: this.stream, id3v2Bytes: this.id3v2Bytes, vbrHeader: this.vbrHeader };
  }

  /** Declares the end of the data and returns the analysis; throws NotMp3Error. */
  finish(): Mp3AudioInfo {
    if (!this.finished) {
      this.finished = true;
      if (this.phase !== 'failed') {
        this.limit = this.opts.stripTrailingTags ? this.stripTrailingTags() : this.total;
        this.run();
        const phase = this.phase as Phase; // run() moved it on
        if (phase === 'tags' || phase === 'sync') this.fail(this.noFramesError());
        else if (phase !== 'failed' && this.frameCount === 0) {
          this.fail(new NotMp3Error('too_few_frames', 'it has a VBR header frame but no audio frames after it'));
        }
      }
    }
    if (this.failure) throw this.failure;
    return this.result();
  }

  private result(): Mp3AudioInfo {
    const stream = this.stream!;
    const duration = this.samples / stream.sampleRate;
    // Seconds past the middle of the last frame: the last frame is still the nearest start.
    const lastSecond = Math.floor(duration);
    const lastFrameOffset = this.seekIndex.length > 0 ? this.lastFrameStart - this.audioStart : 0;
    while (this.seekIndex.length <= lastSecond) this.seekIndex.push(lastFrameOffset);
    const audioLength = this.audioEnd - this.audioStart;
    return {
      fileSize: this.total,
      audioStart: this.audioStart,
      audioEnd: this.audioEnd,
      audioLength,
      frameCount: this.frameCount,
      durationSeconds: duration,
      sampleRate: stream.sampleRate,
      channels: stream.channels,
      mpegVersion: stream.version,
      bitrateKbps: duration > 0 ? Math.round((audioLength * 8) / duration / 1000) : stream.bitrateKbps,
      vbr: this.minBitrate !== this.maxBitrate,
      seekIndex: [...this.seekIndex],
      leading: {
        id3v2Bytes: this.id3v2Bytes,
        junkBytes: this.firstFrameOffset - this.syncFrom,
        vbrHeader: this.vbrHeader,
        vbrHeaderBytes: this.vbrHeaderBytes,
      },
      trailing: { tags: [...this.trailingTags], junkBytes: this.limit - this.audioEnd },
      innerJunkBytes: this.innerJunk,
    };
  }

  /** Bytes available to look at: everything once finished, else all but the tail reserve. */
  private get horizon(): number {
    return this.finished ? this.limit : this.total - this.opts.tailReserveBytes;
  }

  private byteAt(abs: number): number {
    return this.buf[abs - this.bufStart]!;
  }

  private headerAt(abs: number): FrameHeader | null {
    if (abs < this.bufStart || abs + 4 > this.bufStart + this.buf.length || abs + 4 > this.limit) return null;
    return parseFrameHeader(this.buf, abs - this.bufStart);
  }

  private run(): void {
    for (;;) {
      const before = this.phase;
      switch (this.phase) {
        case 'tags':
          this.readTags();
          break;
        case 'sync':
          this.findFirstFrame();
          break;
        case 'frames':
          this.walkFrames();
          break;
        case 'resync':
          this.resync();
          break;
        default:
          return;
      }
      if (this.phase === before) return; // waiting for more bytes
    }
  }

  private readTags(): void {
    for (;;) {
      // 64 bytes are enough to recognise a foreign container or a text file.
      if (Math.min(this.total, this.limit) - this.pos < 64 && !this.finished) return;
      const at = this.pos - this.bufStart;
      const foreign = at >= 0 ? describeForeignFormat(this.buf.subarray(at, at + 512)) : null;
      if (foreign) return this.fail(new NotMp3Error('foreign_format', `it is ${foreign}, not MP3`));
      const tag = at >= 0 ? parseId3v2Header(this.buf, at) : null;
      if (!tag) break;
      this.id3v2Bytes += tag.totalLength;
      this.pos += tag.totalLength;
      this.dropBefore(this.pos);
    }
    this.phase = 'sync';
    this.syncFrom = this.pos;
  }

  private findFirstFrame(): void {
    const n = this.opts.minConsecutiveFrames;
    const searchEnd = this.syncFrom + this.opts.maxLeadingJunkBytes;
    const available = Math.min(this.bufStart + this.buf.length, this.limit);
    let q = this.pos;
    while (q < searchEnd) {
      const idx = this.buf.indexOf(0xff, q - this.bufStart);
      if (idx < 0) {
        q = available;
        break;
      }
      q = idx + this.bufStart;
      if (q >= searchEnd) break;
      const chain = this.chainLength(q, n);
      if (chain === 'wait') {
        this.pos = q;
        return;
      }
      this.longestChain = Math.max(this.longestChain, chain);
      if (chain >= n) return this.acceptFirstFrame(q);
      q++;
    }
    if (q < searchEnd && !this.finished) {
      this.pos = q;
      return;
    }
    this.fail(this.noFramesError());
  }

  /** Frames chained from `at` (up to `want`), or 'wait' when the bytes to tell are not here yet. */
  private chainLength(at: number, want: number): number | 'wait' {
    const first = this.headerAt(at);
    if (!first) return at + 4 > this.bufStart + this.buf.length && !this.finished ? 'wait' : 0;
    let count = 0;
    let p = at;
    while (count < want) {
      const h = this.headerAt(p);
      if (!h || !sameStream(first, h)) {
        if (p + 4 > this.bufStart + this.buf.length && !this.finished) return 'wait';
        return count;
      }
      if (p + h.frameLength > this.limit) return count; // truncated by the end of the data
      count++;
      p += h.frameLength;
    }
    return count;
  }

  private acceptFirstFrame(at: number): void {
    const header = this.headerAt(at)!;
    this.stream = header;
    this.firstFrameOffset = at;
    this.vbrHeader = detectVbrHeader(this.buf, at - this.bufStart, header);
    this.vbrHeaderBytes = this.vbrHeader ? header.frameLength : 0;
    this.audioStart = at + this.vbrHeaderBytes;
    this.audioEnd = this.audioStart;
    this.pos = this.audioStart;
    this.phase = 'frames';
  }

  private walkFrames(): void {
    const stream = this.stream!;
    const halfFrame = stream.samplesPerFrame / 2;
    for (;;) {
      const horizon = this.horizon;
      if (this.pos + 4 > horizon) {
        if (this.finished) this.phase = 'done';
        return;
      }
      const h = this.headerAt(this.pos);
      if (!h || !sameStream(stream, h)) {
        this.phase = 'resync';
        this.resyncFrom = this.pos + 1;
        return;
      }
      const end = this.pos + h.frameLength;
      if (end > horizon) {
        if (this.finished) this.phase = 'done'; // last frame cut short: not audio
        return;
      }
      while (this.nextSecond * stream.sampleRate <= this.samples + halfFrame) {
        this.seekIndex.push(this.pos - this.audioStart);
        this.nextSecond++;
      }
      this.frameCount++;
      this.samples += h.samplesPerFrame;
      if (h.bitrateKbps < this.minBitrate) this.minBitrate = h.bitrateKbps;
      if (h.bitrateKbps > this.maxBitrate) this.maxBitrate = h.bitrateKbps;
      this.lastFrameStart = this.pos;
      this.innerJunk += this.pendingJunk;
      this.pendingJunk = 0;
      this.pos = end;
      this.audioEnd = end;
    }
  }

  private resync(): void {
    const stream = this.stream!;
    const horizon = this.horizon;
    let q = this.resyncFrom;
    while (q + 4 <= horizon) {
      const idx = this.buf.indexOf(0xff, q - this.bufStart);
      if (idx < 0) {
        q = this.bufStart + this.buf.length; // no sync byte anywhere in what we hold
        break;
      }
      q = idx + this.bufStart;
      if (q + 4 > horizon) break;
      const h = this.headerAt(q);
      if (h && sameStream(stream, h)) {
        const next = q + h.frameLength;
        const nextHeader = this.headerAt(next);
        const confirmed = (nextHeader && sameStream(stream, nextHeader)) || (this.finished && next === this.limit);
        if (confirmed) {
          this.pendingJunk += q - this.pos;
          this.pos = q;
          this.phase = 'frames';
          return;
        }
        if (next + 4 > horizon && !this.finished) {
          this.resyncFrom = q;
          return; // need the next header's bytes to decide
        }
      }
      q++;
    }
    this.resyncFrom = q;
    if (this.finished) this.phase = 'done';
  }

  /** Moves the end of the data before any trailing tags; returns the new end. */
  private stripTrailingTags(): number {
    let end = this.total;
    // Never cut into frames already walked (then it was not a tag but audio that looked like one).
    const floor = this.phase === 'frames' || this.phase === 'resync' ? this.audioEnd : this.pos;
    for (;;) {
      const rel = end - this.bufStart;
      if (rel <= 0 || rel > this.buf.length) break;
      const tag = trailingTagAt(this.buf, rel, end === this.total);
      if (!tag || end - tag.length < floor) break;
      this.trailingTags.push(tag);
      end -= tag.length;
    }
    return end;
  }

  private noFramesError(): NotMp3Error {
    if (this.total === 0) return new NotMp3Error('empty', 'the file is empty');
    if (this.id3v2Bytes > 0 && this.total <= this.id3v2Bytes) {
      return new NotMp3Error('no_frames', 'it holds only an ID3v2 tag and no audio');
    }
    const foreign = describeForeignFormat(this.head);
    if (foreign && this.id3v2Bytes === 0) return new NotMp3Error('foreign_format', `it is ${foreign}, not MP3`);
    const n = this.opts.minConsecutiveFrames;
    if (this.longestChain > 0) {
      return new NotMp3Error(
        'too_few_frames',
        `found at most ${this.longestChain} consecutive MPEG layer III frame(s) where at least ${n} are needed`,
      );
    }
    return new NotMp3Error(
      'no_frames',
      `no MPEG layer III audio frames found in the first ${this.opts.maxLeadingJunkBytes} bytes after the tags`,
    );
  }

  /** Appends to `buf` in place when its backing store has room, else moves it to the front of one that has. */
  private append(bytes: Uint8Array): void {
    const held = this.buf;
    const inStore = held.length > 0 && held.buffer === this.store.buffer;
    const offset = inStore ? held.byteOffset - this.store.byteOffset : 0;
    if (inStore && offset + held.length + bytes.length <= this.store.length) {
      this.store.set(bytes, offset + held.length);
      this.buf = this.store.subarray(offset, offset + held.length + bytes.length);
      return;
    }
    const need = held.length + bytes.length;
    // Reuse the store when what is held fits in half of it (the move is then paid for by the room
    // it makes), else a new one twice the size needed: appends stay linear in the bytes pushed.
    if (need * 2 <= this.store.length) {
      if (inStore) this.store.copyWithin(0, offset, offset + held.length);
      else this.store.set(held, 0);
    } else {
      const grown = new Uint8Array(Math.max(need * 2, 64 * 1024));
      grown.set(held, 0);
      this.store = grown;
    }
    this.store.set(bytes, held.length);
    this.buf = this.store.subarray(0, need);
  }

  private fail(error: NotMp3Error): void {
    this.phase = 'failed';
    this.failure = error;
    this.buf = new Uint8Array(0);
  }

  private dropBefore(abs: number): void {
    if (abs <= this.bufStart) return;
    const cut = Math.min(abs - this.bufStart, this.buf.length);
    this.buf = this.buf.subarray(cut);
    this.bufStart += cut;
    if (this.buf.length === 0) this.bufStart = Math.max(this.bufStart, abs);
  }

  /**
   * Drops bytes nothing will look at again: everything before the walk
   * position (or the junk scan's cursor). The tail reserve lies beyond it.
   * Nothing is copied here: `buf` becomes a view of what is kept, and append()
   * moves it when the store runs out of room.
   */
  private compact(): void {
    const keepFrom = this.phase === 'resync' ? this.resyncFrom : this.pos;
    const cut = Math.min(keepFrom - this.bufStart, this.buf.length);
    if (cut > 0) {
      this.buf = this.buf.subarray(cut);
      this.bufStart += cut;
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export type Mp3Sniff =
  | {
      isMp3: true;
      firstFrameOffset: number;
      id3v2Bytes: number;
      header: FrameHeader;
      vbrHeader: VbrHeaderKind | null;
    }
  | { isMp3: false; code: NotMp3Code | 'need_more_bytes'; reason: string };

/**
 * Decides from a file's first bytes whether it is MP3: after any ID3v2 tags
 * there must be `minConsecutiveFrames` valid layer III frames, each exactly
 * where the previous one ends. Pass `complete: true` when `bytes` is the
 * whole file; otherwise too few bytes yields code 'need_more_bytes'.
 */
export function sniffMp3(bytes: Uint8Array, options: Mp3AnalyzerOptions & { complete?: boolean } = {}): Mp3Sniff {
  const { complete = false, ...analyzerOptions } = options;
  const analyzer = new Mp3Analyzer({ ...analyzerOptions, tailReserveBytes: complete ? DEFAULTS.tailReserveBytes : 0 });
  analyzer.push(bytes);
  if (complete && analyzer.isMp3 === undefined) {
    try {
      analyzer.finish();
    } catch {
      // the rejection is read below
    }
  }
  const first = analyzer.firstFrame;
  if (analyzer.isMp3 && first) {
    return {
      isMp3: true,
      firstFrameOffset: first.offset,
      id3v2Bytes: first.id3v2Bytes,
      header: first.header,
      vbrHeader: first.vbrHeader,
    };
  }
  const rejection = analyzer.rejection;
  if (rejection) return { isMp3: false, code: rejection.code, reason: rejection.reason };
  return { isMp3: false, code: 'need_more_bytes', reason: 'not enough bytes to decide' };
}

/** Analyses an MP3 held in memory (tests, small files). Throws NotMp3Error. */
export function analyzeMp3Bytes(bytes: Uint8Array, options: Mp3AnalyzerOptions = {}): Mp3AudioInfo {
  const analyzer = new Mp3Analyzer(options);
  analyzer.push(bytes);
  return analyzer.finish();
}

/**
 * The byte range of pure audio frames in an MP3 file, its duration and a
 * per-second seek index. Reads the file in chunks (never whole); trailing
 * tags are found with positional reads first, so even a large APEv2 tag is
 * cut off exactly. Throws NotMp3Error.
 */
export async function findAudioRange(path: string, options: Mp3AnalyzerOptions = {}): Promise<Mp3AudioInfo> {
  const { size, end, tags } = await measureTrailingTags(path);
  const analyzer = new Mp3Analyzer({ ...options, stripTrailingTags: false });
  if (end > 0) {
    for await (const chunk of createReadStream(path, { start: 0, end: end - 1, highWaterMark: 256 * 1024 })) {
      analyzer.push(chunk as Buffer);
      if (analyzer.isMp3 === false) break;
    }
  }
  const info = analyzer.finish();
  return { ...info, fileSize: size, trailing: { tags, junkBytes: info.trailing.junkBytes } };
}

async function measureTrailingTags(path: string) {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const tags: { kind: TrailingTagKind; length: number }[] = [];
    let end = size;
    const window = Buffer.alloc(128);
    for (;;) {
      const len = Math.min(128, end);
      if (len < 10) break;
      await file.read(window, 0, len, end - len);
      const tag = trailingTagAt(window.subarray(0, len), len, end === size);
      if (!tag || tag.length > end) break;
      tags.push(tag);
      end -= tag.length;
    }
    return { size, end, tags };
  } finally {
    await file.close();
  }
}
