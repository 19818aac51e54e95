import type { Kysely } from 'kysely';

// What an external track's origin said about the file when the track was
// fetched and mapped (its size is size_bytes): the ETag and Last-Modified
// headers as sent, null when absent. stream.mp3 sends them back as If-Range
// and checks the answer, so a file that changed afterwards fails instead of
// splicing bytes its recorded offsets do not describe. Rows mapped before
// this migration have neither and are checked on size alone.
// One column per ALTER: SQLite adds a single column per statement.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('playlist_items').addColumn('source_etag', 'text').execute();
  await db.schema.alterTable('playlist_items').addColumn('source_last_modified', 'varchar(100)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('playlist_items').dropColumn('source_last_modified').execute();
  await db.schema.alterTable('playlist_items').dropColumn('source_etag').execute();
}
