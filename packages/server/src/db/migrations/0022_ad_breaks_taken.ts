import type { Kysely } from 'kysely';

// Live ad breaks the relay has taken on (started, played or failed), as it
// reports them in its heartbeats: the API stops offering a break once it is
// taken, so a relay that restarts does not play it again and the next
// scheduled marker is not hidden behind a requested break already played.
// A requested break is a row of ad_breaks; a scheduled one is its marker.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ad_breaks').addColumn('taken_at', 'varchar(32)').execute();
  await db.schema.alterTable('ad_markers').addColumn('taken_at', 'varchar(32)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('ad_markers').dropColumn('taken_at').execute();
  await db.schema.alterTable('ad_breaks').dropColumn('taken_at').execute();
}
