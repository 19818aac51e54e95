// Helpers for the podcast tests: images built byte by byte (PNG and the
// headers of a JPEG), feed parsing with the independent readers, and a CDN
// purger that records what it is sent.

import { deflateSync } from 'node:zlib';
import { parseFeed } from 'podcast-partytime';
import Parser from 'rss-parser';
import type { CdnPurger } from '../src/adapters/cdn/types.js';

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG of one flat colour: colour type 2 (RGB) by default, 0 for greyscale. */
export function png(width: number, height: number, colourType: 0 | 2 = 2): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  const channels = colourType === 2 ? 3 : 1;
  const row = Buffer.alloc(1 + width * channels, 0x40);
  row[0] = 0;
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The head of a baseline JPEG with `components` colour components (3 YCbCr, 4 CMYK): enough for the size and colour checks. */
export function jpegHead(width: number, height: number, components: 1 | 3 | 4): Buffer {
  const sof = Buffer.alloc(2 + 2 + 1 + 2 + 2 + 1 + components * 3);
  sof.writeUInt16BE(0xffc0, 0);
  sof.writeUInt16BE(8 + components * 3, 2);
  sof[4] = 8;
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  sof[9] = components;
  for (let i = 0; i < components; i++) sof.set([i + 1, 0x11, 0], 10 + i * 3);
  const app0 = Buffer.from([
    0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  ]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.from([0xff, 0xd9])]);
}

/** A CDN purger that records every call. */
export class RecordingPurger implements CdnPurger {
  readonly kind = 'recording';
  readonly calls: string[][] = [];
  async purge(urls: readonly string[]): Promise<void> {
    this.calls.push([...urls]);
  }
  get urls(): string[] {
    return this.calls.flat();
  }
}

/** The feed as podcast-partytime reads it (throws when it cannot). */
export function partytime(xml: string) {
  const feed = parseFeed(xml, { allowMissingGuid: false });
  if (!feed) throw new Error('podcast-partytime could not parse the feed');
  return feed;
}

type RssItemExtra = { 'itunes:explicit'?: string; 'podcast:chapters'?: { $: { url: string } } };
const rssParser = new Parser<{ 'podcast:guid'?: string; 'podcast:locked'?: string }, RssItemExtra>({
  customFields: { feed: ['podcast:guid', 'podcast:locked'], item: ['itunes:explicit', 'podcast:chapters'] },
});

/** The feed as rss-parser reads it. */
export function rssParse(xml: string) {
  return rssParser.parseString(xml);
}
