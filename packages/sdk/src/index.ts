export { createDjcastClient, type DjcastClient, type DjcastClientOptions, type Health } from './client.js';
export {
  DjcastApiError,
  DjcastConnectionError,
  isDjcastApiError,
  isDjcastConnectionError,
  parseRetryAfterSeconds,
  type FieldError,
  type Problem,
} from './errors.js';
export type { RawClient } from './api/context.js';
export type { RegisterRequest, RegisterResponse, User } from './api/auth.js';
export type { ApiToken, CreatedApiToken, CreateTokenRequest, Scope } from './api/tokens.js';
export type {
  CreateStreamRequest,
  ListStreamsQuery,
  Stream,
  StreamList,
  StreamLiveStatus,
  StreamStatus,
  UpdateStreamRequest,
} from './api/streams.js';
export type { Credentials, TokenPair } from './session.js';
export type { FetchLike, RetryInfo, Sleep } from './transport.js';
export { paginate, type Page } from './pagination.js';
export type { components, operations, paths } from './generated/openapi.js';
export { SCOPES, STREAM_STATUSES, STREAM_VISIBILITIES } from './enums.js';
