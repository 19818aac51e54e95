import type { components, operations } from '../generated/openapi.js';
import { paginate } from '../pagination.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type Playlist = Schemas['Playlist'];
export type PlaylistList = Schemas['PlaylistList'];
export type PlaylistItem = Schemas['PlaylistItem'];
export type PlaylistItemInput = Schemas['PlaylistItemInput'];
export type CreatePlaylistRequest = Schemas['CreatePlaylistRequest'];
export type UpdatePlaylistRequest = Schemas['UpdatePlaylistRequest'];
export type ListPlaylistsQuery = NonNullable<operations['listPlaylists']['parameters']['query']>;

export interface PlaylistStreamUrls {
  /** HLS: one manifest over every track. */
  hls: string;
  /** One continuous MP3 stream (supports Range). */
  mp3: string;
}

export function playlistsApi({ raw }: ApiContext) {
  const list = (query: ListPlaylistsQuery = {}): Promise<PlaylistList> => unwrap(raw.GET('/v1/playlists', { params: { query } }));
  return {
    /**
     * Creates a playlist of your ready uploads (`{ upload_id }`) and external MP3 URLs (`{ url }`), in order.
     * A bad item is a 422 DjcastApiError whose `errors[].path` names it (`items.2.url`).
     */
    create: (body: CreatePlaylistRequest): Promise<Playlist> => unwrap(raw.POST('/v1/playlists', { body })),
    /** One playlist with its items and listen URLs. */
    get: (id: string): Promise<Playlist> => unwrap(raw.GET('/v1/playlists/{id}', { params: { path: { id } } })),
    /** One page of your playlists, newest first; pass `starting_after: page.next_cursor` for the next. */
    list,
    /** Every playlist, page by page. */
    iterate: (query: Omit<ListPlaylistsQuery, 'starting_after'> = {}): AsyncGenerator<Playlist> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    /** Renames it, changes visibility or monetization, or replaces the whole item list (in order). */
    update: (id: string, body: UpdatePlaylistRequest): Promise<Playlist> =>
      unwrap(raw.PATCH('/v1/playlists/{id}', { params: { path: { id } }, body })),
    /** Deletes the playlist; the uploads in it stay. */
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/playlists/{id}', { params: { path: { id } } })),
    streamUrls: playlistStreamUrls,
    itemInputs: playlistItemInputs,
  };
}

/**
 * A playlist's listen URLs, optionally with a playback `token` (private or
 * subscriber playlists) and, for the MP3 stream, a `startSeconds` to begin
 * at (the server starts at the nearest frame).
 */
export function playlistStreamUrls(
  playlist: Pick<Playlist, 'stream_m3u8_url' | 'stream_mp3_url'>,
  options: { token?: string; startSeconds?: number } = {},
): PlaylistStreamUrls {
  const withQuery = (url: string, query: Record<string, string | undefined>) => {
    const u = new URL(url);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) u.searchParams.set(key, value);
    return u.toString();
  };
  const start = options.startSeconds ? String(options.startSeconds) : undefined;
  return {
    hls: withQuery(playlist.stream_m3u8_url, { token: options.token }),
    mp3: withQuery(playlist.stream_mp3_url, { token: options.token, start }),
  };
}

/**
 * The inputs that recreate a playlist's items, in order. The API has no
 * per-item routes: `update(id, { items })` replaces the whole list, so
 * adding or removing a track is a read, an edit of this array, and an update.
 */
export function playlistItemInputs(playlist: Pick<Playlist, 'items'>): PlaylistItemInput[] {
  return playlist.items.map((item) => (item.upload_id ? { upload_id: item.upload_id } : { url: item.url ?? '' }));
}
