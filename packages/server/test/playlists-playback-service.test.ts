// PlaylistPlaybackService answers as data (status, headers, body) with no
// HTTP in between: conditional GET, Range and ?start= over the joined
// bytes, who may play, and the 503 while an external track is pending.

import type { PieceSource } from '../src/media/mp3-concat.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlaylistPlaybackService, type PlaybackRequest } from '../src/features/playlists/playback-service.js';
import { DomainError } from '../src/core/errors.js';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { insertReadyUpload } from './uploads-support.js';

/** All the bytes of a streamed answer (local tracks are pulled a piece at a time). */
async function bytesOf(body: unknown): Promise<Buffer> {
  const source = body as PieceSource;
  const pieces: Buffer[] = [];
  for (let piece = await source.next(); piece !== null; piece = await source.next()) pieces.push(piece);
  return Buffer.concat(pieces);
}

describe('PlaylistPlaybackService', () => {
  let t: TestApp;
  let service: PlaylistPlaybackService;
  let open: string;
  let closed: string;
  const A = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
  const B = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 253));
  const joined = Buffer.concat([A.subarray(100), B]);
  type Mp3Request = PlaybackRequest & { range?: string };
  const request = (id: string, extra: Partial<Mp3Request> = {}): Mp3Request => ({
    id,
    credentials: {},
    conditional: {},
    head: false,
    ...extra,
  });

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    const dj = await signUp(t);
    const a = await insertReadyUpload(t, dj.userId, { audio: A, audioStart: 100, seconds: 10 });
    const b = await insertReadyUpload(t, dj.userId, { audio: B, audioStart: 0, seconds: 10 });
    const create = async (visibility: string) =>
      (
        (await (
          await t.request('POST', '/v1/playlists', {
            token: dj.token,
            body: { title: visibility, visibility, items: [{ upload_id: a }, { upload_id: b }] },
          })
        ).json()) as { id: string }
      ).id;
    open = await create('public');
    closed = await create('private');
    service = new PlaylistPlaybackService({
      playlists: t.container.playlists,
      db: t.container.db.kysely,
      authorizer: t.container.playback,
      store: t.container.blobs,
      logger: t.container.logger,
      allowPrivateUrls: true,
      cacheSeconds: 60,
      paceFactor: 0,
    });
  });
  afterAll(() => t.close());

  it('stream.mp3: the joined audio, chunked, cacheable when open', async () => {
    const answer = await service.mp3(request(open));
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({
      'Content-Type': 'audio/mpeg',
      'Accept-Ranges': 'bytes',
      'Transfer-Encoding': 'chunked',
      'Cache-Control': 'public, max-age=60',
    });
    expect(await bytesOf(answer.body)).toEqual(joined);
  });

  it('a Range across the track boundary is a 206 of exactly those bytes', async () => {
    const answer = await service.mp3(request(open, { range: 'bytes=4800-5199' }));
    expect(answer.status).toBe(206);
    expect(answer.headers['Content-Range']).toBe(`bytes 4800-5199/${joined.length}`);
    expect(answer.headers['Content-Length']).toBe('400');
    expect(await bytesOf(answer.body)).toEqual(joined.subarray(4800, 5200));
  });

  it('If-None-Match with the ETag: 304 without a body; a stale If-Range: the whole stream', async () => {
    const first = await service.mp3(request(open));
    (first.body as PieceSource).destroy();
    const etag = first.headers.ETag!;
    expect(await service.mp3(request(open, { conditional: { ifNoneMatch: etag } }))).toMatchObject({ status: 304, body: null });
    const stale = await service.mp3(request(open, { range: 'bytes=0-9', conditional: { ifRange: '"other"' } }));
    expect(stale.status).toBe(200);
    (stale.body as PieceSource).destroy();
  });

  it('an unsatisfiable Range is a 416 problem naming the length', async () => {
    const error = await service.mp3(request(open, { range: `bytes=${joined.length}-` })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('range_not_satisfiable');
    expect((error as DomainError).extra.headers?.['Content-Range']).toBe(`bytes */${joined.length}`);
  });

  it('HEAD: the headers alone', async () => {
    const answer = await service.mp3(request(open, { head: true }));
    expect(answer).toMatchObject({ status: 200, body: null });
    expect(answer.headers['Transfer-Encoding']).toBeUndefined();
  });

  it('a private playlist: refused anonymously; with a signed token, private caching and the token in segment URLs', async () => {
    await expect(service.manifest(request(closed))).rejects.toMatchObject({ code: 'forbidden' });
    const token = t.container.playback.sign(closed, null, 60).token;
    const answer = await service.manifest(request(closed, { credentials: { token } }));
    expect(answer.status).toBe(200);
    expect(answer.headers['Cache-Control']).toBe('private, no-store');
    expect(String(answer.body)).toContain(`token=${encodeURIComponent(token)}`);
  });
});
