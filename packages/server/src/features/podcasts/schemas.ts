import { z } from '@hono/zod-openapi';
import { listSchema } from '../../core/pagination.js';
import { CATEGORY_NAMES } from './categories.js';

const idOf = (prefix: string, what: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `must be ${what} id (${prefix}_…)`);

const Language = z
  .string()
  .regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, 'must be a language tag such as en or en-US')
  .openapi({ example: 'en' });

const PodcastFields = {
  title: z.string().trim().min(1).max(200).openapi({ example: 'Warehouse Sessions' }),
  description: z.string().trim().min(1).max(4000).openapi({ description: 'HTML allowed; sanitized.' }),
  author: z.string().trim().min(1).max(200).openapi({ example: 'DJ Nul' }),
  owner_email: z.email().max(320).nullable().openapi({ description: 'itunes:owner and podcast:locked owner.' }),
  language: Language,
  category: z.enum(CATEGORY_NAMES).openapi({ description: 'One of Apple Podcasts’ categories.', example: 'Music' }),
  subcategory: z.string().max(60).nullable().openapi({ description: 'A subcategory of `category` in Apple’s list.' }),
  explicit: z.boolean(),
  type: z.enum(['episodic', 'serial']),
  visibility: z.enum(['public', 'private']),
  monetization_enabled: z
    .boolean()
    .openapi({ description: 'Subscribers only: the public feed’s enclosures are signed URLs that expire after an hour.' }),
  locked: z.boolean().openapi({ description: 'podcast:locked: other platforms may not import the feed.' }),
  artwork_id: idOf('art', 'an artwork').nullable().openapi({ description: 'From POST /v1/podcasts/artwork.' }),
};

export const CreatePodcastBody = z
  .object({
    ...PodcastFields,
    owner_email: PodcastFields.owner_email.optional(),
    language: Language.default('en'),
    subcategory: PodcastFields.subcategory.optional(),
    explicit: z.boolean().default(false),
    type: PodcastFields.type.default('episodic'),
    visibility: PodcastFields.visibility.default('public'),
    monetization_enabled: PodcastFields.monetization_enabled.default(false),
    locked: z.boolean().default(false),
    artwork_id: PodcastFields.artwork_id.optional(),
  })
  .strict()
  .openapi('CreatePodcastRequest');

export const UpdatePodcastBody = z
  .object(PodcastFields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdatePodcastRequest');

export const PodcastSchema = z
  .object({
    id: z.string().openapi({ example: 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    podcast_id: z.string().openapi({ description: 'The same as `id`.' }),
    owner_id: z.string(),
    title: z.string(),
    description: z.string(),
    author: z.string(),
    owner_email: z.string().nullable(),
    language: z.string(),
    category: z.string(),
    subcategory: z.string().nullable(),
    explicit: z.boolean(),
    type: z.enum(['episodic', 'serial']),
    visibility: z.enum(['public', 'private']),
    monetization_enabled: z.boolean(),
    locked: z.boolean(),
    artwork_id: z.string().nullable(),
    artwork_url: z.string().nullable(),
    feed_url: z.string().openapi({ description: 'The public RSS feed (exists from creation).' }),
    podcast_guid: z.string().openapi({ description: 'podcast:guid, derived from the feed URL.' }),
    page_url: z.string().openapi({ description: 'The public listener page (/c/{id}): the link a DJ shares.' }),
    embed_html: z.string().openapi({ description: 'An <iframe> snippet of the embeddable player, for the DJ’s own site.' }),
    episode_count: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Podcast');

export const PodcastListSchema = listSchema(PodcastSchema, 'PodcastList');

export const PodcastIdParam = z.object({
  id: idOf('pod', 'a podcast').openapi({ param: { name: 'id', in: 'path' }, example: 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const ArtworkSchema = z
  .object({
    id: z.string().openapi({ example: 'art_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    content_type: z.enum(['image/jpeg', 'image/png']),
    width: z.number().int(),
    height: z.number().int(),
    size_bytes: z.number().int(),
    url: z.string(),
    created_at: z.string(),
  })
  .openapi('PodcastArtwork');

/** A plain schema object, not zod: zod would make the router buffer and parse the form before the handler streams it. */
export const MultipartArtworkBody: {
  type: 'object';
  required: string[];
  properties: Record<string, { type: 'string'; format: 'binary'; description: string }>;
} = {
  type: 'object',
  required: ['file'],
  properties: { file: { type: 'string', format: 'binary', description: 'A JPEG or PNG, square, 1400-3000 px, RGB.' } },
};

const Chapter = z
  .object({ start_time: z.number().min(0), title: z.string().trim().min(1).max(200) })
  .strict()
  .openapi('EpisodeChapter');

const EpisodeFields = {
  title: z.string().trim().min(1).max(200).openapi({ example: 'Live at the warehouse' }),
  description: z.string().max(10_000).openapi({ description: 'HTML allowed (content:encoded); sanitized.' }),
  upload_id: idOf('upl', 'an upload').openapi({ description: 'One of your ready uploads: the enclosure is its stored MP3.' }),
  media_url: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .max(2000)
    .openapi({ description: 'An MP3 hosted elsewhere: checked (HEAD or a ranged GET), never re-hosted.' }),
  published_at: z.iso
    .datetime({ offset: true })
    .openapi({ description: 'When to publish: a future time schedules it. Omitted on create: now (unless `draft`).' }),
  duration_seconds: z
    .number()
    .min(0)
    .max(7 * 24 * 3600)
    .nullable(),
  season: z.number().int().min(1).max(100_000).nullable(),
  episode_number: z.number().int().min(0).max(1_000_000).nullable(),
  episode_type: z.enum(['full', 'trailer', 'bonus']),
  explicit: z.boolean().nullable().openapi({ description: 'Null: as the podcast.' }),
  chapters: z.array(Chapter).max(500).nullable().openapi({ description: 'Served as podcast:chapters JSON.' }),
};

export const CreateEpisodeBody = z
  .object({
    title: EpisodeFields.title,
    description: EpisodeFields.description.default(''),
    upload_id: EpisodeFields.upload_id.optional(),
    media_url: EpisodeFields.media_url.optional(),
    published_at: EpisodeFields.published_at.optional(),
    draft: z.boolean().default(false).openapi({ description: 'Keep it unpublished until POST /v1/episodes/{id}/publish.' }),
    duration_seconds: EpisodeFields.duration_seconds.optional(),
    season: EpisodeFields.season.optional(),
    episode_number: EpisodeFields.episode_number.optional(),
    episode_type: EpisodeFields.episode_type.default('full'),
    explicit: EpisodeFields.explicit.optional(),
    chapters: EpisodeFields.chapters.optional(),
  })
  .strict()
  .openapi('CreateEpisodeRequest', { description: 'Send exactly one of `upload_id` and `media_url`.' });

export const UpdateEpisodeBody = z
  .object(EpisodeFields)
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change')
  .openapi('UpdateEpisodeRequest', {
    description: 'At most one of `upload_id` and `media_url` (replacing the media keeps the GUID).',
  });

export const EpisodeSchema = z
  .object({
    id: z.string().openapi({ example: 'epi_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    podcast_id: z.string(),
    guid: z.string().openapi({ description: 'Fixed at creation; never changes, even when the media is replaced.' }),
    title: z.string(),
    description: z.string(),
    upload_id: z.string().nullable(),
    media_url: z.string().nullable(),
    status: z.enum(['draft', 'scheduled', 'published']),
    published_at: z.string().nullable(),
    enclosure: z.object({ url: z.string(), length: z.number().int(), type: z.string() }),
    duration_seconds: z.number().nullable(),
    season: z.number().int().nullable(),
    episode_number: z.number().int().nullable(),
    episode_type: z.enum(['full', 'trailer', 'bonus']),
    explicit: z.boolean().nullable(),
    chapters: z.array(z.object({ start_time: z.number(), title: z.string() })).nullable(),
    feed_url: z.string(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Episode');

export const EpisodeListSchema = listSchema(EpisodeSchema, 'EpisodeList');

export const EpisodeIdParam = z.object({
  id: idOf('epi', 'an episode').openapi({ param: { name: 'id', in: 'path' }, example: 'epi_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const CreateFeedTokenBody = z
  .object({ user_id: idOf('usr', 'a user').openapi({ description: 'The listener the personal feed is for.' }) })
  .strict()
  .openapi('CreateFeedTokenRequest');

export const FeedTokenSchema = z
  .object({
    id: z.string().openapi({ example: 'pft_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    podcast_id: z.string(),
    user_id: z.string(),
    feed_url: z.string().openapi({ description: 'The personal feed; shown once. Holds the secret: treat it like a password.' }),
    created_at: z.string(),
  })
  .openapi('PodcastFeedToken');

export const FeedTokenParams = z.object({
  id: PodcastIdParam.shape.id,
  // Any id shape passes validation, so a stranger's request is answered by the ownership check (403), not a 400.
  token_id: z
    .string()
    .regex(/^[a-z]{3}_[0-9a-z]{26}$/, 'must be a feed token id (pft_…)')
    .openapi({ param: { name: 'token_id', in: 'path' }, example: 'pft_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const PublicPodcastParam = z.object({
  id: idOf('pod', 'a podcast').openapi({ param: { name: 'id', in: 'path' }, example: 'pod_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
});

export const PersonalFeedParams = z.object({
  id: PublicPodcastParam.shape.id,
  token: z
    .string()
    .regex(/^[A-Za-z0-9_-]{20,100}$/)
    .openapi({ param: { name: 'token', in: 'path' } }),
});

export const MediaParams = z.object({
  id: PublicPodcastParam.shape.id,
  episode_id: idOf('epi', 'an episode').openapi({ param: { name: 'episode_id', in: 'path' } }),
});

export const SignedMediaQuery = z.object({
  exp: z
    .string()
    .regex(/^\d{1,12}$/)
    .optional()
    .openapi({ param: { name: 'exp', in: 'query' } }),
  sig: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: 'sig', in: 'query' } }),
  u: z
    .string()
    .max(60)
    .optional()
    .openapi({ param: { name: 'u', in: 'query' } }),
});

export const ArtworkParams = z.object({
  file: z
    .string()
    .regex(/^art_[0-9a-z]{26}\.(jpg|png)$/)
    .openapi({ param: { name: 'file', in: 'path' } }),
});

export type PodcastView = z.infer<typeof PodcastSchema>;
export type EpisodeView = z.infer<typeof EpisodeSchema>;
export type ArtworkView = z.infer<typeof ArtworkSchema>;
export type FeedTokenView = z.infer<typeof FeedTokenSchema>;
export type CreatePodcastRequest = z.infer<typeof CreatePodcastBody>;
export type UpdatePodcastRequest = z.infer<typeof UpdatePodcastBody>;
export type CreateEpisodeRequest = z.infer<typeof CreateEpisodeBody>;
export type UpdateEpisodeRequest = z.infer<typeof UpdateEpisodeBody>;
