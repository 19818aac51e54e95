import { z } from '@hono/zod-openapi';
import { listSchema, PaginationQuery } from '../../core/pagination.js';

const AdSource = z
  .union([
    z.object({ upload_id: z.string().regex(/^upl_[0-9a-z]{26}$/, 'must be an upload id (upl_…)') }).strict(),
    z
      .object({
        url: z
          .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
          .max(2000)
          .openapi({ example: 'https://ads.example.com/spots/coffee.mp3' }),
      })
      .strict(),
  ])
  .openapi('AdSource', { description: 'One of your ready uploads, or an MP3 URL (fetched once, through the guarded client).' });

const Duration = z
  .number()
  .int()
  .min(1)
  .max(600)
  .openapi({ description: 'Seconds the ad plays (the source is cut or padded with silence to it).', example: 60 });
const Kind = z.enum(['pre-roll', 'mid-roll']);

export const CreatePlaylistAdMarkerBody = z
  .object({
    position_seconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .openapi({ description: 'Where in the programme (ads not counted) the ad goes; 0 for a pre-roll.', example: 900 }),
    duration_seconds: Duration,
    source: AdSource,
    kind: Kind.default('mid-roll'),
  })
  .strict()
  .openapi('CreatePlaylistAdMarkerRequest');

export const CreateStreamAdMarkerBody = z
  .object({
    starts_at: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'When a scheduled break starts; leave out for an on-demand break or a pre-roll.' }),
    duration_seconds: Duration,
    source: AdSource,
    kind: Kind.default('mid-roll'),
  })
  .strict()
  .openapi('CreateStreamAdMarkerRequest');

export const AdMarkerSchema = z
  .object({
    id: z.string().openapi({ example: 'adm_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    playlist_id: z.string().nullable(),
    stream_id: z.string().nullable(),
    kind: Kind,
    position_seconds: z.number().int().nullable(),
    starts_at: z.string().nullable(),
    duration_seconds: z.number().int(),
    source: z.object({ upload_id: z.string().nullable(), url: z.string().nullable() }),
    status: z.enum(['pending', 'ready', 'failed']).openapi({ description: 'Whether the normalized ad audio is ready to play.' }),
    reason: z.string().nullable().openapi({ description: 'Why normalization failed.' }),
    created_at: z.string(),
  })
  .openapi('AdMarker');

export const AdMarkerListSchema = listSchema(AdMarkerSchema, 'AdMarkerList');

const idParam = (prefix: string, example: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`))
      .openapi({ param: { name: 'id', in: 'path' }, example }),
  });

export const PlaylistIdParam = idParam('pls', 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v');
export const StreamIdParam = idParam('str', 'str_01jd0v9m3x7k2p8q4r5s6t7u8v');
export const AdMarkerIdParam = idParam('adm', 'adm_01jd0v9m3x7k2p8q4r5s6t7u8v');
export const AdMarkerListQuery = PaginationQuery;

export type CreatePlaylistAdMarker = z.infer<typeof CreatePlaylistAdMarkerBody>;
export type CreateStreamAdMarker = z.infer<typeof CreateStreamAdMarkerBody>;
export type AdMarkerView = z.infer<typeof AdMarkerSchema>;
