import type { Kysely } from 'kysely';

// Jobs know whose they are (fair scheduling: the owner with the fewest running
// jobs goes first) and which row they work on (deleting the row cancels them).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('owner_id', 'varchar(40)').execute();
  await db.schema.alterTable('jobs').addColumn('resource_id', 'varchar(40)').execute();
  await db.schema.createIndex('jobs_resource').on('jobs').column('resource_id').execute();
  await db.schema.createIndex('jobs_owner_state').on('jobs').columns(['owner_id', 'state']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('jobs_owner_state').execute();
  await db.schema.dropIndex('jobs_resource').execute();
  await db.schema.alterTable('jobs').dropColumn('resource_id').execute();
  await db.schema.alterTable('jobs').dropColumn('owner_id').execute();
}
