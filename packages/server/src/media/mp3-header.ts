// Byte-level MP3 structures: MPEG audio frame headers, the Xing/Info/VBRI
// first frame, and the tags that sit before (ID3v2) and after (ID3v1, APEv2,
// appended ID3v2) the audio frames. All pure; the walker in mp3.ts uses them.

export type MpegVersion = '1' | '2' | '2.5';
export type ChannelMode = 'stereo' | 'joint-stereo' | 'dual-channel' | 'mono';

export interface FrameHeader {
  version: MpegVersion;
  /** Only layer III is accepted: that is what MP3 is. */
  layer: 3;
  /** A 16-bit CRC follows the header. */
  crcProtected: boolean;
  bitrateKbps: number;
  sampleRate: number;
  padding: boolean;
  channelMode: ChannelMode;
  channels: 1 | 2;
  /** Whole frame in bytes, header included. */
  frameLength: number;
  samplesPerFrame: 576 | 1152;
}

// Layer III bitrates (kbps) by bitrate index; index 0 is "free format" and 15 is invalid.
const BITRATES_V1_L3 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1];
const BITRATES_V2_L3 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1];
const SAMPLE_RATES: Record<MpegVersion, readonly number[]> = {
  '1': [44100, 48000, 32000],
  '2': [22050, 24000, 16000],
  '2.5': [11025, 12000, 8000],
};
const CHANNEL_MODES: readonly ChannelMode[] = ['stereo', 'joint-stereo', 'dual-channel', 'mono'];

/**
 * Parses the 4-byte MPEG audio frame header at `offset`. Returns null for
 * anything that is not a usable layer III header: no sync, reserved version,
 * other layers, free-format or invalid bitrate, reserved sample rate or
 * reserved emphasis.
 */
export function parseFrameHeader(bytes: Uint8Array, offset = 0): FrameHeader | null {
  if (offset < 0 || offset + 4 > bytes.length) return null;
  const b0 = bytes[offset]!;
  const b1 = bytes[offset + 1]!;
  const b2 = bytes[offset + 2]!;
  const b3 = bytes[offset + 3]!;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return null;

  const versionBits = (b1 >> 3) & 0b11;
  if (versionBits === 0b01) return null;
  const version: MpegVersion = versionBits === 0b11 ? '1' : versionBits === 0b10 ? '2' : '2.5';
  if (((b1 >> 1) & 0b11) !== 0b01) return null; // layer III only

  const bitrateIndex = b2 >> 4;
  const sampleRateIndex = (b2 >> 2) & 0b11;
  if (sampleRateIndex === 0b11) return null;
  const bitrateKbps = (version === '1' ? BITRATES_V1_L3 : BITRATES_V2_L3)[bitrateIndex]!;
  if (bitrateKbps <= 0) return null;
  if ((b3 & 0b11) === 0b10) return null; // reserved emphasis

  const sampleRate = SAMPLE_RATES[version][sampleRateIndex]!;
  const padding = ((b2 >> 1) & 1) === 1;
  const channelMode = CHANNEL_MODES[b3 >> 6]!;
  const samplesPerFrame = version === '1' ? 1152 : 576;
  // samplesPerFrame / 8 bytes per (bit/s / Hz): 144 for MPEG-1, 72 for MPEG-2/2.5.
  const frameLength = Math.floor(((samplesPerFrame / 8) * bitrateKbps * 1000) / sampleRate) + (padding ? 1 : 0);

  return {
    version,
    layer: 3,
    crcProtected: (b1 & 1) === 0,
    bitrateKbps,
    sampleRate,
    padding,
    channelMode,
    channels: channelMode === 'mono' ? 1 : 2,
    frameLength,
    samplesPerFrame,
  };
}

/** Frames of one stream share version and sample rate; a header that does not is a false sync. */
export function sameStream(a: FrameHeader, b: FrameHeader): boolean {
  return a.version === b.version && a.sampleRate === b.sampleRate;
}

export type VbrHeaderKind = 'xing' | 'info' | 'vbri';

/**
 * Whether the frame starting at `offset` carries a Xing/Info (LAME) or VBRI
 * header instead of audio. Such a frame decodes as silence and describes the
 * whole file, so it must not appear in the middle of a concatenated stream.
 */
export function detectVbrHeader(bytes: Uint8Array, offset: number, header: FrameHeader): VbrHeaderKind | null {
  const sideInfo = header.version === '1' ? (header.channels === 1 ? 17 : 32) : header.channels === 1 ? 9 : 17;
  // Encoders place the tag right after the side info; some count the CRC, most do not.
  for (const at of header.crcProtected ? [4 + sideInfo, 6 + sideInfo] : [4 + sideInfo]) {
    const tag = ascii(bytes, offset + at, 4);
    if (tag === 'Xing') return 'xing';
    if (tag === 'Info') return 'info';
  }
  if (ascii(bytes, offset + 36, 4) === 'VBRI') return 'vbri';
  return null;
}

export interface Id3v2Header {
  majorVersion: number;
  /** Bytes of the whole tag: 10-byte header, body, and the 10-byte footer when flagged. */
  totalLength: number;
}

/** Parses an ID3v2 header ("ID3", version, flags, 28-bit syncsafe size) at `offset`. */
export function parseId3v2Header(bytes: Uint8Array, offset = 0): Id3v2Header | null {
  if (offset + 10 > bytes.length || ascii(bytes, offset, 3) !== 'ID3') return null;
  const major = bytes[offset + 3]!;
  const minor = bytes[offset + 4]!;
  const flags = bytes[offset + 5]!;
  if (major < 2 || major > 4 || major === 0xff || minor === 0xff) return null;
  const size = syncsafe(bytes, offset + 6);
  if (size === null) return null;
  const hasFooter = major === 4 && (flags & 0x10) !== 0;
  return { majorVersion: major, totalLength: 10 + size + (hasFooter ? 10 : 0) };
}

export type TrailingTagKind = 'id3v1' | 'apev2' | 'id3v2-appended';

/**
 * Recognises a tag that ends exactly at `end` (exclusive) in `bytes` and says
 * how long it is. Apply repeatedly, moving `end` back by the returned length,
 * to strip ID3v1, APEv2 and appended ID3v2 tags in any order.
 * `atFileEnd` is true when `end` is the end of the file: ID3v1 is only valid there.
 */
export function trailingTagAt(
  bytes: Uint8Array,
  end: number,
  atFileEnd: boolean,
): { kind: TrailingTagKind; length: number } | null {
  if (atFileEnd && end >= 128 && ascii(bytes, end - 128, 3) === 'TAG') return { kind: 'id3v1', length: 128 };
  if (end >= 32 && ascii(bytes, end - 32, 8) === 'APETAGEX') {
    const v = new DataView(bytes.buffer, bytes.byteOffset + end - 32, 32);
    const size = v.getUint32(12, true); // items + footer, header excluded
    const flags = v.getUint32(20, true);
    const hasHeader = (flags & 0x80000000) !== 0;
    if (size >= 32) return { kind: 'apev2', length: size + (hasHeader ? 32 : 0) };
  }
  if (end >= 10 && ascii(bytes, end - 10, 3) === '3DI') {
    const size = syncsafe(bytes, end - 4);
    if (size !== null && bytes[end - 7] === 4) return { kind: 'id3v2-appended', length: size + 20 };
  }
  return null;
}

function syncsafe(bytes: Uint8Array, offset: number): number | null {
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const b = bytes[offset + i]!;
    if (b & 0x80) return null;
    value = (value << 7) | b;
  }
  return value;
}

export function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (offset < 0 || offset + length > bytes.length) return '';
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(bytes[offset + i]!);
  return s;
}

/**
 * Names the format of a file that is clearly something else, from its first
 * bytes, so a rejected upload can say what it was. Null when unknown.
 */
export function describeForeignFormat(head: Uint8Array): string | null {
  const at = (o: number, s: string) => ascii(head, o, s.length) === s;
  if (at(0, 'RIFF') && at(8, 'WAVE')) return 'a WAV file (RIFF/WAVE)';
  if (at(0, 'RIFF') && at(8, 'AVI ')) return 'an AVI video';
  if (at(0, 'RIFF')) return 'a RIFF container';
  if (at(0, 'FORM') && (at(8, 'AIFF') || at(8, 'AIFC'))) return 'an AIFF file';
  if (at(0, 'fLaC')) return 'a FLAC file';
  if (at(0, 'OggS')) return 'an Ogg file';
  if (at(4, 'ftyp')) return 'an MP4/M4A file';
  if (head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3) return 'a Matroska/WebM file';
  if (at(0, 'PK\x03\x04')) return 'a ZIP archive';
  if (at(0, '%PDF')) return 'a PDF document';
  if (at(0, '\x89PNG')) return 'a PNG image';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'a JPEG image';
  if (at(0, 'GIF8')) return 'a GIF image';
  if (head[0] === 0xff && (head[1]! & 0xf6) === 0xf0) return 'AAC audio (ADTS)';
  const text = leadingText(head);
  if (text !== null) {
    const t = text.trimStart().slice(0, 64).toLowerCase();
    if (t.startsWith('<!doctype html') || t.startsWith('<html') || t.startsWith('<head') || t.startsWith('<body')) {
      return 'an HTML document';
    }
    if (t.startsWith('<?xml') || t.startsWith('<')) return 'an XML/markup document';
    if (t.startsWith('{') || t.startsWith('[')) return 'a JSON/text document';
    return 'a text file';
  }
  return null;
}

/** The head decoded as text when it looks like text (UTF-8, no control bytes but whitespace), else null. */
function leadingText(head: Uint8Array): string | null {
  const sample = head.subarray(0, 512);
  if (sample.length === 0) return null;
  for (const b of sample) {
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c) return null;
    if (b === 0x7f) return null;
  }
  try {
    // A multi-byte character cut at the end of the sample is still text.
    return new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
  } catch {
    return null;
  }
}
