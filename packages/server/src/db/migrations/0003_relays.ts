import type { Kysely } from 'kysely';

/**
 * Live relays: one relay row per stream (the worker currently assigned to it),
 * the HLS sessions seen on its public playlist (for listener counts), and a
 * listener sample per heartbeat that the analytics feature aggregates.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('relays')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('stream_id', 'varchar(40)', (c) => c.notNull().unique().references('streams.id').onDelete('cascade'))
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(20)', (c) => c.notNull())
    .addColumn('source_kind', 'varchar(20)')
    .addColumn('content_type', 'varchar(100)')
    .addColumn('bitrate_kbps', 'double precision')
    .addColumn('current_track', 'text')
    .addColumn('source_listeners', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('cpu_usage', 'double precision')
    .addColumn('segment_lag_seconds', 'double precision')
    .addColumn('media_sequence', 'integer')
    .addColumn('last_heartbeat_at', 'varchar(32)')
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('stalled_at', 'varchar(32)')
    .addColumn('restarts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('relays_state').on('relays').columns(['state', 'last_heartbeat_at']).execute();

  await db.schema
    .createTable('stream_hls_sessions')
    .addColumn('stream_id', 'varchar(40)', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('session_key', 'varchar(80)', (c) => c.notNull())
    .addColumn('last_seen_at', 'varchar(32)', (c) => c.notNull())
    .addPrimaryKeyConstraint('stream_hls_sessions_pk', ['stream_id', 'session_key'])
    .execute();
  await db.schema
    .createIndex('stream_hls_sessions_seen')
    .on('stream_hls_sessions')
    .columns(['stream_id', 'last_seen_at'])
    .execute();

  await db.schema
    .createTable('stream_listener_samples')
    .addColumn('stream_id', 'varchar(40)', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('sampled_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('listener_count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('stream_listener_samples_stream')
    .on('stream_listener_samples')
    .columns(['stream_id', 'sampled_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stream_listener_samples').execute();
  await db.schema.dropTable('stream_hls_sessions').execute();
  await db.schema.dropTable('relays').execute();
}
