import type { Kysely } from 'kysely';

// Artwork for listener pages: one image store for streams and playlists
// (square JPEG or PNG; podcast artwork keeps its own table and Apple's
// stricter rules), and the image each stream and playlist shows.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('artworks')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('storage_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('artworks_owner').on('artworks').columns(['owner_id', 'id']).execute();
  await db.schema
    .alterTable('streams')
    .addColumn('artwork_id', 'varchar(40)', (c) => c.references('artworks.id').onDelete('set null'))
    .execute();
  await db.schema
    .alterTable('playlists')
    .addColumn('artwork_id', 'varchar(40)', (c) => c.references('artworks.id').onDelete('set null'))
    .execute();
}
