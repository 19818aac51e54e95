/**
 * Table types. Timestamps are ISO-8601 UTC strings written by the app (they
 * sort and compare the same on SQLite and Postgres); booleans are 0/1
 * integers; JSON is text. One schema, both dialects.
 */
export interface UsersTable {
  id: string;
  email: string;
  email_normalized: string;
  display_name: string | null;
  password_hash: string;
  role: 'dj' | 'listener' | 'admin';
  created_at: string;
  updated_at: string;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  token_prefix: string;
  scopes: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  created_at: string;
}

export interface RateLimitsTable {
  key: string;
  window_start: string;
  count: number;
}

export interface StreamsTable {
  id: string;
  owner_id: string;
  name: string;
  source_url: string;
  mount: string;
  visibility: 'public' | 'private';
  monetization_enabled: number;
  source_kind: string | null;
  source_username: string | null;
  /** AES-256-GCM ciphertext of the source password; never returned. */
  source_password_enc: string | null;
  status: string;
  created_at: string;
  updated_at: string;
  /** The podcast (pod_…) each live set is archived into as an episode; null: not archived. */
  archive_to_podcast: string | null;
  /** 1: the archived episode is published at once; 0: it stays a draft. */
  archive_auto_publish: number;
  /** The image its page shows (artworks.id); null: none. */
  artwork_id: string | null;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload: string;
  state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  attempts: number;
  max_attempts: number;
  run_after: string;
  locked_by: string | null;
  locked_until: string | null;
  last_error: string | null;
  /** Whose work this is: claims favour the owner with the fewest running jobs. */
  owner_id: string | null;
  /** The row the job works on; deleting that row cancels the job. */
  resource_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface OutboxTable {
  id: string;
  to_address: string;
  subject: string;
  body_text: string;
  kind: string;
  created_at: string;
  sent_at: string | null;
}

export interface RelaysTable {
  id: string;
  stream_id: string;
  /** SHA-256 of the per-relay token; the token itself only goes to the worker. */
  token_hash: string;
  state: 'starting' | 'live' | 'reconnecting' | 'offline' | 'stopped';
  source_kind: string | null;
  content_type: string | null;
  bitrate_kbps: number | null;
  current_track: string | null;
  /** Listeners connected to the source server directly, as the worker last reported. */
  source_listeners: number;
  cpu_usage: number | null;
  segment_lag_seconds: number | null;
  media_sequence: number | null;
  last_heartbeat_at: string | null;
  started_at: string;
  /** Set when the watchdog restarted a silent relay; cleared by its next heartbeat. */
  stalled_at: string | null;
  restarts: number;
  created_at: string;
  updated_at: string;
}

export interface StreamHlsSessionsTable {
  stream_id: string;
  session_key: string;
  last_seen_at: string;
}

export interface StreamListenerSamplesTable {
  stream_id: string;
  sampled_at: string;
  listener_count: number;
}

export interface UploadsTable {
  id: string;
  owner_id: string;
  title: string;
  original_filename: string | null;
  /** processing -> ready | failed | rejected (virus scan). */
  status: 'processing' | 'ready' | 'failed' | 'rejected';
  status_reason: string | null;
  /** Transcoding progress, 0-100. */
  progress: number;
  size_bytes: number;
  duration_seconds: number | null;
  bitrate_kbps: number | null;
  sample_rate: number | null;
  channels: number | null;
  /** The MP3 map for the continuous stream: audio frames are bytes audio_start..audio_end-1 of original.mp3. */
  audio_start: number | null;
  audio_end: number | null;
  /** JSON array: offset (from audio_start) of the frame nearest each whole second. */
  seek_index: string | null;
  /** JSON array of { uri, duration } for the HLS rendition, once ready. */
  hls_segments: string | null;
  hls_target_duration: number | null;
  created_at: string;
  updated_at: string;
  ready_at: string | null;
}

export interface PlaylistsTable {
  id: string;
  owner_id: string;
  title: string;
  visibility: 'public' | 'private';
  monetization_enabled: number;
  /** Bumped whenever what a listener hears changes; the playback ETag derives from it. */
  content_version: number;
  content_updated_at: string;
  /** The HLS manifest over the ready tracks, rebuilt with every content change. */
  manifest: string | null;
  /** The image its page shows (artworks.id); null: none. */
  artwork_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface PlaylistItemsTable {
  /** trk_… */
  id: string;
  playlist_id: string;
  position: number;
  /** Exactly one of upload_id and url is set. */
  upload_id: string | null;
  url: string | null;
  /** External tracks: pending until the background job fetched, probed and segmented them. Upload items are ready. */
  status: 'pending' | 'ready' | 'failed';
  status_reason: string | null;
  content_type: string | null;
  size_bytes: number | null;
  duration_seconds: number | null;
  bitrate_kbps: number | null;
  sample_rate: number | null;
  audio_start: number | null;
  audio_end: number | null;
  seek_index: string | null;
  hls_segments: string | null;
  hls_target_duration: number | null;
  /** External tracks: the origin's ETag and Last-Modified when the file was fetched and mapped (null when it sent none). */
  source_etag: string | null;
  source_last_modified: string | null;
  created_at: string;
  updated_at: string;
}

export interface IdempotencyKeysTable {
  user_id: string;
  /** The API token id, or `session` for the user's logins (migration 0009). */
  credential: string;
  key: string;
  request_hash: string;
  /** Null while the first request is still running. */
  status_code: number | null;
  content_type: string | null;
  response_body: string | null;
  created_at: string;
}

/** The event outbox: written in the transaction of the change that causes the event. */
export interface EventsTable {
  /** evt_…, time-sortable. */
  id: string;
  type: string;
  owner_id: string;
  /** The id of the object the event is about: deliveries to one endpoint keep its events in order. */
  object_id: string;
  /** The event as delivered (JSON): { id, type, created_at, data: { object } }. */
  payload: string;
  /** 1 once its deliveries were created. */
  fanned_out: number;
  created_at: string;
}

export interface WebhookEndpointsTable {
  id: string;
  owner_id: string;
  url: string;
  description: string | null;
  /** JSON array of event types, or ["*"]. */
  event_types: string;
  enabled: number;
  /** AES-256-GCM ciphertext of the signing secret (whsec_…). */
  secret_enc: string;
  /** After a rotation: the old secret, also signing until previous_secret_expires_at. */
  previous_secret_enc: string | null;
  previous_secret_expires_at: string | null;
  /** When deliveries to it began failing without a success since. */
  failing_since: string | null;
  disabled_reason: string | null;
  /** Bumped to take the row lock that serialises ordering decisions for the endpoint. */
  lock_seq: number;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  event_id: string;
  owner_id: string;
  /** The ordering key (the event's object); null for a manual resend, which is not ordered. */
  object_id: string | null;
  /** pending (a job will send it) | waiting (behind an earlier event of the same object) | succeeded | failed. */
  state: 'pending' | 'waiting' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  attempt: number;
  outcome: 'succeeded' | 'http_error' | 'timeout' | 'network_error' | 'not_allowed';
  status_code: number | null;
  latency_ms: number;
  /** The first KiB of the response body. */
  response_excerpt: string | null;
  error: string | null;
  created_at: string;
}

/** Images of stream and playlist pages (podcast artwork has its own table and rules). */
export interface ArtworksTable {
  /** art_… */
  id: string;
  owner_id: string;
  storage_key: string;
  content_type: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  size_bytes: number;
  created_at: string;
}

export interface PodcastArtworksTable {
  /** art_… */
  id: string;
  owner_id: string;
  storage_key: string;
  content_type: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  size_bytes: number;
  created_at: string;
}

export interface PodcastsTable {
  id: string;
  owner_id: string;
  title: string;
  description: string;
  author: string;
  owner_email: string | null;
  language: string;
  /** One of Apple's categories, and optionally one of its subcategories. */
  category: string;
  subcategory: string | null;
  explicit: number;
  podcast_type: 'episodic' | 'serial';
  visibility: 'public' | 'private';
  monetization_enabled: number;
  /** podcast:locked: other hosts may not import this feed. */
  locked: number;
  artwork_id: string | null;
  /** The RSS document, rebuilt in the transaction of every podcast or episode change. */
  feed_xml: string | null;
  feed_etag: string | null;
  feed_updated_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface EpisodesTable {
  id: string;
  podcast_id: string;
  /** Fixed at creation; never changes, even when the media is replaced. */
  guid: string;
  title: string;
  /** Sanitized HTML. */
  description: string;
  /** Exactly one of upload_id and media_url is set. */
  upload_id: string | null;
  media_url: string | null;
  media_type: string;
  /** The enclosure length: the stored MP3's exact size, or what the external host reported. */
  media_bytes: number;
  duration_seconds: number | null;
  season: number | null;
  episode_number: number | null;
  episode_type: 'full' | 'trailer' | 'bonus';
  /** Null: as the podcast. */
  explicit: number | null;
  /** JSON array of { start_time, title } (podcast:chapters). */
  chapters: string | null;
  /** draft -> scheduled -> published. */
  status: 'draft' | 'scheduled' | 'published';
  published_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface PodcastFeedTokensTable {
  /** pft_… */
  id: string;
  podcast_id: string;
  /** The listener the personal feed belongs to. */
  user_id: string;
  /** SHA-256 of the token; the token itself is shown once. */
  token_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface EpisodeDownloadsTable {
  id: string;
  episode_id: string;
  podcast_id: string;
  user_id: string | null;
  address: string;
  user_agent: string | null;
  range: string | null;
  created_at: string;
}

/** A listener session (features/analytics/sessions.ts defines one); raw, deleted after the retention. */
export interface ListenerSessionsTable {
  id: string;
  resource_kind: 'stream' | 'playlist';
  resource_id: string;
  protocol: 'hls' | 'mp3';
  /** Hashed: a playback token, a user id, or address + user agent. */
  listener_key: string;
  started_at: string;
  ended_at: string;
  bytes: number | string;
  audio_ms: number | string;
}

/** One value of one daily metric; `sub_id` is an episode id for per-episode downloads, else ''. */
export interface AnalyticsDailyTable {
  resource_id: string;
  day: string;
  metric: string;
  sub_id: string;
  resource_kind: string;
  value: number;
}

export interface AnalyticsFoldStateTable {
  id: string;
  folded_at: string;
}

export interface StreamArchivesTable {
  /** arc_… */
  id: string;
  stream_id: string;
  owner_id: string;
  podcast_id: string;
  /** recording (while live) -> processing -> done | failed | empty. */
  status: 'recording' | 'processing' | 'done' | 'failed' | 'empty';
  auto_publish: number;
  title: string;
  started_at: string;
  ended_at: string | null;
  /** The joined MP3, stored as an upload of the DJ's. */
  upload_id: string | null;
  episode_id: string | null;
  duration_seconds: number | null;
  bitrate_kbps: number | null;
  segment_count: number | null;
  /** JSON array of { start_time, title }. */
  chapters: string | null;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface Database {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  api_tokens: ApiTokensTable;
  rate_limits: RateLimitsTable;
  streams: StreamsTable;
  jobs: JobsTable;
  outbox: OutboxTable;
  uploads: UploadsTable;
  playlists: PlaylistsTable;
  playlist_items: PlaylistItemsTable;
  relays: RelaysTable;
  stream_hls_sessions: StreamHlsSessionsTable;
  stream_listener_samples: StreamListenerSamplesTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  podcast_artworks: PodcastArtworksTable;
  artworks: ArtworksTable;
  podcasts: PodcastsTable;
  episodes: EpisodesTable;
  podcast_feed_tokens: PodcastFeedTokensTable;
  episode_downloads: EpisodeDownloadsTable;
  listener_sessions: ListenerSessionsTable;
  analytics_daily: AnalyticsDailyTable;
  analytics_fold_state: AnalyticsFoldStateTable;
  domains: DomainsTable;
  domain_certificates: DomainCertificatesTable;
  acme_accounts: AcmeAccountsTable;
  acme_challenges: AcmeChallengesTable;
  plans: PlansTable;
  subscriptions: SubscriptionsTable;
  billing_events: BillingEventsTable;
  payout_accounts: PayoutAccountsTable;
  stream_archives: StreamArchivesTable;
  ad_renditions: AdRenditionsTable;
  ad_markers: AdMarkersTable;
  ad_impressions: AdImpressionsTable;
  ad_breaks: AdBreaksTable;
  ad_live_sessions: AdLiveSessionsTable;
}

export type DomainState = 'pending_verification' | 'verified' | 'issuing' | 'active' | 'failed';

export interface DomainsTable {
  id: string;
  owner_id: string;
  podcast_id: string;
  /** ASCII (punycode) form, lower case, no trailing dot. */
  hostname: string;
  state: DomainState;
  failure_reason: string | null;
  txt_name: string;
  txt_value: string;
  cname_target: string;
  /** The DNS provider that created the CNAME (null: the DJ creates it). */
  cname_managed_by: string | null;
  /** JSON { txt: string[], cname: string[] }: what the last check found. */
  records_found: string;
  last_checked_at: string | null;
  verified_at: string | null;
  unverified_notice_sent_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface PlansTable {
  /** pln_… */
  id: string;
  owner_id: string;
  name: string;
  description: string | null;
  price_cents: number;
  currency: string;
  billing_interval: 'month' | 'year';
  /** A JSON array of feature names: JSONB on Postgres (read back as an array), JSON text on SQLite. */
  features: string | string[];
  /** 1: every monetized stream, playlist and podcast of the DJ; 0: only `unlocked_ids`. */
  unlocks_all: number;
  /** A JSON array of resource ids the plan unlocks (besides everything, when unlocks_all). */
  unlocked_ids: string;
  status: 'pending' | 'active' | 'archived';
  provider: 'local' | 'stripe';
  provider_product_id: string | null;
  provider_price_id: string | null;
  /** The DJ's connected account the product and price live on (Stripe Connect); null in local mode. */
  provider_account_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface DomainCertificatesTable {
  domain_id: string;
  hostname: string;
  cert_pem: string;
  /** The private key, sealed with the field cipher. */
  key_sealed: string;
  not_before: string;
  not_after: string;
  created_at: string;
  updated_at: string;
}

export interface SubscriptionsTable {
  /** sub_… */
  id: string;
  plan_id: string;
  listener_id: string;
  /** The plan's owner, copied so the paywall finds a listener's subscriptions to one DJ with one index. */
  dj_id: string;
  status: 'pending' | 'incomplete' | 'active' | 'past_due' | 'unpaid' | 'expired' | 'canceled';
  /** The price the listener subscribed at: a later price change does not move them. */
  price_cents: number;
  currency: string;
  billing_interval: 'month' | 'year';
  cancel_at_period_end: number;
  current_period_end: string | null;
  canceled_at: string | null;
  provider: 'local' | 'stripe';
  provider_customer_id: string | null;
  provider_subscription_id: string | null;
  checkout_url: string | null;
  /** The provider's own timestamp of the last state applied: older events never roll it back. */
  provider_updated_at: string | null;
  /** The DJ's connected account the subscription lives on (the plan's); null in local mode. */
  provider_account_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface PayoutAccountsTable {
  /** The DJ (one connected account each). */
  user_id: string;
  provider: 'stripe';
  /** acct_… */
  account_id: string;
  charges_enabled: number;
  payouts_enabled: number;
  details_submitted: number;
  /** A JSON array of the requirement names Stripe says are currently due. */
  requirements_due: string;
  disabled_reason: string | null;
  /** When Stripe's state was read (event created, or a fetch): older account.updated events never roll it back. */
  provider_updated_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface AcmeAccountsTable {
  directory_url: string;
  key_sealed: string;
  account_url: string | null;
  created_at: string;
}

export interface AcmeChallengesTable {
  token: string;
  key_authorization: string;
  hostname: string;
  created_at: string;
}

export interface BillingEventsTable {
  /** The provider's event id (evt_… at Stripe). */
  id: string;
  type: string;
  received_at: string;
}

/** One normalized ad source: transcoded to a target format, loudness-normalized, cut or padded to its duration. */
export interface AdRenditionsTable {
  /** Derived from owner, source and target: the same source in the same format is normalized once. */
  id: string;
  owner_id: string;
  source_upload_id: string | null;
  source_url: string | null;
  /** JSON of the target format (codec, sample rate, bitrate, channels, duration). */
  target: string;
  status: 'pending' | 'ready' | 'failed';
  reason: string | null;
  mp3_key: string | null;
  audio_start: number | null;
  audio_end: number | null;
  /** JSON array: offsets (from audio_start) of the frame nearest each whole second. */
  seek_index: string | null;
  duration_seconds: number | null;
  hls_prefix: string | null;
  /** JSON array of { uri, duration }. */
  hls_segments: string | null;
  created_at: string;
  updated_at: string;
}

export interface AdMarkersTable {
  id: string;
  owner_id: string;
  playlist_id: string | null;
  stream_id: string | null;
  kind: 'pre-roll' | 'mid-roll';
  /** Playlists: where in the programme the ad goes. */
  position_seconds: number | null;
  /** Streams: when a scheduled break starts (null: on demand only). */
  starts_at: string | null;
  duration_seconds: number;
  source_upload_id: string | null;
  source_url: string | null;
  rendition_id: string;
  created_at: string;
  /** Scheduled markers: when the relay reported it took the break on (played or failed); never offered again. */
  taken_at?: string | null;
}

export interface AdImpressionsTable {
  id: string;
  marker_id: string;
  owner_id: string;
  /** The playlist or stream the ad played in. */
  resource_id: string;
  session_id: string;
  listener_id: string | null;
  started_at: string;
  completed_at: string | null;
}

/** A live ad break started on a stream (migration 0019). */
export interface AdBreaksTable {
  id: string;
  owner_id: string;
  stream_id: string;
  /** The stream ad marker whose normalized audio plays. */
  marker_id: string;
  duration_seconds: number;
  created_at: string;
  /** After this the relay is no longer told about the break (it never started, e.g. the stream went offline). */
  expires_at: string;
  /** When the relay reported it took the break on (played or failed); never offered again. */
  taken_at?: string | null;
}

/** A listener session of a stream with a pre-roll (its own playlist: the ad, then the live window). */
export interface AdLiveSessionsTable {
  stream_id: string;
  /** relays/service.ts sessionKeyFor: playback token, signed-in user, or address + user agent (hashed). */
  session_key: string;
  /** The impression's session id. */
  session_id: string;
  marker_id: string;
  started_at: string;
  last_seen_at: string;
  /** The relay segment the listener joins the live window at, once the whole ad is listed. */
  live_msn: number | null;
  /** That segment's discontinuity sequence number in the relay's playlist. */
  live_dsn: number | null;
  completed_at: string | null;
}
