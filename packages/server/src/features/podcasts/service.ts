import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import type { Kysely, Transaction } from 'kysely';
import type { CdnPurger } from '../../adapters/cdn/types.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { page } from '../../core/pagination.js';
import { assertCanAccess, isAdmin, type Principal } from '../../core/principal.js';
import { nowIso } from '../../db/create-db.js';
import type { Database, EpisodesTable, PodcastArtworksTable, PodcastsTable } from '../../db/tables.js';
import { cancelJobsOf, enqueue, type JobQueue } from '../../jobs/queue.js';
import type { Logger } from '../../logger.js';
import { withInternalDetail } from '../../net/outbound.js';
import type { ExternalCheck, ExternalCheckOptions } from '../playlists/external-url.js';
import { ExternalUrlError } from '../playlists/external-url.js';
import { embedSnippet, pageUrl } from '../pages/urls.js';
import type { UploadsService } from '../uploads/service.js';
import { PODCAST_ARTWORK_LIMITS } from '../../media/artwork-rules.js';
import { storeArtwork } from '../../media/artwork-store.js';
import { isSubcategoryOf } from './categories.js';
import { type EnclosureSigner, withSignature } from './enclosure-signing.js';
import { PUBLISH_EPISODE } from './jobs.js';
import { podcastGuid } from './podcast-guid.js';
import { emitEvent } from '../../events/emit.js';
import * as repo from './repository.js';
import { buildFeed, type FeedEpisode, type FeedLiveItem } from './rss.js';
import { sanitizeDescription } from './sanitize.js';
import type {
  ArtworkView,
  CreateEpisodeRequest,
  CreatePodcastRequest,
  EpisodeView,
  FeedTokenView,
  PodcastView,
  UpdateEpisodeRequest,
  UpdatePodcastRequest,
} from './schemas.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface PodcastsDeps {
  db: Kysely<Database>;
  store: BlobStore;
  uploads: UploadsService;
  logger: Logger;
  publicUrl: string;
  jobs: Pick<JobQueue, 'wake'>;
  checkUrl: (url: string, options: ExternalCheckOptions) => Promise<ExternalCheck>;
  allowPrivateUrls: boolean;
  signer: EnclosureSigner;
  cdn: CdnPurger;
  clock?: () => Date;
  /** The one paywall (the billing feature): whether a listener's subscription opens a monetized podcast. */
  paywall?: PodcastPaywall;
}

/** Subscriptions as podcasts need them: personal feeds and enclosures of a monetized podcast play for its subscribers only. */
export interface PodcastPaywall {
  allowsUser(userId: string, resource: { id: string; ownerId: string; monetized: boolean }): Promise<boolean>;
  denial(
    userId: string | null,
    resource: { id: string; ownerId: string; monetized: boolean },
    what: string,
  ): Promise<{ detail: string; extra: Record<string, unknown> }>;
}

/** Throws the paywall's 403 unless the listener may play the monetized podcast (owner or subscriber). */
export async function assertSubscribed(
  paywall: PodcastPaywall | undefined,
  userId: string | null,
  podcast: { id: string; owner_id: string; monetization_enabled: number },
): Promise<void> {
  if (!paywall || podcast.monetization_enabled !== 1) return;
  const resource = { id: podcast.id, ownerId: podcast.owner_id, monetized: true };
  if (userId && (await paywall.allowsUser(userId, resource))) return;
  const { detail, extra } = await paywall.denial(userId, resource, 'podcast');
  throw new DomainError('subscription_required', detail, extra);
}

/** A rendered feed and its validators. */
export interface RenderedFeed {
  /** Loaded only when the answer is not a 304. */
  xml: () => Promise<string>;
  etag: string;
  lastModified: Date;
  /** Anyone may keep it (public, free) or only the player (signed enclosures inside). */
  shared: boolean;
}

export const ARTWORK_MAX_BYTES = 10 * 1024 * 1024;
/** An enclosure's length is stored as a 32-bit integer on both dialects. */
const MAX_MEDIA_BYTES = 2 ** 31 - 1;
/** A public monetized feed is re-signed at most this often (so it can be revalidated in between). */
const FEED_SIGNATURE_WINDOW_SECONDS = 5 * 60;

/** The live sets a podcast's feed carries (podcast:liveItem); the archives feature provides them. */
export type LiveItemSource = (db: Q, podcastId: string) => Promise<FeedLiveItem[]>;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const strongEtag = (body: string) => `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;

export class PodcastsService {
  private readonly clock: () => Date;
  private liveItemSource: LiveItemSource | null = null;

  constructor(private readonly deps: PodcastsDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Live sets in progress (archives registers this, so podcasts need not know streams). */
  liveItemsFrom(source: LiveItemSource): void {
    this.liveItemSource = source;
  }

  /** Tells the CDN the public feed changed (after the transaction that rebuilt it committed). */
  async purgeFeed(podcastId: string): Promise<void> {
    await this.purge(podcastId);
  }

  get store(): BlobStore {
    return this.deps.store;
  }

  // -------------------------------------------------------------------------
  // URLs
  // -------------------------------------------------------------------------

  feedUrl = (podcastId: string) => `${this.deps.publicUrl}/podcasts/${podcastId}/rss.xml`;
  personalFeedUrl = (podcastId: string, token: string) => `${this.deps.publicUrl}/podcasts/${podcastId}/feeds/${token}/rss.xml`;
  mediaUrl = (podcastId: string, episodeId: string) =>
    `${this.deps.publicUrl}/podcasts/${podcastId}/episodes/${episodeId}/media.mp3`;
  chaptersUrl = (podcastId: string, episodeId: string) =>
    `${this.deps.publicUrl}/podcasts/${podcastId}/episodes/${episodeId}/chapters.json`;
  artworkUrl = (artworkId: string, type: string) =>
    `${this.deps.publicUrl}/podcasts/artwork/${artworkId}.${type === 'image/png' ? 'png' : 'jpg'}`;

  // -------------------------------------------------------------------------
  // Artwork
  // -------------------------------------------------------------------------

  async uploadArtwork(principal: Principal, stream: Readable): Promise<ArtworkView> {
    const row: PodcastArtworksTable = await storeArtwork(this.deps.store, stream, {
      ownerId: principal.userId,
      keyPrefix: 'podcasts/artwork/',
      maxBytes: ARTWORK_MAX_BYTES,
      limits: PODCAST_ARTWORK_LIMITS,
      now: nowIso(this.clock()),
    });
    await repo.insertArtwork(this.deps.db, row);
    return this.artworkView(row);
  }

  /** The stored artwork for the public route; null when there is none. */
  async artworkObject(artworkId: string): Promise<PodcastArtworksTable | null> {
    return (await repo.findArtwork(this.deps.db, artworkId)) ?? null;
  }

  private artworkView(row: PodcastArtworksTable): ArtworkView {
    return {
      id: row.id,
      content_type: row.content_type,
      width: row.width,
      height: row.height,
      size_bytes: row.size_bytes,
      url: this.artworkUrl(row.id, row.content_type),
      created_at: row.created_at,
    };
  }

  private async assertArtworkUsable(principal: Principal, artworkId: string | null | undefined): Promise<void> {
    if (!artworkId) return;
    const art = await repo.findArtwork(this.deps.db, artworkId);
    if (!art || (art.owner_id !== principal.userId && !isAdmin(principal))) {
      throw new DomainError('unprocessable', `Artwork ${artworkId} is not one of yours.`, {
        errors: [{ path: 'artwork_id', message: 'not found', code: 'not_found' }],
      });
    }
  }

  // -------------------------------------------------------------------------
  // Podcasts
  // -------------------------------------------------------------------------

  async create(principal: Principal, input: CreatePodcastRequest): Promise<PodcastView> {
    checkSubcategory(input.category, input.subcategory ?? null);
    await this.assertArtworkUsable(principal, input.artwork_id);
    const now = nowIso(this.clock());
    const row: PodcastsTable = {
      id: newId('pod'),
      owner_id: principal.userId,
      title: input.title,
      description: sanitizeDescription(input.description),
      author: input.author,
      owner_email: input.owner_email ?? null,
      language: input.language,
      category: input.category,
      subcategory: input.subcategory ?? null,
      explicit: input.explicit ? 1 : 0,
      podcast_type: input.type,
      visibility: input.visibility,
      monetization_enabled: input.monetization_enabled ? 1 : 0,
      locked: input.locked ? 1 : 0,
      artwork_id: input.artwork_id ?? null,
      feed_xml: null,
      feed_etag: null,
      feed_updated_at: null,
      created_at: now,
      updated_at: now,
    };
    // The feed exists from the moment the podcast does.
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.insertPodcast(tx, row);
      await this.rebuildFeedIn(tx, row.id);
    });
    await this.purge(row.id);
    return this.get(principal, row.id);
  }

  async list(principal: Principal, opts: { limit: number; starting_after?: string }) {
    const rows = await repo.listPodcasts(this.deps.db, {
      ownerId: isAdmin(principal) ? undefined : principal.userId,
      startingAfter: opts.starting_after,
      limit: opts.limit,
    });
    const result = page(rows, opts.limit);
    const counts = await repo.episodeCounts(
      this.deps.db,
      result.data.map((p) => p.id),
    );
    const views = await Promise.all(result.data.map((p) => this.view(p, counts.get(p.id) ?? 0)));
    return { ...result, data: views };
  }

  async getOwned(principal: Principal, id: string): Promise<PodcastsTable> {
    const row = await repo.findPodcast(this.deps.db, id);
    if (!row) throw new NotFound('Podcast', id);
    assertCanAccess(principal, row.owner_id, 'podcast');
    return row;
  }

  async get(principal: Principal, id: string): Promise<PodcastView> {
    const row = await this.getOwned(principal, id);
    const counts = await repo.episodeCounts(this.deps.db, [id]);
    return this.view(row, counts.get(id) ?? 0);
  }

  async update(principal: Principal, id: string, input: UpdatePodcastRequest): Promise<PodcastView> {
    const row = await this.getOwned(principal, id);
    const category = input.category ?? row.category;
    const subcategory = input.subcategory !== undefined ? input.subcategory : input.category ? null : row.subcategory;
    checkSubcategory(category, subcategory);
    await this.assertArtworkUsable(principal, input.artwork_id);
    const patch: Partial<PodcastsTable> = { updated_at: nowIso(this.clock()), category, subcategory };
    if (input.title !== undefined) patch.title = input.title;
    if (input.description !== undefined) patch.description = sanitizeDescription(input.description);
    if (input.author !== undefined) patch.author = input.author;
    if (input.owner_email !== undefined) patch.owner_email = input.owner_email;
    if (input.language !== undefined) patch.language = input.language;
    if (input.explicit !== undefined) patch.explicit = input.explicit ? 1 : 0;
    if (input.type !== undefined) patch.podcast_type = input.type;
    if (input.visibility !== undefined) patch.visibility = input.visibility;
    if (input.monetization_enabled !== undefined) patch.monetization_enabled = input.monetization_enabled ? 1 : 0;
    if (input.locked !== undefined) patch.locked = input.locked ? 1 : 0;
    if (input.artwork_id !== undefined) patch.artwork_id = input.artwork_id;
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updatePodcast(tx, id, patch);
      await this.rebuildFeedIn(tx, id);
    });
    await this.purge(id);
    return this.get(principal, id);
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.getOwned(principal, id);
    await this.deps.db.transaction().execute(async (tx) => {
      for (const episodeId of await repo.episodeIdsOf(tx, id)) await cancelJobsOf(tx, episodeId, this.clock());
      await repo.deletePodcast(tx, id);
    });
    this.deps.jobs.wake();
    await this.purge(id);
  }

  private async view(row: PodcastsTable, episodeCount: number): Promise<PodcastView> {
    const art = row.artwork_id ? await repo.findArtwork(this.deps.db, row.artwork_id) : undefined;
    return {
      id: row.id,
      podcast_id: row.id,
      owner_id: row.owner_id,
      title: row.title,
      description: row.description,
      author: row.author,
      owner_email: row.owner_email,
      language: row.language,
      category: row.category,
      subcategory: row.subcategory,
      explicit: row.explicit === 1,
      type: row.podcast_type,
      visibility: row.visibility,
      monetization_enabled: row.monetization_enabled === 1,
      locked: row.locked === 1,
      artwork_id: row.artwork_id,
      artwork_url: art ? this.artworkUrl(art.id, art.content_type) : null,
      feed_url: this.feedUrl(row.id),
      podcast_guid: podcastGuid(this.feedUrl(row.id)),
      page_url: pageUrl(this.deps.publicUrl, 'podcast', row.id),
      embed_html: embedSnippet(this.deps.publicUrl, 'podcast', row.id, row.title),
      episode_count: episodeCount,
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  /** A podcast and its published episodes (newest first), for the public listener page; the page decides who sees it. */
  async pageData(podcastId: string): Promise<{ podcast: PodcastView; episodes: EpisodeView[] }> {
    const row = await repo.findPodcast(this.deps.db, podcastId);
    if (!row) throw new NotFound('Podcast', podcastId);
    const episodes = await repo.publishedEpisodes(this.deps.db, podcastId);
    return { podcast: await this.view(row, episodes.length), episodes: episodes.map((e) => this.episodeView(e)) };
  }

  // -------------------------------------------------------------------------
  // Episodes
  // -------------------------------------------------------------------------

  async createEpisode(principal: Principal, podcastId: string, input: CreateEpisodeRequest): Promise<EpisodeView> {
    const podcast = await this.getOwned(principal, podcastId);
    if ((input.upload_id === undefined) === (input.media_url === undefined)) throw mediaChoice('exactly');
    const media = await this.resolveMedia(principal, input);
    const now = this.clock();
    const at = input.published_at ? new Date(input.published_at) : now;
    const row: EpisodesTable = {
      id: newId('epi'),
      podcast_id: podcast.id,
      guid: randomUUID(),
      title: input.title,
      description: sanitizeDescription(input.description),
      ...media,
      duration_seconds: input.duration_seconds ?? media.duration_seconds,
      season: input.season ?? null,
      episode_number: input.episode_number ?? null,
      episode_type: input.episode_type,
      explicit: input.explicit === undefined || input.explicit === null ? null : input.explicit ? 1 : 0,
      chapters: input.chapters ? JSON.stringify(input.chapters) : null,
      status: input.draft ? 'draft' : 'scheduled',
      published_at: input.draft && !input.published_at ? null : nowIso(at),
      created_at: nowIso(now),
      updated_at: nowIso(now),
    };
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.insertEpisode(tx, row);
      if (row.status === 'scheduled') await this.schedule(tx, podcast.owner_id, row.id, at);
      else await this.rebuildFeedIn(tx, podcast.id);
    });
    this.deps.jobs.wake();
    await this.purge(podcast.id);
    return this.getEpisode(principal, row.id);
  }

  async listEpisodes(principal: Principal, podcastId: string, opts: { limit: number; starting_after?: string }) {
    const podcast = await this.getOwned(principal, podcastId);
    const rows = await repo.listEpisodes(this.deps.db, podcast.id, { startingAfter: opts.starting_after, limit: opts.limit });
    const result = page(rows, opts.limit);
    return { ...result, data: result.data.map((e) => this.episodeView(e)) };
  }

  async getOwnedEpisode(principal: Principal, id: string): Promise<{ episode: EpisodesTable; podcast: PodcastsTable }> {
    const episode = await repo.findEpisode(this.deps.db, id);
    if (!episode) throw new NotFound('Episode', id);
    const podcast = await repo.findPodcast(this.deps.db, episode.podcast_id);
    if (!podcast) throw new NotFound('Episode', id);
    assertCanAccess(principal, podcast.owner_id, 'episode');
    return { episode, podcast };
  }

  async getEpisode(principal: Principal, id: string): Promise<EpisodeView> {
    return this.episodeView((await this.getOwnedEpisode(principal, id)).episode);
  }

  async updateEpisode(principal: Principal, id: string, input: UpdateEpisodeRequest): Promise<EpisodeView> {
    const { episode, podcast } = await this.getOwnedEpisode(principal, id);
    if (input.upload_id !== undefined && input.media_url !== undefined) throw mediaChoice('at most');
    const patch: Partial<EpisodesTable> = { updated_at: nowIso(this.clock()) };
    if (input.upload_id !== undefined || input.media_url !== undefined) {
      // The media is replaced; the GUID stays, so apps do not see a new episode.
      Object.assign(patch, await this.resolveMedia(principal, input));
    }
    if (input.title !== undefined) patch.title = input.title;
    if (input.description !== undefined) patch.description = sanitizeDescription(input.description);
    if (input.duration_seconds !== undefined) patch.duration_seconds = input.duration_seconds;
    if (input.season !== undefined) patch.season = input.season;
    if (input.episode_number !== undefined) patch.episode_number = input.episode_number;
    if (input.episode_type !== undefined) patch.episode_type = input.episode_type;
    if (input.explicit !== undefined) patch.explicit = input.explicit === null ? null : input.explicit ? 1 : 0;
    if (input.chapters !== undefined) patch.chapters = input.chapters ? JSON.stringify(input.chapters) : null;
    const at = input.published_at ? new Date(input.published_at) : null;
    if (at) patch.published_at = nowIso(at);
    await this.deps.db.transaction().execute(async (tx) => {
      await repo.updateEpisode(tx, id, patch);
      if (at && episode.status !== 'published') {
        // A new time for an unpublished episode: (re)schedule it; the job publishes it on time.
        await cancelJobsOf(tx, id, this.clock());
        await repo.updateEpisode(tx, id, { status: 'scheduled' });
        await this.schedule(tx, podcast.owner_id, id, at);
      }
      await this.rebuildFeedIn(tx, podcast.id);
    });
    this.deps.jobs.wake();
    await this.purge(podcast.id);
    return this.getEpisode(principal, id);
  }

  async deleteEpisode(principal: Principal, id: string): Promise<void> {
    const { podcast } = await this.getOwnedEpisode(principal, id);
    await this.deps.db.transaction().execute(async (tx) => {
      await cancelJobsOf(tx, id, this.clock());
      await repo.deleteEpisode(tx, id);
      await this.rebuildFeedIn(tx, podcast.id);
    });
    this.deps.jobs.wake();
    await this.purge(podcast.id);
  }

  /** Publishes a draft or scheduled episode now (`djcast episode publish`). */
  async publishNow(principal: Principal, id: string): Promise<EpisodeView> {
    const { episode, podcast } = await this.getOwnedEpisode(principal, id);
    if (episode.status !== 'published') {
      await this.deps.db.transaction().execute(async (tx) => {
        await cancelJobsOf(tx, id, this.clock());
        await this.publishEpisode(tx, id, this.clock());
      });
      this.deps.jobs.wake();
      await this.purge(podcast.id);
    }
    return this.getEpisode(principal, id);
  }

  /** The scheduled-publish job: publishes the episode if it is still scheduled and its time has come. */
  async publishScheduled(id: string): Promise<void> {
    const published = await this.deps.db.transaction().execute(async (tx) => {
      const episode = await repo.findEpisode(tx, id);
      if (!episode || episode.status !== 'scheduled' || !episode.published_at) return null;
      const at = new Date(episode.published_at);
      if (at.getTime() > this.clock().getTime()) return null; // moved later; its own job publishes it
      return (await this.publishEpisode(tx, id, at)) ? episode.podcast_id : null;
    });
    if (published) await this.purge(published);
  }

  /**
   * THE publish state change, always inside the caller's transaction: the
   * episode becomes published at `at` and the feed is rebuilt with it, or
   * neither happens. Events about publishing belong here. Returns false
   * when the episode was already published (nothing changed).
   */
  async publishEpisode(tx: Transaction<Database>, episodeId: string, at: Date): Promise<boolean> {
    const episode = await repo.findEpisode(tx, episodeId);
    if (!episode || episode.status === 'published') return false;
    const now = this.clock();
    const when = at.getTime() > now.getTime() ? now : at;
    await repo.updateEpisode(tx, episodeId, { status: 'published', published_at: nowIso(when), updated_at: nowIso(now) });
    await this.rebuildFeedIn(tx, episode.podcast_id);
    const podcast = await repo.findPodcast(tx, episode.podcast_id);
    const published = await repo.findEpisode(tx, episodeId);
    if (podcast && published) {
      await emitEvent(tx, { type: 'episode.published', ownerId: podcast.owner_id, object: this.episodeView(published), now });
    }
    return true;
  }

  private async schedule(tx: Transaction<Database>, ownerId: string, episodeId: string, at: Date): Promise<void> {
    const now = this.clock();
    if (at.getTime() <= now.getTime()) {
      await this.publishEpisode(tx, episodeId, at);
      return;
    }
    await enqueue(
      tx,
      PUBLISH_EPISODE,
      { episode_id: episodeId },
      { now, delayMs: at.getTime() - now.getTime(), ownerId, resourceId: episodeId },
    );
  }

  private async resolveMedia(
    principal: Principal,
    input: { upload_id?: string | undefined; media_url?: string | undefined },
  ): Promise<Pick<EpisodesTable, 'upload_id' | 'media_url' | 'media_type' | 'media_bytes' | 'duration_seconds'>> {
    if (input.upload_id) {
      const track = (await this.deps.uploads.tracks([input.upload_id])).get(input.upload_id);
      const field = [{ path: 'upload_id', message: '', code: '' }];
      if (!track || (track.ownerId !== principal.userId && !isAdmin(principal))) {
        throw new DomainError('unprocessable', `Upload ${input.upload_id} is not one of yours.`, {
          errors: [{ ...field[0]!, message: 'not found', code: 'not_found' }],
        });
      }
      if (track.status !== 'ready') {
        throw new DomainError('unprocessable', `Upload ${input.upload_id} is ${track.status}; wait until it is ready.`, {
          errors: [{ ...field[0]!, message: `upload is ${track.status}`, code: 'not_ready' }],
        });
      }
      const head = await this.deps.store.head(track.originalKey);
      if (!head) throw new Error(`the stored MP3 of ${track.id} is missing`);
      return {
        upload_id: track.id,
        media_url: null,
        media_type: 'audio/mpeg',
        media_bytes: head.size,
        duration_seconds: track.durationSeconds,
      };
    }
    const url = input.media_url!;
    try {
      const check = await this.deps.checkUrl(url, { allowPrivate: this.deps.allowPrivateUrls, maxBytes: MAX_MEDIA_BYTES });
      return {
        upload_id: null,
        media_url: url,
        media_type: check.contentType,
        media_bytes: check.sizeBytes,
        duration_seconds: null,
      };
    } catch (error) {
      if (!(error instanceof ExternalUrlError)) throw error;
      const problem = new DomainError(error.code, error.message, {
        errors: [{ path: 'media_url', message: error.message, code: error.code }],
      });
      throw error.internalDetail ? withInternalDetail(problem, error.internalDetail) : problem;
    }
  }

  episodeView(row: EpisodesTable): EpisodeView {
    return {
      id: row.id,
      podcast_id: row.podcast_id,
      guid: row.guid,
      title: row.title,
      description: row.description,
      upload_id: row.upload_id,
      media_url: row.media_url,
      status: row.status,
      published_at: row.published_at,
      enclosure: { url: this.mediaUrl(row.podcast_id, row.id), length: Number(row.media_bytes), type: row.media_type },
      duration_seconds: row.duration_seconds,
      season: row.season,
      episode_number: row.episode_number,
      episode_type: row.episode_type,
      explicit: row.explicit === null ? null : row.explicit === 1,
      chapters: row.chapters ? (JSON.parse(row.chapters) as { start_time: number; title: string }[]) : null,
      feed_url: this.feedUrl(row.podcast_id),
      created_at: row.created_at,
      updated_at: row.updated_at,
    };
  }

  /** The chapters of a published episode, for the public chapters.json. */
  async publicChapters(podcastId: string, episodeId: string): Promise<{ start_time: number; title: string }[]> {
    const episode = await repo.findEpisode(this.deps.db, episodeId);
    if (!episode || episode.podcast_id !== podcastId || episode.status !== 'published' || !episode.chapters) {
      throw new NotFound('Chapters', episodeId);
    }
    return JSON.parse(episode.chapters) as { start_time: number; title: string }[];
  }

  /** Episodes using an upload (its deletion is refused while any does). */
  async episodesUsingUpload(uploadId: string): Promise<string[]> {
    return repo.podcastsUsingUpload(this.deps.db, uploadId);
  }

  // -------------------------------------------------------------------------
  // Feeds
  // -------------------------------------------------------------------------

  /** Rebuilds and stores the public feed document, in the transaction that changed what it lists. */
  async rebuildFeedIn(tx: Q, podcastId: string): Promise<void> {
    const podcast = await repo.findPodcast(tx, podcastId);
    if (!podcast) return;
    const now = nowIso(this.clock());
    const xml = await this.render(tx, podcast, () => null, { builtAt: new Date(now) });
    await repo.updatePodcast(tx, podcastId, { feed_xml: xml, feed_etag: strongEtag(xml), feed_updated_at: now });
  }

  /**
   * The public feed (GET /podcasts/{id}/rss.xml). Free public podcasts: the
   * stored document. Monetized or private ones: rendered with signed
   * enclosures that expire within the hour.
   */
  async publicFeed(podcastId: string): Promise<RenderedFeed> {
    const head = await repo.findFeedHead(this.deps.db, podcastId);
    if (!head) throw new NotFound('Podcast', podcastId);
    const open = head.visibility === 'public' && head.monetization_enabled === 0;
    if (open && head.feed_etag && head.feed_updated_at) {
      // The stored document: a revalidation reads only its validators.
      const stored = () =>
        repo.findFeedXml(this.deps.db, podcastId).then((xml) => {
          if (xml === null) throw new NotFound('Podcast', podcastId);
          return xml;
        });
      return { xml: stored, etag: head.feed_etag, lastModified: new Date(head.feed_updated_at), shared: true };
    }
    const podcast = await repo.findPodcast(this.deps.db, podcastId);
    if (!podcast) throw new NotFound('Podcast', podcastId);
    const xml = await this.render(this.deps.db, podcast, (episodeId) =>
      open ? null : this.deps.signer.sign(episodeId, null, { alignSeconds: FEED_SIGNATURE_WINDOW_SECONDS }),
    );
    return {
      xml: async () => xml,
      etag: strongEtag(xml),
      lastModified: new Date(podcast.feed_updated_at ?? podcast.updated_at),
      shared: open,
    };
  }

  /** A subscriber's personal feed: every enclosure signed afresh for that listener. */
  async personalFeed(podcastId: string, token: string): Promise<RenderedFeed> {
    const grant = await repo.findLiveFeedToken(this.deps.db, podcastId, hashToken(token));
    const podcast = grant ? await repo.findPodcast(this.deps.db, podcastId) : undefined;
    if (!grant || !podcast) throw new NotFound('Feed', podcastId);
    await assertSubscribed(this.deps.paywall, grant.user_id, podcast);
    const xml = await this.render(this.deps.db, podcast, (episodeId) => this.deps.signer.sign(episodeId, grant.user_id), {
      feedUrl: this.personalFeedUrl(podcastId, token),
    });
    return { xml: async () => xml, etag: strongEtag(xml), lastModified: this.clock(), shared: false };
  }

  /** Mints a personal feed URL for one listener (the owner, or the subscriptions feature, calls this). */
  async mintFeedToken(principal: Principal, podcastId: string, userId: string): Promise<FeedTokenView> {
    const podcast = await this.getOwned(principal, podcastId);
    return this.mintFeedTokenFor(podcast.id, userId);
  }

  /**
   * A subscriber's own personal feed URL: minted for the caller when their
   * subscription opens the monetized podcast (the owner and admins always);
   * 403 naming the plans otherwise. A free podcast needs none (409 with its feed).
   */
  async mintOwnFeedToken(principal: Principal, podcastId: string): Promise<FeedTokenView> {
    const podcast = await repo.findPodcast(this.deps.db, podcastId);
    if (!podcast) throw new NotFound('Podcast', podcastId);
    if (podcast.monetization_enabled !== 1) {
      throw new DomainError('conflict', 'This podcast is free: subscribe to its public feed, no personal feed is needed.', {
        feed_url: this.feedUrl(podcast.id),
      });
    }
    if (podcast.owner_id !== principal.userId && !isAdmin(principal)) {
      await assertSubscribed(this.deps.paywall, principal.userId, podcast);
    }
    return this.mintFeedTokenFor(podcast.id, principal.userId);
  }

  async mintFeedTokenFor(podcastId: string, userId: string): Promise<FeedTokenView> {
    if (!(await repo.userExists(this.deps.db, userId))) {
      throw new DomainError('unprocessable', `User ${userId} does not exist.`, {
        errors: [{ path: 'user_id', message: 'not found', code: 'not_found' }],
      });
    }
    const token = randomBytes(24).toString('base64url');
    const row = {
      id: newId('pft'),
      podcast_id: podcastId,
      user_id: userId,
      token_hash: hashToken(token),
      created_at: nowIso(this.clock()),
      revoked_at: null,
    };
    await repo.insertFeedToken(this.deps.db, row);
    return {
      id: row.id,
      podcast_id: podcastId,
      user_id: userId,
      feed_url: this.personalFeedUrl(podcastId, token),
      created_at: row.created_at,
    };
  }

  async revokeFeedToken(principal: Principal, podcastId: string, tokenId: string): Promise<void> {
    await this.getOwned(principal, podcastId);
    if (!(await repo.revokeFeedToken(this.deps.db, podcastId, tokenId, nowIso(this.clock())))) {
      throw new NotFound('Feed token', tokenId);
    }
  }

  private async render(
    db: Q,
    podcast: PodcastsTable,
    signatureFor: (episodeId: string) => ReturnType<EnclosureSigner['sign']> | null,
    opts: { feedUrl?: string; builtAt?: Date } = {},
  ): Promise<string> {
    const episodes = await repo.publishedEpisodes(db, podcast.id);
    const art = podcast.artwork_id ? await repo.findArtwork(db, podcast.artwork_id) : undefined;
    const feedUrl = opts.feedUrl ?? this.feedUrl(podcast.id);
    const items: FeedEpisode[] = episodes.map((e) => ({
      guid: e.guid,
      title: e.title,
      description: e.description,
      publishedAt: new Date(e.published_at ?? e.created_at),
      enclosure: {
        url: withSignature(this.mediaUrl(podcast.id, e.id), signatureFor(e.id)),
        length: Number(e.media_bytes),
        type: e.media_type,
      },
      durationSeconds: e.duration_seconds,
      season: e.season,
      episode: e.episode_number,
      episodeType: e.episode_type,
      explicit: e.explicit === null ? null : e.explicit === 1,
      chaptersUrl: e.chapters ? this.chaptersUrl(podcast.id, e.id) : null,
    }));
    const liveItems = this.liveItemSource ? await this.liveItemSource(db, podcast.id) : [];
    return buildFeed({
      liveItems,
      // podcast:guid always derives from the public feed URL, also in a personal feed.
      feedUrl,
      guidSourceUrl: this.feedUrl(podcast.id),
      podcast: {
        title: podcast.title,
        description: podcast.description,
        author: podcast.author,
        ownerEmail: podcast.owner_email,
        language: podcast.language,
        category: podcast.category,
        subcategory: podcast.subcategory,
        explicit: podcast.explicit === 1,
        type: podcast.podcast_type,
        locked: podcast.locked === 1,
        link: `${this.deps.publicUrl}/c/${podcast.id}`,
        imageUrl: art ? this.artworkUrl(art.id, art.content_type) : null,
      },
      episodes: items,
      builtAt: opts.builtAt ?? new Date(podcast.feed_updated_at ?? podcast.updated_at),
    });
  }

  private async purge(podcastId: string): Promise<void> {
    try {
      await this.deps.cdn.purge([this.feedUrl(podcastId)]);
    } catch (error) {
      this.deps.logger.warn({ event: 'cdn.purge_failed', podcast_id: podcastId, err: error }, 'CDN purge failed');
    }
  }
}

function checkSubcategory(category: string, subcategory: string | null): void {
  if (subcategory !== null && !isSubcategoryOf(category, subcategory)) {
    throw new DomainError('unprocessable', `"${subcategory}" is not a subcategory of "${category}" in Apple's list.`, {
      errors: [{ path: 'subcategory', message: `not a subcategory of ${category}`, code: 'invalid_subcategory' }],
    });
  }
}

function mediaChoice(how: 'exactly' | 'at most'): DomainError {
  const message = `send ${how} one of upload_id and media_url`;
  return new DomainError('unprocessable', `An episode's media is an upload or an external URL: ${message}.`, {
    errors: [{ path: 'upload_id', message, code: 'media_choice' }],
  });
}
