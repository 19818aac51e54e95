import fc from 'fast-check';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  decodeIcyText,
  encodeIcyMetadata,
  IcyDemuxer,
  IcyDemuxStream,
  icyTrackTitle,
  type IcyMetadata,
  parseIcyMetadata,
  parseMetaInt,
} from './icy.js';

const bytes = (...parts: Array<string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('parseIcyMetadata', () => {
  it('reads StreamTitle and StreamUrl, ignoring NUL padding', () => {
    const block = encodeIcyMetadata("StreamTitle='Daft Punk - Around the World';StreamUrl='https://example.com';").subarray(1);
    expect(parseIcyMetadata(block)).toEqual({
      streamTitle: 'Daft Punk - Around the World',
      streamUrl: 'https://example.com',
      fields: { StreamTitle: 'Daft Punk - Around the World', StreamUrl: 'https://example.com' },
    });
  });

  it('keeps quotes and semicolons that are part of the title', () => {
    expect(parseIcyMetadata("StreamTitle='Rock 'n' Roll Ain't Noise Pollution';StreamUrl='';").streamTitle).toBe(
      "Rock 'n' Roll Ain't Noise Pollution",
    );
    expect(parseIcyMetadata("StreamTitle='It's a Test, with comma é';").streamTitle).toBe("It's a Test, with comma é");
    expect(parseIcyMetadata("StreamTitle='Part 1'; Part 2';StreamUrl='x';").streamTitle).toBe("Part 1'; Part 2");
    expect(parseIcyMetadata("StreamTitle='Ends with a quote''';").streamTitle).toBe("Ends with a quote''");
  });

  it('tells an empty title from a missing one', () => {
    const empty = parseIcyMetadata("StreamTitle='';");
    expect(empty.streamTitle).toBe('');
    expect(icyTrackTitle(empty)).toBeNull();
    const missing = parseIcyMetadata("StreamUrl='http://x';");
    expect(missing.streamTitle).toBeNull();
    expect(icyTrackTitle(missing)).toBeNull();
    expect(parseIcyMetadata(new Uint8Array(16)).fields).toEqual({});
  });

  it('accepts a final field without the trailing semicolon', () => {
    expect(parseIcyMetadata("StreamTitle='No semicolon'").streamTitle).toBe('No semicolon');
    expect(parseIcyMetadata("StreamTitle='A';StreamUrl='B'").fields).toEqual({ StreamTitle: 'A', StreamUrl: 'B' });
  });

  it('decodes UTF-8 when valid and CP1252 otherwise', () => {
    expect(parseIcyMetadata(bytes("StreamTitle='Beyonc", [0xc3, 0xa9], "';")).streamTitle).toBe('Beyoncé');
    // Latin-1 é (0xe9) and a CP1252 curly apostrophe (0x92): not valid UTF-8.
    expect(parseIcyMetadata(bytes("StreamTitle='Beyonc", [0xe9], ' Don', [0x92], "t';")).streamTitle).toBe('Beyoncé Don’t');
    expect(decodeIcyText(new Uint8Array([0xff, 0xfe]))).toBe('ÿþ');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4080 }), (block) => {
        const parsed = parseIcyMetadata(block);
        expect(typeof parsed.fields).toBe('object');
      }),
    );
  });

  it('round-trips any title that does not itself contain "\';" followed by a key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (title) => {
        fc.pre(!title.includes('\0') && !/';\s*([A-Za-z][A-Za-z0-9_]*='|$)/.test(title));
        const block = encodeIcyMetadata(`StreamTitle='${title}';StreamUrl='';`).subarray(1);
        expect(parseIcyMetadata(block).streamTitle).toBe(title);
      }),
    );
  });
});

describe('encodeIcyMetadata and parseMetaInt', () => {
  it('pads to 16-byte blocks behind a length byte', () => {
    const block = encodeIcyMetadata("StreamTitle='x';");
    expect(block.length).toBe(17);
    expect(block[0]).toBe(1);
    expect(encodeIcyMetadata('').length).toBe(1);
    expect(() => encodeIcyMetadata('x'.repeat(4081))).toThrow(RangeError);
  });

  it('parses icy-metaint', () => {
    expect(parseMetaInt('16000')).toBe(16000);
    expect(parseMetaInt(['8192'])).toBe(8192);
    expect(parseMetaInt(undefined)).toBeNull();
    expect(parseMetaInt('0')).toBeNull();
    expect(parseMetaInt('12abc')).toBeNull();
  });
});

/** Builds an ICY body: audio chunks of exactly metaInt bytes, each followed by a metadata block. */
function icyBody(metaInt: number, audio: Uint8Array, blocks: Array<string | null>): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  let i = 0;
  while (offset + metaInt <= audio.length) {
    parts.push(audio.subarray(offset, offset + metaInt));
    offset += metaInt;
    const text = blocks[i++ % Math.max(1, blocks.length)] ?? null;
    parts.push(text === null ? new Uint8Array([0]) : encodeIcyMetadata(text));
  }
  parts.push(audio.subarray(offset));
  return Buffer.concat(parts);
}

function chunked(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, data.length]) {
    if (p > prev) out.push(data.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

describe('IcyDemuxer', () => {
  it('recovers the exact audio and metadata whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(
          fc.option(
            fc.string({ maxLength: 40 }).map((t) => `StreamTitle='${t}';`),
            { nil: null },
          ),
          { maxLength: 6 },
        ),
        fc.array(fc.nat(), { maxLength: 30 }),
        (metaInt, audio, blocks, cuts) => {
          const body = icyBody(metaInt, audio, blocks);
          const demuxer = new IcyDemuxer(metaInt);
          const gotAudio: Uint8Array[] = [];
          const gotMeta: Uint8Array[] = [];
          for (const chunk of chunked(body, cuts)) {
            const { audio: a, metadata: m } = demuxer.push(chunk);
            gotAudio.push(...a);
            gotMeta.push(...m);
          }
          expect(Buffer.compare(Buffer.concat(gotAudio), Buffer.from(audio))).toBe(0);
          const expected = [];
          const boundaries = Math.floor(audio.length / metaInt);
          for (let i = 0; i < boundaries; i++) {
            const text = blocks[i % Math.max(1, blocks.length)] ?? null;
            if (text !== null && Buffer.byteLength(text) > 0) expected.push(text);
          }
          expect(gotMeta.map((m) => parseIcyMetadata(m).fields.StreamTitle)).toEqual(
            expected.map((t) => parseIcyMetadata(t).fields.StreamTitle),
          );
        },
      ),
    );
  });

  it('rejects a nonsense metaint', () => {
    expect(() => new IcyDemuxer(0)).toThrow(RangeError);
  });
});

describe('IcyDemuxStream', () => {
  it('passes audio through and emits parsed metadata events', async () => {
    const audio = Buffer.alloc(100, 7);
    const body = icyBody(16, audio, ["StreamTitle='One';", null, "StreamTitle='Two, too';"]);
    const stream = new IcyDemuxStream(16);
    const titles: Array<string | null> = [];
    stream.on('metadata', (m: IcyMetadata) => titles.push(m.streamTitle));
    const out: Buffer[] = [];
    stream.on('data', (c: Buffer) => out.push(c));
    await new Promise<void>((resolve, reject) => {
      Readable.from(chunked(body, [3, 17, 18, 50, 51, 52]).map((c) => Buffer.from(c)))
        .pipe(stream)
        .on('end', resolve)
        .on('error', reject);
    });
    expect(Buffer.concat(out).equals(audio)).toBe(true);
    expect(titles).toEqual(['One', 'Two, too', 'One', 'Two, too']);
  });
});
