import { sql, type Kysely, type Transaction, type Updateable } from 'kysely';
import type { Database, PlaylistItemsTable, PlaylistsTable } from '../../db/tables.js';
import { listOwnedPage, type OwnedPageQuery } from '../../db/owned-page.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertPlaylist = (db: Q, row: PlaylistsTable) => db.insertInto('playlists').values(row).execute();

export const findPlaylist = (db: Q, id: string) => db.selectFrom('playlists').selectAll().where('id', '=', id).executeTakeFirst();

export const listPlaylists = (db: Q, opts: OwnedPageQuery) => listOwnedPage(db, 'playlists', opts);

export const updatePlaylist = (db: Q, id: string, patch: Updateable<PlaylistsTable>) =>
  db.updateTable('playlists').set(patch).where('id', '=', id).execute();

/** Marks a content change: the version (and so the playback ETag) moves on. */
export const bumpContentVersion = (db: Q, id: string, patch: Updateable<PlaylistsTable>) =>
  db
    .updateTable('playlists')
    .set({ ...patch, content_version: sql<number>`content_version + 1` })
    .where('id', '=', id)
    .execute();

export const deletePlaylist = (db: Q, id: string) => db.deleteFrom('playlists').where('id', '=', id).execute();

export const itemsOf = (db: Q, playlistId: string) =>
  db.selectFrom('playlist_items').selectAll().where('playlist_id', '=', playlistId).orderBy('position').execute();

/** Items of many playlists at once (list pages), in playlist then position order. */
export function itemsOfMany(db: Q, playlistIds: string[]) {
  if (playlistIds.length === 0) return Promise.resolve([] as PlaylistItemsTable[]);
  return db
    .selectFrom('playlist_items')
    .selectAll()
    .where('playlist_id', 'in', playlistIds)
    .orderBy('playlist_id')
    .orderBy('position')
    .execute();
}

export const findItem = (db: Q, id: string) =>
  db.selectFrom('playlist_items').selectAll().where('id', '=', id).executeTakeFirst();

/** Replaces a playlist's items wholesale (positions are rewritten, so delete first to keep them unique). */
export async function replaceItems(db: Q, playlistId: string, rows: PlaylistItemsTable[]): Promise<void> {
  await db.deleteFrom('playlist_items').where('playlist_id', '=', playlistId).execute();
  if (rows.length > 0) await db.insertInto('playlist_items').values(rows).execute();
}

export const updateItem = (db: Q, id: string, patch: Updateable<PlaylistItemsTable>) =>
  db.updateTable('playlist_items').set(patch).where('id', '=', id).execute();

/**
 * Marks a ready external item of a playlist failed; false when it is not
 * (any more) a ready external item there, e.g. another listener did it first.
 */
export async function failReadyExternalItem(
  db: Q,
  playlistId: string,
  id: string,
  patch: Pick<Updateable<PlaylistItemsTable>, 'status_reason' | 'updated_at'>,
): Promise<boolean> {
  const result = await db
    .updateTable('playlist_items')
    .set({ ...patch, status: 'failed' })
    .where('id', '=', id)
    .where('playlist_id', '=', playlistId)
    .where('status', '=', 'ready')
    .where('url', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Ids of the playlists an upload is part of. */
export async function playlistsWithUpload(db: Q, uploadId: string): Promise<string[]> {
  const rows = await db.selectFrom('playlist_items').select('playlist_id').distinct().where('upload_id', '=', uploadId).execute();
  return rows.map((r) => r.playlist_id);
}
