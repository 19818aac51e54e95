import { z } from '@hono/zod-openapi';

export const CreateAdBreakBody = z
  .object({
    duration_seconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .openapi({ description: 'Seconds the break lasts; the source comes back after it (or when the ad ends).', example: 60 }),
    source: z
      .union([
        z.object({ marker_id: z.string().regex(/^adm_[0-9a-z]{26}$/, 'must be an ad marker id (adm_…)') }).strict(),
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
      .optional()
      .openapi({
        description:
          'One of this stream’s ad markers, one of your ready uploads, or an MP3 URL (normalized first); left out: the stream’s latest on-demand marker.',
      }),
  })
  .strict()
  .openapi('CreateAdBreakRequest');

export const AdBreakSchema = z
  .object({
    id: z.string().openapi({ example: 'brk_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    stream_id: z.string(),
    marker_id: z.string().openapi({ description: 'The ad marker whose audio plays.' }),
    duration_seconds: z.number().int(),
    status: z
      .enum(['pending', 'ready', 'failed'])
      .openapi({ description: 'Whether the ad’s normalized audio is ready; the relay starts the break once it is.' }),
    created_at: z.string(),
    expires_at: z.string().openapi({ description: 'The break is dropped if the relay has not been able to start it by then.' }),
  })
  .openapi('AdBreak');

export const AdBreakIdParam = z.object({
  id: z
    .string()
    .regex(/^(brk|adm)_[0-9a-z]{26}$/)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'brk_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const SignedAudioQuery = z.object({
  exp: z.string().max(20).optional(),
  sig: z.string().max(100).optional(),
  rate: z.coerce
    .number()
    .int()
    .refine((r) => r === 48000 || r === 32000, 'must be 48000 or 32000')
    .optional()
    .openapi({ description: 'The variant at this sample rate (signed with the URL); left out: 44.1 kHz.' }),
});

export type CreateAdBreak = z.infer<typeof CreateAdBreakBody>;
export type AdBreakView = z.infer<typeof AdBreakSchema>;
