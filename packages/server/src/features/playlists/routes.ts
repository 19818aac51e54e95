import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { json, securedRoute, extraErrors } from '../../http/openapi.js';
import { PaginationQuery } from '../../core/pagination.js';
import { CreatePlaylistBody, PlaylistIdParam, PlaylistListSchema, PlaylistSchema, UpdatePlaylistBody } from './schemas.js';
import type { PlaylistsService } from './service.js';

const createPlaylist = securedRoute('playlists:write', {
  method: 'post',
  path: '/v1/playlists',
  operationId: 'createPlaylist',
  tags: ['playlists'],
  summary: 'Create a playlist of your uploads and external MP3 URLs',
  description:
    'Uploads must be yours and ready. External URLs are checked with HEAD (or a one-byte ranged GET): reachable, MP3, known size. ' +
    'A bad item is a 422 whose `errors[].path` names it (`items.2.url`). External tracks are then fetched and segmented in the background.',
  request: { body: { content: json(CreatePlaylistBody), required: true } },
  responses: { 201: { description: 'Playlist created', content: json(PlaylistSchema) }, ...extraErrors(422) },
});

const listPlaylists = securedRoute('playlists:read', {
  method: 'get',
  path: '/v1/playlists',
  operationId: 'listPlaylists',
  tags: ['playlists'],
  summary: 'Your playlists, newest first (admins: everyone’s)',
  request: { query: PaginationQuery },
  responses: { 200: { description: 'Playlists', content: json(PlaylistListSchema) } },
});

const getPlaylist = securedRoute('playlists:read', {
  method: 'get',
  path: '/v1/playlists/{id}',
  operationId: 'getPlaylist',
  tags: ['playlists'],
  summary: 'One playlist with its items and listen URLs',
  request: { params: PlaylistIdParam },
  responses: { 200: { description: 'The playlist', content: json(PlaylistSchema) } },
});

const updatePlaylist = securedRoute('playlists:write', {
  method: 'patch',
  path: '/v1/playlists/{id}',
  operationId: 'updatePlaylist',
  tags: ['playlists'],
  summary: 'Rename, change visibility or monetization, or replace the items',
  request: { params: PlaylistIdParam, body: { content: json(UpdatePlaylistBody), required: true } },
  responses: { 200: { description: 'The updated playlist', content: json(PlaylistSchema) }, ...extraErrors(422) },
});

const deletePlaylist = securedRoute('playlists:write', {
  method: 'delete',
  path: '/v1/playlists/{id}',
  operationId: 'deletePlaylist',
  tags: ['playlists'],
  summary: 'Delete a playlist (your uploads stay)',
  request: { params: PlaylistIdParam },
  responses: { 204: { description: 'Deleted' } },
});

export function registerPlaylistRoutes(app: App, playlists: PlaylistsService): void {
  app.openapi(createPlaylist, async (c) => c.json(await playlists.create(principalOf(c), c.req.valid('json')), 201));
  app.openapi(listPlaylists, async (c) => c.json(await playlists.list(principalOf(c), c.req.valid('query')), 200));
  app.openapi(getPlaylist, async (c) => c.json(await playlists.get(principalOf(c), c.req.valid('param').id), 200));
  app.openapi(updatePlaylist, async (c) =>
    c.json(await playlists.update(principalOf(c), c.req.valid('param').id, c.req.valid('json')), 200),
  );
  app.openapi(deletePlaylist, async (c) => {
    await playlists.delete(principalOf(c), c.req.valid('param').id);
    return c.body(null, 204);
  });
}
