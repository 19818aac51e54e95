import type { Kysely } from 'kysely';

// Ads: markers on playlists (a position in the programme) and on streams (a
// schedule or an on-demand break), the normalized renditions of their sources
// (one per source and target format, shared by every marker that uses it),
// and the impressions listeners' sessions record.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ad_renditions')
    .addColumn('id', 'varchar(80)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('source_upload_id', 'varchar(40)', (c) => c.references('uploads.id').onDelete('cascade'))
    .addColumn('source_url', 'text')
    .addColumn('target', 'varchar(200)', (c) => c.notNull())
    .addColumn('status', 'varchar(12)', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('mp3_key', 'varchar(200)')
    .addColumn('audio_start', 'integer')
    .addColumn('audio_end', 'integer')
    .addColumn('seek_index', 'text')
    .addColumn('duration_seconds', 'double precision')
    .addColumn('hls_prefix', 'varchar(200)')
    .addColumn('hls_segments', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('ad_markers')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('playlist_id', 'varchar(40)', (c) => c.references('playlists.id').onDelete('cascade'))
    .addColumn('stream_id', 'varchar(40)', (c) => c.references('streams.id').onDelete('cascade'))
    .addColumn('kind', 'varchar(10)', (c) => c.notNull())
    .addColumn('position_seconds', 'integer')
    .addColumn('starts_at', 'varchar(32)')
    .addColumn('duration_seconds', 'integer', (c) => c.notNull())
    .addColumn('source_upload_id', 'varchar(40)', (c) => c.references('uploads.id').onDelete('cascade'))
    .addColumn('source_url', 'text')
    .addColumn('rendition_id', 'varchar(80)', (c) => c.notNull().references('ad_renditions.id'))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ad_markers_playlist').on('ad_markers').columns(['playlist_id', 'position_seconds']).execute();
  await db.schema.createIndex('ad_markers_stream').on('ad_markers').columns(['stream_id', 'id']).execute();

  await db.schema
    .createTable('ad_impressions')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('marker_id', 'varchar(40)', (c) => c.notNull().references('ad_markers.id').onDelete('cascade'))
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('resource_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('session_id', 'varchar(80)', (c) => c.notNull())
    .addColumn('listener_id', 'varchar(40)')
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('completed_at', 'varchar(32)')
    .execute();
  await db.schema
    .createIndex('ad_impressions_marker')
    .on('ad_impressions')
    .columns(['marker_id', 'session_id'])
    .unique()
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ad_impressions').execute();
  await db.schema.dropTable('ad_markers').execute();
  await db.schema.dropTable('ad_renditions').execute();
}
