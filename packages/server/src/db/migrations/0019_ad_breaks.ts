import type { Kysely } from 'kysely';

// Live ad breaks started from the API (`djcast ads break`): which stream, which
// ad marker's audio, for how long, and when. The relay learns the stream's
// current break from its heartbeat receipt.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ad_breaks')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('stream_id', 'varchar(40)', (c) => c.notNull().references('streams.id').onDelete('cascade'))
    .addColumn('marker_id', 'varchar(40)', (c) => c.notNull().references('ad_markers.id').onDelete('cascade'))
    .addColumn('duration_seconds', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('expires_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('ad_breaks_stream').on('ad_breaks').columns(['stream_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ad_breaks').execute();
}
