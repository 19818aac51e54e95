import type { components, operations } from '../generated/openapi.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type AdMarker = Schemas['AdMarker'];
export type AdMarkerList = Schemas['AdMarkerList'];
export type CreatePlaylistAdMarkerRequest = Schemas['CreatePlaylistAdMarkerRequest'];
export type CreateStreamAdMarkerRequest = Schemas['CreateStreamAdMarkerRequest'];
export type AdBreak = Schemas['AdBreak'];
export type CreateAdBreakRequest = Schemas['CreateAdBreakRequest'];
export type AdMarkerPageQuery = NonNullable<operations['listPlaylistAdMarkers']['parameters']['query']>;

export function adsApi({ raw }: ApiContext) {
  return {
    /** A mid-roll (or pre-roll) in a playlist; its audio is normalized in the background (`status`). */
    addToPlaylist: (playlistId: string, body: CreatePlaylistAdMarkerRequest): Promise<AdMarker> =>
      unwrap(raw.POST('/v1/playlists/{id}/ad-markers', { params: { path: { id: playlistId } }, body })),
    /** An ad for a live stream: scheduled (`starts_at`), on demand, or a pre-roll. */
    addToStream: (streamId: string, body: CreateStreamAdMarkerRequest): Promise<AdMarker> =>
      unwrap(raw.POST('/v1/streams/{id}/ad-markers', { params: { path: { id: streamId } }, body })),
    listForPlaylist: (playlistId: string, query: AdMarkerPageQuery = {}): Promise<AdMarkerList> =>
      unwrap(raw.GET('/v1/playlists/{id}/ad-markers', { params: { path: { id: playlistId }, query } })),
    listForStream: (streamId: string, query: AdMarkerPageQuery = {}): Promise<AdMarkerList> =>
      unwrap(raw.GET('/v1/streams/{id}/ad-markers', { params: { path: { id: streamId }, query } })),
    get: (id: string): Promise<AdMarker> => unwrap(raw.GET('/v1/ad-markers/{id}', { params: { path: { id } } })),
    /** Starts a live ad break now (the stream must be live); the relay plays it from its next heartbeat. */
    startBreak: (streamId: string, body: CreateAdBreakRequest): Promise<AdBreak> =>
      unwrap(raw.POST('/v1/streams/{id}/ad-breaks', { params: { path: { id: streamId } }, body })),
    /** Removes the marker; listeners stop hearing the ad at once. */
    remove: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/ad-markers/{id}', { params: { path: { id } } })),
  };
}
