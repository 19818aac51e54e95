import type { components, operations } from '../generated/openapi.js';
import { paginate } from '../pagination.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type Stream = Schemas['Stream'];
export type StreamList = Schemas['StreamList'];
export type StreamStatus = Schemas['StreamStatus'];
export type StreamLiveStatus = Schemas['StreamLiveStatus'];
export type CreateStreamRequest = Schemas['CreateStreamRequest'];
export type UpdateStreamRequest = Schemas['UpdateStreamRequest'];
export type ListStreamsQuery = NonNullable<operations['listStreams']['parameters']['query']>;
export type StreamArchive = Schemas['StreamArchive'];
export type StreamArchiveList = Schemas['StreamArchiveList'];

export function streamsApi({ raw }: ApiContext) {
  const list = (query: ListStreamsQuery = {}): Promise<StreamList> => unwrap(raw.GET('/v1/streams', { params: { query } }));
  return {
    /** Registers a Shoutcast or Icecast source as a stream. */
    create: (body: CreateStreamRequest): Promise<Stream> => unwrap(raw.POST('/v1/streams', { body })),
    /** One page of your streams, newest first; pass `starting_after: page.next_cursor` for the next. */
    list,
    /** Every stream, page by page. */
    iterate: (query: Omit<ListStreamsQuery, 'starting_after'> = {}): AsyncGenerator<Stream> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    get: (id: string): Promise<Stream> => unwrap(raw.GET('/v1/streams/{id}', { params: { path: { id } } })),
    update: (id: string, body: UpdateStreamRequest): Promise<Stream> =>
      unwrap(raw.PATCH('/v1/streams/{id}', { params: { path: { id } }, body })),
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/streams/{id}', { params: { path: { id } } })),
    /** Live state from the relay: state, current track, bitrate, listeners. */
    status: (id: string): Promise<StreamLiveStatus> => unwrap(raw.GET('/v1/streams/{id}/status', { params: { path: { id } } })),
    /** Ends the live set being recorded; it becomes an episode of the stream's `archive_to_podcast`. */
    archive: (id: string): Promise<StreamArchive> => unwrap(raw.POST('/v1/streams/{id}/archive', { params: { path: { id } } })),
    /** The stream's recorded sets, newest first. */
    archives: (id: string): Promise<StreamArchiveList> =>
      unwrap(raw.GET('/v1/streams/{id}/archives', { params: { path: { id } } })),
  };
}
