import { type Kysely, PostgresAdapter, sql, type Transaction, type Updateable } from 'kysely';
import type { Database, PayoutAccountsTable, PlansTable, SubscriptionsTable } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

const isPostgres = (db: Q) => db.getExecutor().adapter instanceof PostgresAdapter;

/** The features column as written: JSON text (Postgres casts it to jsonb on the way in). */
export const featuresColumn = (features: readonly string[]) => JSON.stringify(features);

export function readFeatures(value: string | string[]): string[] {
  return typeof value === 'string' ? (JSON.parse(value) as string[]) : value;
}

export const insertPlan = (db: Q, row: PlansTable) => db.insertInto('plans').values(row).execute();
export const findPlan = (db: Q, id: string) => db.selectFrom('plans').selectAll().where('id', '=', id).executeTakeFirst();
export const updatePlan = (db: Q, id: string, patch: Updateable<PlansTable>) =>
  db.updateTable('plans').set(patch).where('id', '=', id).execute();

/**
 * Plans newest first, optionally only those with a feature: on Postgres the
 * JSONB containment operator (served by the GIN index), on SQLite json_each.
 */
export function listPlans(
  db: Q,
  opts: {
    ownerId?: string | undefined;
    feature?: string | undefined;
    status?: PlansTable['status'];
    startingAfter?: string | undefined;
    limit: number;
  },
) {
  let q = db.selectFrom('plans').selectAll();
  if (opts.ownerId) q = q.where('owner_id', '=', opts.ownerId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  if (opts.feature) {
    const feature = opts.feature;
    q = isPostgres(db)
      ? q.where(sql<boolean>`features @> ${JSON.stringify([feature])}::jsonb`)
      : q.where(sql<boolean>`exists (select 1 from json_each(plans.features) where json_each.value = ${feature})`);
  }
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

/** The query plan of the feature filter (tests check the index serves it on Postgres). */
export async function explainFeatureFilter(db: Q, feature: string): Promise<string> {
  const rows = await sql<
    Record<string, string>
  >`explain select id from plans where features @> ${JSON.stringify([feature])}::jsonb`.execute(db);
  return rows.rows.map((r) => Object.values(r).join(' ')).join('\n');
}

export const insertSubscription = (db: Q, row: SubscriptionsTable) => db.insertInto('subscriptions').values(row).execute();
export const findSubscription = (db: Q, id: string) =>
  db.selectFrom('subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
export const findSubscriptionByProviderId = (db: Q, providerId: string) =>
  db.selectFrom('subscriptions').selectAll().where('provider_subscription_id', '=', providerId).executeTakeFirst();
export const updateSubscription = (db: Q, id: string, patch: Updateable<SubscriptionsTable>) =>
  db.updateTable('subscriptions').set(patch).where('id', '=', id).execute();

export function listSubscriptions(
  db: Q,
  opts: { listenerId?: string | undefined; djId?: string | undefined; startingAfter?: string | undefined; limit: number },
) {
  let q = db.selectFrom('subscriptions').selectAll();
  if (opts.listenerId) q = q.where('listener_id', '=', opts.listenerId);
  if (opts.djId) q = q.where('dj_id', '=', opts.djId);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

/** A listener's subscriptions to one DJ's plans, with what each plan unlocks: all the paywall reads. */
export const subscriptionsToDj = (db: Q, listenerId: string, djId: string) =>
  db
    .selectFrom('subscriptions')
    .innerJoin('plans', 'plans.id', 'subscriptions.plan_id')
    .select([
      'subscriptions.id as id',
      'subscriptions.plan_id as plan_id',
      'subscriptions.status as status',
      'subscriptions.current_period_end as current_period_end',
      'plans.unlocks_all as unlocks_all',
      'plans.unlocked_ids as unlocked_ids',
      'plans.features as features',
    ])
    .where('subscriptions.listener_id', '=', listenerId)
    .where('subscriptions.dj_id', '=', djId)
    .orderBy('subscriptions.id', 'desc')
    .execute();

/** Records a provider event id; false when it was seen before (a replay). */
export async function recordBillingEvent(db: Q, id: string, type: string, now: string): Promise<boolean> {
  const result = await db
    .insertInto('billing_events')
    .values({ id, type, received_at: now })
    .onConflict((oc) => oc.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export const findUserEmail = async (db: Q, userId: string) =>
  (await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst())?.email ?? null;

export const findUserRole = async (db: Q, userId: string) =>
  (await db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst())?.role ?? null;

/** A DJ's connected account (Stripe Connect), by DJ or by the provider's account id. */
export const findPayoutAccount = (db: Q, userId: string) =>
  db.selectFrom('payout_accounts').selectAll().where('user_id', '=', userId).executeTakeFirst();
export const findPayoutAccountByAccountId = (db: Q, accountId: string) =>
  db.selectFrom('payout_accounts').selectAll().where('account_id', '=', accountId).executeTakeFirst();
/** Two concurrent setups get the same account from the provider: the second insert is a no-op. */
export const insertPayoutAccount = (db: Q, row: PayoutAccountsTable) =>
  db
    .insertInto('payout_accounts')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
export const updatePayoutAccount = (db: Q, userId: string, patch: Updateable<PayoutAccountsTable>) =>
  db.updateTable('payout_accounts').set(patch).where('user_id', '=', userId).execute();
