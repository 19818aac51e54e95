import { z } from '@hono/zod-openapi';
import { ENGINES } from './templates.js';

export const PageQuery = z.object({
  token: z
    .string()
    .max(2000)
    .optional()
    .openapi({
      param: { name: 'token', in: 'query' },
      description: 'A playback token: the owner’s share link for a private or monetized stream or playlist.',
    }),
  engine: z
    .enum(ENGINES)
    .default('auto')
    .openapi({
      param: { name: 'engine', in: 'query' },
      description:
        'Which playback engine the player uses; `auto` picks native HLS, then hls.js (live) or stream.mp3 (playlists).',
    }),
});

export const PodcastPageQuery = PageQuery.extend({
  episode: z
    .string()
    .regex(/^epi_[0-9a-z]{26}$/, 'must be an episode id (epi_…)')
    .optional()
    .openapi({
      param: { name: 'episode', in: 'query' },
      description: 'The episode in the player (podcast pages); the newest published one when absent.',
    }),
});

export const OEmbedQuery = z.object({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .openapi({
      param: { name: 'url', in: 'query' },
      example: 'https://djcast.example/s/str_01jd0v9m3x7k2p8q4r5s6t7u8v',
      description: 'A stream (/s/), playlist (/p/) or podcast (/c/) page or embed URL.',
    }),
  format: z
    .enum(['json'])
    .default('json')
    .openapi({ param: { name: 'format', in: 'query' }, description: 'Only JSON is served.' }),
  maxwidth: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .openapi({ param: { name: 'maxwidth', in: 'query' } }),
  maxheight: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .openapi({ param: { name: 'maxheight', in: 'query' } }),
});

export const OEmbedSchema = z
  .object({
    version: z.literal('1.0'),
    type: z.literal('rich'),
    provider_name: z.string(),
    provider_url: z.string(),
    title: z.string(),
    author_name: z.string().optional(),
    html: z.string().openapi({ description: 'The iframe snippet.' }),
    width: z.number().int(),
    height: z.number().int(),
    cache_age: z.number().int(),
    thumbnail_url: z.string().optional().openapi({ description: 'The artwork, when the page has one.' }),
    thumbnail_width: z.number().int().optional(),
    thumbnail_height: z.number().int().optional(),
  })
  .openapi('OEmbed');

export const NowPlayingSchema = z
  .object({
    stream_id: z.string(),
    name: z.string(),
    state: z.enum(['inactive', 'starting', 'live', 'reconnecting', 'offline', 'stopped']),
    live: z.boolean(),
    current_track: z.string().nullable().openapi({ example: 'Daft Punk - Veridis Quo' }),
    last_heartbeat_at: z.string().nullable(),
  })
  .openapi('StreamNowPlaying');
