import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, frameInstreamChunks, INSTREAM_END, parseClamdReply } from './clamd-protocol.js';

/** Reads INSTREAM framing back, as clamd does. */
function unframe(frames: Buffer[]): { chunks: number[]; data: Buffer } {
  const all = Buffer.concat(frames);
  const chunks: number[] = [];
  const parts: Buffer[] = [];
  let at = 0;
  while (at < all.length) {
    const length = all.readUInt32BE(at);
    chunks.push(length);
    parts.push(all.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  expect(at).toBe(all.length);
  return { chunks, data: Buffer.concat(parts) };
}

describe('clamd protocol', () => {
  it('encodes z-prefixed, NUL-terminated commands', () => {
    expect(encodeCommand('INSTREAM')).toEqual(Buffer.from('zINSTREAM\0'));
    expect(encodeCommand('PING')).toEqual(Buffer.from([0x7a, 0x50, 0x49, 0x4e, 0x47, 0x00]));
    expect(INSTREAM_END).toEqual(Buffer.from([0, 0, 0, 0]));
  });

  it('frames data as big-endian length-prefixed chunks', () => {
    expect(frameInstreamChunks(Buffer.from('hello'), 3)).toEqual([
      Buffer.from([0, 0, 0, 3]),
      Buffer.from('hel'),
      Buffer.from([0, 0, 0, 2]),
      Buffer.from('lo'),
    ]);
    expect(frameInstreamChunks(new Uint8Array(0))).toEqual([]);
    expect(frameInstreamChunks(new Uint8Array(70_000))[0]).toEqual(Buffer.from([0, 1, 0, 0])); // 65536
    expect(() => frameInstreamChunks(Buffer.from('x'), 0)).toThrow(RangeError);
  });

  it('round-trips any data at any chunk size, never sending an empty chunk early', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 2048 }), (data, max) => {
        const { chunks, data: back } = unframe(frameInstreamChunks(data, max));
        expect(back.equals(Buffer.from(data))).toBe(true);
        expect(chunks.every((c) => c > 0 && c <= max)).toBe(true);
        expect(chunks.length).toBe(Math.ceil(data.length / max));
      }),
    );
  });

  it.each([
    ['stream: OK\0', { kind: 'clean' }],
    ['stream: Eicar-Signature FOUND\0', { kind: 'found', signature: 'Eicar-Signature' }],
    ['stream: Djcast.Test.EICAR.UNOFFICIAL FOUND\0', { kind: 'found', signature: 'Djcast.Test.EICAR.UNOFFICIAL' }],
    [
      'stream: Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68) FOUND\0',
      { kind: 'found', signature: 'Win.Test.EICAR_HDB-1(44d88612fea8a8f36de82e1278abb02f:68)' },
    ],
    ['1: stream: OK\0', { kind: 'clean' }],
    ['stream: OK\n', { kind: 'clean' }],
    ['INSTREAM size limit exceeded. ERROR\0', { kind: 'size_limit', message: 'INSTREAM size limit exceeded. ERROR' }],
    ["stream: Can't allocate memory ERROR\0", { kind: 'error', message: "stream: Can't allocate memory" }],
    ['UNKNOWN COMMAND\0', { kind: 'unknown', message: 'UNKNOWN COMMAND' }],
    ['', { kind: 'unknown', message: '' }],
  ])('parses %j', (raw, expected) => {
    expect(parseClamdReply(raw)).toEqual(expected);
  });
});
