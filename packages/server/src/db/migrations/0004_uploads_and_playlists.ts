import type { Kysely } from 'kysely';

// Upload and playlist tables: filled in by the uploads feature.
export async function up(_db: Kysely<any>): Promise<void> {}

export async function down(_db: Kysely<any>): Promise<void> {}
