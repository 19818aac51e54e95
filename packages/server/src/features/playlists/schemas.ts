import { z } from '@hono/zod-openapi';
import { ArtworkIdField } from '../artworks/schemas.js';
import { listSchema } from '../../core/pagination.js';

const ExternalUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000)
  .openapi({ example: 'https://cdn.example.com/sets/warmup.mp3' });

export const PlaylistItemInput = z
  .union([
    z.object({ upload_id: z.string().regex(/^upl_[0-9a-z]{26}$/, 'must be an upload id (upl_…)') }).strict(),
    z.object({ url: ExternalUrl }).strict(),
  ])
  .openapi('PlaylistItemInput', { description: 'One of your ready uploads, or an external MP3 URL.' });

const Items = z.array(PlaylistItemInput).min(1).max(200);

export const CreatePlaylistBody = z
  .object({
    title: z.string().trim().min(1).max(200).openapi({ example: 'Sunday sets' }),
    visibility: z.enum(['public', 'private']).default('public'),
    monetization_enabled: z.boolean().default(false),
    items: Items,
    artwork_id: ArtworkIdField.optional(),
  })
  .strict()
  .openapi('CreatePlaylistRequest');

export const UpdatePlaylistBody = z
  .object({
    title: z.string().trim().min(1).max(200),
    visibility: z.enum(['public', 'private']),
    monetization_enabled: z.boolean(),
    items: Items.openapi({
      description: 'Replaces the whole list, in order. External URLs already in the playlist are not fetched again.',
    }),
    artwork_id: ArtworkIdField.nullable(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdatePlaylistRequest');

export const PlaylistItemSchema = z
  .object({
    id: z.string().openapi({ example: 'trk_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    position: z.number().int(),
    kind: z.enum(['upload', 'external']),
    upload_id: z.string().nullable(),
    url: z.string().nullable(),
    title: z.string().nullable(),
    status: z
      .enum(['pending', 'ready', 'failed'])
      .openapi({ description: 'External tracks are pending until fetched and segmented.' }),
    reason: z.string().nullable(),
    duration_seconds: z.number().nullable(),
  })
  .openapi('PlaylistItem');

export const PlaylistSchema = z
  .object({
    id: z.string().openapi({ example: 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    owner_id: z.string(),
    title: z.string(),
    visibility: z.enum(['public', 'private']),
    monetization_enabled: z.boolean(),
    status: z
      .enum(['processing', 'ready'])
      .openapi({ description: 'processing while an external track is still being fetched.' }),
    content_version: z.number().int(),
    duration_seconds: z.number().openapi({ description: 'Total of the ready tracks.' }),
    items: z.array(PlaylistItemSchema),
    stream_m3u8_url: z.string().openapi({ description: 'HLS: one manifest over every track.' }),
    stream_mp3_url: z.string().openapi({ description: 'One continuous MP3 stream; supports Range and ?start=<seconds>.' }),
    page_url: z.string().openapi({ description: 'The public listener page (/p/{id}): the link a DJ shares.' }),
    embed_html: z.string().openapi({ description: 'An <iframe> snippet of the embeddable player, for the DJ’s own site.' }),
    artwork_id: z.string().nullable().openapi({ description: 'The page’s artwork (POST /v1/artworks); null: none.' }),
    artwork_url: z.string().nullable().openapi({ description: 'Where the artwork is served.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Playlist');

export const PlaylistListSchema = listSchema(PlaylistSchema, 'PlaylistList');

export const PlaylistIdParam = z.object({
  id: z
    .string()
    .regex(/^pls_[0-9a-z]{26}$/, 'must be a playlist id (pls_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const StreamQuery = z.object({
  token: z
    .string()
    .max(2000)
    .optional()
    .openapi({ param: { name: 'token', in: 'query' }, description: 'A playback token (private or subscriber playlists).' }),
  start: z.coerce
    .number()
    .min(0)
    .max(7 * 24 * 3600)
    .optional()
    .openapi({
      param: { name: 'start', in: 'query' },
      description: 'Start at this many seconds into the playlist (frame-aligned).',
    }),
});

export const SegmentParams = z.object({
  id: PlaylistIdParam.shape.id,
  source: z
    .string()
    .regex(/^(upl|trk|adm)_[0-9a-z]{26}$/)
    .openapi({
      param: { name: 'source', in: 'path' },
      description: 'The upload, external track or ad marker the segment belongs to.',
      example: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v',
    }),
  file: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}\.(ts|aac|m4s|mp4)$/)
    .openapi({ param: { name: 'file', in: 'path' }, example: 'segment_00000.ts' }),
});

// The types of this feature's requests and responses, inferred from the schemas above (never written twice).
export type PlaylistItemView = z.infer<typeof PlaylistItemSchema>;
export type PlaylistView = z.infer<typeof PlaylistSchema>;
export type PlaylistList = z.infer<typeof PlaylistListSchema>;
export type CreatePlaylistRequest = z.infer<typeof CreatePlaylistBody>;
export type UpdatePlaylistRequest = z.infer<typeof UpdatePlaylistBody>;
