import { NotFound } from '../../core/errors.js';
import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { receiveMultipartFile } from '../../http/multipart-upload.js';
import { extraErrors, json, securedRoute } from '../../http/openapi.js';
import { answerPlaybackPreflight, playbackRoute } from '../../http/playback-policy.js';
import { multipartProblem } from '../podcasts/multipart-problem.js';
import { sendMedia, serveBlob } from '../uploads/blob-response.js';
import { ArtworkIdParam, ArtworkSchema, MultipartArtworkBody } from './schemas.js';
import { PAGE_ARTWORK_MAX_BYTES, type ArtworksService } from './service.js';

const uploadArtwork = securedRoute(
  'uploads:write',
  {
    method: 'post',
    path: '/v1/artworks',
    operationId: 'uploadArtwork',
    tags: ['artworks'],
    summary: 'Upload artwork for a stream or playlist page (multipart field `file`): JPEG or PNG, square, 300-3000 px, RGB',
    description:
      'Set it with `artwork_id` on a stream or playlist. A refused image is a 422 whose `rule` names the rule it breaks (format, square, min_size, max_size, rgb).',
    request: { body: { content: { 'multipart/form-data': { schema: MultipartArtworkBody } }, required: true } },
    responses: { 201: { description: 'Stored', content: json(ArtworkSchema) }, ...extraErrors(413, 415, 422) },
  },
  { body: 'stream', idempotent: false },
);

const getArtwork = playbackRoute({
  method: 'get',
  path: '/artworks/{id}',
  operationId: 'getArtwork',
  summary: 'Stream or playlist artwork, served from storage (immutable)',
  request: { params: ArtworkIdParam },
  responses: { 200: { description: 'The image' }, 302: { description: 'Redirect to the object store (S3)' } },
});

export function registerArtworkRoutes(app: App, artworks: ArtworksService): void {
  app.openapi(uploadArtwork, async (c) => {
    const principal = principalOf(c);
    try {
      const view = await receiveMultipartFile(c.req.raw, {
        field: 'file',
        maxBytes: PAGE_ARTWORK_MAX_BYTES,
        sink: (file) => artworks.upload(principal, file.stream),
      });
      return c.json(view, 201);
    } catch (error) {
      throw multipartProblem(error, 'the image');
    }
  });
  app.openapi(getArtwork, async (c) => {
    const { id } = c.req.valid('param');
    const row = await artworks.find(id);
    if (!row) throw new NotFound('Artwork', id);
    const answer = await serveBlob(
      artworks.store,
      row.storage_key,
      'public, max-age=31536000, immutable',
      c.req.method === 'HEAD',
    );
    if (!answer) throw new NotFound('Artwork', id);
    const res = sendMedia(answer);
    // The stored type was checked on the bytes; browsers must not guess another.
    res.headers.set('X-Content-Type-Options', 'nosniff');
    return res;
  });
  answerPlaybackPreflight(app, getArtwork);
}
