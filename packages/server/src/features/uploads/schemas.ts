import { z } from '@hono/zod-openapi';
import { listSchema, PaginationQuery } from '../../core/pagination.js';

export const UploadStatus = z.enum(['processing', 'ready', 'failed', 'rejected']).openapi('UploadStatus');

export const UploadSchema = z
  .object({
    id: z.string().openapi({ example: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    owner_id: z.string(),
    title: z.string(),
    original_filename: z.string().nullable(),
    status: UploadStatus,
    progress: z.number().int().min(0).max(100).openapi({ description: 'Transcoding progress, 0-100; 100 once ready.' }),
    reason: z
      .string()
      .nullable()
      .openapi({ description: 'Why the upload failed or was rejected (e.g. the virus signature found).' }),
    size_bytes: z.number().int(),
    duration_seconds: z.number().nullable(),
    bitrate_kbps: z.number().int().nullable(),
    sample_rate: z.number().int().nullable(),
    channels: z.number().int().nullable(),
    hls_url: z
      .string()
      .nullable()
      .openapi({ description: 'Once ready: the HLS playlist, with a short-lived playback token a player can use as is.' }),
    created_at: z.string(),
    updated_at: z.string(),
    ready_at: z.string().nullable(),
  })
  .openapi('Upload');

export const UploadListSchema = listSchema(UploadSchema, 'UploadList');

export const UploadIdParam = z.object({
  id: z
    .string()
    .regex(/^upl_[0-9a-z]{26}$/, 'must be an upload id (upl_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const UploadListQuery = PaginationQuery.extend({
  status: UploadStatus.optional().openapi({ param: { name: 'status', in: 'query' } }),
});

export const CreateUploadQuery = z.object({
  title: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'title', in: 'query' }, description: 'Defaults to the file name.' }),
});

/**
 * The multipart body, documented as an OpenAPI schema object rather than zod:
 * a zod schema would make the router parse (and buffer) the whole form before
 * the handler runs, while the handler streams the file to storage itself.
 */
export const MultipartUploadBody: {
  type: 'object';
  required: string[];
  properties: Record<string, { type: 'string'; format: 'binary'; description: string }>;
} = {
  type: 'object',
  required: ['file'],
  properties: {
    file: { type: 'string', format: 'binary', description: 'The MP3 file (at most the configured limit, 100 MiB by default).' },
  },
};

export const HlsFileParams = z.object({
  id: UploadIdParam.shape.id,
  file: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}\.(m3u8|ts|aac|m4s|mp4)$/)
    .openapi({ param: { name: 'file', in: 'path' }, example: 'index.m3u8' }),
});

export const PlaybackTokenQuery = z.object({
  token: z
    .string()
    .max(2000)
    .optional()
    .openapi({ param: { name: 'token', in: 'query' }, description: 'A playback token from the API.' }),
});

// The types of this feature's requests and responses, inferred from the schemas above (never written twice).
export type UploadView = z.infer<typeof UploadSchema>;
export type UploadList = z.infer<typeof UploadListSchema>;
export type UploadListRequest = z.infer<typeof UploadListQuery>;
export type CreateUploadRequest = z.infer<typeof CreateUploadQuery>;
