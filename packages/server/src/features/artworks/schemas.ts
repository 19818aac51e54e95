import { z } from '@hono/zod-openapi';

export const ArtworkSchema = z
  .object({
    id: z.string().openapi({ example: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    content_type: z.enum(['image/jpeg', 'image/png']),
    width: z.number().int(),
    height: z.number().int(),
    size_bytes: z.number().int(),
    url: z.string().openapi({ description: 'Where the image is served (public, immutable).' }),
    created_at: z.string(),
  })
  .openapi('Artwork');

/** A plain schema object, not zod: zod would make the router buffer and parse the form before the handler streams it. */
export const MultipartArtworkBody: {
  type: 'object';
  required: string[];
  properties: Record<string, { type: 'string'; format: 'binary'; description: string }>;
} = {
  type: 'object',
  required: ['file'],
  properties: { file: { type: 'string', format: 'binary', description: 'A JPEG or PNG, square, 300-3000 px, RGB.' } },
};

export const ArtworkIdParam = z.object({
  id: z
    .string()
    .regex(/^art_[0-9a-z]{26}$/, 'must be an artwork id (art_…)')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

/** `artwork_id` on a stream or playlist: an id from POST /v1/artworks, or null to remove it. */
export const ArtworkIdField = z
  .string()
  .regex(/^art_[0-9a-z]{26}$/, 'must be an artwork id (art_…)')
  .openapi({ description: 'From POST /v1/artworks; shown on the page, in its Open Graph tags and in the embed.' });

export type ArtworkView = z.infer<typeof ArtworkSchema>;
