import { z } from '@hono/zod-openapi';

export const RelayState = z.enum(['starting', 'live', 'reconnecting', 'offline']).openapi('RelayState');

export const RelayIdParam = z.object({
  relay_id: z
    .string()
    .regex(/^rly_[0-9a-z]{26}$/, 'must be a relay id (rly_…)')
    .openapi({ param: { name: 'relay_id', in: 'path' }, example: 'rly_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

const count = z.number().int().min(0).max(10_000_000);
const seconds = z.number().min(0).max(86_400);

/**
 * What a relay worker reports every few seconds (packages/relay/README.md).
 * Unknown fields are ignored rather than refused, so a newer worker image can
 * report to an older API during a rollout.
 */
export const HeartbeatBody = z
  .object({
    state: RelayState,
    listener_count: count.nullish().openapi({ description: 'Listeners the source server reports for the mount.' }),
    relay_connections: count.nullish().openapi({
      description:
        'How many of those listeners are the relay itself (its FFmpeg and metadata connections); subtracted to get direct listeners.',
    }),
    cpu_usage: z
      .number()
      .min(0)
      .max(100_000)
      .nullish()
      .openapi({ description: 'CPU of the worker and its FFmpeg, percent of one core.' }),
    segment_lag_seconds: seconds.nullish(),
    current_track: z.string().max(1000).nullish(),
    bitrate_kbps: z.number().min(0).max(100_000).nullish(),
    media_sequence: z.number().int().min(0).nullish(),
    source_kind: z.enum(['icecast', 'shoutcast1', 'shoutcast2']).nullish(),
    content_type: z.string().max(100).nullish(),
    ad_breaks_taken: z
      .array(z.string().regex(/^(brk|adm)_[0-9a-z]{26}$/))
      .max(100)
      .nullish()
      .openapi({
        description:
          'Ids of the live ad breaks the worker has taken on (started, played or failed); the API stops offering them.',
      }),
  })
  .openapi('RelayHeartbeat');

export const HeartbeatResponse = z
  .object({
    relay_id: z.string(),
    stream_id: z.string(),
    state: RelayState,
    received_at: z.string(),
    archive_prefix: z.string().nullable().optional().openapi({
      description:
        'While the stream’s live set is being archived: the blob-store prefix to keep every segment (and its track titles) under; null: keep nothing.',
    }),
    ad_break: z
      .object({
        id: z.string(),
        ad_id: z.string().nullable(),
        url: z.string().openapi({ description: 'The ad normalized at 44.1 kHz.' }),
        variants: z
          .array(z.object({ sample_rate: z.number().int(), url: z.string() }))
          .optional()
          .openapi({
            description:
              'The same ad normalized at the other MP3 sample rates (48 and 32 kHz) it is ready in: the relay plays the one whose rate is its source’s.',
          }),
        duration_seconds: z.number().int(),
      })
      .nullable()
      .optional()
      .openapi({
        description:
          'A live ad break to play now: the relay fetches `url` (absolute, or relative to the API) (or the variant of its source’s sample rate) and plays it in place of the source for `duration_seconds`; it plays each id once and reports it in `ad_breaks_taken`.',
      }),
  })
  .openapi('RelayHeartbeatReceipt');

// The types of this feature's requests and responses, inferred from the schemas above (never written twice).
export type HeartbeatRequest = z.infer<typeof HeartbeatBody>;
export type HeartbeatResult = z.infer<typeof HeartbeatResponse>;
