import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database, StreamsTable } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertStream = (db: Q, row: StreamsTable) => db.insertInto('streams').values(row).execute();

export const findStream = (db: Q, id: string) => db.selectFrom('streams').selectAll().where('id', '=', id).executeTakeFirst();

export function listStreams(db: Q, opts: { ownerId?: string; startingAfter?: string; limit: number }) {
  let q = db
    .selectFrom('streams')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.ownerId) q = q.where('owner_id', '=', opts.ownerId);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.execute();
}

export const updateStream = (db: Q, id: string, patch: Updateable<StreamsTable>) =>
  db.updateTable('streams').set(patch).where('id', '=', id).execute();

export const deleteStream = (db: Q, id: string) => db.deleteFrom('streams').where('id', '=', id).execute();
