import type { Kysely } from 'kysely';

// The analytics fold reads ad impressions a day at a time and deletes them
// after the raw retention, both by started_at.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('ad_impressions_started').on('ad_impressions').columns(['started_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('ad_impressions_started').execute();
}
