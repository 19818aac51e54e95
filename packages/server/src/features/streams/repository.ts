import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database, StreamsTable } from '../../db/tables.js';
import { listOwnedPage, type OwnedPageQuery } from '../../db/owned-page.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertStream = (db: Q, row: StreamsTable) => db.insertInto('streams').values(row).execute();

export const findStream = (db: Q, id: string) => db.selectFrom('streams').selectAll().where('id', '=', id).executeTakeFirst();

export const listStreams = (db: Q, opts: OwnedPageQuery) => listOwnedPage(db, 'streams', opts);

export const updateStream = (db: Q, id: string, patch: Updateable<StreamsTable>) =>
  db.updateTable('streams').set(patch).where('id', '=', id).execute();

export const deleteStream = (db: Q, id: string) => db.deleteFrom('streams').where('id', '=', id).execute();
