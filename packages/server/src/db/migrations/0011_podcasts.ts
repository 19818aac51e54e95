import type { Kysely } from 'kysely';

// Podcasts: series, their artwork, episodes (from an upload or an external
// URL), the stored RSS feed, personal feed tokens for subscribers, and the
// download log the counting redirect writes for analytics. An upload an
// episode uses cannot be deleted through the API (a delete guard); the
// cascade is for deleting the whole account.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('podcast_artworks')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('storage_key', 'varchar(200)', (c) => c.notNull())
    .addColumn('content_type', 'varchar(40)', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('size_bytes', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('podcasts')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('author', 'varchar(200)', (c) => c.notNull())
    .addColumn('owner_email', 'varchar(320)')
    .addColumn('language', 'varchar(20)', (c) => c.notNull())
    .addColumn('category', 'varchar(60)', (c) => c.notNull())
    .addColumn('subcategory', 'varchar(60)')
    .addColumn('explicit', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('podcast_type', 'varchar(10)', (c) => c.notNull())
    .addColumn('visibility', 'varchar(10)', (c) => c.notNull())
    .addColumn('monetization_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('artwork_id', 'varchar(40)', (c) => c.references('podcast_artworks.id').onDelete('set null'))
    .addColumn('feed_xml', 'text')
    .addColumn('feed_etag', 'varchar(80)')
    .addColumn('feed_updated_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('podcasts_owner').on('podcasts').columns(['owner_id', 'id']).execute();

  await db.schema
    .createTable('episodes')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('podcast_id', 'varchar(40)', (c) => c.notNull().references('podcasts.id').onDelete('cascade'))
    .addColumn('guid', 'varchar(100)', (c) => c.notNull().unique())
    .addColumn('title', 'varchar(200)', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('upload_id', 'varchar(40)', (c) => c.references('uploads.id').onDelete('cascade'))
    .addColumn('media_url', 'text')
    .addColumn('media_type', 'varchar(100)', (c) => c.notNull())
    .addColumn('media_bytes', 'integer', (c) => c.notNull())
    .addColumn('duration_seconds', 'double precision')
    .addColumn('season', 'integer')
    .addColumn('episode_number', 'integer')
    .addColumn('episode_type', 'varchar(10)', (c) => c.notNull())
    .addColumn('explicit', 'integer')
    .addColumn('chapters', 'text')
    .addColumn('status', 'varchar(12)', (c) => c.notNull())
    .addColumn('published_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('episodes_podcast').on('episodes').columns(['podcast_id', 'id']).execute();
  await db.schema.createIndex('episodes_upload').on('episodes').column('upload_id').execute();

  await db.schema
    .createTable('podcast_feed_tokens')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('podcast_id', 'varchar(40)', (c) => c.notNull().references('podcasts.id').onDelete('cascade'))
    .addColumn('user_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('revoked_at', 'varchar(32)')
    .execute();
  await db.schema
    .createIndex('podcast_feed_tokens_podcast')
    .on('podcast_feed_tokens')
    .columns(['podcast_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('episode_downloads')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('episode_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('podcast_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(40)')
    .addColumn('address', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_agent', 'varchar(500)')
    .addColumn('range', 'varchar(100)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('episode_downloads_podcast')
    .on('episode_downloads')
    .columns(['podcast_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['episode_downloads', 'podcast_feed_tokens', 'episodes', 'podcasts', 'podcast_artworks']) {
    await db.schema.dropTable(t).execute();
  }
}
