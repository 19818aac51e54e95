export { createDjcastClient, type DjcastClient, type DjcastClientOptions, type Health } from './client.js';
export {
  DjcastApiError,
  DjcastConnectionError,
  DjcastTimeoutError,
  DjcastUploadFailedError,
  isDjcastApiError,
  isDjcastConnectionError,
  isDjcastTimeoutError,
  isDjcastUploadFailedError,
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
export type { StreamArchive, StreamArchiveList } from './api/streams.js';
export type { Artwork, UploadArtworkOptions } from './api/artworks.js';
export type {
  CreateUploadOptions,
  CreateUploadQuery,
  ListUploadsQuery,
  Upload,
  UploadList,
  UploadStatus,
  WaitUntilReadyOptions,
} from './api/uploads.js';
export type { UploadInput, UploadStream } from './multipart.js';
export {
  playlistItemInputs,
  playlistStreamUrls,
  type CreatePlaylistRequest,
  type ListPlaylistsQuery,
  type Playlist,
  type PlaylistItem,
  type PlaylistItemInput,
  type PlaylistList,
  type PlaylistStreamUrls,
  type UpdatePlaylistRequest,
} from './api/playlists.js';
export {
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
  type CreatedWebhookEndpoint,
  type CreateWebhookEndpointRequest,
  type EventList,
  type EventOf,
  type EventStreamOptions,
  type EventType,
  type ListEventsQuery,
  type UpdateWebhookEndpointRequest,
  type WebhookDeliveryAttempt,
  type WebhookDeliveryAttemptList,
  type WebhookEndpoint,
  type WebhookEndpointList,
  type WebhookEvent,
  type WebhookHeaders,
  type WebhookOperations,
} from './api/webhooks.js';
export type {
  CreateEpisodeRequest,
  CreatePodcastRequest,
  Episode,
  EpisodeList,
  Podcast,
  PodcastFeedToken,
  PodcastList,
  UpdateEpisodeRequest,
  UpdatePodcastRequest,
} from './api/podcasts.js';
export type {
  AdAnalytics,
  AdAnalyticsScope,
  AnalyticsRange,
  PlaylistAnalytics,
  PodcastAnalytics,
  StreamAnalytics,
} from './api/analytics.js';
export { podcastGuidFor, validatePodcastFeed, type FeedProblem, type FeedReport } from './feed/validate.js';
export type { Credentials, TokenPair } from './session.js';
export type { FetchLike, RetryInfo, Sleep } from './transport.js';
export { paginate, type Page } from './pagination.js';
export type { components, operations, paths } from './generated/openapi.js';
export { EVENT_TYPES, PLAYLIST_VISIBILITIES, SCOPES, STREAM_STATUSES, STREAM_VISIBILITIES, UPLOAD_STATUSES } from './enums.js';
export type { CreateDomainRequest, Domain, DomainList, ListDomainsQuery } from './api/domains.js';
export type {
  BillingPortalLink,
  CreatePlanRequest,
  ListPlansQuery,
  ListSubscriptionsQuery,
  LocalSubscriptionState,
  PayoutAccount,
  PayoutSetup,
  Plan,
  PlanList,
  PublicPlanList,
  Subscription,
  SubscriptionList,
  UpdatePlanRequest,
} from './api/billing.js';
export type {
  AdBreak,
  AdMarker,
  AdMarkerList,
  AdMarkerPageQuery,
  CreatePlaylistAdMarkerRequest,
  CreateStreamAdMarkerRequest,
  CreateAdBreakRequest,
} from './api/ads.js';
