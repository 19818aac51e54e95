import { principalOf } from '../../http/auth.js';
import type { App } from '../../http/env.js';
import { extraErrors, json, securedRoute } from '../../http/openapi.js';
import { PaginationQuery } from '../../core/pagination.js';
import { StreamIdParam } from '../streams/schemas.js';
import { ArchiveListSchema, ArchiveSchema } from './schemas.js';
import type { ArchivesService } from './service.js';

const archiveStream = securedRoute('streams:write', {
  method: 'post',
  path: '/v1/streams/{id}/archive',
  operationId: 'archiveStream',
  tags: ['streams'],
  summary: 'End the live set being recorded and turn it into an episode now',
  description:
    'The set recorded since the stream went live (or since its last archive) is joined into one MP3 and becomes a draft episode of `archive_to_podcast` (published at once with `archive_auto_publish`). A stream that is still live goes on into a new set. The same happens by itself when the stream goes offline.',
  request: { params: StreamIdParam },
  responses: { 202: { description: 'The set, now processing', content: json(ArchiveSchema) }, ...extraErrors(409, 422) },
});

const listArchives = securedRoute('streams:read', {
  method: 'get',
  path: '/v1/streams/{id}/archives',
  operationId: 'listStreamArchives',
  tags: ['streams'],
  summary: 'The stream’s recorded sets, newest first, with their episodes',
  request: { params: StreamIdParam, query: PaginationQuery },
  responses: { 200: { description: 'Sets', content: json(ArchiveListSchema) } },
});

export function registerArchiveRoutes(app: App, archives: ArchivesService): void {
  app.openapi(archiveStream, async (c) => c.json(await archives.archiveNow(principalOf(c), c.req.valid('param').id), 202));
  app.openapi(listArchives, async (c) =>
    c.json(await archives.list(principalOf(c), c.req.valid('param').id, c.req.valid('query')), 200),
  );
}
