import { createClient } from './openapi-fetch.js';
import { authApi, loginTokens, meApi, refreshTokens } from './api/auth.js';
import { type ApiContext, type RawClient, unwrap } from './api/context.js';
import { playlistsApi } from './api/playlists.js';
import { episodesApi, podcastsApi } from './api/podcasts.js';
import { artworksApi } from './api/artworks.js';
import { streamsApi } from './api/streams.js';
import { analyticsApi } from './api/analytics.js';
import { tokensApi } from './api/tokens.js';
import { uploadsApi } from './api/uploads.js';
import { eventsApi, webhooksApi } from './api/webhooks.js';
import { domainsApi } from './api/domains.js';
import { payoutsApi, plansApi, subscriptionsApi } from './api/billing.js';
import { adsApi } from './api/ads.js';
import type { components, paths } from './generated/openapi.js';
import { type Credentials, Session, type TokenPair, withSession } from './session.js';
import {
  DEFAULT_RETRY_POLICY,
  type FetchLike,
  type RetryInfo,
  type RetryPolicy,
  type Sleep,
  withIdempotencyKeys,
  withRetries,
} from './transport.js';

export type Health = components['schemas']['Health'];

export interface DjcastClientOptions {
  /** The API's origin, e.g. `https://api.djcast.dev` or `http://localhost:8787`. */
  baseUrl: string;
  /** An access token from a login, or an API token (djc_…) for CI. */
  token?: string;
  /** Lets the client renew an expired access token (rotating this refresh token). */
  refreshToken?: string;
  /** Logs in on first use and again whenever the session cannot be refreshed. */
  credentials?: Credentials;
  /** Called with every new token pair, e.g. to persist the rotated refresh token. */
  onTokens?: (tokens: TokenPair) => void | Promise<void>;
  /** Defaults to the global fetch. Tests pass a server's `app.fetch`. */
  fetch?: FetchLike;
  /** Retries after the first attempt for 429, 5xx and network errors (replay-safe requests only). Default 2. */
  retries?: number;
  /** Per-attempt timeout in milliseconds. None by default. */
  timeoutMs?: number;
  /** How the client waits between attempts and between polls (`uploads.waitUntilReady`); tests inject a fake. */
  sleep?: Sleep;
  /** Told about every retry before its wait, e.g. to print "retrying in 2 s". */
  onRetry?: (info: RetryInfo) => void;
  /** Fine-tuning of the backoff. */
  retryPolicy?: Partial<Pick<RetryPolicy, 'minDelayMs' | 'maxDelayMs' | 'maxRetryAfterMs' | 'random'>>;
  /** Headers sent on every request, e.g. a User-Agent. */
  headers?: Record<string, string>;
}

export type DjcastClient = ReturnType<typeof createDjcastClient>;

/**
 * The typed djcast client. `raw` is openapi-fetch over the generated paths
 * (`client.raw.GET('/v1/streams/{id}', { params: { path: { id } } })`); the
 * grouped methods return the parsed body or throw a DjcastApiError.
 */
export function createDjcastClient(options: DjcastClientOptions) {
  const policy: RetryPolicy = {
    ...DEFAULT_RETRY_POLICY,
    ...options.retryPolicy,
    retries: options.retries ?? DEFAULT_RETRY_POLICY.retries,
    timeoutMs: options.timeoutMs,
    sleep: options.sleep ?? DEFAULT_RETRY_POLICY.sleep,
    onRetry: options.onRetry,
  };
  const baseFetch: FetchLike = options.fetch ?? ((request) => globalThis.fetch(request));
  const transport = withRetries(baseFetch, policy);
  const clientOptions = { baseUrl: options.baseUrl.replace(/\/+$/, ''), headers: options.headers };

  const anon: RawClient = createClient<paths>({ ...clientOptions, fetch: transport });
  const session = new Session(options, {
    refresh: (refreshToken) => refreshTokens(anon, refreshToken),
    login: (credentials) => loginTokens(anon, credentials),
  });
  const raw: RawClient = createClient<paths>({ ...clientOptions, fetch: withSession(withIdempotencyKeys(transport), session) });

  // For a stream body, fetch(url, init) rather than fetch(request): given a
  // Request, fetch copies it, piping the body through a stream that reads ahead.
  const send = (url: string, init: RequestInit): Promise<Response> =>
    options.fetch ? Promise.resolve(options.fetch(new Request(url, init))) : globalThis.fetch(url, init);

  const ctx: ApiContext = { raw, anon, session, send, policy };
  return {
    raw,
    auth: authApi(ctx),
    me: meApi(ctx),
    tokens: tokensApi(ctx),
    streams: streamsApi(ctx),
    uploads: uploadsApi(ctx),
    /** Artwork for stream and playlist pages. */
    artworks: artworksApi(ctx),
    playlists: playlistsApi(ctx),
    webhooks: webhooksApi(ctx),
    events: eventsApi(ctx),
    podcasts: podcastsApi(ctx),
    episodes: episodesApi(ctx),
    analytics: analyticsApi(ctx),
    domains: domainsApi(ctx),
    plans: plansApi(ctx),
    subscriptions: subscriptionsApi(ctx),
    payouts: payoutsApi(ctx),
    ads: adsApi(ctx),
    /** Liveness, server version and which backend is live for each concern. */
    health: (): Promise<Health> => unwrap(anon.GET('/healthz')),
    /** The tokens this client currently holds (after any login or refresh). */
    getTokens: (): { accessToken: string | undefined; refreshToken: string | undefined } => ({
      accessToken: session.accessToken,
      refreshToken: session.refreshToken,
    }),
  };
}
