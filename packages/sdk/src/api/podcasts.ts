import type { components, operations } from '../generated/openapi.js';
import { validatePodcastFeed, type FeedReport } from '../feed/validate.js';
import { paginate } from '../pagination.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type Podcast = Schemas['Podcast'];
export type PodcastList = Schemas['PodcastList'];
export type Episode = Schemas['Episode'];
export type EpisodeList = Schemas['EpisodeList'];
export type CreatePodcastRequest = Schemas['CreatePodcastRequest'];
export type UpdatePodcastRequest = Schemas['UpdatePodcastRequest'];
export type CreateEpisodeRequest = Schemas['CreateEpisodeRequest'];
export type UpdateEpisodeRequest = Schemas['UpdateEpisodeRequest'];
export type PodcastFeedToken = Schemas['PodcastFeedToken'];
export type ListPodcastsQuery = NonNullable<operations['listPodcasts']['parameters']['query']>;
export type ListEpisodesQuery = NonNullable<operations['listEpisodes']['parameters']['query']>;

export function podcastsApi({ raw }: ApiContext) {
  const list = (query: ListPodcastsQuery = {}): Promise<PodcastList> => unwrap(raw.GET('/v1/podcasts', { params: { query } }));
  const get = (id: string): Promise<Podcast> => unwrap(raw.GET('/v1/podcasts/{id}', { params: { path: { id } } }));
  /** The public RSS document, as a podcast app fetches it. */
  const feed = async (id: string): Promise<string> => {
    const { data, error, response } = await raw.GET('/podcasts/{id}/rss.xml', { params: { path: { id } }, parseAs: 'text' });
    if (data === undefined) return unwrap(Promise.resolve({ data, error, response })) as Promise<string>;
    return data as unknown as string;
  };
  return {
    /** Creates a podcast; its feed exists from now (`feed_url`). */
    create: (body: CreatePodcastRequest): Promise<Podcast> => unwrap(raw.POST('/v1/podcasts', { body })),
    get,
    /** One page of your podcasts, newest first. */
    list,
    iterate: (query: Omit<ListPodcastsQuery, 'starting_after'> = {}): AsyncGenerator<Podcast> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    update: (id: string, body: UpdatePodcastRequest): Promise<Podcast> =>
      unwrap(raw.PATCH('/v1/podcasts/{id}', { params: { path: { id } }, body })),
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/podcasts/{id}', { params: { path: { id } } })),
    feed,
    /** Fetches the public feed and checks it against the rules podcast apps apply. */
    validateFeed: async (id: string): Promise<FeedReport & { feed_url: string }> => {
      const podcast = await get(id);
      const report = await validatePodcastFeed(await feed(id), { feedUrl: podcast.feed_url });
      return { ...report, feed_url: podcast.feed_url };
    },
    /** Mints a personal feed URL for one listener (shown once). */
    createFeedToken: (id: string, userId: string): Promise<PodcastFeedToken> =>
      unwrap(raw.POST('/v1/podcasts/{id}/feed-tokens', { params: { path: { id } }, body: { user_id: userId } })),
    /** Your own personal feed URL of a subscribers-only podcast your subscription unlocks (shown once). */
    createMyFeed: (id: string): Promise<PodcastFeedToken> =>
      unwrap(raw.POST('/v1/podcasts/{id}/personal-feed', { params: { path: { id } } })),
    revokeFeedToken: (id: string, tokenId: string): Promise<void> =>
      unwrapEmpty(raw.DELETE('/v1/podcasts/{id}/feed-tokens/{token_id}', { params: { path: { id, token_id: tokenId } } })),
  };
}

export function episodesApi({ raw }: ApiContext) {
  const list = (podcastId: string, query: ListEpisodesQuery = {}): Promise<EpisodeList> =>
    unwrap(raw.GET('/v1/podcasts/{id}/episodes', { params: { path: { id: podcastId }, query } }));
  return {
    /** Adds an episode from an upload (`upload_id`) or an external MP3 (`media_url`); published now unless `draft` or a future `published_at`. */
    create: (podcastId: string, body: CreateEpisodeRequest): Promise<Episode> =>
      unwrap(raw.POST('/v1/podcasts/{id}/episodes', { params: { path: { id: podcastId } }, body })),
    list,
    get: (id: string): Promise<Episode> => unwrap(raw.GET('/v1/episodes/{id}', { params: { path: { id } } })),
    update: (id: string, body: UpdateEpisodeRequest): Promise<Episode> =>
      unwrap(raw.PATCH('/v1/episodes/{id}', { params: { path: { id } }, body })),
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/episodes/{id}', { params: { path: { id } } })),
    /** Publishes a draft or scheduled episode now. */
    publish: (id: string): Promise<Episode> => unwrap(raw.POST('/v1/episodes/{id}/publish', { params: { path: { id } } })),
  };
}
