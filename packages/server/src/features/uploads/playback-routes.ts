import type { App } from '../../http/env.js';
import { answerPlaybackPreflight, playbackRoute } from '../../http/playback-policy.js';
import { playbackCredentials } from '../../http/playback.js';
import { sendMedia } from './blob-response.js';
import { UploadPlaybackService, type UploadPlaybackDeps } from './playback-service.js';
import { HlsFileParams, PlaybackTokenQuery } from './schemas.js';

const uploadHls = playbackRoute({
  method: 'get',
  path: '/uploads/audio/{id}/hls/{file}',
  operationId: 'getUploadHls',
  summary: 'An upload’s own HLS playlist and segments (the `hls_url` of a ready upload)',
  request: { params: HlsFileParams, query: PlaybackTokenQuery },
  responses: { 200: { description: 'Playlist or segment' }, 302: { description: 'Redirect to the object store (S3)' } },
});

export function registerUploadPlaybackRoutes(app: App, deps: UploadPlaybackDeps): void {
  const playback = new UploadPlaybackService(deps);
  app.openapi(uploadHls, async (c) => {
    const { id, file } = c.req.valid('param');
    return sendMedia(await playback.hlsFile({ id, file, credentials: playbackCredentials(c), head: c.req.method === 'HEAD' }));
  });
  answerPlaybackPreflight(app, uploadHls);
}
