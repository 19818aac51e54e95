import { z } from '@hono/zod-openapi';
import { listSchema } from '../../core/pagination.js';

export const ArchiveStatus = z.enum(['recording', 'processing', 'done', 'failed', 'empty']).openapi('StreamArchiveStatus');

export const ArchiveSchema = z
  .object({
    id: z.string().openapi({ example: 'arc_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    stream_id: z.string(),
    podcast_id: z.string(),
    status: ArchiveStatus.openapi({
      description:
        'recording while the set is live; processing once it ended (its segments are being joined); done with its episode; failed with `failure_reason`; empty when no audio was kept.',
    }),
    title: z.string(),
    auto_publish: z.boolean(),
    started_at: z.string(),
    ended_at: z.string().nullable(),
    upload_id: z.string().nullable().openapi({ description: 'The joined MP3, stored as one of your uploads.' }),
    episode_id: z.string().nullable().openapi({ description: 'The episode made from the set (a draft unless auto-published).' }),
    duration_seconds: z.number().nullable(),
    bitrate_kbps: z.number().int().nullable().openapi({ description: 'The MP3’s constant bitrate: the source’s.' }),
    segment_count: z.number().int().nullable(),
    chapters: z
      .array(z.object({ start_time: z.number(), title: z.string() }))
      .nullable()
      .openapi({ description: 'From the track titles seen in the stream, seconds from the start of the set.' }),
    failure_reason: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('StreamArchive');

export const ArchiveListSchema = listSchema(ArchiveSchema, 'StreamArchiveList');

export type ArchiveView = z.infer<typeof ArchiveSchema>;
