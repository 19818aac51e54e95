import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { receiveMultipartFile } from '../../http/multipart-upload.js';
import { extraErrors, json, securedRoute } from '../../http/openapi.js';
import { PaginationQuery } from '../../core/pagination.js';
import { multipartProblem } from './multipart-problem.js';
import {
  ArtworkSchema,
  CreateEpisodeBody,
  CreateFeedTokenBody,
  CreatePodcastBody,
  EpisodeIdParam,
  EpisodeListSchema,
  EpisodeSchema,
  FeedTokenParams,
  FeedTokenSchema,
  MultipartArtworkBody,
  PodcastIdParam,
  PodcastListSchema,
  PodcastSchema,
  UpdateEpisodeBody,
  UpdatePodcastBody,
} from './schemas.js';
import { ARTWORK_MAX_BYTES, type PodcastsService } from './service.js';

const tags = ['podcasts'];

const createPodcast = securedRoute('podcasts:write', {
  method: 'post',
  path: '/v1/podcasts',
  operationId: 'createPodcast',
  tags,
  summary: 'Create a podcast; its RSS feed exists from this moment',
  description: 'The category (and subcategory) must be in Apple Podcasts’ list. Artwork comes from POST /v1/podcasts/artwork.',
  request: { body: { content: json(CreatePodcastBody), required: true } },
  responses: { 201: { description: 'Podcast created', content: json(PodcastSchema) }, ...extraErrors(422) },
});

const listPodcasts = securedRoute('podcasts:read', {
  method: 'get',
  path: '/v1/podcasts',
  operationId: 'listPodcasts',
  tags,
  summary: 'Your podcasts, newest first (admins: everyone’s)',
  request: { query: PaginationQuery },
  responses: { 200: { description: 'Podcasts', content: json(PodcastListSchema) } },
});

const getPodcast = securedRoute('podcasts:read', {
  method: 'get',
  path: '/v1/podcasts/{id}',
  operationId: 'getPodcast',
  tags,
  summary: 'One podcast with its feed URL',
  request: { params: PodcastIdParam },
  responses: { 200: { description: 'The podcast', content: json(PodcastSchema) } },
});

const updatePodcast = securedRoute('podcasts:write', {
  method: 'patch',
  path: '/v1/podcasts/{id}',
  operationId: 'updatePodcast',
  tags,
  summary: 'Change a podcast; the feed is rebuilt',
  request: { params: PodcastIdParam, body: { content: json(UpdatePodcastBody), required: true } },
  responses: { 200: { description: 'The updated podcast', content: json(PodcastSchema) }, ...extraErrors(422) },
});

const deletePodcast = securedRoute('podcasts:write', {
  method: 'delete',
  path: '/v1/podcasts/{id}',
  operationId: 'deletePodcast',
  tags,
  summary: 'Delete a podcast and its episodes (uploads stay)',
  request: { params: PodcastIdParam },
  responses: { 204: { description: 'Deleted' } },
});

const uploadArtwork = securedRoute(
  'podcasts:write',
  {
    method: 'post',
    path: '/v1/podcasts/artwork',
    operationId: 'uploadPodcastArtwork',
    tags,
    summary: 'Upload podcast artwork (multipart field `file`): JPEG or PNG, square, 1400-3000 px, RGB',
    description: 'A refused image is a 422 whose `rule` names Apple’s rule it breaks (format, square, min_size, max_size, rgb).',
    request: { body: { content: { 'multipart/form-data': { schema: MultipartArtworkBody } }, required: true } },
    responses: { 201: { description: 'Stored', content: json(ArtworkSchema) }, ...extraErrors(413, 415, 422) },
  },
  { body: 'stream', idempotent: false },
);

const createEpisode = securedRoute('podcasts:write', {
  method: 'post',
  path: '/v1/podcasts/{id}/episodes',
  operationId: 'createEpisode',
  tags,
  summary: 'Add an episode from one of your uploads or an external MP3 URL',
  description:
    'Published now unless `draft`, or scheduled when `published_at` is in the future. `media_url` is checked (HEAD or a ranged GET) ' +
    'and never re-hosted. The GUID is fixed now and never changes.',
  request: { params: PodcastIdParam, body: { content: json(CreateEpisodeBody), required: true } },
  responses: { 201: { description: 'Episode created', content: json(EpisodeSchema) }, ...extraErrors(422) },
});

const listEpisodes = securedRoute('podcasts:read', {
  method: 'get',
  path: '/v1/podcasts/{id}/episodes',
  operationId: 'listEpisodes',
  tags,
  summary: 'A podcast’s episodes (drafts and scheduled ones too), newest first',
  request: { params: PodcastIdParam, query: PaginationQuery },
  responses: { 200: { description: 'Episodes', content: json(EpisodeListSchema) } },
});

const getEpisode = securedRoute('podcasts:read', {
  method: 'get',
  path: '/v1/episodes/{id}',
  operationId: 'getEpisode',
  tags,
  summary: 'One episode',
  request: { params: EpisodeIdParam },
  responses: { 200: { description: 'The episode', content: json(EpisodeSchema) } },
});

const updateEpisode = securedRoute('podcasts:write', {
  method: 'patch',
  path: '/v1/episodes/{id}',
  operationId: 'updateEpisode',
  tags,
  summary: 'Change an episode or replace its media (the GUID stays); the feed is rebuilt',
  request: { params: EpisodeIdParam, body: { content: json(UpdateEpisodeBody), required: true } },
  responses: { 200: { description: 'The updated episode', content: json(EpisodeSchema) }, ...extraErrors(422) },
});

const deleteEpisode = securedRoute('podcasts:write', {
  method: 'delete',
  path: '/v1/episodes/{id}',
  operationId: 'deleteEpisode',
  tags,
  summary: 'Delete an episode; the feed is rebuilt',
  request: { params: EpisodeIdParam },
  responses: { 204: { description: 'Deleted' } },
});

const publishEpisode = securedRoute('podcasts:write', {
  method: 'post',
  path: '/v1/episodes/{id}/publish',
  operationId: 'publishEpisode',
  tags,
  summary: 'Publish a draft or scheduled episode now',
  request: { params: EpisodeIdParam },
  responses: { 200: { description: 'The published episode', content: json(EpisodeSchema) } },
});

const createFeedToken = securedRoute(
  'podcasts:write',
  {
    method: 'post',
    path: '/v1/podcasts/{id}/feed-tokens',
    operationId: 'createPodcastFeedToken',
    tags,
    summary: 'Mint a personal feed URL for one listener (unguessable, revocable; shown once)',
    request: { params: PodcastIdParam, body: { content: json(CreateFeedTokenBody), required: true } },
    responses: { 201: { description: 'The personal feed', content: json(FeedTokenSchema) }, ...extraErrors(422) },
  },
  { idempotent: false },
);

const createOwnFeed = securedRoute(
  'subscriptions:write',
  {
    method: 'post',
    path: '/v1/podcasts/{id}/personal-feed',
    operationId: 'createMyPodcastFeed',
    tags,
    summary: 'Your own personal feed URL of a subscribers-only podcast (unguessable, shown once)',
    description:
      'For a listener whose subscription unlocks the podcast: paste the URL into a podcast app; it stops playing when the ' +
      'subscription ends. 403 `subscription_required` naming the plans otherwise; 409 for a free podcast (use its public feed).',
    request: { params: PodcastIdParam },
    responses: { 201: { description: 'Your personal feed', content: json(FeedTokenSchema) }, ...extraErrors(409) },
  },
  { idempotent: false, access: 'subscriber' },
);

const revokeFeedToken = securedRoute('podcasts:write', {
  method: 'delete',
  path: '/v1/podcasts/{id}/feed-tokens/{token_id}',
  operationId: 'revokePodcastFeedToken',
  tags,
  summary: 'Revoke a personal feed URL: it answers 404 from now on',
  request: { params: FeedTokenParams },
  responses: { 204: { description: 'Revoked' } },
});

export function registerPodcastRoutes(app: App, podcasts: PodcastsService): void {
  app.openapi(uploadArtwork, async (c) => {
    const principal = principalOf(c);
    try {
      const view = await receiveMultipartFile(c.req.raw, {
        field: 'file',
        maxBytes: ARTWORK_MAX_BYTES,
        sink: (file) => podcasts.uploadArtwork(principal, file.stream),
      });
      return c.json(view, 201);
    } catch (error) {
      throw multipartProblem(error, 'the image');
    }
  });
  app.openapi(createPodcast, async (c) => c.json(await podcasts.create(principalOf(c), c.req.valid('json')), 201));
  app.openapi(listPodcasts, async (c) => c.json(await podcasts.list(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getPodcast, async (c) => c.json(await podcasts.get(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(updatePodcast, async (c) =>
    c.json(await podcasts.update(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deletePodcast, async (c) => {
    await podcasts.delete(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(createEpisode, async (c) =>
    c.json(await podcasts.createEpisode(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  app.openapi(listEpisodes, async (c) =>
    c.json(await podcasts.listEpisodes(principalOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );
  app.openapi(getEpisode, async (c) => c.json(await podcasts.getEpisode(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(updateEpisode, async (c) =>
    c.json(await podcasts.updateEpisode(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deleteEpisode, async (c) => {
    await podcasts.deleteEpisode(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(publishEpisode, async (c) => c.json(await podcasts.publishNow(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(createFeedToken, async (c) =>
    c.json(await podcasts.mintFeedToken(principalOf(c), c.req.valid('param').id, c.req.valid('json').user_id), 201),
  );
  app.openapi(createOwnFeed, async (c) => c.json(await podcasts.mintOwnFeedToken(principalOf(c), c.req.valid('param').id), 201));
  app.openapi(revokeFeedToken, async (c) => {
    const { id, token_id } = c.req.valid('param');
    await podcasts.revokeFeedToken(principalOf(c), id, token_id);
    return c.body(null, 204);
  });
}
