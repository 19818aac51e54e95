import type { Kysely } from 'kysely';

// Uploads (audio files a DJ sent, their MP3 map and HLS rendition) and
// playlists of uploads and external URLs. Durations are double precision
// (REAL on SQLite); byte offsets fit in integer because files are capped well
// under 2 GiB.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('uploads')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('original_filename', 'varchar(500)')
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('duration_seconds', 'double precision')
    .addColumn('bitrate_kbps', 'integer')
    .addColumn('sample_rate', 'integer')
    .addColumn('channels', 'integer')
    .addColumn('audio_start', 'integer')
    .addColumn('audio_end', 'integer')
    .addColumn('seek_index', 'text')
    .addColumn('hls_segments', 'text')
    .addColumn('hls_target_duration', 'integer')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('ready_at', 'varchar(32)')
    .execute();
  await db.schema.createIndex('uploads_owner').on('uploads').columns(['owner_id', 'id']).execute();

  await db.schema
    .createTable('playlists')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('visibility', 'varchar(10)', (c) => c.notNull())
    .addColumn('monetization_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('content_version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('content_updated_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('manifest', 'text')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('playlists_owner').on('playlists').columns(['owner_id', 'id']).execute();

  await db.schema
    .createTable('playlist_items')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('playlist_id', 'varchar(40)', (c) => c.notNull().references('playlists.id').onDelete('cascade'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('upload_id', 'varchar(40)', (c) => c.references('uploads.id').onDelete('cascade'))
    .addColumn('url', 'text')
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('content_type', 'varchar(200)')
    .addColumn('size_bytes', 'integer')
    .addColumn('duration_seconds', 'double precision')
    .addColumn('bitrate_kbps', 'integer')
    .addColumn('sample_rate', 'integer')
    .addColumn('audio_start', 'integer')
    .addColumn('audio_end', 'integer')
    .addColumn('seek_index', 'text')
    .addColumn('hls_segments', 'text')
    .addColumn('hls_target_duration', 'integer')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .addUniqueConstraint('playlist_items_position', ['playlist_id', 'position'])
    .execute();
  await db.schema.createIndex('playlist_items_upload').on('playlist_items').column('upload_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['playlist_items', 'playlists', 'uploads']) await db.schema.dropTable(t).execute();
}
