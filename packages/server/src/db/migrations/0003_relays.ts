import type { Kysely } from 'kysely';

// Live relay tables: filled in by the live-relay feature.
export async function up(_db: Kysely<any>): Promise<void> {}

export async function down(_db: Kysely<any>): Promise<void> {}
