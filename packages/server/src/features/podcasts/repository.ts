import type { Kysely, Transaction, Updateable } from 'kysely';
import type {
  Database,
  EpisodeDownloadsTable,
  EpisodesTable,
  PodcastArtworksTable,
  PodcastFeedTokensTable,
  PodcastsTable,
} from '../../db/tables.js';
import { listOwnedPage, type OwnedPageQuery } from '../../db/owned-page.js';

type Q = Kysely<Database> | Transaction<Database>;

export const insertArtwork = (db: Q, row: PodcastArtworksTable) => db.insertInto('podcast_artworks').values(row).execute();
export const findArtwork = (db: Q, id: string) =>
  db.selectFrom('podcast_artworks').selectAll().where('id', '=', id).executeTakeFirst();

export const insertPodcast = (db: Q, row: PodcastsTable) => db.insertInto('podcasts').values(row).execute();
export const findPodcast = (db: Q, id: string) => db.selectFrom('podcasts').selectAll().where('id', '=', id).executeTakeFirst();

/** What a conditional feed request needs, without the (large) document itself. */
export const findFeedHead = (db: Q, id: string) =>
  db
    .selectFrom('podcasts')
    .select(['id', 'visibility', 'monetization_enabled', 'feed_etag', 'feed_updated_at', 'updated_at'])
    .where('id', '=', id)
    .executeTakeFirst();

export const findFeedXml = async (db: Q, id: string) =>
  (await db.selectFrom('podcasts').select('feed_xml').where('id', '=', id).executeTakeFirst())?.feed_xml ?? null;

export const listPodcasts = (db: Q, opts: OwnedPageQuery) => listOwnedPage(db, 'podcasts', opts);

export const updatePodcast = (db: Q, id: string, patch: Updateable<PodcastsTable>) =>
  db.updateTable('podcasts').set(patch).where('id', '=', id).execute();

export const deletePodcast = (db: Q, id: string) => db.deleteFrom('podcasts').where('id', '=', id).execute();

export async function episodeCounts(db: Q, podcastIds: string[]): Promise<Map<string, number>> {
  if (podcastIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('episodes')
    .select(['podcast_id', db.fn.countAll<number | string>().as('n')])
    .where('podcast_id', 'in', podcastIds)
    .groupBy('podcast_id')
    .execute();
  return new Map(rows.map((r) => [r.podcast_id, Number(r.n)]));
}

export const insertEpisode = (db: Q, row: EpisodesTable) => db.insertInto('episodes').values(row).execute();
export const findEpisode = (db: Q, id: string) => db.selectFrom('episodes').selectAll().where('id', '=', id).executeTakeFirst();

export function listEpisodes(db: Q, podcastId: string, opts: { startingAfter?: string; limit: number }) {
  let q = db
    .selectFrom('episodes')
    .selectAll()
    .where('podcast_id', '=', podcastId)
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.startingAfter) q = q.where('id', '<', opts.startingAfter);
  return q.execute();
}

/** What the feed lists: published episodes, newest first. */
export const publishedEpisodes = (db: Q, podcastId: string) =>
  db
    .selectFrom('episodes')
    .selectAll()
    .where('podcast_id', '=', podcastId)
    .where('status', '=', 'published')
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .execute();

export const updateEpisode = (db: Q, id: string, patch: Updateable<EpisodesTable>) =>
  db.updateTable('episodes').set(patch).where('id', '=', id).execute();

export const deleteEpisode = (db: Q, id: string) => db.deleteFrom('episodes').where('id', '=', id).execute();

export const episodeIdsOf = async (db: Q, podcastId: string) =>
  (await db.selectFrom('episodes').select('id').where('podcast_id', '=', podcastId).execute()).map((r) => r.id);

export async function podcastsUsingUpload(db: Q, uploadId: string): Promise<string[]> {
  const rows = await db.selectFrom('episodes').select('id').where('upload_id', '=', uploadId).execute();
  return rows.map((r) => r.id);
}

export const insertFeedToken = (db: Q, row: PodcastFeedTokensTable) => db.insertInto('podcast_feed_tokens').values(row).execute();

export const findLiveFeedToken = (db: Q, podcastId: string, tokenHash: string) =>
  db
    .selectFrom('podcast_feed_tokens')
    .selectAll()
    .where('podcast_id', '=', podcastId)
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();

export async function revokeFeedToken(db: Q, podcastId: string, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('podcast_feed_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('podcast_id', '=', podcastId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export const insertDownload = (db: Q, row: EpisodeDownloadsTable) => db.insertInto('episode_downloads').values(row).execute();

/** Whether a user exists (a personal feed is minted for an existing listener). Reads the users table only. */
export async function userExists(db: Q, userId: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()) !== undefined;
}
