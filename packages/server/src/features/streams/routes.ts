import { z } from '@hono/zod-openapi';
import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { json, securedRoute, extraErrors } from '../../http/openapi.js';
import { PaginationQuery } from '../../core/pagination.js';
import {
  CreateStreamBody,
  PlaybackTokenSchema,
  StreamIdParam,
  StreamListSchema,
  StreamSchema,
  StreamStatusSchema,
  UpdateStreamBody,
} from './schemas.js';
import type { StreamsService } from './service.js';

const ListQuery = PaginationQuery.extend({
  owner_id: z
    .string()
    .regex(/^usr_[0-9a-z]{26}$/)
    .optional()
    .openapi({ param: { name: 'owner_id', in: 'query' }, description: 'Admins only: one owner’s streams.' }),
});

const createStream = securedRoute('streams:write', {
  method: 'post',
  path: '/v1/streams',
  operationId: 'registerStream',
  tags: ['streams'],
  summary: 'Register a Shoutcast or Icecast source as a stream',
  description:
    'Probes the source first (stream and stats endpoint): an unreachable, non-audio or credential-refusing source, or one on a private address, is refused with 422 and the connection error. On success a relay worker starts; the stream goes `starting` -> `live` as its heartbeats arrive.',
  request: { body: { content: json(CreateStreamBody), required: true } },
  responses: { 201: { description: 'Stream registered', content: json(StreamSchema) }, ...extraErrors(422, 503) },
});

const listStreams = securedRoute('streams:read', {
  method: 'get',
  path: '/v1/streams',
  operationId: 'listStreams',
  tags: ['streams'],
  summary: 'Your streams, newest first (admins: everyone’s)',
  request: { query: ListQuery },
  responses: { 200: { description: 'Streams', content: json(StreamListSchema) } },
});

const getStream = securedRoute('streams:read', {
  method: 'get',
  path: '/v1/streams/{id}',
  operationId: 'getStream',
  tags: ['streams'],
  summary: 'One stream',
  request: { params: StreamIdParam },
  responses: { 200: { description: 'The stream', content: json(StreamSchema) } },
});

const updateStream = securedRoute('streams:write', {
  method: 'patch',
  path: '/v1/streams/{id}',
  operationId: 'updateStream',
  tags: ['streams'],
  summary: 'Change a stream’s name, visibility, monetization or source credentials',
  description: 'A change of visibility, monetization or credentials restarts the relay worker with the new settings.',
  request: { params: StreamIdParam, body: { content: json(UpdateStreamBody), required: true } },
  responses: { 200: { description: 'The updated stream', content: json(StreamSchema) }, ...extraErrors(503) },
});

const deleteStream = securedRoute('streams:write', {
  method: 'delete',
  path: '/v1/streams/{id}',
  operationId: 'deleteStream',
  tags: ['streams'],
  summary: 'Delete a stream, stopping its relay and removing its live media',
  request: { params: StreamIdParam },
  responses: { 204: { description: 'Deleted' } },
});

const getStreamStatus = securedRoute('streams:read', {
  method: 'get',
  path: '/v1/streams/{id}/status',
  operationId: 'getStreamStatus',
  tags: ['streams'],
  summary: 'Live state, current track, bitrate, listeners and relay health',
  request: { params: StreamIdParam },
  responses: { 200: { description: 'The stream’s live status', content: json(StreamStatusSchema) } },
});

const createPlaybackToken = securedRoute(
  'streams:read',
  {
    method: 'post',
    path: '/v1/streams/{id}/playback-token',
    operationId: 'createStreamPlaybackToken',
    tags: ['streams'],
    summary: 'A signed, expiring token that lets a player play a private or monetized stream',
    request: { params: StreamIdParam },
    responses: { 201: { description: 'A playback token', content: json(PlaybackTokenSchema) } },
  },
  { idempotent: false /* the response is a playback token */ },
);

export function registerStreamRoutes(app: App, streams: StreamsService): void {
  app.openapi(createStream, async (c) => c.json(await streams.create(principalOf(c), c.req.valid('json')), 201));
  app.openapi(listStreams, async (c) => c.json(await streams.list(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getStream, async (c) => c.json(await streams.get(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(updateStream, async (c) =>
    c.json(await streams.update(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deleteStream, async (c) => {
    await streams.delete(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
  app.openapi(getStreamStatus, async (c) => c.json(await streams.status(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(createPlaybackToken, async (c) =>
    c.json(await streams.playbackToken(principalOf(c), c.req.valid('param').id), 201),
  );
}
