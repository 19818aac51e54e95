import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { extraErrors, json, publicRoute, securedRoute } from '../../http/openapi.js';
import { sendMedia } from '../uploads/blob-response.js';
import { AdBreakIdParam, AdBreakSchema, CreateAdBreakBody, SignedAudioQuery } from './live-break-schemas.js';
import type { LiveBreaks } from './live-breaks.js';
import { StreamIdParam } from './schemas.js';

const tags = ['ads'];

const startBreak = securedRoute('monetization:write', {
  method: 'post',
  path: '/v1/streams/{id}/ad-breaks',
  operationId: 'startAdBreak',
  tags,
  summary: 'Start a live ad break now (the stream must be live)',
  description:
    'The relay learns the break on its next heartbeat, fetches the ad’s normalized MP3 and plays it in place of the source for ' +
    '`duration_seconds`, then the source again; the live playlist marks the break with EXT-X-DISCONTINUITY and ' +
    'EXT-X-DATERANGE (ID = the break’s id). A new `url` or `upload_id` source is normalized first. 409 when the stream is not live.',
  request: { params: StreamIdParam, body: { content: json(CreateAdBreakBody), required: true } },
  responses: { 201: { description: 'Requested', content: json(AdBreakSchema) }, ...extraErrors(409) },
});

const breakAudio = publicRoute({
  method: 'get',
  path: '/v1/ad-breaks/{id}/audio',
  operationId: 'getAdBreakAudio',
  tags,
  summary: 'The ad’s normalized MP3 for the relay (signed URL from the heartbeat receipt; local storage only)',
  request: { params: AdBreakIdParam, query: SignedAudioQuery },
  responses: { 200: { description: 'audio/mpeg' }, 302: { description: 'Redirect to the object store (S3)' } },
});

export function registerLiveBreakRoutes(app: App, breaks: LiveBreaks): void {
  app.openapi(startBreak, async (c) =>
    c.json(await breaks.start(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  app.openapi(breakAudio, async (c) => sendMedia(await breaks.audio(c.req.valid('param').id, c.req.valid('query'))));
}
