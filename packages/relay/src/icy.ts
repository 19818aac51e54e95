import { Transform, type TransformCallback } from 'node:stream';

/**
 * ICY (SHOUTcast) in-band metadata. A client that sends `Icy-MetaData: 1`
 * gets an `icy-metaint: N` response header and a body where every N bytes
 * of audio are followed by one length byte L and L * 16 bytes of metadata
 * text, NUL-padded: `StreamTitle='Artist - Title';StreamUrl='';`. L = 0
 * (the common case) means "no change".
 */

export interface IcyMetadata {
  /** null when the block has no StreamTitle; "" when it is explicitly empty. */
  streamTitle: string | null;
  streamUrl: string | null;
  /** Every key='value' pair in the block, StreamTitle included. */
  fields: Record<string, string>;
}

/** Largest block the length byte can announce. */
export const MAX_ICY_METADATA_BYTES = 255 * 16;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const cp1252 = (() => {
  try {
    return new TextDecoder('windows-1252');
  } catch {
    return null; // Node built without ICU: fall back to Buffer's latin1
  }
})();

/**
 * Metadata has no declared charset: modern encoders send UTF-8, older
 * Windows ones send CP1252 (where 0x92 is a curly apostrophe). Valid UTF-8
 * wins; anything else is read as CP1252, which maps every byte.
 */
export function decodeIcyText(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return cp1252 ? cp1252.decode(bytes) : Buffer.from(bytes).toString('latin1');
  }
}

// A value runs to the first "';" that is followed by another key= or by the
// end, so quotes and semicolons inside titles ("Rock 'n' Roll") survive.
const FIELD = /([A-Za-z][A-Za-z0-9_]*)='([\s\S]*?)'(?:;(?=\s*(?:[A-Za-z][A-Za-z0-9_]*='|$))|\s*$)/g;

/** Parses one metadata block (without its length byte); trailing NUL padding is ignored. */
export function parseIcyMetadata(block: Uint8Array | string): IcyMetadata {
  let text: string;
  if (typeof block === 'string') {
    text = block;
  } else {
    const nul = block.indexOf(0);
    text = decodeIcyText(nul >= 0 ? block.subarray(0, nul) : block);
  }
  text = text.replace(/\0+$/, '').trim();
  const fields: Record<string, string> = {};
  for (const match of text.matchAll(FIELD)) {
    const [, key, value] = match;
    if (key !== undefined && value !== undefined) fields[key] = value;
  }
  return {
    streamTitle: fields.StreamTitle ?? null,
    streamUrl: fields.StreamUrl ?? null,
    fields,
  };
}

/** The track a listener should see: trimmed, and null for an empty title. */
export function icyTrackTitle(metadata: IcyMetadata): string | null {
  const title = metadata.streamTitle?.replace(/\s+/g, ' ').trim();
  return title ? title : null;
}

/**
 * Builds one wire block (length byte + NUL-padded text) as a server would.
 * Used by tests and the loopback fakes that mimic Shoutcast servers.
 */
export function encodeIcyMetadata(text: string | Uint8Array): Uint8Array {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  if (bytes.length > MAX_ICY_METADATA_BYTES) throw new RangeError(`ICY metadata longer than ${MAX_ICY_METADATA_BYTES} bytes`);
  const blocks = Math.ceil(bytes.length / 16);
  const out = new Uint8Array(1 + blocks * 16);
  out[0] = blocks;
  out.set(bytes, 1);
  return out;
}

/** Parses the icy-metaint header; null when absent or not a positive integer. */
export function parseMetaInt(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return n > 0 && n <= 0x7fffffff ? n : null;
}

/**
 * Splits an ICY body into audio bytes and metadata blocks, whatever the
 * chunk boundaries. Pure and synchronous; the Transform below wraps it.
 */
export class IcyDemuxer {
  private audioLeft: number;
  private metaLeft = 0;
  private meta: Uint8Array | null = null;
  private metaFilled = 0;
  private expectLength = false;

  constructor(readonly metaInt: number) {
    if (!Number.isInteger(metaInt) || metaInt <= 0)
      throw new RangeError(`icy-metaint must be a positive integer, got ${metaInt}`);
    this.audioLeft = metaInt;
  }

  push(chunk: Uint8Array): { audio: Uint8Array[]; metadata: Uint8Array[] } {
    const audio: Uint8Array[] = [];
    const metadata: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.expectLength) {
        const length = chunk[i]! * 16;
        i += 1;
        this.expectLength = false;
        if (length === 0) {
          this.audioLeft = this.metaInt;
        } else {
          this.meta = new Uint8Array(length);
          this.metaFilled = 0;
          this.metaLeft = length;
        }
      } else if (this.meta) {
        const take = Math.min(this.metaLeft, chunk.length - i);
        this.meta.set(chunk.subarray(i, i + take), this.metaFilled);
        this.metaFilled += take;
        this.metaLeft -= take;
        i += take;
        if (this.metaLeft === 0) {
          metadata.push(this.meta);
          this.meta = null;
          this.audioLeft = this.metaInt;
        }
      } else {
        const take = Math.min(this.audioLeft, chunk.length - i);
        audio.push(chunk.subarray(i, i + take));
        this.audioLeft -= take;
        i += take;
        if (this.audioLeft === 0) this.expectLength = true;
      }
    }
    return { audio, metadata };
  }
}

/**
 * A Transform that passes the audio through and emits each metadata block
 * as a 'metadata' event carrying the parsed IcyMetadata.
 */
export class IcyDemuxStream extends Transform {
  private readonly demuxer: IcyDemuxer;

  constructor(metaInt: number) {
    super();
    this.demuxer = new IcyDemuxer(metaInt);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { audio, metadata } = this.demuxer.push(chunk);
    for (const part of audio) this.push(part);
    for (const block of metadata) this.emit('metadata', parseIcyMetadata(block));
    callback();
  }
}
