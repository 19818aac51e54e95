// How every feature emits an event: in the transaction of the state change
// that causes it. The event row and the job that fans it out to webhook
// endpoints are written with the change, so a crash can neither lose an event
// nor send one for a change that rolled back (the transactional outbox).

import type { Kysely, Transaction } from 'kysely';
import { z } from 'zod';
import { newId } from '../core/ids.js';
import type { Database } from '../db/tables.js';
import { jobType } from '../jobs/definition.js';
import { enqueue } from '../jobs/queue.js';
import { EVENT_SCHEMAS, type EventEnvelope, type EventObject, type EventType } from './catalog.js';

export { EVENT_TYPES, type EventEnvelope, type EventObject, type EventType } from './catalog.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Fans one event out to the owner's endpoints; its handler belongs to the webhooks feature. */
export const FANOUT_EVENT = jobType({
  kind: 'events.fanout',
  payload: z.object({ event_id: z.string().regex(/^evt_[0-9a-z]{26}$/) }),
  maxAttempts: 10,
});

export interface EmitInput<T extends EventType> {
  type: T;
  /** Whose event it is: their endpoints receive it, their `GET /v1/events` lists it. */
  ownerId: string;
  /** The resource as the API returns it (the feature's view). */
  object: EventObject<T> & { id: string };
  /** The caller's clock (the event's created_at). */
  now?: Date;
}

/**
 * Records an event in the caller's transaction. Call it inside the
 * transaction that changes the state the event reports; call
 * `jobs.wake()` after the commit for immediate delivery (the worker's next
 * poll finds it otherwise).
 */
export async function emitEvent<T extends EventType>(tx: Q, input: EmitInput<T>): Promise<EventEnvelope<T>> {
  const now = input.now ?? new Date();
  const event = {
    id: newId('evt', now.getTime()),
    type: input.type,
    created_at: now.toISOString(),
    data: { object: input.object },
  } as EventEnvelope<T>;
  // The object must be what the catalog promises: a wrong view fails the change, not a receiver later.
  EVENT_SCHEMAS[input.type].parse(event);
  await tx
    .insertInto('events')
    .values({
      id: event.id,
      type: event.type,
      owner_id: input.ownerId,
      object_id: input.object.id,
      payload: JSON.stringify(event),
      fanned_out: 0,
      created_at: event.created_at,
    })
    .execute();
  await enqueue(tx, FANOUT_EVENT, { event_id: event.id }, { ownerId: input.ownerId, resourceId: event.id, now });
  return event;
}
