// The continuous MP3 stream over real loopback HTTP, byte for byte: tracks'
// audio ranges back to back (leading tags/Xing and trailing bytes left out),
// chunked, Range resume (206/416), ?start= via the seek index, caching
// validators, and an external track proxied as it downloads.

import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { externalHost, insertReadyUpload, listen, serveBytes } from './uploads-support.js';

/** Distinct, position-dependent bytes, so a misplaced byte cannot go unnoticed. */
function pattern(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 97 + (i >> 8)) & 0xff;
  return out;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(DIALECTS)('stream.mp3 on %s', (dialect) => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let host: Awaited<ReturnType<typeof externalHost>>;
  let playlistId: string;
  let expected: Buffer;
  const A = pattern(120_000, 1);
  const B = pattern(90_000, 2);
  const E = pattern(150_000, 3);
  const startA = 417; // "ID3 tag + Info frame" bytes that must never reach the listener
  const startB = 0;
  const startE = 1000;
  const endE = E.length - 128; // "ID3v1 tag" at the end
  let releaseExternal: () => void = () => {};
  let externalGate: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const dj = await signUp(t);
    host = await externalHost((req, res) => {
      if (req.method !== 'GET' || !req.headers.range || req.headers.range === 'bytes=0-0') return serveBytes(res, req, E);
      // Proxied playback: send the first part of the range, then wait until the test lets the rest go.
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range)!;
      const [s, e] = [Number(m[1]), Number(m[2])];
      res.writeHead(206, {
        'content-type': 'audio/mpeg',
        'content-range': `bytes ${s}-${e}/${E.length}`,
        'content-length': e - s + 1,
      });
      const half = s + Math.floor((e - s + 1) / 2);
      res.write(E.subarray(s, half));
      void externalGate.then(() => res.end(E.subarray(half, e + 1)));
    });
    const a = await insertReadyUpload(t, dj.userId, { audio: A, audioStart: startA, seconds: 10 });
    const b = await insertReadyUpload(t, dj.userId, { audio: B, audioStart: startB, seconds: 10 });
    const res = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'Back to back', items: [{ upload_id: a }, { upload_id: b }, { url: `${host.url}/e.mp3` }] },
    });
    const playlist = (await res.json()) as { id: string; items: { id: string }[] };
    playlistId = playlist.id;
    // What the external-track job records once it has fetched and mapped the file.
    const perSecond = Math.floor((endE - startE) / 10);
    await t.container.db.kysely
      .updateTable('playlist_items')
      .set({
        status: 'ready',
        audio_start: startE,
        audio_end: endE,
        duration_seconds: 10,
        seek_index: JSON.stringify(Array.from({ length: 10 }, (_, s) => s * perSecond)),
        hls_segments: JSON.stringify([
          { uri: 'segment_00000.ts', duration: 6 },
          { uri: 'segment_00001.ts', duration: 4 },
        ]),
      })
      .where('id', '=', playlist.items[2]!.id)
      .execute();
    await t.container.playlists.rebuild(playlistId, { bump: true });
    expected = Buffer.concat([A.subarray(startA), B.subarray(startB), E.subarray(startE, endE)]);
    server = await listen(t);
  });
  afterAll(async () => {
    releaseExternal();
    await server.close();
    await host.close();
    await t.close();
  });

  const url = (query = '') => `${server.url}/playlists/${playlistId}/stream.mp3${query}`;

  it('sends every track’s audio range back to back, chunked, with no Content-Length', async () => {
    const res = await get(url());
    expect(res.status).toBe(200);
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toBe('audio/mpeg');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.body.length).toBe(expected.length);
    expect(res.body.equals(expected)).toBe(true);
    // The external track was fetched with a Range for its audio frames only.
    expect(host.requests.filter((r) => r.method === 'GET' && r.range !== 'bytes=0-0').map((r) => r.range)).toContain(
      `bytes=${startE}-${endE - 1}`,
    );
  });

  it('resumes with Range: bytes=N- as 206 over the joined bytes, with the total known', async () => {
    for (const n of [0, 5, A.length - startA - 1, A.length - startA, expected.length - 1]) {
      const res = await get(url(), { range: `bytes=${n}-` });
      expect(res.status, `bytes=${n}-`).toBe(206);
      expect(res.headers['content-range']).toBe(`bytes ${n}-${expected.length - 1}/${expected.length}`);
      expect(Number(res.headers['content-length'])).toBe(expected.length - n);
      expect(res.body.equals(expected.subarray(n))).toBe(true);
    }
    const closed = await get(url(), { range: 'bytes=100-199' });
    expect(closed.status).toBe(206);
    expect(closed.body.equals(expected.subarray(100, 200))).toBe(true);
  });

  it('answers 416 with Content-Range */total for a range past the end', async () => {
    const res = await get(url(), { range: `bytes=${expected.length}-` });
    expect(res.status).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${expected.length}`);
    expect(JSON.parse(res.body.toString()).code).toBe('range_not_satisfiable');
  });

  it('starts at ?start=<seconds> on the frame the seek index names, in whichever track plays then', async () => {
    const perSecondB = Math.floor((B.length - startB) / 10);
    const res = await get(url('?start=13')); // track B (10 s + 3 s in)
    expect(res.status).toBe(200);
    const offset = A.length - startA + 3 * perSecondB;
    expect(res.body.equals(expected.subarray(offset))).toBe(true);
    // Range applies within the stream from that point.
    const ranged = await get(url('?start=13'), { range: 'bytes=10-' });
    expect(ranged.status).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 10-${expected.length - offset - 1}/${expected.length - offset}`);
    expect(ranged.body.equals(expected.subarray(offset + 10))).toBe(true);
  });

  it('carries a strong ETag from the content version and Last-Modified; answers 304 and honours If-Range', async () => {
    const head = await get(url(), {}, 'HEAD');
    expect(head.status).toBe(200);
    const etag = head.headers.etag!;
    expect(etag).toMatch(/^"pls_[0-9a-z]{26}\.v\d+\.mp3"$/);
    expect(head.headers['cache-control']).toBe('public, max-age=60');
    expect(new Date(head.headers['last-modified']!).getTime()).toBeGreaterThan(0);
    expect((await get(url(), { 'if-none-match': etag })).status).toBe(304);
    expect((await get(url(), { 'if-modified-since': head.headers['last-modified']! })).status).toBe(304);
    expect((await get(url(), { range: 'bytes=10-', 'if-range': etag })).status).toBe(206);
    const stale = await get(url(), { range: 'bytes=10-', 'if-range': '"pls_x.v0.mp3"' });
    expect(stale.status).toBe(200);
    expect(stale.body.equals(expected)).toBe(true);
    // The start representation has its own tag.
    expect((await get(url('?start=13'), {}, 'HEAD')).headers.etag).not.toBe(etag);
  });

  it('proxies the external track as it downloads instead of buffering it whole', async () => {
    externalGate = new Promise<void>((resolve) => (releaseExternal = resolve));
    const externalStart = A.length - startA + B.length - startB;
    const received = await new Promise<{ before: number; total: Buffer }>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let got = 0;
      let before = -1;
      http.get(url(), (res) => {
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          got += c.length;
          // Bytes of the external track arrive while its host is still holding back the second half.
          if (before < 0 && got > externalStart + 10_000) {
            before = got;
            releaseExternal();
          }
        });
        res.on('end', () => resolve({ before, total: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
    });
    expect(received.before).toBeGreaterThan(externalStart);
    expect(received.before).toBeLessThan(expected.length);
    expect(received.total.equals(expected)).toBe(true);
  });
});
