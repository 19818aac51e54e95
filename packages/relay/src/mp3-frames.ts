/**
 * MPEG audio (MP3, MP2) frame headers and a splitter that turns a byte
 * stream in any chunking into whole frames, so the relay can swap the
 * source's frames for an ad's at a frame boundary. Pure: bytes in, frames out.
 */

export interface MpegFrameHeader {
  /** Bytes of the whole frame, header included. */
  length: number;
  /** PCM samples per channel the frame decodes to. */
  samples: number;
  sampleRate: number;
  bitrateKbps: number;
  channels: 1 | 2;
}

const BITRATES: Record<string, number[]> = {
  // [version 1 | 2][layer 1..3]
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** The header at `offset`, or null when the four bytes there are not a valid MPEG audio frame header. */
export function parseMpegHeader(buf: Buffer, offset = 0): MpegFrameHeader | null {
  if (offset + 4 > buf.length) return null;
  const b1 = buf[offset + 1]!;
  const b2 = buf[offset + 2]!;
  if (buf[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return null;
  const versionBits = (b1 >> 3) & 0x3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layerBits = (b1 >> 1) & 0x3; // 3: layer I, 2: II, 1: III
  if (versionBits === 1 || layerBits === 0) return null;
  const layer = 4 - layerBits;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 0x3;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null; // free format is not supported
  const v1 = versionBits === 3;
  const bitrateKbps = BITRATES[`${v1 ? 1 : 2}-${layer}`]![bitrateIndex]!;
  const sampleRate = SAMPLE_RATES[versionBits]![rateIndex]!;
  const padding = (b2 >> 1) & 0x1;
  const channels = ((buf[offset + 3]! >> 6) & 0x3) === 3 ? 1 : 2;
  let length: number;
  let samples: number;
  if (layer === 1) {
    length = (Math.floor((12 * bitrateKbps * 1000) / sampleRate) + padding) * 4;
    samples = 384;
  } else if (layer === 2 || v1) {
    length = Math.floor((144 * bitrateKbps * 1000) / sampleRate) + padding;
    samples = 1152;
  } else {
    length = Math.floor((72 * bitrateKbps * 1000) / sampleRate) + padding;
    samples = 576;
  }
  return { length, samples, sampleRate, bitrateKbps, channels };
}

export interface MpegFrame {
  bytes: Buffer;
  header: MpegFrameHeader;
}

/** What the splitter hands out: a whole frame, or bytes that are not part of one (tags, garbage, another codec). */
export type SplitPiece = { frame: MpegFrame } | { other: Buffer };

/**
 * Cuts a byte stream into MPEG audio frames. A header counts once the frame
 * after it starts with a header too (or the stream is at its end), so a
 * stray 0xFFE inside other data is not taken for a frame.
 */
export class MpegFrameSplitter {
  private buffer: Buffer = Buffer.alloc(0);
  /** Frames seen in a row: once in sync, the next header is trusted without looking further. */
  private synced = false;

  push(chunk: Buffer): SplitPiece[] {
    this.buffer = this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : chunk;
    return this.drain(false);
  }

  /** The stream ended: whatever is left (a last frame, or loose bytes). */
  end(): SplitPiece[] {
    const out = this.drain(true);
    if (this.buffer.length > 0) out.push({ other: this.buffer });
    this.buffer = Buffer.alloc(0);
    return out;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  private drain(atEnd: boolean): SplitPiece[] {
    const out: SplitPiece[] = [];
    const buf = this.buffer;
    let offset = 0;
    let looseFrom = -1;
    const flushLoose = (to: number) => {
      if (looseFrom >= 0 && to > looseFrom) out.push({ other: Buffer.from(buf.subarray(looseFrom, to)) });
      looseFrom = -1;
    };
    while (offset + 4 <= buf.length) {
      const header = parseMpegHeader(buf, offset);
      if (header) {
        const end = offset + header.length;
        if (end > buf.length) {
          if (atEnd) break;
          break; // wait for the rest
        }
        const confirmed = this.synced || atEnd || end + 4 > buf.length ? true : parseMpegHeader(buf, end) !== null;
        if (!this.synced && end + 4 > buf.length && !atEnd) break; // cannot confirm yet
        if (confirmed) {
          flushLoose(offset);
          out.push({ frame: { bytes: Buffer.from(buf.subarray(offset, end)), header } });
          this.synced = true;
          offset = end;
          continue;
        }
      }
      this.synced = false;
      if (looseFrom < 0) looseFrom = offset;
      offset += 1;
    }
    flushLoose(offset);
    this.buffer = Buffer.from(buf.subarray(offset));
    return out;
  }
}
