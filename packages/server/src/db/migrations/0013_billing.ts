import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Monetization: a DJ's plans (price, interval, features, what they unlock),
 * listeners' subscriptions to them, and the billing provider's event ids
 * (each webhook event is processed once). On Postgres a plan's features are
 * JSONB with a GIN index, so "plans with feature ad-free" is an indexed
 * containment query; on SQLite they are JSON text read with json_each.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('plans')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('owner_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    .addColumn('description', 'varchar(1000)')
    .addColumn('price_cents', 'integer', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('billing_interval', 'varchar(10)', (c) => c.notNull())
    .addColumn('features', postgres ? sql`jsonb` : 'text', (c) => c.notNull())
    .addColumn('unlocks_all', 'integer', (c) => c.notNull())
    .addColumn('unlocked_ids', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('provider', 'varchar(20)', (c) => c.notNull())
    .addColumn('provider_product_id', 'varchar(255)')
    .addColumn('provider_price_id', 'varchar(255)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('plans_owner').on('plans').columns(['owner_id', 'id']).execute();
  if (postgres) await sql`create index plans_features on plans using gin (features)`.execute(db);

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
    .addColumn('plan_id', 'varchar(40)', (c) => c.notNull().references('plans.id').onDelete('cascade'))
    .addColumn('listener_id', 'varchar(40)', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('dj_id', 'varchar(40)', (c) => c.notNull())
    .addColumn('status', 'varchar(20)', (c) => c.notNull())
    .addColumn('price_cents', 'integer', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('billing_interval', 'varchar(10)', (c) => c.notNull())
    .addColumn('cancel_at_period_end', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('current_period_end', 'varchar(32)')
    .addColumn('canceled_at', 'varchar(32)')
    .addColumn('provider', 'varchar(20)', (c) => c.notNull())
    .addColumn('provider_customer_id', 'varchar(255)')
    .addColumn('provider_subscription_id', 'varchar(255)')
    .addColumn('checkout_url', 'varchar(2048)')
    .addColumn('provider_updated_at', 'varchar(32)')
    .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
    .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('subscriptions_listener').on('subscriptions').columns(['listener_id', 'dj_id']).execute();
  await db.schema.createIndex('subscriptions_dj').on('subscriptions').columns(['dj_id', 'id']).execute();
  await db.schema.createIndex('subscriptions_plan').on('subscriptions').column('plan_id').execute();
  await db.schema.createIndex('subscriptions_provider_id').on('subscriptions').column('provider_subscription_id').execute();

  await db.schema
    .createTable('billing_events')
    .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('type', 'varchar(100)', (c) => c.notNull())
    .addColumn('received_at', 'varchar(32)', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('billing_events').execute();
  await db.schema.dropTable('subscriptions').execute();
  await db.schema.dropTable('plans').execute();
}
