import type { Kysely } from 'kysely';

/**
 * Points table of rate-limiter-flexible (RateLimiterSQLite / RateLimiterPostgres), shared by
 * every auth limiter: keys carry the limiter's prefix. Its column types are the library's own;
 * `expire` is epoch milliseconds.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('auth_rate_limits')
    .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('points', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('expire', 'bigint')
    .execute();
  await db.schema.createIndex('auth_rate_limits_expire').on('auth_rate_limits').column('expire').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('auth_rate_limits').execute();
}
