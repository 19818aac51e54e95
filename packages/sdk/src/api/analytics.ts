import type { components } from '../generated/openapi.js';
import { type ApiContext, unwrap } from './context.js';

type Schemas = components['schemas'];
export type StreamAnalytics = Schemas['StreamAnalytics'];
export type PlaylistAnalytics = Schemas['PlaylistAnalytics'];
export type PodcastAnalytics = Schemas['PodcastAnalytics'];
export type AdAnalytics = Schemas['AdAnalytics'];
/** Whose ads: a playlist's or a live stream's markers (one of the two). */
export type AdAnalyticsScope = { playlist: string; stream?: never } | { stream: string; playlist?: never };
/** Days are UTC, YYYY-MM-DD, both ends included; at most 366 days. Defaults: the 30 days up to today. */
export interface AnalyticsRange {
  from?: string;
  to?: string;
}

export function analyticsApi({ raw }: ApiContext) {
  /** The CSV export (`date,metric,value`) of one analytics route, as text. */
  const csv = async (
    path: '/v1/analytics/streams/{id}' | '/v1/analytics/playlists/{id}' | '/v1/analytics/podcasts/{id}',
    id: string,
    range: AnalyticsRange,
  ): Promise<string> => {
    const { data, error, response } = await raw.GET(path, {
      params: { path: { id }, query: { ...range, format: 'csv' } },
      parseAs: 'text',
    });
    if (!response.ok) return unwrap(Promise.resolve({ data, error, response })) as Promise<string>;
    return data as unknown as string;
  };
  return {
    /** Daily unique listeners and peak concurrent listeners, listening hours and current listeners of a stream. */
    stream: (id: string, range: AnalyticsRange = {}): Promise<StreamAnalytics> =>
      unwrap(raw.GET('/v1/analytics/streams/{id}', { params: { path: { id }, query: range } })) as Promise<StreamAnalytics>,
    /** Plays (sessions with at least 30 s of audio) per day of a playlist. */
    playlist: (id: string, range: AnalyticsRange = {}): Promise<PlaylistAnalytics> =>
      unwrap(raw.GET('/v1/analytics/playlists/{id}', { params: { path: { id }, query: range } })) as Promise<PlaylistAnalytics>,
    /** Downloads per day, in total and per episode, counted the IAB way. */
    podcast: (id: string, range: AnalyticsRange = {}): Promise<PodcastAnalytics> =>
      unwrap(raw.GET('/v1/analytics/podcasts/{id}', { params: { path: { id }, query: range } })) as Promise<PodcastAnalytics>,
    /** Ad impressions, completions and completion rate per day, in total and per marker, of a playlist or a stream. */
    ads: (scope: AdAnalyticsScope, range: AnalyticsRange = {}): Promise<AdAnalytics> =>
      unwrap(raw.GET('/v1/analytics/ads', { params: { query: { ...scope, ...range } } })) as Promise<AdAnalytics>,
    /** The CSV export (`date,metric,value`) of the ad analytics, as text. */
    adsCsv: async (scope: AdAnalyticsScope, range: AnalyticsRange = {}): Promise<string> => {
      const { data, error, response } = await raw.GET('/v1/analytics/ads', {
        params: { query: { ...scope, ...range, format: 'csv' } },
        parseAs: 'text',
      });
      if (!response.ok) return unwrap(Promise.resolve({ data, error, response })) as Promise<string>;
      return data as unknown as string;
    },
    streamCsv: (id: string, range: AnalyticsRange = {}) => csv('/v1/analytics/streams/{id}', id, range),
    playlistCsv: (id: string, range: AnalyticsRange = {}) => csv('/v1/analytics/playlists/{id}', id, range),
    podcastCsv: (id: string, range: AnalyticsRange = {}) => csv('/v1/analytics/podcasts/{id}', id, range),
  };
}
