import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { LocalBlobStore } from '@djcast/relay/blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConcatMap, parseRangeHeader, resolveRange, streamConcat } from './mp3-concat.js';
import { createTrackOpener, openHttpRange, TrackFetchError } from './track-sources.js';

const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 13 + (i >> 9)) & 0xff));

describe('track sources', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let store: LocalBlobStore;
  const seenRanges: (string | undefined)[] = [];

  beforeAll(async () => {
    // A loopback origin: honours Range, redirects, ignores Range, or fails, by path.
    server = createServer((req, res) => {
      seenRanges.push(req.headers.range);
      if (req.url === '/moved') return res.writeHead(302, { location: '/track.mp3' }).end();
      if (req.url === '/missing') return res.writeHead(404).end();
      if (req.url === '/no-ranges') return res.writeHead(200, { 'content-length': body.length }).end(body);
      if (req.url === '/wrong-range') return res.writeHead(206, { 'content-range': `bytes 0-9/${body.length}` }).end(body.subarray(0, 10));
      const r = parseRangeHeader(req.headers.range, body.length);
      if (r.kind === 'partial') return res.writeHead(206, { 'content-range': r.contentRange }).end(body.subarray(r.start, r.end + 1));
      res.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'djcast-tracks-'));
    store = new LocalBlobStore(dir);
    await store.put('uploads/audio/upl_1/original.mp3', body);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches a byte range over HTTP, following redirects', async () => {
    expect((await buffer(await openHttpRange(`${base}/track.mp3`, 100, 199))).equals(body.subarray(100, 200))).toBe(true);
    expect(seenRanges.at(-1)).toBe('bytes=100-199');
    expect((await buffer(await openHttpRange(`${base}/moved`, 5, 9))).equals(body.subarray(5, 10))).toBe(true);
  });

  it('skips leading bytes when the origin ignores Range', async () => {
    const got = await buffer(await openHttpRange(`${base}/no-ranges`, 40_000, 49_999));
    expect(got.equals(body.subarray(40_000))).toBe(true);
  });

  it('fails with TrackFetchError on errors and on a 206 for the wrong bytes', async () => {
    await expect(openHttpRange(`${base}/missing`, 0, 9)).rejects.toMatchObject({ name: 'TrackFetchError', status: 404 });
    await expect(openHttpRange(`${base}/wrong-range`, 100, 199)).rejects.toBeInstanceOf(TrackFetchError);
    await expect(openHttpRange('file:///etc/passwd', 0, 9)).rejects.toThrow(/only http and https/);
    await expect(openHttpRange('http://127.0.0.1:1/x', 0, 9)).rejects.toBeInstanceOf(TrackFetchError);
  });

  it('uses the lookup it is given (the private-address guard) for every connection', async () => {
    const lookup = ((_host: string, _opts: unknown, cb: (e: Error) => void) => cb(new Error('blocked by guard'))) as never;
    await expect(openHttpRange(`http://localhost:${new URL(base).port}/track.mp3`, 0, 9, { lookup })).rejects.toThrow(/blocked by guard/);
  });

  it('streams a mixed playlist (blob store + external URL) through streamConcat', async () => {
    const map = buildConcatMap([
      { id: 'upl_1', audioStart: 1000, audioLength: 20_000, seekIndex: [0] },
      { id: 'ext', audioStart: 500, audioLength: 30_000, seekIndex: [0] },
    ]);
    const open = createTrackOpener(
      [
        { kind: 'blob', key: 'uploads/audio/upl_1/original.mp3' },
        { kind: 'url', url: `${base}/moved` },
      ],
      { store },
    );
    const out = await buffer(streamConcat(map, resolveRange(map, 15_000, 29_999), open));
    expect(out.equals(Buffer.concat([body.subarray(16_000, 21_000), body.subarray(500, 10_500)]))).toBe(true);
  });
});
