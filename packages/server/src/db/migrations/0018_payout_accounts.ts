import type { Kysely } from 'kysely';

/**
 * DJs get paid through Stripe Connect: each DJ's connected (Express) account
 * and what Stripe last said about it (charges and payouts enabled, details
 * submitted, requirements due). Plans and subscriptions remember the
 * connected account their Stripe objects live on, so a later price change,
 * cancellation or portal link goes to the same account.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payout_accounts')
    .addColumn('user_id', 'varchar(40)', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('provider', 'varchar(20)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('charges_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('payouts_enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('details_submitted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('requirements_due', 'text', (c) => c.notNull())
    .addColumn('disabled_reason', 'varchar(255)')
    .addColumn('provider_updated_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('plans').addColumn('provider_account_id', 'varchar(255)').execute();
  await db.schema.alterTable('subscriptions').addColumn('provider_account_id', 'varchar(255)').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('subscriptions').dropColumn('provider_account_id').execute();
  await db.schema.alterTable('plans').dropColumn('provider_account_id').execute();
  await db.schema.dropTable('payout_accounts').execute();
}
