import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database, StreamsTable } from '../../db/tables.js';
import { precompiled } from '../../db/precompiled.js';
import { listOwnedPage, type OwnedPageQuery } from '../../db/owned-page.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertStream = (db: Q, row: StreamsTable) => db.insertInto('streams').values(row).execute();

const streamById = precompiled((db: Q, id: string) => db.selectFrom('streams').selectAll().where('id', '=', id));

/** Every authenticated read of a stream runs this: compiled once (db/precompiled.ts). */
export const findStream = async (db: Q, id: string) => (await streamById(db, id))[0];

export const listStreams = (db: Q, opts: OwnedPageQuery) => listOwnedPage(db, 'streams', opts);

export const updateStream = (db: Q, id: string, patch: Updateable<StreamsTable>) =>
  db.updateTable('streams').set(patch).where('id', '=', id).execute();

export const deleteStream = (db: Q, id: string) => db.deleteFrom('streams').where('id', '=', id).execute();
