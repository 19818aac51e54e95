import type { Kysely, Transaction, Updateable } from 'kysely';
import type { Database, RelaysTable } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertRelay = (db: Q, row: RelaysTable) => db.insertInto('relays').values(row).execute();

export const findRelay = (db: Q, id: string) => db.selectFrom('relays').selectAll().where('id', '=', id).executeTakeFirst();

export const findRelayByStream = (db: Q, streamId: string) =>
  db.selectFrom('relays').selectAll().where('stream_id', '=', streamId).executeTakeFirst();

export const updateRelay = (db: Q, id: string, patch: Updateable<RelaysTable>) =>
  db.updateTable('relays').set(patch).where('id', '=', id).execute();

/**
 * How many other djcast relays are connected to the same source mount as this
 * stream (their stream has the same source URL and mount and they last said
 * `live`). The source lists each of them as a listener.
 */
export async function countOtherLiveRelaysOnMount(db: Q, streamId: string): Promise<number> {
  const row = await db
    .selectFrom('streams as mine')
    .innerJoin('streams as other', (join) =>
      join
        .onRef('other.source_url', '=', 'mine.source_url')
        .onRef('other.mount', '=', 'mine.mount')
        .on('other.id', '!=', streamId),
    )
    .innerJoin('relays', 'relays.stream_id', 'other.id')
    .where('mine.id', '=', streamId)
    .where('relays.state', '=', 'live')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export const deleteRelay = (db: Q, id: string) => db.deleteFrom('relays').where('id', '=', id).execute();

/**
 * Relays that have not been heard from since `cutoff` (counting from their
 * start when they never sent a heartbeat) and whose stall was not handled yet.
 * Joined with the stream and its owner so the watchdog can write the mail.
 */
export function findSilentRelays(db: Q, cutoff: string) {
  return db
    .selectFrom('relays')
    .innerJoin('streams', 'streams.id', 'relays.stream_id')
    .innerJoin('users', 'users.id', 'streams.owner_id')
    .selectAll('relays')
    .select(['streams.name as stream_name', 'users.email as owner_email'])
    .where('relays.state', '!=', 'stopped')
    .where('relays.stalled_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('relays.last_heartbeat_at', 'is not', null), eb('relays.last_heartbeat_at', '<', cutoff)]),
        eb.and([eb('relays.last_heartbeat_at', 'is', null), eb('relays.started_at', '<', cutoff)]),
      ]),
    )
    .orderBy('relays.id')
    .execute();
}

/** Marks a stall as handled; true for exactly one caller, so replicas never restart or mail twice. */
export async function claimStall(db: Q, id: string, at: string): Promise<boolean> {
  const result = await db
    .updateTable('relays')
    .set({ stalled_at: at, updated_at: at })
    .where('id', '=', id)
    .where('stalled_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export const listActiveRelays = (db: Q) =>
  db.selectFrom('relays').selectAll().where('state', '!=', 'stopped').orderBy('id').execute();

export function touchHlsSession(db: Q, streamId: string, sessionKey: string, at: string) {
  return db
    .insertInto('stream_hls_sessions')
    .values({ stream_id: streamId, session_key: sessionKey, last_seen_at: at })
    .onConflict((oc) => oc.columns(['stream_id', 'session_key']).doUpdateSet({ last_seen_at: at }))
    .execute();
}

export async function hlsSessionSeenSince(db: Q, streamId: string, sessionKey: string, since: string): Promise<boolean> {
  const row = await db
    .selectFrom('stream_hls_sessions')
    .select('last_seen_at')
    .where('stream_id', '=', streamId)
    .where('session_key', '=', sessionKey)
    .where('last_seen_at', '>=', since)
    .executeTakeFirst();
  return row !== undefined;
}

export async function countHlsSessions(db: Q, streamId: string, since: string): Promise<number> {
  const row = await db
    .selectFrom('stream_hls_sessions')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('stream_id', '=', streamId)
    .where('last_seen_at', '>=', since)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Sessions per stream since `since`, for the metrics of every stream at once. */
export async function countHlsSessionsByStream(db: Q, since: string): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('stream_hls_sessions')
    .select(['stream_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('last_seen_at', '>=', since)
    .groupBy('stream_id')
    .execute();
  return new Map(rows.map((r) => [r.stream_id, Number(r.n)]));
}

export const pruneHlsSessions = (db: Q, streamId: string, before: string) =>
  db.deleteFrom('stream_hls_sessions').where('stream_id', '=', streamId).where('last_seen_at', '<', before).execute();

export const insertListenerSample = (db: Q, row: { stream_id: string; sampled_at: string; listener_count: number }) =>
  db.insertInto('stream_listener_samples').values(row).execute();

export const listListenerSamples = (db: Q, streamId: string) =>
  db.selectFrom('stream_listener_samples').selectAll().where('stream_id', '=', streamId).orderBy('sampled_at').execute();
