import type { Kysely } from 'kysely';

// Live pre-roll: one row per listener session of a stream that has a
// pre-roll, so every replica serves that listener the same personal
// playlist (the ad from the session's start, then the live window from the
// segment it joined at) and counts its impression once.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ad_live_sessions')
    .addColumn('stream_id', 'varchar(40)', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('session_key', 'varchar(80)', (c) => c.notNull())
    .addColumn('session_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('marker_id', 'varchar(40)', (c) => c.notNull().references('ad_markers.id').onDelete('cascade'))
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('last_seen_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('live_msn', 'integer')
    .addColumn('live_dsn', 'integer')
    .addColumn('completed_at', 'varchar(32)')
    .addPrimaryKeyConstraint('ad_live_sessions_pk', ['stream_id', 'session_key'])
    .execute();
  await db.schema.createIndex('ad_live_sessions_seen').on('ad_live_sessions').columns(['stream_id', 'last_seen_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ad_live_sessions').execute();
}
