import type { Kysely, Transaction } from 'kysely';
import type { ArtworksTable, Database } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertArtwork = (db: Q, row: ArtworksTable) => db.insertInto('artworks').values(row).execute();
export const findArtwork = (db: Q, id: string) => db.selectFrom('artworks').selectAll().where('id', '=', id).executeTakeFirst();
