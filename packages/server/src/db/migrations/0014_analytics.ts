import type { Kysely } from 'kysely';

/**
 * Analytics: listener sessions (raw, kept for the configured retention), the
 * daily aggregates the API reads, and where the fold job got to.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('listener_sessions')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('resource_kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('protocol', 'varchar(8)', (c) => c.notNull())
    .addColumn('listener_key', 'varchar(80)', (c) => c.notNull())
    .addColumn('started_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('ended_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('bytes', 'bigint', (c) => c.notNull())
    .addColumn('audio_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('listener_sessions_started').on('listener_sessions').columns(['started_at']).execute();

  await db.schema
    .createTable('analytics_daily')
    .addColumn('resource_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('day', 'varchar(10)', (c) => c.notNull())
    .addColumn('metric', 'varchar(40)', (c) => c.notNull())
    .addColumn('sub_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('resource_kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('value', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('analytics_daily_pk', ['resource_id', 'day', 'metric', 'sub_id'])
    .execute();
  await db.schema.createIndex('analytics_daily_day').on('analytics_daily').columns(['day']).execute();

  await db.schema
    .createTable('analytics_fold_state')
    .addColumn('id', 'varchar(16)', (c) => c.primaryKey())
    .addColumn('folded_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  // The fold reads raw rows a day at a time.
  await db.schema.createIndex('episode_downloads_created').on('episode_downloads').columns(['created_at']).execute();
  await db.schema.createIndex('stream_listener_samples_sampled').on('stream_listener_samples').columns(['sampled_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('stream_listener_samples_sampled').execute();
  await db.schema.dropIndex('episode_downloads_created').execute();
  for (const t of ['analytics_fold_state', 'analytics_daily', 'listener_sessions']) await db.schema.dropTable(t).execute();
}
