import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import v8 from 'node:v8';
import vm from 'node:vm';
import { LocalBlobStore } from '@djcast/relay/blob';
import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config.js';
import { createHttpServer } from './server.js';
import {
  MalformedMultipartError,
  MissingFileError,
  nodeRequestBody,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  receiveMultipartFile,
  type IncomingFile,
} from './multipart-upload.js';

const BOUNDARY = '----djcastBoundary7MA4YWxkTrZu0gW';
const enc = new TextEncoder();

type Content = Uint8Array | string | { size: number; chunk?: number };

interface Part {
  name: string;
  filename?: string;
  type?: string;
  content: Content;
}

/** Deterministic file bytes, generated lazily in fresh chunks (so buffering them would show in memory). */
function* generated(size: number, chunk = 64 * 1024): Generator<Uint8Array> {
  for (let at = 0; at < size; at += chunk) {
    const piece = new Uint8Array(Math.min(chunk, size - at));
    // Byte o of the file is floor(o / 4096) % 251, whatever the chunking.
    for (let i = 0; i < piece.length; ) {
      const o = at + i;
      const runEnd = Math.min(piece.length, i + 4096 - (o % 4096));
      piece.fill(Math.floor(o / 4096) % 251, i, runEnd);
      i = runEnd;
    }
    yield piece;
  }
}

function* partsBytes(parts: Part[]): Generator<Uint8Array> {
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    yield enc.encode(
      `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`,
    );
    const c = part.content;
    if (typeof c === 'string') yield enc.encode(c);
    else if (c instanceof Uint8Array) yield c;
    else yield* generated(c.size, c.chunk);
    yield enc.encode('\r\n');
  }
  yield enc.encode(`--${BOUNDARY}--\r\n`);
}

const bodySize = (parts: Part[]) =>
  [...partsBytes(parts.map((p) => ({ ...p, content: '' })))].reduce((n, b) => n + b.length, 0) +
  parts.reduce(
    (n, p) =>
      n +
      (typeof p.content === 'string'
        ? enc.encode(p.content).length
        : p.content instanceof Uint8Array
          ? p.content.length
          : p.content.size),
    0,
  );

/** A pull-based body that records how many bytes the server actually read. */
function request(parts: Part[], opts: { contentLength?: number | 'exact'; contentType?: string; truncateAt?: number } = {}) {
  const source = partsBytes(parts);
  const stats = { pulled: 0 };
  let remaining = opts.truncateAt ?? Infinity;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = source.next();
        if (next.done || remaining <= 0) return controller.close();
        const bytes = next.value.subarray(0, remaining);
        remaining -= bytes.length;
        stats.pulled += bytes.length;
        controller.enqueue(bytes);
      },
    },
    { highWaterMark: 0 },
  );
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? `multipart/form-data; boundary=${BOUNDARY}` };
  if (opts.contentLength !== undefined)
    headers['content-length'] = String(opts.contentLength === 'exact' ? bodySize(parts) : opts.contentLength);
  const req = new Request('http://djcast.test/v1/uploads/audio', {
    method: 'POST',
    body,
    headers,
    duplex: 'half',
  } as RequestInit);
  return { req, stats };
}

/** A sink that reads everything and reports what it saw, including how its stream ended. */
function recordingSink() {
  const seen: { file?: Omit<IncomingFile, 'stream'>; bytes: number; md5?: string; error?: Error; calls: number } = {
    bytes: 0,
    calls: 0,
  };
  const sink = async (file: IncomingFile) => {
    seen.calls++;
    seen.file = { filename: file.filename, mimeType: file.mimeType };
    const hash = createHash('md5');
    try {
      for await (const chunk of file.stream) {
        seen.bytes += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
      }
    } catch (error) {
      seen.error = error as Error;
      throw error;
    }
    seen.md5 = hash.digest('hex');
    return { stored: seen.bytes };
  };
  return { sink, seen };
}

const md5Of = (size: number) => {
  const hash = createHash('md5');
  for (const piece of generated(size)) hash.update(piece);
  return hash.digest('hex');
};

describe('receiveMultipartFile', () => {
  let dir: string;
  let store: LocalBlobStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-multipart-'));
    store = new LocalBlobStore(dir);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the named file to the sink, skipping other fields and files, and returns the sink’s result', async () => {
    const { sink, seen } = recordingSink();
    const { req } = request(
      [
        { name: 'title', content: 'Friday night mix' },
        { name: 'cover', filename: 'cover.jpg', type: 'image/jpeg', content: { size: 10_000 } },
        { name: 'file', filename: 'C:\\mixes\\Ünïcode mix.mp3', type: 'audio/mpeg', content: { size: 300_000, chunk: 7777 } },
        { name: 'file', filename: 'second.mp3', type: 'audio/mpeg', content: 'ignored' },
        { name: 'tags', content: 'house,disco' },
      ],
      { contentLength: 'exact' },
    );
    const result = await receiveMultipartFile(req, { field: 'file', maxBytes: 1_000_000, sink });
    expect(result).toEqual({ stored: 300_000 });
    expect(seen.calls).toBe(1);
    expect(seen.file).toEqual({ filename: 'Ünïcode mix.mp3', mimeType: 'audio/mpeg' });
    expect(seen.md5).toBe(md5Of(300_000));
  });

  it('accepts a file of exactly maxBytes and rejects one byte more, aborting the sink’s stream', async () => {
    const ok = recordingSink();
    await expect(
      receiveMultipartFile(request([{ name: 'file', filename: 'a.mp3', content: { size: 100_000 } }]).req, {
        field: 'file',
        maxBytes: 100_000,
        sink: ok.sink,
      }),
    ).resolves.toEqual({ stored: 100_000 });

    const over = recordingSink();
    const error = await receiveMultipartFile(request([{ name: 'file', filename: 'a.mp3', content: { size: 100_001 } }]).req, {
      field: 'file',
      maxBytes: 100_000,
      sink: over.sink,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ limitBytes: 100_000 });
    expect(over.seen.error).toBeInstanceOf(PayloadTooLargeError); // the sink saw its stream fail
    expect(over.seen.md5).toBeUndefined();
    expect(over.seen.bytes).toBeLessThanOrEqual(100_000);
  });

  it('stops an oversized chunked upload (no Content-Length) early, and a blob store put leaves nothing behind', async () => {
    const { req, stats } = request([{ name: 'file', filename: 'big.mp3', content: { size: 50 * 1024 * 1024 } }]);
    expect(req.headers.get('content-length')).toBeNull();
    let sinkError: unknown;
    const error = await receiveMultipartFile(req, {
      field: 'file',
      maxBytes: 1024 * 1024,
      sink: (file) =>
        store.put('uploads/audio/upl_big/original.mp3', file.stream, { contentType: file.mimeType }).catch((e: unknown) => {
          sinkError = e;
          throw e;
        }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(sinkError).toBeInstanceOf(PayloadTooLargeError);
    expect(await store.head('uploads/audio/upl_big/original.mp3')).toBeNull();
    expect(await store.list('uploads/')).toEqual([]);
    expect(await readdir(join(dir, '.djcast-blob', 'tmp')).catch(() => [])).toEqual([]);
    expect(stats.pulled).toBeLessThan(3 * 1024 * 1024); // it stopped reading soon after the limit
  });

  it('rejects a declared Content-Length past the limit before reading anything', async () => {
    const { sink, seen } = recordingSink();
    const { req, stats } = request([{ name: 'file', filename: 'huge.mp3', content: { size: 1024 * 1024 } }], {
      contentLength: 10 * 1024 ** 3,
    });
    await expect(receiveMultipartFile(req, { field: 'file', maxBytes: 100 * 1024 * 1024, sink })).rejects.toMatchObject({
      name: 'PayloadTooLargeError',
      limitBytes: 100 * 1024 * 1024,
    });
    expect(seen.calls).toBe(0);
    expect(stats.pulled).toBe(0);
  });

  it('counts the whole body, so large non-file fields cannot get around the limit', async () => {
    const { sink } = recordingSink();
    const parts: Part[] = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: 'x'.repeat(60_000) }));
    parts.push({ name: 'file', filename: 'a.mp3', content: { size: 10 } });
    await expect(receiveMultipartFile(request(parts).req, { field: 'file', maxBytes: 100_000, sink })).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
  });

  it('says when the file field is missing, or was sent as text', async () => {
    const { sink, seen } = recordingSink();
    await expect(
      receiveMultipartFile(request([{ name: 'upload', filename: 'a.mp3', content: 'abc' }]).req, {
        field: 'file',
        maxBytes: 1000,
        sink,
      }),
    ).rejects.toEqual(new MissingFileError('file'));
    await expect(
      receiveMultipartFile(request([{ name: 'file', content: 'not a file' }]).req, { field: 'file', maxBytes: 1000, sink }),
    ).rejects.toMatchObject({ name: 'MissingFileError', message: 'The "file" field was sent as text, not as a file' });
    await expect(receiveMultipartFile(request([]).req, { field: 'file', maxBytes: 1000, sink })).rejects.toBeInstanceOf(
      MissingFileError,
    );
    expect(seen.calls).toBe(0);
  });

  it.each([['application/json'], ['text/plain'], ['multipart/mixed; boundary=x'], ['multipart/form-data'], ['']])(
    'rejects Content-Type %j',
    async (contentType) => {
      const { sink } = recordingSink();
      const { req, stats } = request([{ name: 'file', filename: 'a.mp3', content: 'abc' }], { contentType });
      const error = await receiveMultipartFile(req, { field: 'file', maxBytes: 1000, sink }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedMediaTypeError);
      expect(stats.pulled).toBe(0);
    },
  );

  it('fails a truncated body as malformed and aborts the sink’s stream', async () => {
    const { sink, seen } = recordingSink();
    const { req } = request([{ name: 'file', filename: 'a.mp3', content: { size: 200_000 } }], { truncateAt: 150_000 });
    await expect(receiveMultipartFile(req, { field: 'file', maxBytes: 1_000_000, sink })).rejects.toBeInstanceOf(
      MalformedMultipartError,
    );
    expect(seen.error).toBeDefined();
    expect(seen.md5).toBeUndefined();
  });

  it('passes a sink failure through and stops reading', async () => {
    const { req, stats } = request([{ name: 'file', filename: 'a.mp3', content: { size: 20 * 1024 * 1024 } }]);
    const sink = async (file: IncomingFile) => {
      let n = 0;
      for await (const chunk of file.stream as Readable) {
        n += (chunk as Buffer).length;
        if (n > 256 * 1024) throw new Error('disk full');
      }
      return n;
    };
    await expect(receiveMultipartFile(req, { field: 'file', maxBytes: 100 * 1024 * 1024, sink })).rejects.toThrow('disk full');
    expect(stats.pulled).toBeLessThan(2 * 1024 * 1024);
  });

  it('stops when the signal aborts (the client went away)', async () => {
    const controller = new AbortController();
    const { req } = request([{ name: 'file', filename: 'a.mp3', content: { size: 20 * 1024 * 1024 } }]);
    const sink = async (file: IncomingFile) => {
      let n = 0;
      for await (const chunk of file.stream as Readable) {
        n += (chunk as Buffer).length;
        if (n > 128 * 1024) controller.abort();
      }
      return n;
    };
    await expect(
      receiveMultipartFile(req, { field: 'file', maxBytes: 100 * 1024 * 1024, sink, signal: controller.signal }),
    ).rejects.toMatchObject({
      name: 'UploadAbortedError',
    });
  });

  it('works on the raw request of a Hono route, into the blob store', async () => {
    const app = new Hono();
    app.post('/upload', async (c) => {
      const head = await receiveMultipartFile(c.req.raw, {
        field: 'file',
        maxBytes: 5 * 1024 * 1024,
        sink: (file) => store.put('uploads/audio/upl_hono/original.mp3', file.stream, { contentType: file.mimeType }),
      });
      return c.json({ size: head.size });
    });
    const { req } = request([{ name: 'file', filename: 'a.mp3', type: 'audio/mpeg', content: { size: 2 * 1024 * 1024 } }], {
      contentLength: 'exact',
    });
    const res = await app.request('/upload', {
      method: 'POST',
      body: req.body,
      headers: req.headers,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ size: 2 * 1024 * 1024 });
    const stored = await store.get('uploads/audio/upl_hono/original.mp3');
    expect(
      createHash('md5')
        .update(await buffer(stored!.body))
        .digest('hex'),
    ).toBe(md5Of(2 * 1024 * 1024));
    expect(stored!.head.contentType).toBe('audio/mpeg');
  });

  it('streams 150 MB through a 200 MB limit without memory growing with the size', async () => {
    // Every chunk is a fresh allocation; V8 frees them lazily, so raw RSS also counts garbage.
    // Collecting before each sample measures what is actually retained.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const size = 150 * 1024 * 1024;
    const { req } = request([{ name: 'file', filename: 'long-mix.mp3', type: 'audio/mpeg', content: { size } }]);
    gc();
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakBuffers = before.arrayBuffers;
    const hash = createHash('md5');
    let bytes = 0;
    const result = await receiveMultipartFile(req, {
      field: 'file',
      maxBytes: 200 * 1024 * 1024,
      sink: async (file) => {
        for await (const chunk of file.stream) {
          bytes += (chunk as Buffer).length;
          hash.update(chunk as Buffer);
          if (bytes % (4 * 1024 * 1024) < (chunk as Buffer).length) {
            gc();
            const now = process.memoryUsage();
            peakRss = Math.max(peakRss, now.rss);
            peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
          }
        }
        return bytes;
      },
    });
    expect(result).toBe(size);
    expect(hash.digest('hex')).toBe(md5Of(size));
    const rssMb = (peakRss - before.rss) / 1024 / 1024;
    const buffersMb = (peakBuffers - before.arrayBuffers) / 1024 / 1024;
    expect(rssMb, `RSS grew by ${rssMb.toFixed(1)} MB while streaming 150 MB`).toBeLessThan(30);
    expect(buffersMb, `live ArrayBuffers grew by ${buffersMb.toFixed(1)} MB`).toBeLessThan(10);
  }, 60_000);
});

describe('receiveMultipartFile on the Node server', () => {
  let dir: string;
  let store: LocalBlobStore;
  const servers: Server[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-multipart-node-'));
    store = new LocalBlobStore(dir);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The production HTTP server with one upload route; `outcome` settles with what receiveMultipartFile did. */
  async function serveUpload(maxBytes: number) {
    let settle: (value: { ok: true; size: number; nodeBody: boolean } | { ok: false; error: Error }) => void = () => {};
    const outcome = new Promise<Parameters<typeof settle>[0]>((resolve) => (settle = resolve));
    const app = new Hono();
    app.post('/upload', async (c) => {
      const nodeBody = nodeRequestBody(c.env);
      try {
        const head = await receiveMultipartFile(c.req.raw, {
          field: 'file',
          maxBytes,
          nodeBody,
          sink: (file) => store.put('uploads/audio/upl_node/original.mp3', file.stream, { contentType: file.mimeType }),
        });
        settle({ ok: true, size: head.size, nodeBody: nodeBody !== undefined });
        return c.json({ size: head.size });
      } catch (error) {
        settle({ ok: false, error: error as Error });
        const tooLarge = error instanceof PayloadTooLargeError;
        return c.json({ error: (error as Error).name }, tooLarge ? 413 : 400, tooLarge ? { Connection: 'close' } : {});
      }
    });
    const server = createHttpServer(app, loadConfig({}).http);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port, outcome };
  }

  /** POSTs `parts` chunk by chunk over a real socket; `stopAfter` bytes cuts the connection there. */
  function post(port: number, parts: Part[], { stopAfter }: { stopAfter?: number } = {}) {
    return new Promise<{ status: number; body: string } | { aborted: true }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/upload',
          headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': bodySize(parts) },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', (error) => (stopAfter !== undefined ? resolve({ aborted: true }) : reject(error)));
      let sent = 0;
      const source = partsBytes(parts);
      const pump = () => {
        for (;;) {
          const next = source.next();
          if (next.done) return void req.end();
          sent += next.value.length;
          if (stopAfter !== undefined && sent > stopAfter) {
            req.destroy();
            return resolve({ aborted: true });
          }
          if (!req.write(next.value)) return void req.once('drain', pump);
        }
      };
      pump();
    });
  }

  it('reads the Node request stream itself (no web-stream round trip) into the blob store, byte for byte', async () => {
    const fromWeb = vi.spyOn(Readable, 'fromWeb');
    const { port, outcome } = await serveUpload(20 * 1024 * 1024);
    const size = 8 * 1024 * 1024 + 123;
    const res = await post(port, [
      { name: 'title', content: 'Warm-up' },
      { name: 'file', filename: 'a.mp3', type: 'audio/mpeg', content: { size } },
    ]);
    expect(res).toEqual({ status: 200, body: JSON.stringify({ size }) });
    expect(await outcome).toEqual({ ok: true, size, nodeBody: true });
    expect(fromWeb).not.toHaveBeenCalled();
    const stored = await store.get('uploads/audio/upl_node/original.mp3');
    expect(
      createHash('md5')
        .update(await buffer(stored!.body))
        .digest('hex'),
    ).toBe(md5Of(size));
  });

  it('stops an oversized upload at the limit and still delivers its 413', async () => {
    const { port, outcome } = await serveUpload(1024 * 1024);
    const res = await post(port, [{ name: 'file', filename: 'a.mp3', content: { size: 1024 * 1024 + 1 } }]);
    expect(res).toMatchObject({ status: 413 });
    expect(await outcome).toMatchObject({ ok: false, error: { name: 'PayloadTooLargeError' } });
  });

  it('fails as aborted when the client goes away mid-upload, and keeps nothing', async () => {
    const { port, outcome } = await serveUpload(100 * 1024 * 1024);
    await store.delete('uploads/audio/upl_node/original.mp3');
    await post(port, [{ name: 'file', filename: 'a.mp3', content: { size: 50 * 1024 * 1024 } }], { stopAfter: 4 * 1024 * 1024 });
    expect(await outcome).toMatchObject({ ok: false, error: { name: 'UploadAbortedError' } });
    expect(await store.get('uploads/audio/upl_node/original.mp3')).toBeNull();
  });
});
