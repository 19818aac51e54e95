import type { Kysely, Transaction, Updateable } from 'kysely';
import type {
  Database,
  EventsTable,
  WebhookAttemptsTable,
  WebhookDeliveriesTable,
  WebhookEndpointsTable,
} from '../../db/tables.js';
import { listOwnedPage, type OwnedPageQuery } from '../../db/owned-page.js';

type Q = Kysely<Database> | Transaction<Database>;

// Endpoints

export const insertEndpoint = (db: Q, row: WebhookEndpointsTable) => db.insertInto('webhook_endpoints').values(row).execute();

export const findEndpoint = (db: Q, id: string) =>
  db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();

export const listEndpoints = (db: Q, opts: OwnedPageQuery) => listOwnedPage(db, 'webhook_endpoints', opts);

export const enabledEndpointsOf = (db: Q, ownerId: string) =>
  db.selectFrom('webhook_endpoints').selectAll().where('owner_id', '=', ownerId).where('enabled', '=', 1).orderBy('id').execute();

export const updateEndpoint = (db: Q, id: string, patch: Updateable<WebhookEndpointsTable>) =>
  db.updateTable('webhook_endpoints').set(patch).where('id', '=', id).execute();

export const deleteEndpoint = (db: Q, id: string) => db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();

/**
 * Takes the endpoint's row lock for the rest of the transaction (an UPDATE
 * locks on Postgres; SQLite serialises writers anyway), so deciding which
 * delivery of an object goes next never races another worker doing the same.
 */
export async function lockEndpoint(db: Transaction<Database>, id: string): Promise<boolean> {
  const r = await db
    .updateTable('webhook_endpoints')
    .set((eb) => ({ lock_seq: eb('lock_seq', '+', 1) }))
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

// Events

export const findEvent = (db: Q, id: string) => db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();

export function listEvents(db: Q, opts: { ownerId?: string; type?: string; startingAfter?: string; limit: number }) {
  let q = db
    .selectFrom('events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.ownerId) q = q.where('owner_id', '=', opts.ownerId);
  if (opts.type) q = q.where('type', '=', opts.type);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.execute();
}

/** Events of an owner created at or after `since`, oldest first (the live stream's poll). */
export const eventsSince = (db: Q, ownerId: string, since: string, limit: number) =>
  db
    .selectFrom('events')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('created_at', '>=', since)
    .orderBy('id')
    .limit(limit)
    .execute();

/** The owner's events not yet fanned out, up to and including `upTo`, oldest first. */
export const unfannedEventsOf = (db: Q, ownerId: string, upTo: string) =>
  db
    .selectFrom('events')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('fanned_out', '=', 0)
    .where('id', '<=', upTo)
    .orderBy('id')
    .execute();

/** Claims an event for fan-out; false when another worker already did it. */
export async function claimFanout(db: Transaction<Database>, id: string): Promise<boolean> {
  const r = await db
    .updateTable('events')
    .set({ fanned_out: 1 })
    .where('id', '=', id)
    .where('fanned_out', '=', 0)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

// Deliveries

export const insertDelivery = (db: Q, row: WebhookDeliveriesTable) => db.insertInto('webhook_deliveries').values(row).execute();

export const findDelivery = (db: Q, id: string) =>
  db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();

export const updateDelivery = (db: Q, id: string, patch: Updateable<WebhookDeliveriesTable>) =>
  db.updateTable('webhook_deliveries').set(patch).where('id', '=', id).execute();

/** The oldest (by event) delivery of an object to an endpoint that is not finished: the one that goes next. */
export const firstOpenDelivery = (db: Q, endpointId: string, objectId: string) =>
  db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('object_id', '=', objectId)
    .where('state', 'in', ['pending', 'waiting'])
    .orderBy('event_id')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();

/** Fails every unfinished delivery of a disabled endpoint. */
export const failOpenDeliveriesOf = (db: Q, endpointId: string, reason: string, now: string) =>
  db
    .updateTable('webhook_deliveries')
    .set({ state: 'failed', last_error: reason, next_attempt_at: null, updated_at: now })
    .where('endpoint_id', '=', endpointId)
    .where('state', 'in', ['pending', 'waiting'])
    .execute();

/** Queued (not running) jobs of an endpoint are cancelled; a running one finishes its attempt. */
export const cancelQueuedJobsOf = (db: Q, resourceId: string, now: string) =>
  db
    .updateTable('jobs')
    .set({ state: 'cancelled', updated_at: now })
    .where('resource_id', '=', resourceId)
    .where('state', '=', 'queued')
    .execute();

/** The age of the oldest unfinished delivery, and how many there are (the queue-age gauge). */
export async function openDeliveryStats(db: Q): Promise<{ oldest: string | null; count: number }> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => [eb.fn.min('created_at').as('oldest'), eb.fn.countAll<number>().as('count')])
    .where('state', 'in', ['pending', 'waiting'])
    .executeTakeFirst();
  return { oldest: (row?.oldest as string | null) ?? null, count: Number(row?.count ?? 0) };
}

// Attempts

export const insertAttempt = (db: Q, row: WebhookAttemptsTable) => db.insertInto('webhook_attempts').values(row).execute();

export function listAttempts(db: Q, opts: { endpointId: string; startingAfter?: string; limit: number }) {
  let q = db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .selectAll('a')
    .select(['d.state as delivery_state', 'd.next_attempt_at'])
    .where('a.endpoint_id', '=', opts.endpointId)
    .orderBy('a.id', 'desc')
    .limit(opts.limit + 1);
  if (opts.startingAfter) q = q.where('a.id', '<', opts.startingAfter);
  return q.execute();
}

export const ownerEmail = async (db: Q, userId: string) =>
  (await db.selectFrom('users').select('email').where('id', '=', userId).executeTakeFirst())?.email ?? null;

export type { EventsTable };
