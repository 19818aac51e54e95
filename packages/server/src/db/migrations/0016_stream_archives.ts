import type { Kysely } from 'kysely';

// Live sets become podcast episodes: a stream may name a podcast to archive
// into (and whether its episodes publish themselves), and each live period of
// such a stream is one archive: recording while live, then processing (the
// segments joined into one MP3, stored as an upload), then done with the
// draft (or published) episode, failed, or empty.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('streams')
    .addColumn('archive_to_podcast', 'varchar(40)', (c) => c.references('podcasts.id').onDelete('set null'))
    .execute();
  await db.schema
    .alterTable('streams')
    .addColumn('archive_auto_publish', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('stream_archives')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('stream_id', 'varchar(40)', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('podcast_id', 'varchar(40)', (c) => c.notNull().references('podcasts.id').onDelete('cascade'))
    .addColumn('status', 'varchar(12)', (c) => c.notNull())
    .addColumn('auto_publish', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('ended_at', 'varchar(32)')
    .addColumn('upload_id', 'varchar(40)', (c) => c.references('uploads.id').onDelete('set null'))
    .addColumn('episode_id', 'varchar(40)', (c) => c.references('episodes.id').onDelete('set null'))
    .addColumn('duration_seconds', 'double precision')
    .addColumn('bitrate_kbps', 'integer')
    .addColumn('segment_count', 'integer')
    .addColumn('chapters', 'text')
    .addColumn('failure_reason', 'varchar(500)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('stream_archives_stream').on('stream_archives').columns(['stream_id', 'id']).execute();
  await db.schema.createIndex('stream_archives_podcast').on('stream_archives').columns(['podcast_id', 'status']).execute();
  await db.schema.createIndex('stream_archives_upload').on('stream_archives').column('upload_id').execute();
}
