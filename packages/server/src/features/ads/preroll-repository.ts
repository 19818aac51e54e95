import type { Kysely, Transaction, Updateable } from 'kysely';
import type { AdLiveSessionsTable, Database } from '../../db/tables.js';

type Q = Kysely<Database> | Transaction<Database>;

/** The stream's pre-roll whose audio is ready (the newest, when there are several). */
export const readyStreamPreroll = (db: Q, streamId: string) =>
  db
    .selectFrom('ad_markers')
    .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
    .select(['ad_markers.id as marker_id', 'ad_renditions.hls_prefix', 'ad_renditions.hls_segments'])
    .where('ad_markers.stream_id', '=', streamId)
    .where('ad_markers.kind', '=', 'pre-roll')
    .where('ad_renditions.status', '=', 'ready')
    .orderBy('ad_markers.id', 'desc')
    .limit(1)
    .executeTakeFirst();

export type ReadyPreroll = NonNullable<Awaited<ReturnType<typeof readyStreamPreroll>>>;

/** A listener's session with the pre-roll it plays. */
export const findLiveSession = (db: Q, streamId: string, sessionKey: string) =>
  db
    .selectFrom('ad_live_sessions')
    .innerJoin('ad_markers', 'ad_markers.id', 'ad_live_sessions.marker_id')
    .innerJoin('ad_renditions', 'ad_renditions.id', 'ad_markers.rendition_id')
    .selectAll('ad_live_sessions')
    .select(['ad_renditions.hls_prefix', 'ad_renditions.hls_segments'])
    .where('ad_live_sessions.stream_id', '=', streamId)
    .where('ad_live_sessions.session_key', '=', sessionKey)
    .executeTakeFirst();

export type LiveSessionRow = NonNullable<Awaited<ReturnType<typeof findLiveSession>>>;

/** Inserts the session unless the listener has one (another replica may have been first). */
export const insertLiveSession = (db: Q, row: AdLiveSessionsTable) =>
  db
    .insertInto('ad_live_sessions')
    .values(row)
    .onConflict((oc) => oc.columns(['stream_id', 'session_key']).doNothing())
    .execute();

export const updateLiveSession = (db: Q, streamId: string, sessionKey: string, patch: Updateable<AdLiveSessionsTable>) =>
  db.updateTable('ad_live_sessions').set(patch).where('stream_id', '=', streamId).where('session_key', '=', sessionKey).execute();

/** Sets the join point unless one was set already (two reloads racing keep the first). */
export const setLiveJoin = (db: Q, streamId: string, sessionKey: string, join: { msn: number; dsn: number }) =>
  db
    .updateTable('ad_live_sessions')
    .set({ live_msn: join.msn, live_dsn: join.dsn })
    .where('stream_id', '=', streamId)
    .where('session_key', '=', sessionKey)
    .where('live_msn', 'is', null)
    .execute();

/** Sessions of the stream idle since `before` (the listener left): their row goes. */
export const pruneLiveSessions = (db: Q, streamId: string, before: string) =>
  db.deleteFrom('ad_live_sessions').where('stream_id', '=', streamId).where('last_seen_at', '<', before).execute();
