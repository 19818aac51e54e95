import { z } from '@hono/zod-openapi';
import { isCalendarDay } from './days.js';

const idParam = (prefix: string, what: string, example: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be ${what} id (${prefix}_…)`)
      .openapi({ param: { name: 'id', in: 'path' }, example }),
  });

export const StreamIdParam = idParam('str', 'a stream', 'str_01jd0v9m3x7k2p8q4r5s6t7u8v');
export const PlaylistIdParam = idParam('pls', 'a playlist', 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v');
export const PodcastIdParam = idParam('pod', 'a podcast', 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v');

const Day = z.string().refine(isCalendarDay, 'must be a calendar date written YYYY-MM-DD');

export const RangeQuery = z.object({
  from: Day.optional().openapi({
    description: 'First day (UTC), inclusive. Default: 29 days before `to`.',
    example: '2025-06-01',
  }),
  to: Day.optional().openapi({ description: 'Last day (UTC), inclusive. Default: today.', example: '2025-06-07' }),
  format: z
    .enum(['json', 'csv'])
    .optional()
    .openapi({ description: '`csv` answers `text/csv` (columns `date,metric,value`); so does `Accept: text/csv`.' }),
});

const DailyListeners = z.object({
  date: z.string().openapi({ example: '2025-06-01' }),
  unique_listeners: z.number().int().openapi({ description: 'Distinct listeners whose session started that day.' }),
  peak_concurrent: z.number().int().openapi({ description: 'The highest listener count the relay reported that day.' }),
  listening_hours: z.number(),
});

export const StreamAnalyticsSchema = z
  .object({
    stream_id: z.string(),
    from: z.string(),
    to: z.string(),
    current_listeners: z.number().int().openapi({ description: 'From the relay’s latest heartbeat (and live HLS sessions).' }),
    current_as_of: z.string().nullable().openapi({ description: 'When that heartbeat arrived.' }),
    peak_listeners: z.number().int().openapi({ description: 'The highest daily peak in the range.' }),
    total_listening_hours: z.number(),
    daily_listeners: z.array(DailyListeners),
  })
  .openapi('StreamAnalytics');

export const PlaylistAnalyticsSchema = z
  .object({
    playlist_id: z.string(),
    from: z.string(),
    to: z.string(),
    total_plays: z.number().int(),
    peak_listeners: z.number().int(),
    total_listening_hours: z.number(),
    play_count: z.array(
      z.object({
        date: z.string(),
        plays: z.number().int().openapi({ description: 'Sessions (HLS or stream.mp3) that received at least 30 s of audio.' }),
        unique_listeners: z.number().int(),
        peak_concurrent: z.number().int(),
        listening_hours: z.number(),
      }),
    ),
  })
  .openapi('PlaylistAnalytics');

const DailyDownloads = z.array(z.object({ date: z.string(), downloads: z.number().int() }));

export const PodcastAnalyticsSchema = z
  .object({
    podcast_id: z.string(),
    from: z.string(),
    to: z.string(),
    total_downloads: z.number().int(),
    daily_downloads: DailyDownloads,
    episodes: z.array(z.object({ episode_id: z.string(), total_downloads: z.number().int(), daily_downloads: DailyDownloads })),
  })
  .openapi('PodcastAnalytics');

const idQuery = (prefix: string, what: string) =>
  z
    .string()
    .regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be ${what} id (${prefix}_…)`)
    .optional();

export const AdsQuery = RangeQuery.extend({
  playlist: idQuery('pls', 'a playlist').openapi({
    description: 'The playlist whose ad markers to count (give `playlist` or `stream`, not both).',
    example: 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v',
  }),
  stream: idQuery('str', 'a stream').openapi({
    description: 'The live stream whose ad markers to count (give `playlist` or `stream`, not both).',
  }),
});

const AdCounts = {
  impressions: z.number().int().openapi({ description: 'Listener sessions that started the ad.' }),
  completions: z.number().int().openapi({ description: 'Of those, sessions that played it to its end.' }),
  completion_rate: z
    .number()
    .nullable()
    .openapi({ description: '`completions / impressions`, rounded to 4 places; null without impressions.', example: 0.6667 }),
};
const DailyAds = z.array(z.object({ date: z.string(), ...AdCounts }));

export const AdAnalyticsSchema = z
  .object({
    resource_kind: z.enum(['playlist', 'stream']),
    resource_id: z.string(),
    from: z.string(),
    to: z.string(),
    ...AdCounts,
    daily: DailyAds,
    markers: z.array(z.object({ marker_id: z.string(), ...AdCounts, daily: DailyAds })),
  })
  .openapi('AdAnalytics');
