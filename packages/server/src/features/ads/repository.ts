import type { Kysely, Transaction, Updateable } from 'kysely';
import type { AdImpressionsTable, AdMarkersTable, AdRenditionsTable, Database } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

export const findRendition = (db: Q, id: string) =>
  db.selectFrom('ad_renditions').selectAll().where('id', '=', id).executeTakeFirst();

/** Inserts the rendition unless it exists; true when this call created it. */
export async function insertRenditionIfAbsent(db: Q, row: AdRenditionsTable): Promise<boolean> {
  if (await findRendition(db, row.id)) return false;
  await db.insertInto('ad_renditions').values(row).execute();
  return true;
}

/** Of these renditions, the ready ones with their MP3. */
export const readyRenditions = (db: Q, ids: string[]) =>
  ids.length === 0
    ? Promise.resolve([])
    : db.selectFrom('ad_renditions').select(['id', 'mp3_key']).where('id', 'in', ids).where('status', '=', 'ready').execute();

export const updateRendition = (db: Q, id: string, patch: Updateable<AdRenditionsTable>) =>
  db.updateTable('ad_renditions').set(patch).where('id', '=', id).execute();

export const insertMarker = (db: Q, row: AdMarkersTable) => db.insertInto('ad_markers').values(row).execute();

export const findMarker = (db: Q, id: string) =>
  db
    .selectFrom('ad_markers')
    .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
    .selectAll('ad_markers')
    .select(['ad_renditions.status', 'ad_renditions.reason'])
    .where('ad_markers.id', '=', id)
    .executeTakeFirst();

export type MarkerRow = NonNullable<Awaited<ReturnType<typeof findMarker>>>;

export function listMarkers(db: Q, opts: { playlistId?: string; streamId?: string; startingAfter?: string; limit: number }) {
  let q = db
    .selectFrom('ad_markers')
    .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
    .selectAll('ad_markers')
    .select(['ad_renditions.status', 'ad_renditions.reason'])
    .orderBy('ad_markers.id')
    .limit(opts.limit + 1);
  if (opts.playlistId) q = q.where('ad_markers.playlist_id', '=', opts.playlistId);
  if (opts.streamId) q = q.where('ad_markers.stream_id', '=', opts.streamId);
  if (opts.startingAfter) q = q.where('ad_markers.id', '>', opts.startingAfter);
  return q.execute();
}

/** A playlist's markers whose ad audio is ready, with the rendition each plays. */
export const readyPlaylistBreaks = (db: Q, playlistId: string) =>
  db
    .selectFrom('ad_markers')
    .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
    .select([
      'ad_markers.id as marker_id',
      'ad_markers.position_seconds',
      'ad_renditions.id as rendition_id',
      'ad_renditions.mp3_key',
      'ad_renditions.audio_start',
      'ad_renditions.audio_end',
      'ad_renditions.seek_index',
      'ad_renditions.duration_seconds',
      'ad_renditions.hls_prefix',
      'ad_renditions.hls_segments',
    ])
    .where('ad_markers.playlist_id', '=', playlistId)
    .where('ad_renditions.status', '=', 'ready')
    .orderBy('ad_markers.position_seconds')
    .execute();

/** Playlists whose markers play a rendition (to move their content version on when it turns ready). */
export const playlistsOfRendition = (db: Q, renditionId: string) =>
  db
    .selectFrom('ad_markers')
    .select('playlist_id')
    .distinct()
    .where('rendition_id', '=', renditionId)
    .where('playlist_id', 'is not', null)
    .execute();

export const deleteMarker = (db: Q, id: string) => db.deleteFrom('ad_markers').where('id', '=', id).execute();

export const findImpression = (db: Q, markerId: string, sessionId: string) =>
  db
    .selectFrom('ad_impressions')
    .selectAll()
    .where('marker_id', '=', markerId)
    .where('session_id', '=', sessionId)
    .executeTakeFirst();

export const insertImpression = (db: Q, row: AdImpressionsTable) => db.insertInto('ad_impressions').values(row).execute();

export const completeImpression = (db: Q, markerId: string, sessionId: string, at: string) =>
  db
    .updateTable('ad_impressions')
    .set({ completed_at: at })
    .where('marker_id', '=', markerId)
    .where('session_id', '=', sessionId)
    .where('completed_at', 'is', null)
    .execute();

export const impressionsOf = (db: Q, markerId: string) =>
  db.selectFrom('ad_impressions').selectAll().where('marker_id', '=', markerId).orderBy('id').execute();
