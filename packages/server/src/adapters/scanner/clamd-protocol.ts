// clamd's wire protocol, as data. Commands are sent "z"-prefixed and
// NUL-terminated (replies then end with NUL too). INSTREAM data follows as
// chunks, each prefixed with its length as a 4-byte big-endian integer, and
// ends with a zero-length chunk. See clamd(8), "INSTREAM".

export function encodeCommand(command: 'INSTREAM' | 'PING' | 'VERSION'): Buffer {
  return Buffer.from(`z${command}\0`, 'latin1');
}

/** The zero-length chunk that ends an INSTREAM upload. */
export const INSTREAM_END: Buffer = Buffer.alloc(4);

/** `data` as INSTREAM chunks of at most `maxChunk` bytes: [length, bytes, length, bytes, ...]. */
export function frameInstreamChunks(data: Uint8Array, maxChunk = 64 * 1024): Buffer[] {
  if (!Number.isInteger(maxChunk) || maxChunk < 1 || maxChunk > 0xffffffff) throw new RangeError('maxChunk out of range');
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += maxChunk) {
    const piece = data.subarray(at, Math.min(data.length, at + maxChunk));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(piece.length, 0);
    out.push(header, Buffer.from(piece.buffer, piece.byteOffset, piece.length));
  }
  return out;
}

export type ClamdReply =
  | { kind: 'clean' }
  | { kind: 'found'; signature: string }
  | { kind: 'size_limit'; message: string }
  | { kind: 'error'; message: string }
  | { kind: 'unknown'; message: string };

/** Interprets clamd's answer to INSTREAM ("stream: OK", "stream: <name> FOUND", "... ERROR"). */
export function parseClamdReply(raw: string): ClamdReply {
  // Session replies carry a request number ("1: stream: OK"); replies end with NUL or newline.
  const text = raw
    .replace(/\0+$/, '')
    .trim()
    .replace(/^\d+: /, '');
  if (text === 'stream: OK') return { kind: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(text);
  if (found) return { kind: 'found', signature: found[1]! };
  if (/size limit exceeded/i.test(text)) return { kind: 'size_limit', message: text };
  if (/ERROR$/.test(text)) return { kind: 'error', message: text.replace(/\s*ERROR$/, '') };
  return { kind: 'unknown', message: text };
}
