import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { extraErrors, json, securedRoute } from '../../http/openapi.js';
import {
  AdMarkerIdParam,
  AdMarkerListQuery,
  AdMarkerListSchema,
  AdMarkerSchema,
  CreatePlaylistAdMarkerBody,
  CreateStreamAdMarkerBody,
  PlaylistIdParam,
  StreamIdParam,
} from './schemas.js';
import type { AdsService } from './service.js';

const tags = ['ads'];

const createPlaylistMarker = securedRoute('monetization:write', {
  method: 'post',
  path: '/v1/playlists/{id}/ad-markers',
  operationId: 'createPlaylistAdMarker',
  tags,
  summary: 'Insert an ad into a playlist at a programme position (mid-roll) or before it (pre-roll)',
  description:
    'The source (one of your ready uploads, or an MP3 URL fetched through the guarded client) is normalized once in the background: ' +
    'transcoded to the playlist’s MP3 format, loudness-normalized with loudnorm, cut or padded to `duration_seconds`. ' +
    'Once `status` is `ready` it plays in stream.m3u8 (segment boundary nearest the position, discontinuities around it) and ' +
    'stream.mp3 (frame boundary nearest the position) for every listener whose plan is not ad-free.',
  request: { params: PlaylistIdParam, body: { content: json(CreatePlaylistAdMarkerBody), required: true } },
  responses: { 201: { description: 'Created', content: json(AdMarkerSchema) }, ...extraErrors(422) },
});

const listPlaylistMarkers = securedRoute('playlists:read', {
  method: 'get',
  path: '/v1/playlists/{id}/ad-markers',
  operationId: 'listPlaylistAdMarkers',
  tags,
  summary: 'The ad markers of a playlist',
  request: { params: PlaylistIdParam, query: AdMarkerListQuery },
  responses: { 200: { description: 'Markers', content: json(AdMarkerListSchema) } },
});

const createStreamMarker = securedRoute('monetization:write', {
  method: 'post',
  path: '/v1/streams/{id}/ad-markers',
  operationId: 'createStreamAdMarker',
  tags,
  summary: 'An ad for a live stream: a scheduled break (`starts_at`), an on-demand break, or a pre-roll',
  request: { params: StreamIdParam, body: { content: json(CreateStreamAdMarkerBody), required: true } },
  responses: { 201: { description: 'Created', content: json(AdMarkerSchema) }, ...extraErrors(422) },
});

const listStreamMarkers = securedRoute('streams:read', {
  method: 'get',
  path: '/v1/streams/{id}/ad-markers',
  operationId: 'listStreamAdMarkers',
  tags,
  summary: 'The ad markers of a stream',
  request: { params: StreamIdParam, query: AdMarkerListQuery },
  responses: { 200: { description: 'Markers', content: json(AdMarkerListSchema) } },
});

const getMarker = securedRoute('monetization:write', {
  method: 'get',
  path: '/v1/ad-markers/{id}',
  operationId: 'getAdMarker',
  tags,
  summary: 'One ad marker, with whether its audio is ready',
  request: { params: AdMarkerIdParam },
  responses: { 200: { description: 'The marker', content: json(AdMarkerSchema) } },
});

const deleteMarker = securedRoute('monetization:write', {
  method: 'delete',
  path: '/v1/ad-markers/{id}',
  operationId: 'deleteAdMarker',
  tags,
  summary: 'Remove an ad marker; listeners stop hearing it at once',
  request: { params: AdMarkerIdParam },
  responses: { 204: { description: 'Deleted' } },
});

export function registerAdRoutes(app: App, ads: AdsService): void {
  app.openapi(createPlaylistMarker, async (c) =>
    c.json(await ads.createForPlaylist(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  app.openapi(listPlaylistMarkers, async (c) =>
    c.json(await ads.listForPlaylist(principalOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );
  app.openapi(createStreamMarker, async (c) =>
    c.json(await ads.createForStream(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 201),
  );
  app.openapi(listStreamMarkers, async (c) =>
    c.json(await ads.listForStream(principalOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );
  app.openapi(getMarker, async (c) => c.json(await ads.get(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(deleteMarker, async (c) => {
    await ads.delete(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
}
