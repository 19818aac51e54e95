import {
  createPlaylistRequestVisibilityValues,
  createStreamRequestVisibilityValues,
  eventTypeValues,
  scopeValues,
  streamStatusValues,
  uploadStatusValues,
  type components,
} from './generated/openapi.js';

type Schemas = components['schemas'];

/** Every scope an API token can hold, from the OpenAPI document. */
export const SCOPES: readonly Schemas['Scope'][] = scopeValues;
export const STREAM_STATUSES: readonly Schemas['StreamStatus'][] = streamStatusValues;
export const STREAM_VISIBILITIES: readonly NonNullable<Schemas['CreateStreamRequest']['visibility']>[] =
  createStreamRequestVisibilityValues;
export const UPLOAD_STATUSES: readonly Schemas['UploadStatus'][] = uploadStatusValues;
export const PLAYLIST_VISIBILITIES: readonly NonNullable<Schemas['CreatePlaylistRequest']['visibility']>[] =
  createPlaylistRequestVisibilityValues;
export const EVENT_TYPES: readonly Schemas['EventType'][] = eventTypeValues;
