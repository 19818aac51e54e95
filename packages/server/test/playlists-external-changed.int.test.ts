// An external track whose file changes at its origin after the external-track
// job fetched and mapped it. The job records the origin's ETag,
// Last-Modified and size; stream.mp3 sends If-Range with them on every ranged
// fetch. Once the file has changed, a listener gets the tracks before it and
// then the connection closes (no byte of the new file, whose offsets were
// never mapped, is spliced in); the item is marked failed, the playlist's
// version moves on and later listens leave it out. Adding the URL again maps
// the new file.

import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAudioRange } from '../src/media/mp3.js';
import { parseRangeHeader } from '../src/media/mp3-concat.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { externalHost, insertReadyUpload, listen, waitFor } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-ext-changed-'));
let v1: Buffer;
let v2: Buffer;
let v1Map: Awaited<ReturnType<typeof findAudioRange>>;
let v2Map: Awaited<ReturnType<typeof findAudioRange>>;

beforeAll(async () => {
  v1 = readFileSync(await generateTestMp3(path.join(dir, 'v1.mp3'), { seconds: 5, frequency: 440 }));
  v2 = readFileSync(await generateTestMp3(path.join(dir, 'v2.mp3'), { seconds: 7, frequency: 880 }));
  v1Map = await findAudioRange(path.join(dir, 'v1.mp3'));
  v2Map = await findAudioRange(path.join(dir, 'v2.mp3'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Distinct, position-dependent bytes for the upload before the external track. */
const A = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));

interface Listen {
  status: number;
  body: Buffer;
  /** The response ended properly (final chunk received), rather than the connection closing early. */
  complete: boolean;
}

function listenTo(url: string): Promise<Listen> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', () => {}); // "aborted": reported through `complete`
        res.on('close', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
      })
      .on('error', reject);
  });
}

describe.each(DIALECTS)('an external track whose file changes after it was mapped, on %s', (dialect) => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let host: Awaited<ReturnType<typeof externalHost>>;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let playlistId: string;
  let uploadId: string;
  let trackId: string;
  /** What the origin serves now; the test swaps it. */
  let current: { bytes: Buffer; etag: string; lastModified: string };
  const ifRanges: (string | undefined)[] = [];

  beforeAll(async () => {
    t = await createTestApp(dialect);
    dj = await signUp(t);
    current = { bytes: v1, etag: '"v1-5s"', lastModified: 'Mon, 02 Mar 2026 10:00:00 GMT' };
    // A static file host like nginx: validators on every answer, If-Range decides whether Range applies.
    host = await externalHost((req, res) => {
      const { bytes, etag, lastModified } = current;
      ifRanges.push(req.headers['if-range'] as string | undefined);
      const headers = { 'content-type': 'audio/mpeg', 'accept-ranges': 'bytes', etag, 'last-modified': lastModified };
      const ifRange = req.headers['if-range'];
      const r =
        ifRange === undefined || ifRange === etag
          ? parseRangeHeader(req.headers.range, bytes.length)
          : ({ kind: 'full' } as const);
      if (r.kind === 'partial') {
        res.writeHead(206, { ...headers, 'content-range': r.contentRange, 'content-length': r.contentLength });
        res.end(req.method === 'HEAD' ? undefined : bytes.subarray(r.start, r.end + 1));
      } else if (r.kind === 'unsatisfiable') {
        res.writeHead(416, { ...headers, 'content-range': r.contentRange }).end();
      } else {
        res.writeHead(200, { ...headers, 'content-length': bytes.length });
        res.end(req.method === 'HEAD' ? undefined : bytes);
      }
    });
    uploadId = await insertReadyUpload(t, dj.userId, { audio: A, audioStart: 0, seconds: 10 });
    server = await listen(t);
    t.container.worker.start();
  });
  afterAll(async () => {
    await server.close();
    await host.close();
    await t.close();
  });

  const streamUrl = () => `${server.url}/playlists/${playlistId}/stream.mp3`;
  const item = (id: string) =>
    t.container.db.kysely.selectFrom('playlist_items').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const version = async () =>
    (
      await t.container.db.kysely
        .selectFrom('playlists')
        .select('content_version')
        .where('id', '=', playlistId)
        .executeTakeFirstOrThrow()
    ).content_version;
  const waitReady = () =>
    waitFor('the external track job', async () => {
      const res = await t.request('GET', `/v1/playlists/${playlistId}`, { token: dj.token });
      const body = (await res.json()) as { status: string; items: { id: string; status: string; reason: string | null }[] };
      if (body.items.some((i) => i.status === 'failed')) throw new Error(`a track failed: ${JSON.stringify(body.items)}`);
      return body.status === 'ready' ? body : null;
    });

  it('records the origin’s ETag, Last-Modified and size when it maps the file, and sends If-Range when streaming', async () => {
    const created = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'Changing', items: [{ upload_id: uploadId }, { url: `${host.url}/sets/ext.mp3` }] },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const playlist = (await created.json()) as { id: string; items: { id: string }[] };
    playlistId = playlist.id;
    trackId = playlist.items[1]!.id;
    await waitReady();
    expect(await item(trackId)).toMatchObject({
      status: 'ready',
      source_etag: '"v1-5s"',
      source_last_modified: 'Mon, 02 Mar 2026 10:00:00 GMT',
      size_bytes: v1.length,
      audio_start: v1Map.audioStart,
      audio_end: v1Map.audioEnd,
    });

    ifRanges.length = 0;
    const listen1 = await listenTo(streamUrl());
    expect(listen1).toMatchObject({ status: 200, complete: true });
    expect(listen1.body.equals(Buffer.concat([A, v1.subarray(v1Map.audioStart, v1Map.audioEnd)]))).toBe(true);
    expect(ifRanges).toEqual(['"v1-5s"']);
  });

  it('cuts the stream before the changed file, marks the item failed and leaves it out from then on', async () => {
    const before = await version();
    current = { bytes: v2, etag: '"v2-7s"', lastModified: 'Tue, 03 Mar 2026 10:00:00 GMT' };

    const cut = await listenTo(streamUrl());
    expect(cut.status).toBe(200); // the headers were out before the track was reached
    expect(cut.complete).toBe(false); // closed without the final chunk: no cache takes it for the whole stream
    expect(cut.body.equals(A)).toBe(true); // the upload whole, then not one byte of the new file

    const failed = await waitFor('the item to be marked failed', async () => {
      const row = await item(trackId);
      return row.status === 'failed' ? row : null;
    });
    expect(failed.status_reason).toBe(
      'The file changed after it was added to the playlist: the origin answered 200 instead of 206; its ETag was "v1-5s", now "v2-7s". ' +
        'Add the URL again to use the new file.',
    );
    // The item is marked first, then the manifest is rebuilt and the version moved on (once).
    await waitFor('the content version to move on', async () => (await version()) > before);
    expect(await version()).toBe(before + 1);
    expect(t.logs.filter((l) => l.event === 'playlist.external_track_changed' && l.track_id === trackId)).toHaveLength(1);

    const view = (await (await t.request('GET', `/v1/playlists/${playlistId}`, { token: dj.token })).json()) as {
      items: { id: string; status: string; reason: string }[];
    };
    expect(view.items[1]).toMatchObject({ id: trackId, status: 'failed' });

    const after = await listenTo(streamUrl());
    expect(after).toMatchObject({ status: 200, complete: true });
    expect(after.body.equals(A)).toBe(true);
    const manifest = await (await fetch(`${server.url}/playlists/${playlistId}/stream.m3u8`)).text();
    expect(manifest).not.toContain(trackId);
  });

  it('maps the new file when the URL is added again', async () => {
    const res = await t.request('PATCH', `/v1/playlists/${playlistId}`, {
      token: dj.token,
      body: { items: [{ upload_id: uploadId }, { url: `${host.url}/sets/ext.mp3` }] },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const fresh = ((await res.json()) as { items: { id: string }[] }).items[1]!.id;
    expect(fresh).not.toBe(trackId);
    await waitReady();
    expect(await item(fresh)).toMatchObject({
      source_etag: '"v2-7s"',
      size_bytes: v2.length,
      audio_start: v2Map.audioStart,
      audio_end: v2Map.audioEnd,
    });
    const again = await listenTo(streamUrl());
    expect(again).toMatchObject({ status: 200, complete: true });
    expect(again.body.equals(Buffer.concat([A, v2.subarray(v2Map.audioStart, v2Map.audioEnd)]))).toBe(true);
  });
});
