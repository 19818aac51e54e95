// Artwork of stream and playlist pages: checked on the bytes (JPEG or PNG,
// square, 300-3000 px, RGB), stored in the blob store, served from there.
// Streams and playlists ask this service whether an id is the caller's and
// where it is served; the pages show it.

import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely } from 'kysely';
import type { Readable } from 'node:stream';
import { nowIso } from '../../db/create-db.js';
import { DomainError } from '../../core/errors.js';
import { isAdmin, type Principal } from '../../core/principal.js';
import type { ArtworksTable, Database } from '../../db/tables.js';
import type { ArtworkLimits } from '../../media/artwork-rules.js';
import { storeArtwork } from '../../media/artwork-store.js';
import * as repo from './repository.js';
import type { ArtworkView } from './schemas.js';

/** Large enough for a share card (1200 px wide previews), small enough to load fast on a phone. */
export const PAGE_ARTWORK_LIMITS: ArtworkLimits = { minPx: 300, maxPx: 3000 };
export const PAGE_ARTWORK_MAX_BYTES = 5 * 1024 * 1024;

export interface ArtworksDeps {
  db: Kysely<Database>;
  store: BlobStore;
  publicUrl: string;
  clock?: () => Date;
}

export class ArtworksService {
  private readonly clock: () => Date;

  constructor(private readonly deps: ArtworksDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  get store(): BlobStore {
    return this.deps.store;
  }

  /** Where an artwork is served; null for none. */
  url = (artworkId: string | null): string | null => (artworkId ? `${this.deps.publicUrl}/artworks/${artworkId}` : null);

  async upload(principal: Principal, stream: Readable): Promise<ArtworkView> {
    const row: ArtworksTable = await storeArtwork(this.deps.store, stream, {
      ownerId: principal.userId,
      keyPrefix: 'artworks/',
      maxBytes: PAGE_ARTWORK_MAX_BYTES,
      limits: PAGE_ARTWORK_LIMITS,
      now: nowIso(this.clock()),
    });
    await repo.insertArtwork(this.deps.db, row);
    return this.view(row);
  }

  /** The stored artwork for the public route; null when there is none. */
  async find(artworkId: string): Promise<ArtworksTable | null> {
    return (await repo.findArtwork(this.deps.db, artworkId)) ?? null;
  }

  /** 422 unless the artwork exists and is the caller's (an admin may use anyone's). */
  async assertUsable(principal: Principal, artworkId: string | null | undefined): Promise<void> {
    if (!artworkId) return;
    const art = await repo.findArtwork(this.deps.db, artworkId);
    if (!art || (art.owner_id !== principal.userId && !isAdmin(principal))) {
      throw new DomainError('unprocessable', `Artwork ${artworkId} is not one of yours.`, {
        errors: [{ path: 'artwork_id', message: 'not found', code: 'not_found' }],
      });
    }
  }

  private view(row: ArtworksTable): ArtworkView {
    return {
      id: row.id,
      content_type: row.content_type,
      width: row.width,
      height: row.height,
      size_bytes: row.size_bytes,
      url: this.url(row.id)!,
      created_at: row.created_at,
    };
  }
}

/** What streams and playlists need of artwork (so they do not depend on this feature's module). */
export type ArtworkPort = Pick<ArtworksService, 'assertUsable' | 'url'>;
