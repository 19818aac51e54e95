import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database, StreamArchivesTable } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertArchive = (db: Q, row: StreamArchivesTable) => db.insertInto('stream_archives').values(row).execute();

export const findArchive = (db: Q, id: string) =>
  db.selectFrom('stream_archives').selectAll().where('id', '=', id).executeTakeFirst();

export const findRecording = (db: Q, streamId: string) =>
  db
    .selectFrom('stream_archives')
    .selectAll()
    .where('stream_id', '=', streamId)
    .where('status', '=', 'recording')
    .orderBy('id', 'desc')
    .executeTakeFirst();

export const findByUpload = (db: Q, uploadId: string) =>
  db.selectFrom('stream_archives').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();

export const updateArchive = (db: Q, id: string, patch: Updateable<StreamArchivesTable>) =>
  db.updateTable('stream_archives').set(patch).where('id', '=', id).execute();

export function listArchives(db: Q, streamId: string, opts: { startingAfter?: string; limit: number }) {
  let q = db
    .selectFrom('stream_archives')
    .selectAll()
    .where('stream_id', '=', streamId)
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.execute();
}

/** Sets of a podcast that are live or ended but not yet an episode, with their stream (for podcast:liveItem). */
export const openSetsOf = (db: Q, podcastId: string) =>
  db
    .selectFrom('stream_archives')
    .innerJoin('streams', 'streams.id', 'stream_archives.stream_id')
    .selectAll('stream_archives')
    .select(['streams.status as stream_status', 'streams.name as stream_name'])
    .where('stream_archives.podcast_id', '=', podcastId)
    .where('stream_archives.status', 'in', ['recording', 'processing'])
    .orderBy('stream_archives.id', 'desc')
    .execute();

export const findStream = (db: Q, id: string) => db.selectFrom('streams').selectAll().where('id', '=', id).executeTakeFirst();

/** The source bitrate the relay last reported for the stream (kb/s), or null. */
export async function sourceBitrate(db: Q, streamId: string): Promise<number | null> {
  const row = await db.selectFrom('relays').select('bitrate_kbps').where('stream_id', '=', streamId).executeTakeFirst();
  return row?.bitrate_kbps ?? null;
}
