import { z } from '@hono/zod-openapi';
import { ArtworkIdField } from '../artworks/schemas.js';
import { listSchema } from '../../core/pagination.js';

const SourceUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
  .max(2000)
  // A refinement must never throw (that is a 500): z.url() accepts strings the URL parser refuses.
  .refine((u) => URL.canParse(u), { error: 'must be an http:// or https:// URL', abort: true })
  .refine((u) => {
    // zod runs this refinement even when z.url() has already failed; an IPv6 zone id (http://[fe80::1%25lo]/) passes its check but not the WHATWG parser.
    if (!URL.canParse(u)) return true;
    const url = new URL(u);
    return !url.username && !url.password;
  }, 'must not contain credentials; send source_username and source_password instead')
  .openapi({ example: 'http://my.shoutcast.example:8000/' });

const ArchivePodcast = z
  .string()
  .regex(/^pod_[0-9a-z]{26}$/, 'must be a podcast id (pod_…)')
  .openapi({
    example: 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v',
    description:
      'A podcast of yours: while the stream is live its feed carries a podcast:liveItem, and each live set becomes a draft episode of it.',
  });

const Mount = z
  .string()
  .regex(/^\/[A-Za-z0-9._~\-/]{0,199}$/, 'must start with "/" and contain only URL path characters')
  .openapi({ example: '/live' });

export const StreamStatus = z
  .enum(['inactive', 'starting', 'live', 'reconnecting', 'offline', 'stopped'])
  .openapi('StreamStatus');

export const StreamSchema = z
  .object({
    id: z.string().openapi({ example: 'str_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    owner_id: z.string(),
    name: z.string(),
    source_url: z.string(),
    mount: z.string(),
    visibility: z.enum(['public', 'private']),
    monetization_enabled: z.boolean(),
    source_kind: z.enum(['icecast', 'shoutcast1', 'shoutcast2']).nullable(),
    has_source_credentials: z.boolean().openapi({ description: 'Credentials are stored encrypted and never returned.' }),
    status: StreamStatus,
    playback_url: z.string().openapi({ description: 'Public HLS playlist URL (live.m3u8).' }),
    page_url: z.string().openapi({ description: 'The public listener page (/s/{id}): the link a DJ shares.' }),
    embed_html: z.string().openapi({ description: 'An <iframe> snippet of the embeddable player, for the DJ’s own site.' }),
    archive_to_podcast: z.string().nullable().openapi({ description: 'The podcast each live set is archived into; null: none.' }),
    archive_auto_publish: z
      .boolean()
      .openapi({ description: 'Archived episodes are published at once instead of waiting as drafts.' }),
    artwork_id: z.string().nullable().openapi({ description: 'The page’s artwork (POST /v1/artworks); null: none.' }),
    artwork_url: z.string().nullable().openapi({ description: 'Where the artwork is served.' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Stream');

export const CreateStreamBody = z
  .object({
    name: z.string().trim().min(1).max(200).openapi({ example: 'Friday set' }),
    source_url: SourceUrl,
    mount: Mount.optional().openapi({ description: 'Defaults to the source URL path.' }),
    visibility: z.enum(['public', 'private']).default('public'),
    monetization_enabled: z.boolean().default(false),
    source_username: z.string().min(1).max(200).optional(),
    source_password: z.string().min(1).max(500).optional().openapi({ description: 'Stored encrypted; never returned.' }),
    archive_to_podcast: ArchivePodcast.nullable().optional(),
    archive_auto_publish: z.boolean().default(false),
    artwork_id: ArtworkIdField.optional(),
  })
  .strict()
  .openapi('CreateStreamRequest');

export const UpdateStreamBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    visibility: z.enum(['public', 'private']),
    monetization_enabled: z.boolean(),
    source_username: z.string().min(1).max(200).nullable(),
    source_password: z.string().min(1).max(500).nullable(),
    archive_to_podcast: ArchivePodcast.nullable(),
    archive_auto_publish: z.boolean(),
    artwork_id: ArtworkIdField.nullable(),
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateStreamRequest');

export const StreamIdParam = z.object({
  id: z
    .string()
    .regex(/^str_[0-9a-z]{26}$/, 'must be a stream id (str_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'str_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const StreamListSchema = listSchema(StreamSchema, 'StreamList');

export const StreamStatusSchema = z
  .object({
    stream_id: z.string(),
    relay_id: z.string().nullable().openapi({ description: 'The relay worker assigned to the stream.' }),
    state: StreamStatus,
    current_track: z.string().nullable().openapi({ example: 'Daft Punk - Veridis Quo' }),
    bitrate_kbps: z.number().nullable(),
    listener_count: z.number().int().openapi({
      description: 'HLS sessions seen in the last two segment durations plus listeners connected to the source directly.',
    }),
    hls_listeners: z.number().int(),
    source_listeners: z.number().int(),
    cpu_usage: z.number().nullable().openapi({ description: 'Relay CPU, percent of one core.' }),
    segment_lag_seconds: z.number().nullable(),
    last_heartbeat_at: z.string().nullable(),
    source_kind: z.enum(['icecast', 'shoutcast1', 'shoutcast2']).nullable(),
    content_type: z.string().nullable(),
    playback_url: z.string(),
  })
  .openapi('StreamLiveStatus');

export const PlaybackTokenSchema = z
  .object({
    token: z.string(),
    expires_at: z.string(),
    playback_url_with_token: z.string().openapi({ description: 'live.m3u8 with ?token=…, ready for a player.' }),
  })
  .openapi('PlaybackToken');

// The types of this feature's requests and responses, inferred from the schemas above (never written twice).
export type StreamView = z.infer<typeof StreamSchema>;
export type StreamList = z.infer<typeof StreamListSchema>;
export type CreateStreamRequest = z.infer<typeof CreateStreamBody>;
export type UpdateStreamRequest = z.infer<typeof UpdateStreamBody>;
export type StreamStatusResponse = z.infer<typeof StreamStatusSchema>;
export type PlaybackTokenView = z.infer<typeof PlaybackTokenSchema>;
