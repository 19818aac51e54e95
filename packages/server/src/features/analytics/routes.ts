import type { Context } from 'hono';
import { DomainError } from '../../core/errors.js';
import { principalOf } from '../../http/auth.js';
import type { App, AppEnv } from '../../http/env.js';
import { json, securedRoute } from '../../http/openapi.js';
import { csvStream, wantsCsv } from './csv.js';
import { MAX_RANGE_DAYS, addDays, dayOf, rangeLength, type DayRange } from './days.js';
import {
  AdAnalyticsSchema,
  AdsQuery,
  PlaylistAnalyticsSchema,
  PlaylistIdParam,
  PodcastAnalyticsSchema,
  PodcastIdParam,
  RangeQuery,
  StreamAnalyticsSchema,
  StreamIdParam,
} from './schemas.js';
import { AnalyticsService } from './service.js';

const tags = ['analytics'];
const csv = { 'text/csv': { schema: { type: 'string' as const } } };
const csvHeaders = {
  'Content-Disposition': {
    schema: { type: 'string' as const },
    description: 'CSV only: `attachment; filename="djcast-<kind>-<id>-<from>-<to>.csv"`.',
  },
};
const RANGE_RULES =
  'Days are UTC calendar days, both ends included; `from` after `to`, a range longer than 366 days or a date that is not ' +
  'YYYY-MM-DD is a 400. Answers read only the daily aggregates the fold job writes (every few minutes), never raw events.';

const streamAnalytics = securedRoute('analytics:read', {
  method: 'get',
  path: '/v1/analytics/streams/{id}',
  operationId: 'getStreamAnalytics',
  tags,
  summary: 'Daily listeners of a live stream, its peak and listening hours, and who listens now',
  description:
    'A listener session is an HLS player (playback token, else signed-in user, else address + user agent) fetching the live ' +
    'playlist with no gap longer than two target durations; it lasts from the first fetch to one target duration after the last. ' +
    '`unique_listeners` counts distinct listeners whose session started that day; `peak_concurrent` is the highest listener count ' +
    'the relay reported in a heartbeat that day (HLS sessions plus listeners connected to the source directly); ' +
    '`current_listeners` comes from the latest heartbeat. ' +
    RANGE_RULES,
  request: { params: StreamIdParam, query: RangeQuery },
  responses: { 200: { description: 'The analytics', headers: csvHeaders, content: { ...json(StreamAnalyticsSchema), ...csv } } },
});

const playlistAnalytics = securedRoute('analytics:read', {
  method: 'get',
  path: '/v1/analytics/playlists/{id}',
  operationId: 'getPlaylistAnalytics',
  tags,
  summary: 'Plays of a playlist per day',
  description:
    'A play is a listener session that received at least 30 seconds of audio: on HLS, a player fetching the manifest and segments ' +
    'with no gap longer than two target durations (its audio is the time from the first fetch to one target duration after the ' +
    'last); on stream.mp3, one connection, its audio computed from the bytes it was sent. ' +
    RANGE_RULES,
  request: { params: PlaylistIdParam, query: RangeQuery },
  responses: {
    200: { description: 'The analytics', headers: csvHeaders, content: { ...json(PlaylistAnalyticsSchema), ...csv } },
  },
});

const podcastAnalytics = securedRoute('analytics:read', {
  method: 'get',
  path: '/v1/analytics/podcasts/{id}',
  operationId: 'getPodcastAnalytics',
  tags,
  summary: 'Downloads of a podcast per day, in total and per episode (IAB rules)',
  description:
    'Downloads are counted from the enclosure URLs’ counting redirect the way the IAB Tech Lab podcast measurement guidelines ' +
    'count them: requests are grouped by episode, client address (an IPv6 address by its /64 prefix) and user agent; known bots ' +
    '(the `isbot` list) and requests without a user agent are left out; a group counts one download once its requests asked for at ' +
    'least one minute of audio (by their byte ranges; no Range means the whole file), so `bytes=0-1` probes never count; after a ' +
    'download the same group counts nothing more for 24 hours. A download belongs to the day it reached the minute. ' +
    'CSV metrics: `downloads` (all episodes) and `downloads:<episode id>`. ' +
    RANGE_RULES,
  request: { params: PodcastIdParam, query: RangeQuery },
  responses: { 200: { description: 'The analytics', headers: csvHeaders, content: { ...json(PodcastAnalyticsSchema), ...csv } } },
});

const adAnalytics = securedRoute('analytics:read', {
  method: 'get',
  path: '/v1/analytics/ads',
  operationId: 'getAdAnalytics',
  tags,
  summary: 'Ad impressions and completion rate of a playlist’s or a stream’s ad markers, per day and per marker',
  description:
    'Give `playlist` or `stream` (one of them). An impression is a listener session that started playing an ad marker (MP3 or ' +
    'HLS, once per session and marker); a completion is one of those sessions that played the ad to its end. Both count on the ' +
    'day the impression started; `completion_rate` is completions / impressions (null without impressions). ' +
    'CSV metrics: `impressions`, `completions`, `completion_rate` (all markers), and the same suffixed `:<marker id>`; a rate ' +
    'without impressions is an empty value. ' +
    RANGE_RULES,
  request: { query: AdsQuery },
  responses: { 200: { description: 'The analytics', headers: csvHeaders, content: { ...json(AdAnalyticsSchema), ...csv } } },
});

/** The range asked for, with defaults (the last 30 days to today), checked. */
export function resolveRange(query: { from?: string | undefined; to?: string | undefined }, now: Date): DayRange {
  const to = query.to ?? dayOf(now);
  const from = query.from ?? addDays(to, -29);
  if (from > to) {
    throw new DomainError('validation_failed', '`from` is after `to`.', {
      errors: [{ path: 'from', message: `must be on or before to (${to})` }],
    });
  }
  if (rangeLength({ from, to }) > MAX_RANGE_DAYS) {
    throw new DomainError('validation_failed', `The range is longer than ${MAX_RANGE_DAYS} days; ask for a year at most.`, {
      errors: [{ path: 'to', message: `must be at most ${MAX_RANGE_DAYS - 1} days after from` }],
    });
  }
  return { from, to };
}

export function registerAnalyticsRoutes(app: App, service: AnalyticsService, clock: () => Date): void {
  const answer = <T extends Parameters<typeof AnalyticsService.csvRows>[0]>(
    c: Context<AppEnv>,
    kind: string,
    id: string,
    range: DayRange,
    format: string | undefined,
    body: T,
  ) => {
    if (!wantsCsv(format, c.req.header('accept'))) return c.json(body, 200);
    return new Response(csvStream(AnalyticsService.csvRows(body)), {
      status: 200,
      headers: {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="djcast-${kind}-${id}-${range.from}-${range.to}.csv"`,
        'Cache-Control': 'private, no-store',
      },
    });
  };

  app.openapi(streamAnalytics, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const range = resolveRange(query, clock());
    return answer(c, 'stream', id, range, query.format, await service.stream(principalOf(c), id, range));
  });
  app.openapi(playlistAnalytics, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const range = resolveRange(query, clock());
    return answer(c, 'playlist', id, range, query.format, await service.playlist(principalOf(c), id, range));
  });
  app.openapi(podcastAnalytics, async (c) => {
    const { id } = c.req.valid('param');
    const query = c.req.valid('query');
    const range = resolveRange(query, clock());
    return answer(c, 'podcast', id, range, query.format, await service.podcast(principalOf(c), id, range));
  });
  app.openapi(adAnalytics, async (c) => {
    const query = c.req.valid('query');
    if ((query.playlist === undefined) === (query.stream === undefined)) {
      throw new DomainError('validation_failed', 'Give either `playlist` or `stream`.', {
        errors: [{ path: 'playlist', message: 'give exactly one of playlist and stream' }],
      });
    }
    const scope = query.playlist
      ? { kind: 'playlist' as const, id: query.playlist }
      : { kind: 'stream' as const, id: query.stream! };
    const range = resolveRange(query, clock());
    return answer(c, `ads-${scope.kind}`, scope.id, range, query.format, await service.ads(principalOf(c), scope, range));
  });
}
