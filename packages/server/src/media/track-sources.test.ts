import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { LocalBlobStore } from '@djcast/relay/blob';
import { UrlNotAllowedError } from '@djcast/relay/net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConcatMap, parseRangeHeader, resolveRange, streamConcat, TrackSourceError } from './mp3-concat.js';
import {
  createTrackOpener,
  fetchHttpRange,
  localPieceReader,
  openHttpRange,
  PieceCache,
  SharedFiles,
  TrackChangedError,
  TrackFetchError,
  type OriginFingerprint,
} from './track-sources.js';
import { waitFor } from '../testing/wait.js';

/** The test origin is on loopback. */
const LOOPBACK = { allowPrivate: true } as const;
const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 13 + (i >> 9)) & 0xff));

describe('track sources', () => {
  let server: Server;
  let base: string;
  let dir: string;
  let store: LocalBlobStore;
  const seenRanges: (string | undefined)[] = [];
  const seenIfRange: (string | undefined)[] = [];
  /** The file the "versioned" paths serve now; tests replace it to play an origin whose file changed. */
  let current = { bytes: body, etag: '"v1"' as string | null, lastModified: 'Mon, 02 Mar 2026 10:00:00 GMT' as string | null };

  beforeAll(async () => {
    // A loopback origin: honours Range, redirects, ignores Range, or fails, by path.
    server = createServer((req, res) => {
      seenRanges.push(req.headers.range);
      seenIfRange.push(req.headers['if-range'] as string | undefined);
      if (req.url?.startsWith('/versioned/')) return versioned(req, res, req.url.slice('/versioned/'.length));
      if (req.url === '/moved') return res.writeHead(302, { location: '/track.mp3' }).end();
      if (req.url === '/missing') return res.writeHead(404).end();
      if (req.url === '/no-ranges') return res.writeHead(200, { 'content-length': body.length }).end(body);
      if (req.url === '/wrong-range')
        return res.writeHead(206, { 'content-range': `bytes 0-9/${body.length}` }).end(body.subarray(0, 10));
      const r = parseRangeHeader(req.headers.range, body.length);
      if (r.kind === 'partial')
        return res.writeHead(206, { 'content-range': r.contentRange }).end(body.subarray(r.start, r.end + 1));
      res.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'djcast-tracks-'));
    store = new LocalBlobStore(dir);
    await store.put('uploads/audio/upl_1/original.mp3', body);
  });
  /**
   * A static file host serving `current`: `honours` answers like nginx (If-Range, then Range); `ignores-if-range`
   * applies Range whatever If-Range says; `no-ranges` always sends the whole file.
   */
  function versioned(req: IncomingMessage, res: ServerResponse, mode: string): void {
    const { bytes, etag, lastModified } = current;
    const validators: Record<string, string> = {
      ...(etag ? { etag } : {}),
      ...(lastModified ? { 'last-modified': lastModified } : {}),
    };
    const ifRange = req.headers['if-range'];
    const rangeApplies =
      mode !== 'no-ranges.mp3' &&
      (mode === 'ignores-if-range.mp3' || ifRange === undefined || ifRange === etag || ifRange === lastModified);
    const r = rangeApplies ? parseRangeHeader(req.headers.range, bytes.length) : ({ kind: 'full' } as const);
    if (r.kind === 'unsatisfiable') {
      res.writeHead(416, { ...validators, 'content-range': r.contentRange }).end();
    } else if (r.kind === 'partial') {
      res
        .writeHead(206, { ...validators, 'content-range': r.contentRange, 'content-length': r.contentLength })
        .end(bytes.subarray(r.start, r.end + 1));
    } else {
      res.writeHead(200, { ...validators, 'content-length': bytes.length }).end(bytes);
    }
  }
  const asMapped = (): OriginFingerprint => ({
    etag: current.etag,
    lastModified: current.lastModified,
    size: current.bytes.length,
  });
  const changedBody = Buffer.from(body).fill(0xee, 20_000, 20_100);

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('fetches a byte range over HTTP, following redirects', async () => {
    expect((await buffer(await openHttpRange(`${base}/track.mp3`, 100, 199, LOOPBACK))).equals(body.subarray(100, 200))).toBe(
      true,
    );
    expect(seenRanges.at(-1)).toBe('bytes=100-199');
    expect((await buffer(await openHttpRange(`${base}/moved`, 5, 9, LOOPBACK))).equals(body.subarray(5, 10))).toBe(true);
  });

  it('skips leading bytes when the origin ignores Range', async () => {
    const got = await buffer(await openHttpRange(`${base}/no-ranges`, 40_000, 49_999, LOOPBACK));
    expect(got.equals(body.subarray(40_000))).toBe(true);
  });

  it('fails with TrackFetchError on errors and on a 206 for the wrong bytes', async () => {
    await expect(openHttpRange(`${base}/missing`, 0, 9, LOOPBACK)).rejects.toMatchObject({
      name: 'TrackFetchError',
      status: 404,
    });
    await expect(openHttpRange(`${base}/wrong-range`, 100, 199, LOOPBACK)).rejects.toBeInstanceOf(TrackFetchError);
    await expect(openHttpRange('file:///etc/passwd', 0, 9, LOOPBACK)).rejects.toThrow(/only http and https/);
    await expect(openHttpRange('http://127.0.0.1:1/x', 0, 9, LOOPBACK)).rejects.toBeInstanceOf(TrackFetchError);
  });

  it('refuses loopback unless allowPrivate is set, before any request leaves', async () => {
    const before = seenRanges.length;
    const port = new URL(base).port;
    for (const url of [
      `${base}/track.mp3`,
      `http://localhost:${port}/track.mp3`,
      `http://[::ffff:127.0.0.1]:${port}/track.mp3`,
    ]) {
      const error = await openHttpRange(url, 0, 9).catch((e: unknown) => e);
      expect(error, url).toBeInstanceOf(TrackFetchError);
      expect((error as Error).cause, url).toBeInstanceOf(UrlNotAllowedError);
    }
    expect(seenRanges.length).toBe(before);
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
      { store, http: LOOPBACK },
    );
    const out = await buffer(streamConcat(map, resolveRange(map, 15_000, 29_999), open));
    expect(out.equals(Buffer.concat([body.subarray(16_000, 21_000), body.subarray(500, 10_500)]))).toBe(true);
  });

  it('passes a highWaterMark to blob and HTTP sources', async () => {
    const open = createTrackOpener(
      [
        { kind: 'blob', key: 'uploads/audio/upl_1/original.mp3' },
        { kind: 'url', url: `${base}/track.mp3` },
        { kind: 'url', url: `${base}/no-ranges` },
      ],
      { store, http: LOOPBACK, highWaterMark: 16 * 1024 },
    );
    for (const [i, start] of [
      [0, 0],
      [1, 0],
      [2, 100],
    ] as const) {
      const source = await open(i, start, 40_000);
      expect(source.readableHighWaterMark, `track ${i}`).toBe(16 * 1024);
      expect((await buffer(source)).subarray(0, 40_001 - start).equals(body.subarray(start, 40_001)), `track ${i}`).toBe(true);
    }
    const plain = await createTrackOpener([{ kind: 'blob', key: 'uploads/audio/upl_1/original.mp3' }], { store, http: LOOPBACK })(
      0,
      0,
      9,
    );
    expect(plain.readableHighWaterMark).toBe(64 * 1024);
    plain.destroy();
  });

  describe('an external file that changes after it was mapped', () => {
    const v1 = { bytes: body, etag: '"v1"', lastModified: 'Mon, 02 Mar 2026 10:00:00 GMT' };
    afterAll(() => {
      current = v1;
    });

    it('records the ETag, Last-Modified and total size of what it fetched', async () => {
      current = v1;
      expect((await fetchHttpRange(`${base}/versioned/honours.mp3`, 0, 99, LOOPBACK)).origin).toEqual({
        etag: '"v1"',
        lastModified: v1.lastModified,
        size: body.length,
      });
      const whole = await fetchHttpRange(`${base}/versioned/no-ranges.mp3`, 0, 99, LOOPBACK);
      expect(whole.origin).toEqual({ etag: '"v1"', lastModified: v1.lastModified, size: body.length });
      whole.body.destroy();
    });

    it('sends If-Range and serves the same file as before', async () => {
      current = v1;
      const mapped = asMapped();
      expect(
        (await buffer(await openHttpRange(`${base}/versioned/honours.mp3`, 100, 199, { ...LOOPBACK, expect: mapped }))).equals(
          body.subarray(100, 200),
        ),
      ).toBe(true);
      expect(seenIfRange.at(-1)).toBe('"v1"');
      // An origin that ignores Range is fine when its 200 shows it is the same file.
      const skipped = await buffer(
        await openHttpRange(`${base}/versioned/no-ranges.mp3`, 40_000, 49_999, { ...LOOPBACK, expect: mapped }),
      );
      expect(skipped.equals(body.subarray(40_000))).toBe(true);
      // A weak ETag cannot be used in If-Range: the date is sent instead.
      current = { ...v1, etag: 'W/"v1"' };
      await buffer(await openHttpRange(`${base}/versioned/honours.mp3`, 0, 9, { ...LOOPBACK, expect: asMapped() }));
      expect(seenIfRange.at(-1)).toBe(v1.lastModified);
    });

    it.each([
      ['honours.mp3', 'a 200 for the new file, after If-Range', 200, /answered 200 instead of 206; its ETag was "v1", now "v2"$/],
      ['ignores-if-range.mp3', 'a 206 with another ETag', 206, /ETag was "v1", now "v2"/],
      ['no-ranges.mp3', 'a 200 with another ETag from an origin without ranges', 200, /ETag was "v1", now "v2"/],
    ])('fails with TrackChangedError on a new ETag (%s: %s)', async (path, _what, status, message) => {
      current = v1;
      const mapped = asMapped();
      current = { ...v1, bytes: changedBody, etag: '"v2"' }; // same size, other bytes
      const attempt = openHttpRange(`${base}/versioned/${path}`, 19_000, 29_999, { ...LOOPBACK, expect: mapped });
      await expect(attempt).rejects.toBeInstanceOf(TrackChangedError);
      await expect(attempt).rejects.toMatchObject({ status, url: `${base}/versioned/${path}`, message });
    });

    it('fails on a different total size or Last-Modified when the origin sends no ETag, and on a 416 for a file that shrank', async () => {
      current = { ...v1, etag: null };
      const mapped = asMapped();
      expect(mapped.etag).toBeNull();
      expect(
        (await buffer(await openHttpRange(`${base}/versioned/honours.mp3`, 0, 9, { ...LOOPBACK, expect: mapped }))).equals(
          body.subarray(0, 10),
        ),
      ).toBe(true);
      expect(seenIfRange.at(-1)).toBe(v1.lastModified);

      current = { bytes: Buffer.concat([body, Buffer.alloc(10)]), etag: null, lastModified: v1.lastModified };
      await expect(
        openHttpRange(`${base}/versioned/ignores-if-range.mp3`, 0, 9, { ...LOOPBACK, expect: mapped }),
      ).rejects.toThrow(/size was 50000 bytes, now 50010/);
      current = { bytes: changedBody, etag: null, lastModified: 'Tue, 03 Mar 2026 10:00:00 GMT' };
      await expect(
        openHttpRange(`${base}/versioned/ignores-if-range.mp3`, 0, 9, { ...LOOPBACK, expect: mapped }),
      ).rejects.toThrow(/last modified Mon, 02 Mar 2026 10:00:00 GMT, now Tue, 03 Mar 2026/);
      current = { bytes: body.subarray(0, 1000), etag: null, lastModified: null };
      await expect(
        openHttpRange(`${base}/versioned/ignores-if-range.mp3`, 5000, 5999, { ...LOOPBACK, expect: mapped }),
      ).rejects.toMatchObject({
        name: 'TrackChangedError',
        status: 416,
      });
      // A 200 that drops the validator the file had does not prove it is the same file.
      current = { bytes: body, etag: null, lastModified: null };
      await expect(openHttpRange(`${base}/versioned/no-ranges.mp3`, 5000, 5999, { ...LOOPBACK, expect: mapped })).rejects.toThrow(
        /Last-Modified it had is gone/,
      );
    });

    it('checks size alone when nothing else was recorded (rows mapped before validators were)', async () => {
      current = v1;
      const legacy: OriginFingerprint = { etag: null, lastModified: null, size: body.length };
      expect(
        (await buffer(await openHttpRange(`${base}/versioned/honours.mp3`, 0, 9, { ...LOOPBACK, expect: legacy }))).length,
      ).toBe(10);
      expect(seenIfRange.at(-1)).toBeUndefined();
      current = { ...v1, bytes: body.subarray(0, 40_000) };
      await expect(openHttpRange(`${base}/versioned/honours.mp3`, 0, 9, { ...LOOPBACK, expect: legacy })).rejects.toBeInstanceOf(
        TrackChangedError,
      );
    });

    it('ends the joined stream with TrackSourceError before any byte of the changed track', async () => {
      current = v1;
      const mapped = asMapped();
      const map = buildConcatMap([
        { id: 'upl_1', audioStart: 1000, audioLength: 20_000, seekIndex: [0] },
        { id: 'ext', audioStart: 500, audioLength: 30_000, seekIndex: [0] },
      ]);
      const sources = [
        { kind: 'blob', key: 'uploads/audio/upl_1/original.mp3' },
        { kind: 'url', url: `${base}/versioned/honours.mp3`, origin: mapped },
      ] as const;
      const all = resolveRange(map, 0, map.totalLength - 1);
      const intact = await buffer(streamConcat(map, all, createTrackOpener(sources, { store, http: LOOPBACK })));
      expect(intact.equals(Buffer.concat([body.subarray(1000, 21_000), body.subarray(500, 30_500)]))).toBe(true);

      current = { ...v1, bytes: changedBody, etag: '"v2"' };
      const received: Buffer[] = [];
      const out = streamConcat(map, all, createTrackOpener(sources, { store, http: LOOPBACK }));
      out.on('data', (chunk: Buffer) => received.push(chunk));
      const error = await new Promise<unknown>((resolve) => out.on('error', resolve));
      expect(error).toBeInstanceOf(TrackSourceError);
      expect(error).toMatchObject({ trackIndex: 1 });
      expect((error as TrackSourceError).cause).toBeInstanceOf(TrackChangedError);
      // The first track whole, then nothing: no byte of the new file was spliced in.
      expect(Buffer.concat(received).equals(body.subarray(1000, 21_000))).toBe(true);
    });
  });
});

describe('SharedFiles and localPieceReader', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-shared-files-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('shares one handle between readers of a file and closes it a linger after the last leaves', async () => {
    const path = join(dir, 'a.mp3');
    await writeFile(path, body);
    const files = new SharedFiles(50);
    const [a, b] = await Promise.all([files.acquire(path), files.acquire(path)]);
    expect(b.handle).toBe(a.handle);
    expect(files.size).toBe(1);
    a.release();
    a.release(); // once only
    expect(a.handle.fd).toBeGreaterThan(0);
    b.release();
    // Taken again within the linger: still the same handle.
    const c = await files.acquire(path);
    expect(c.handle).toBe(a.handle);
    c.release();
    await waitFor('the handle to close', () => a.handle.fd === -1 && files.size === 0);
  });

  it('opens a file replaced at the same path afresh, while earlier readers keep the old one', async () => {
    const path = join(dir, 'b.mp3');
    await writeFile(path, body);
    const files = new SharedFiles(0);
    const cache = new PieceCache();
    const old = localPieceReader([path], cache, files);
    expect(await old.read(0, 0, 9)).toEqual(body.subarray(0, 10));
    const replacement = Buffer.alloc(body.length, 7);
    await writeFile(`${path}.new`, replacement);
    await rename(`${path}.new`, path);
    const fresh = localPieceReader([path], cache, files);
    expect(await fresh.read(0, 20_000, 20_009)).toEqual(replacement.subarray(0, 10));
    // The earlier listener goes on reading the file it started, past the pieces it had cached.
    expect(await old.read(0, 40_000, 40_009)).toEqual(body.subarray(40_000, 40_010));
    old.close();
    fresh.close();
    await waitFor('every handle to close', () => files.size === 0);
  });

  it('fails for a missing file and keeps nothing open', async () => {
    const files = new SharedFiles(0);
    await expect(files.acquire(join(dir, 'missing.mp3'))).rejects.toThrow(/ENOENT/);
    expect(files.size).toBe(0);
    const reader = localPieceReader([join(dir, 'missing.mp3')], new PieceCache(), files);
    await expect(reader.read(0, 0, 9)).rejects.toThrow(/ENOENT/);
    reader.close();
  });
});
