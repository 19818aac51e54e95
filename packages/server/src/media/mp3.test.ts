import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Mp3Analyzer,
  NotMp3Error,
  analyzeMp3Bytes,
  findAudioRange,
  parseFrameHeader,
  sniffMp3,
  trailingTagAt,
  type Mp3AudioInfo,
} from './mp3.js';

// ---- A synthetic MP3 writer, independent of the parser under test. ----

type Version = '1' | '2' | '2.5';
const VERSION_BITS: Record<Version, number> = { '1': 0b11, '2': 0b10, '2.5': 0b00 };
const RATES: Record<Version, number[]> = { '1': [44100, 48000, 32000], '2': [22050, 24000, 16000], '2.5': [11025, 12000, 8000] };
const KBPS: Record<'1' | '2', number[]> = {
  '1': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};

interface SynthStream {
  version: Version;
  rateIndex: number;
}
interface SynthFrame {
  bitrateIndex: number; // 1..14
  padding: boolean;
  mode: number; // 0..3
  crc: boolean;
}

const samplesPerFrame = (v: Version) => (v === '1' ? 1152 : 576);

function frameLength(s: SynthStream, f: SynthFrame): number {
  const kbps = KBPS[s.version === '1' ? '1' : '2'][f.bitrateIndex]!;
  const rate = RATES[s.version][s.rateIndex]!;
  return Math.floor(((s.version === '1' ? 144 : 72) * kbps * 1000) / rate) + (f.padding ? 1 : 0);
}

/** A frame with a valid header and a payload that never contains 0xFF (so it cannot fake a sync). */
function frame(s: SynthStream, f: SynthFrame, seed = 0, xing?: 'Xing' | 'Info' | 'VBRI'): Uint8Array {
  const out = new Uint8Array(frameLength(s, f));
  out[0] = 0xff;
  out[1] = 0xe0 | (VERSION_BITS[s.version] << 3) | (0b01 << 1) | (f.crc ? 0 : 1);
  out[2] = (f.bitrateIndex << 4) | (s.rateIndex << 2) | (f.padding ? 2 : 0);
  out[3] = f.mode << 6;
  for (let i = 4; i < out.length; i++) out[i] = (i * 31 + seed) & 0x7f;
  if (xing) {
    const mono = f.mode === 3;
    const sideInfo = s.version === '1' ? (mono ? 17 : 32) : mono ? 9 : 17;
    const at = xing === 'VBRI' ? 36 : 4 + sideInfo;
    out.set(new TextEncoder().encode(xing), at);
  }
  return out;
}

function id3v2(bodyLength: number, footer: boolean): Uint8Array {
  const total = 10 + bodyLength + (footer ? 10 : 0);
  const out = new Uint8Array(total);
  const size = [(bodyLength >> 21) & 0x7f, (bodyLength >> 14) & 0x7f, (bodyLength >> 7) & 0x7f, bodyLength & 0x7f];
  out.set([0x49, 0x44, 0x33, 4, 0, footer ? 0x10 : 0, ...size], 0);
  // Tag bodies hold text and pictures: include bytes that look like a frame sync.
  for (let i = 10; i < 10 + bodyLength; i++) out[i] = i % 7 === 0 ? 0xff : 0xfb;
  if (footer) out.set([0x33, 0x44, 0x49, 4, 0, 0x10, ...size], 10 + bodyLength);
  return out;
}

function id3v1(): Uint8Array {
  const out = new Uint8Array(128).fill(0x20);
  out.set([0x54, 0x41, 0x47], 0);
  return out;
}

function apev2(itemsLength: number, withHeader: boolean): Uint8Array {
  const block = (isHeader: boolean) => {
    const b = new Uint8Array(32);
    b.set(new TextEncoder().encode('APETAGEX'), 0);
    const v = new DataView(b.buffer);
    v.setUint32(8, 2000, true);
    v.setUint32(12, itemsLength + 32, true);
    v.setUint32(16, 1, true);
    v.setUint32(20, (withHeader ? 0x80000000 : 0) | (isHeader ? 0x20000000 : 0), true);
    return b;
  };
  const items = new Uint8Array(itemsLength).fill(0xff); // binary item data full of sync bytes
  return concat(...(withHeader ? [block(true)] : []), items, block(false));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Brute-force reference for the seek index: nearest frame start to each whole second. */
function referenceSeekIndex(offsets: number[], spf: number, rate: number): number[] {
  const duration = (offsets.length * spf) / rate;
  const out: number[] = [];
  for (let s = 0; s <= Math.floor(duration); s++) {
    let best = 0;
    for (let k = 0; k < offsets.length; k++) {
      if (Math.abs(k * spf - s * rate) < Math.abs(best * spf - s * rate)) best = k;
    }
    out.push(offsets[best]!);
  }
  return out;
}

const streamArb = fc.record({ version: fc.constantFrom<Version>('1', '2', '2.5'), rateIndex: fc.integer({ min: 0, max: 2 }) });
const frameArb = fc.record({
  bitrateIndex: fc.integer({ min: 1, max: 14 }),
  padding: fc.boolean(),
  mode: fc.integer({ min: 0, max: 3 }),
  crc: fc.boolean(),
});

const fileArb = fc.record({
  stream: streamArb,
  frames: fc.array(frameArb, { minLength: 4, maxLength: 60 }),
  id3: fc.option(fc.record({ body: fc.integer({ min: 0, max: 3000 }), footer: fc.boolean() }), { nil: undefined }),
  vbr: fc.option(fc.constantFrom<'Xing' | 'Info' | 'VBRI'>('Xing', 'Info', 'VBRI'), { nil: undefined }),
  ape: fc.option(fc.record({ items: fc.integer({ min: 0, max: 2000 }), header: fc.boolean() }), { nil: undefined }),
  id3v1: fc.boolean(),
});

type FileSpec = typeof fileArb extends fc.Arbitrary<infer T> ? T : never;

function buildFile(spec: FileSpec) {
  const { stream, frames } = spec;
  const parts: Uint8Array[] = [];
  if (spec.id3) parts.push(id3v2(spec.id3.body, spec.id3.footer));
  // Encoders write the VBR header into a frame large enough to hold it.
  if (spec.vbr) parts.push(frame(stream, { ...frames[0]!, bitrateIndex: 14 }, 99, spec.vbr));
  const audioStart = parts.reduce((n, p) => n + p.length, 0);
  const offsets: number[] = [];
  let o = 0;
  frames.forEach((f, i) => {
    offsets.push(o);
    const bytes = frame(stream, f, i);
    parts.push(bytes);
    o += bytes.length;
  });
  if (spec.ape) parts.push(apev2(spec.ape.items, spec.ape.header));
  if (spec.id3v1) parts.push(id3v1());
  return { bytes: concat(...parts), audioStart, audioLength: o, offsets };
}

function pushInChunks(bytes: Uint8Array, cuts: number[], options = {}): Mp3AudioInfo {
  const analyzer = new Mp3Analyzer(options);
  let last = 0;
  for (const cut of [...cuts.map((c) => Math.floor(c * bytes.length)).sort((a, b) => a - b), bytes.length]) {
    analyzer.push(bytes.subarray(last, cut));
    last = Math.max(last, cut);
  }
  return analyzer.finish();
}

// ---- Frame headers ----

describe('parseFrameHeader', () => {
  it('decodes well-known headers', () => {
    expect(parseFrameHeader(Uint8Array.from([0xff, 0xfb, 0x90, 0x64]))).toEqual({
      version: '1',
      layer: 3,
      crcProtected: false,
      bitrateKbps: 128,
      sampleRate: 44100,
      padding: false,
      channelMode: 'joint-stereo',
      channels: 2,
      frameLength: 417,
      samplesPerFrame: 1152,
    });
    expect(parseFrameHeader(Uint8Array.from([0xff, 0xfb, 0x92, 0x64]))?.frameLength).toBe(418);
    expect(parseFrameHeader(Uint8Array.from([0xff, 0xfb, 0xe8, 0xc0]))).toMatchObject({
      bitrateKbps: 320,
      sampleRate: 32000,
      frameLength: 1440,
      channelMode: 'mono',
      channels: 1,
    });
    // MPEG-2, 64 kbps, 22.05 kHz
    expect(parseFrameHeader(Uint8Array.from([0xff, 0xf3, 0x80, 0xc4]))).toMatchObject({
      version: '2',
      bitrateKbps: 64,
      sampleRate: 22050,
      frameLength: 208,
      samplesPerFrame: 576,
    });
    // MPEG-2.5, 8 kbps, 8 kHz, CRC
    expect(parseFrameHeader(Uint8Array.from([0xff, 0xe2, 0x18, 0x00]))).toMatchObject({
      version: '2.5',
      crcProtected: true,
      bitrateKbps: 8,
      sampleRate: 8000,
      frameLength: 72,
    });
  });

  it('rejects reserved and unsupported fields', () => {
    const bad = [
      [0xff, 0x7b, 0x90, 0x64], // no sync
      [0xff, 0xeb, 0x90, 0x64], // reserved version
      [0xff, 0xfd, 0x90, 0x64], // layer II
      [0xff, 0xff, 0x90, 0x64], // layer I
      [0xff, 0xf9, 0x90, 0x64], // reserved layer (this is ADTS AAC's pattern)
      [0xff, 0xfb, 0x00, 0x64], // free format
      [0xff, 0xfb, 0xf0, 0x64], // bitrate index 15
      [0xff, 0xfb, 0x9c, 0x64], // reserved sample rate
      [0xff, 0xfb, 0x90, 0x66], // reserved emphasis
    ];
    for (const b of bad) expect(parseFrameHeader(Uint8Array.from(b)), b.join(',')).toBeNull();
    expect(parseFrameHeader(Uint8Array.from([0xff, 0xfb, 0x90]))).toBeNull();
  });

  it('agrees with an independent frame-length formula for every layer III header', () => {
    fc.assert(
      fc.property(streamArb, frameArb, (s, f) => {
        const h = parseFrameHeader(frame(s, f));
        expect(h).not.toBeNull();
        expect(h!.frameLength).toBe(frameLength(s, f));
        expect(h!.samplesPerFrame).toBe(samplesPerFrame(s.version));
        expect(h!.sampleRate).toBe(RATES[s.version][s.rateIndex]);
        expect(h!.crcProtected).toBe(f.crc);
      }),
    );
  });
});

// ---- Audio range, duration and seek index ----

describe('analyzeMp3Bytes / Mp3Analyzer', () => {
  it('finds exactly the audio frames behind any mix of tags and a VBR header frame, in any chunking', () => {
    fc.assert(
      fc.property(fileArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), (spec, cuts) => {
        const { bytes, audioStart, audioLength, offsets } = buildFile(spec);
        const info = analyzeMp3Bytes(bytes);
        const spf = samplesPerFrame(spec.stream.version);
        const rate = RATES[spec.stream.version][spec.stream.rateIndex]!;
        expect(info.audioStart).toBe(audioStart);
        expect(info.audioLength).toBe(audioLength);
        expect(info.audioEnd).toBe(audioStart + audioLength);
        expect(info.frameCount).toBe(spec.frames.length);
        expect(info.durationSeconds).toBeCloseTo((spec.frames.length * spf) / rate, 9);
        expect(info.sampleRate).toBe(rate);
        expect(info.leading.vbrHeader).toBe(spec.vbr ? spec.vbr.toLowerCase() : null);
        expect(info.trailing.tags.map((t) => t.kind)).toEqual([...(spec.id3v1 ? ['id3v1'] : []), ...(spec.ape ? ['apev2'] : [])]);
        expect(info.trailing.junkBytes).toBe(0);
        expect(info.innerJunkBytes).toBe(0);
        expect(info.seekIndex).toEqual(referenceSeekIndex(offsets, spf, rate));
        // Same answer whatever the chunking, even with a tail reserve smaller than the tags.
        expect(pushInChunks(bytes, cuts)).toEqual(info);
        expect(pushInChunks(bytes, cuts, { tailReserveBytes: 4096 })).toEqual(info);
      }),
      { numRuns: 300 },
    );
  });

  it('resynchronises over junk between frames and counts it', () => {
    const s: SynthStream = { version: '1', rateIndex: 0 };
    const f: SynthFrame = { bitrateIndex: 9, padding: false, mode: 1, crc: false };
    const head = Array.from({ length: 10 }, (_, i) => frame(s, f, i));
    const junk = new Uint8Array(333).fill(0x41);
    const tail = Array.from({ length: 10 }, (_, i) => frame(s, f, i + 10));
    const info = analyzeMp3Bytes(concat(...head, junk, ...tail));
    expect(info.frameCount).toBe(20);
    expect(info.innerJunkBytes).toBe(333);
    expect(info.audioLength).toBe(20 * 417 + 333);
  });

  it('drops a truncated last frame and trailing junk', () => {
    const s: SynthStream = { version: '1', rateIndex: 0 };
    const f: SynthFrame = { bitrateIndex: 9, padding: false, mode: 1, crc: false };
    const frames = Array.from({ length: 8 }, (_, i) => frame(s, f, i));
    const cut = concat(...frames).subarray(0, 8 * 417 - 100);
    const a = analyzeMp3Bytes(cut);
    expect(a.frameCount).toBe(7);
    expect(a.audioEnd).toBe(7 * 417);
    expect(a.trailing.junkBytes).toBe(317);
    const b = analyzeMp3Bytes(concat(...frames, new Uint8Array(50).fill(0x20), id3v1()));
    expect(b.audioEnd).toBe(8 * 417);
    expect(b.trailing.junkBytes).toBe(50);
    expect(b.trailing.tags).toEqual([{ kind: 'id3v1', length: 128 }]);
  });

  it('tolerates junk before the first frame and a stray sync byte inside it', () => {
    const s: SynthStream = { version: '2', rateIndex: 1 };
    const f: SynthFrame = { bitrateIndex: 5, padding: false, mode: 3, crc: false };
    const junk = Uint8Array.from([0xff, 0xfb, 0x00, 0x00, 0x12, 0xff, 0xf3, 0x55]);
    const info = analyzeMp3Bytes(concat(junk, ...Array.from({ length: 6 }, (_, i) => frame(s, f, i))));
    expect(info.leading.junkBytes).toBe(junk.length);
    expect(info.audioStart).toBe(junk.length);
    expect(info.frameCount).toBe(6);
  });
});

// ---- Rejection ----

describe('sniffMp3', () => {
  const text = (s: string) => new TextEncoder().encode(s);

  it('names what a rejected file is', () => {
    const riff = concat(text('RIFF'), new Uint8Array(4), text('WAVEfmt '), new Uint8Array(100));
    const cases: [Uint8Array, RegExp][] = [
      [text('<!DOCTYPE html><html><head><title>Not found</title></head><body>404</body></html>'.repeat(3)), /HTML/],
      [text('Hello, this is a plain text file that somebody renamed to song.mp3. '.repeat(4)), /text file/],
      [text('{"json": true, "padding": "................................................................"}'), /JSON/],
      [riff, /WAV/],
      [concat(text('fLaC'), new Uint8Array(200)), /FLAC/],
      [concat(text('OggS'), new Uint8Array(200)), /Ogg/],
      [concat(new Uint8Array([0, 0, 0, 0x20]), text('ftypM4A '), new Uint8Array(200)), /MP4/],
      [concat(text('PK\x03\x04'), new Uint8Array(200)), /ZIP/],
      [concat(Uint8Array.from([0xff, 0xf1, 0x50, 0x80]), new Uint8Array(200)), /AAC/],
    ];
    for (const [bytes, reason] of cases) {
      for (const complete of [true, false]) {
        const r = sniffMp3(bytes, { complete });
        expect(r.isMp3).toBe(false);
        if (!r.isMp3) {
          expect(r.code).toBe('foreign_format');
          expect(r.reason).toMatch(reason);
        }
      }
    }
    expect(sniffMp3(new Uint8Array(0), { complete: true })).toMatchObject({ isMp3: false, code: 'empty' });
    expect(sniffMp3(id3v2(100, false), { complete: true })).toMatchObject({ isMp3: false, code: 'no_frames' });
  });

  it('accepts an MP3 head and says where its first frame is', () => {
    const s: SynthStream = { version: '1', rateIndex: 0 };
    const f: SynthFrame = { bitrateIndex: 9, padding: false, mode: 1, crc: false };
    const bytes = concat(id3v2(500, true), frame(s, f, 0, 'Info'), ...Array.from({ length: 5 }, (_, i) => frame(s, f, i)));
    const r = sniffMp3(bytes.subarray(0, 530 + 5 * 417)); // a prefix suffices
    expect(r).toMatchObject({ isMp3: true, firstFrameOffset: 520, id3v2Bytes: 520, vbrHeader: 'info' });
    // Too short a prefix is undecided, not rejected.
    expect(sniffMp3(bytes.subarray(0, 600))).toMatchObject({ isMp3: false, code: 'need_more_bytes' });
  });

  it('rejects a file with fewer consecutive frames than required', () => {
    const s: SynthStream = { version: '1', rateIndex: 0 };
    const f: SynthFrame = { bitrateIndex: 9, padding: false, mode: 1, crc: false };
    const bytes = concat(frame(s, f), frame(s, f), new Uint8Array(5000).fill(0x11));
    const r = sniffMp3(bytes, { complete: true });
    expect(r).toMatchObject({ isMp3: false, code: 'too_few_frames' });
    expect(() => analyzeMp3Bytes(bytes)).toThrow(NotMp3Error);
  });

  it('never accepts random bytes, bare or behind an ID3v2 tag or a valid first header', () => {
    const header = Uint8Array.from([0xff, 0xfb, 0x90, 0x64]);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 8192 }),
        fc.constantFrom('bare', 'id3', 'header'),
        fc.boolean(),
        (garbage, prefix, complete) => {
          const bytes = prefix === 'bare' ? garbage : concat(prefix === 'id3' ? id3v2(20, false) : header, garbage);
          expect(sniffMp3(bytes, { complete }).isMp3).toBe(false);
          expect(() => analyzeMp3Bytes(bytes)).toThrow(NotMp3Error);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('trailingTagAt', () => {
  it('measures APEv2 with and without header, ID3v1 only at the file end, appended ID3v2', () => {
    expect(trailingTagAt(apev2(10, true), 32 + 10 + 32, true)).toEqual({ kind: 'apev2', length: 74 });
    expect(trailingTagAt(apev2(10, false), 42, false)).toEqual({ kind: 'apev2', length: 42 });
    expect(trailingTagAt(id3v1(), 128, true)).toEqual({ kind: 'id3v1', length: 128 });
    expect(trailingTagAt(id3v1(), 128, false)).toBeNull();
    expect(trailingTagAt(id3v2(30, true), 50, false)).toEqual({ kind: 'id3v2-appended', length: 50 });
  });
});

// ---- From a file on disk ----

describe('findAudioRange', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-mp3-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a file in chunks and agrees with the in-memory analysis, even with a tag larger than the tail reserve', async () => {
    const s: SynthStream = { version: '1', rateIndex: 0 };
    const f: SynthFrame = { bitrateIndex: 9, padding: false, mode: 1, crc: false };
    const frames = Array.from({ length: 3000 }, (_, i) => frame(s, f, i)); // ~1.25 MB, ~78 s
    const bytes = concat(id3v2(300_000, false), frame(s, f, 1, 'Xing'), ...frames, apev2(600_000, true), id3v1());
    const path = join(dir, 'big.mp3');
    await writeFile(path, bytes);
    const fromFile = await findAudioRange(path);
    expect(fromFile).toEqual(analyzeMp3Bytes(bytes, { tailReserveBytes: 1 << 20 }));
    expect(fromFile).toMatchObject({
      fileSize: bytes.length,
      audioStart: 300_010 + 417,
      audioLength: 3000 * 417,
      frameCount: 3000,
      trailing: {
        tags: [
          { kind: 'id3v1', length: 128 },
          { kind: 'apev2', length: 600_064 },
        ],
        junkBytes: 0,
      },
    });
    expect(fromFile.seekIndex).toHaveLength(Math.floor((3000 * 1152) / 44100) + 1);
  });

  it('throws NotMp3Error with the reason for a non-MP3 file', async () => {
    const path = join(dir, 'page.mp3');
    await writeFile(path, '<html><body>' + 'x'.repeat(500) + '</body></html>');
    await expect(findAudioRange(path)).rejects.toMatchObject({ name: 'NotMp3Error', code: 'foreign_format' });
  });
});
