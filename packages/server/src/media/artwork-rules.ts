// Artwork rules, checked on the bytes before anything is stored: JPEG or PNG,
// square, RGB colour, and a size range: Apple Podcasts' 1400-3000 px a side by
// default (podcasts), 300-3000 px for stream and playlist pages. Pure, so the
// rules are tested as data; `rule` names the one that failed.

import { imageSize } from 'image-size';

export type ArtworkRule = 'format' | 'square' | 'min_size' | 'max_size' | 'rgb';

export interface ArtworkInfo {
  contentType: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
}

export class ArtworkRejected extends Error {
  override readonly name = 'ArtworkRejected';
  constructor(
    readonly rule: ArtworkRule,
    message: string,
  ) {
    super(message);
  }
}

export const ARTWORK_MIN_PX = 1400;
export const ARTWORK_MAX_PX = 3000;

export interface ArtworkLimits {
  minPx: number;
  maxPx: number;
}

/** Apple Podcasts' size range (podcast artwork). */
export const PODCAST_ARTWORK_LIMITS: ArtworkLimits = { minPx: ARTWORK_MIN_PX, maxPx: ARTWORK_MAX_PX };

export function checkArtwork(bytes: Uint8Array, limits: ArtworkLimits = PODCAST_ARTWORK_LIMITS): ArtworkInfo {
  const { minPx, maxPx } = limits;
  let size: { width: number; height: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch {
    throw new ArtworkRejected('format', 'Artwork must be a JPEG or PNG image; this file is neither.');
  }
  const type = size.type === 'jpg' ? 'image/jpeg' : size.type === 'png' ? 'image/png' : null;
  if (!type) throw new ArtworkRejected('format', `Artwork must be a JPEG or PNG image; this file is ${size.type ?? 'unknown'}.`);
  const { width, height } = size;
  if (width !== height) throw new ArtworkRejected('square', `Artwork must be square; this image is ${width}x${height} px.`);
  if (width < minPx)
    throw new ArtworkRejected('min_size', `Artwork must be at least ${minPx}x${minPx} px; this image is ${width}x${height}.`);
  if (width > maxPx)
    throw new ArtworkRejected('max_size', `Artwork must be at most ${maxPx}x${maxPx} px; this image is ${width}x${height}.`);
  const colour = type === 'image/png' ? pngColour(bytes) : jpegColour(bytes);
  if (colour !== 'rgb') throw new ArtworkRejected('rgb', `Artwork must be in the RGB colour space; this image is ${colour}.`);
  return { contentType: type, width, height };
}

/** PNG IHDR colour type (byte 25): 2 truecolour, 6 truecolour with alpha; 0/4 greyscale, 3 palette. */
function pngColour(bytes: Uint8Array): string {
  const colourType = bytes[25];
  if (colourType === 2 || colourType === 6) return 'rgb';
  if (colourType === 3) return 'palette';
  return 'greyscale';
}

/** JPEG: the component count of the first SOF segment (1 greyscale, 3 YCbCr/RGB, 4 CMYK). */
function jpegColour(bytes: Uint8Array): string {
  let at = 2;
  while (at + 9 < bytes.length) {
    if (bytes[at] !== 0xff) {
      at += 1;
      continue;
    }
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at += 1;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const components = bytes[at + 9];
      return components === 3 ? 'rgb' : components === 4 ? 'CMYK' : components === 1 ? 'greyscale' : 'unknown';
    }
    at += 2 + length;
  }
  return 'unknown';
}
