// Reads an uploaded image, checks it against the artwork rules and stores
// it in the blob store: the one path behind podcast artwork (Apple's rules)
// and page artwork of streams and playlists (share-card rules). Each feature
// records the returned row in its own table.

import type { Readable } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import { DomainError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { ArtworkRejected, type ArtworkLimits, checkArtwork } from './artwork-rules.js';

/** The columns both artwork tables share. */
export interface StoredArtwork {
  id: string;
  owner_id: string;
  storage_key: string;
  content_type: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  size_bytes: number;
  created_at: string;
}

/**
 * Reads at most `maxBytes` (413 beyond, the stream destroyed), checks the image (422 naming the
 * broken rule), stores it under `keyPrefix` and returns its row. Nothing is stored for a refused image.
 */
export async function storeArtwork(
  store: BlobStore,
  input: Readable,
  opts: { ownerId: string; keyPrefix: string; maxBytes: number; limits: ArtworkLimits; now: string },
): Promise<StoredArtwork> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    size += (chunk as Buffer).length;
    if (size > opts.maxBytes) {
      input.destroy();
      throw new DomainError('payload_too_large', `Artwork is limited to ${opts.maxBytes} bytes.`, {
        limit_bytes: opts.maxBytes,
      });
    }
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  let info: ReturnType<typeof checkArtwork>;
  try {
    info = checkArtwork(bytes, opts.limits);
  } catch (error) {
    if (!(error instanceof ArtworkRejected)) throw error;
    throw new DomainError('unprocessable', error.message, {
      rule: error.rule,
      errors: [{ path: 'file', message: error.message, code: error.rule }],
    });
  }
  const id = newId('art');
  const key = `${opts.keyPrefix}${id}.${info.contentType === 'image/png' ? 'png' : 'jpg'}`;
  await store.put(key, bytes, { contentType: info.contentType });
  return {
    id,
    owner_id: opts.ownerId,
    storage_key: key,
    content_type: info.contentType,
    width: info.width,
    height: info.height,
    size_bytes: bytes.length,
    created_at: opts.now,
  };
}
