import { sql, type Kysely, type Transaction } from 'kysely';
import type { AnalyticsDailyTable, Database } from '../../db/tables.js';
import type { FinishedSession } from './sessions.js';

type Q = Kysely<Database> | Transaction<Database>;

/** Rows per insert statement: well under both dialects' bound-parameter limits (9 columns each). */
const INSERT_CHUNK = 500;

export async function insertSessions(db: Q, rows: readonly FinishedSession[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db
      .insertInto('listener_sessions')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .execute();
  }
}

export async function insertDaily(db: Q, rows: readonly AnalyticsDailyTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db
      .insertInto('analytics_daily')
      .values(rows.slice(i, i + INSERT_CHUNK))
      .execute();
  }
}

export const deleteDailyOf = (db: Q, day: string) => db.deleteFrom('analytics_daily').where('day', '=', day).execute();

/** Per resource and day: unique listeners, plays (>= 30 s of audio) and listening time, in SQL. */
export function sessionTotals(db: Q, from: string, to: string) {
  return db
    .selectFrom('listener_sessions')
    .select((eb) => [
      'resource_kind',
      'resource_id',
      eb.fn.count<string | number>('listener_key').distinct().as('listeners'),
      eb.fn.sum<string | number>(eb.case().when('audio_ms', '>=', 30_000).then(1).else(0).end()).as('plays'),
      eb.fn.sum<string | number>('audio_ms').as('audio_ms'),
    ])
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .groupBy(['resource_kind', 'resource_id'])
    .execute();
}

/**
 * Start and end of each playlist session that overlaps [from, to), for the
 * peak-concurrency sweep. Sessions are looked for from a day before `from`
 * (bounded, so the started_at index keeps this a range read; a session
 * longer than a day is counted from its start day only).
 */
export function playlistSessionSpans(db: Q, from: string, to: string, lookBackFrom: string) {
  return db
    .selectFrom('listener_sessions')
    .select(['resource_id', 'started_at', 'ended_at'])
    .where('started_at', '>=', lookBackFrom)
    .where('started_at', '<', to)
    .where('resource_kind', '=', 'playlist')
    .where('ended_at', '>', from)
    .execute();
}

/** The highest listener count the relays reported per stream in [from, to). */
export function streamPeaks(db: Q, from: string, to: string) {
  return db
    .selectFrom('stream_listener_samples')
    .select((eb) => ['stream_id', eb.fn.max('listener_count').as('peak')])
    .where('sampled_at', '>=', from)
    .where('sampled_at', '<', to)
    .groupBy('stream_id')
    .execute();
}

export function downloadRequests(db: Q, from: string, to: string) {
  return db
    .selectFrom('episode_downloads')
    .select(['episode_id', 'podcast_id', 'address', 'user_agent', 'range', 'created_at'])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export function episodeSizes(db: Q, ids: readonly string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('episodes').select(['id', 'media_bytes', 'duration_seconds']).where('id', 'in', ids).execute();
}

/**
 * Per ad marker (and the playlist or stream it played in): impressions
 * started in [from, to) and how many of them completed, in SQL.
 */
export function adImpressionTotals(db: Q, from: string, to: string) {
  return db
    .selectFrom('ad_impressions')
    .select((eb) => [
      'resource_id',
      'marker_id',
      eb.fn.countAll<string | number>().as('impressions'),
      eb.fn.count<string | number>('completed_at').as('completions'),
    ])
    .where('started_at', '>=', from)
    .where('started_at', '<', to)
    .groupBy(['resource_id', 'marker_id'])
    .execute();
}

/** The earliest raw row of any kind (where a first fold starts). */
export async function earliestRaw(db: Q): Promise<string | null> {
  const rows = await Promise.all([
    db
      .selectFrom('listener_sessions')
      .select((eb) => eb.fn.min('started_at').as('at'))
      .executeTakeFirst(),
    db
      .selectFrom('episode_downloads')
      .select((eb) => eb.fn.min('created_at').as('at'))
      .executeTakeFirst(),
    db
      .selectFrom('stream_listener_samples')
      .select((eb) => eb.fn.min('sampled_at').as('at'))
      .executeTakeFirst(),
    db
      .selectFrom('ad_impressions')
      .select((eb) => eb.fn.min('started_at').as('at'))
      .executeTakeFirst(),
  ]);
  const all = rows.map((r) => (r?.at as string | null | undefined) ?? null).filter((x): x is string => x !== null);
  return all.length ? all.sort()[0]! : null;
}

export async function foldedAt(db: Q): Promise<string | null> {
  const row = await db.selectFrom('analytics_fold_state').select('folded_at').where('id', '=', 'daily').executeTakeFirst();
  return row?.folded_at ?? null;
}

export async function setFoldedAt(db: Q, at: string): Promise<void> {
  await db
    .insertInto('analytics_fold_state')
    .values({ id: 'daily', folded_at: at })
    .onConflict((oc) => oc.column('id').doUpdateSet({ folded_at: at }))
    .execute();
}

/** Deletes raw rows older than `before` (already folded); returns how many went. */
export async function deleteRawBefore(db: Q, before: string): Promise<number> {
  const results = await Promise.all([
    db.deleteFrom('listener_sessions').where('started_at', '<', before).executeTakeFirst(),
    db.deleteFrom('episode_downloads').where('created_at', '<', before).executeTakeFirst(),
    db.deleteFrom('stream_listener_samples').where('sampled_at', '<', before).executeTakeFirst(),
    db.deleteFrom('ad_impressions').where('started_at', '<', before).executeTakeFirst(),
  ]);
  return results.reduce((n, r) => n + Number(r.numDeletedRows), 0);
}

/** The aggregates of one resource in [fromDay, toDay], the only table an analytics request reads. */
export function dailyOf(db: Q, resourceId: string, fromDay: string, toDay: string) {
  return db
    .selectFrom('analytics_daily')
    .select(['day', 'metric', 'sub_id', 'value'])
    .where('resource_id', '=', resourceId)
    .where('day', '>=', fromDay)
    .where('day', '<=', toDay)
    .orderBy('day')
    .orderBy('metric')
    .orderBy('sub_id')
    .execute();
}

/** A quick count, for tests and the bench: how many raw sessions are stored. */
export async function countSessions(db: Q): Promise<number> {
  const row = await db.selectFrom('listener_sessions').select(sql<string | number>`count(*)`.as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}
