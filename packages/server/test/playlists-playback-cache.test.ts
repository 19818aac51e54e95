// stream.mp3 on the production server (createHttpServer: the body is pumped
// straight into the socket), over real loopback HTTP: the playlist's
// playback info and track map are cached per content version, so repeated
// listens load them once, and a change to the playlist (new items, new
// access) is served at once by the next request. The headers every
// middleware adds (CORS, X-Request-Id, caching validators) still go out, and
// Range and 304 work the same as through the web-stream path.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createHttpServer } from '../src/http/server.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { insertReadyUpload } from './uploads-support.js';

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 97 + (i >> 8)) & 0xff;
  return out;
}

function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe.each(DIALECTS)('stream.mp3 playback cache and direct body on %s', (dialect) => {
  let t: TestApp;
  let server: http.Server;
  let base: string;
  let dj: Awaited<ReturnType<typeof signUp>>;
  const A = pattern(40_000, 1);
  const B = pattern(24_000, 2);
  let a: string;
  let b: string;

  beforeAll(async () => {
    // Pacing on (it is off by default), as a deployment without a CDN would run it.
    t = await createTestApp(dialect, { DJCAST_STREAM_PACE: '1.5' });
    dj = await signUp(t);
    // Short tracks: the whole stream is inside the unpaced head start (see the pacing test below).
    a = await insertReadyUpload(t, dj.userId, { audio: A, seconds: 1 });
    b = await insertReadyUpload(t, dj.userId, { audio: B, seconds: 1 });
    server = createHttpServer(t.app, loadConfig({}).http);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await t?.close();
  });

  async function create(items: string[]): Promise<string> {
    const res = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'cached', visibility: 'public', items: items.map((upload_id) => ({ upload_id })) },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  it('loads a playlist once per content version; a change is served by the very next request', async () => {
    const id = await create([a]);
    const loads = vi.spyOn(t.container.playlists, 'playback');
    try {
      const url = `${base}/playlists/${id}/stream.mp3`;
      const first = await get(url);
      expect(first.status).toBe(200);
      expect(first.body.equals(A)).toBe(true);
      const again = await get(url);
      expect(again.body.equals(A)).toBe(true);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(loads).toHaveBeenCalledTimes(1);

      // New items: a new content version, so the next listen loads and plays them.
      const patch = await t.request('PATCH', `/v1/playlists/${id}`, {
        token: dj.token,
        body: { items: [{ upload_id: b }, { upload_id: a }] },
      });
      expect(patch.status).toBe(200);
      const afterPatch = loads.mock.calls.length; // the update rebuilds the manifest through playback() too
      const changed = await get(url);
      expect(changed.status).toBe(200);
      expect(changed.body.equals(Buffer.concat([B, A]))).toBe(true);
      expect(changed.headers.etag).not.toBe(first.headers.etag);
      expect(loads).toHaveBeenCalledTimes(afterPatch + 1);
      expect((await get(url)).body.equals(Buffer.concat([B, A]))).toBe(true);
      expect(loads).toHaveBeenCalledTimes(afterPatch + 1);

      // Access changes too: private now, so an anonymous listener is refused at once.
      const hide = await t.request('PATCH', `/v1/playlists/${id}`, { token: dj.token, body: { visibility: 'private' } });
      expect(hide.status).toBe(200);
      expect([401, 403]).toContain((await get(url)).status);
    } finally {
      loads.mockRestore();
    }
  });

  it('the direct body keeps every header, Range and 304', async () => {
    const id = await create([a, b]);
    const url = `${base}/playlists/${id}/stream.mp3`;
    const joined = Buffer.concat([A, B]);
    const full = await get(url, { origin: 'https://player.example' });
    expect(full.status).toBe(200);
    expect(full.headers['transfer-encoding']).toBe('chunked');
    expect(full.headers['access-control-allow-origin']).toBe('*');
    expect(full.headers['x-request-id']).toMatch(/^req_/);
    expect(full.headers['content-type']).toBe('audio/mpeg');
    expect(full.body.equals(joined)).toBe(true);

    const part = await get(url, { range: 'bytes=39990-40009' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 39990-40009/${joined.length}`);
    expect(part.body.equals(joined.subarray(39_990, 40_010))).toBe(true);

    const fresh = await get(url, { 'if-none-match': String(full.headers.etag) });
    expect(fresh.status).toBe(304);
    expect(fresh.body.length).toBe(0);
  });

  it('paces the stream: the first 10 s of audio at once, then 1.5x the bitrate, however fast the client reads', async () => {
    // 60 s of audio at 10 000 B/s.
    const long = await insertReadyUpload(t, dj.userId, { audio: pattern(600_000, 3), seconds: 60 });
    const id = await create([long]);
    const started = performance.now();
    let received = 0;
    let at2s = 0;
    await new Promise<void>((resolve, reject) => {
      http
        .get(`${base}/playlists/${id}/stream.mp3`, (res) => {
          res.on('data', (c: Buffer) => {
            received += c.length;
            if (performance.now() - started >= 2000) {
              at2s = received;
              res.destroy();
              resolve();
            }
          });
          res.on('error', reject);
          res.on('end', () => reject(new Error('the whole 60 s stream arrived in under 2 s')));
        })
        .on('error', reject);
    });
    const seconds = (performance.now() - started) / 1000;
    expect(at2s).toBeGreaterThanOrEqual(100_000); // the head start
    // At most the burst, 1.5x the bitrate since, and one batch of pieces (48 KiB + 16 KiB) of slack.
    expect(at2s).toBeLessThanOrEqual(100_000 + 15_000 * seconds + 64 * 1024);

    // A ranged request (seeking, a CDN's range fill) is never paced: 400 KB past the head start arrive at once.
    const ranged = await get(`${base}/playlists/${id}/stream.mp3`, { range: 'bytes=100000-499999' });
    expect(ranged.status).toBe(206);
    expect(ranged.body.length).toBe(400_000);
  });
});
