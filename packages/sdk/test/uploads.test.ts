// uploads.create's request body and sending rules, with no ffmpeg: the body is
// parsed by the server's own multipart receiver; the answers are canned. What
// the real server does with real MP3s is in uploads.int.test.ts.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { receiveMultipartFile } from '../../server/src/http/multipart-upload.js';
import {
  createDjcastClient,
  DjcastApiError,
  DjcastConnectionError,
  playlistStreamUrls,
  type RetryInfo,
  type UploadInput,
} from '../src/index.js';

const CHUNK = 64 * 1024;

/** A file of `chunks` × 64 KiB made on demand, recording how much of it has been read. */
function lazyFile(chunks: number) {
  const state = { produced: 0, cancelled: false as boolean | unknown };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.produced >= chunks * CHUNK) return controller.close();
        controller.enqueue(new Uint8Array(CHUNK).fill(state.produced / CHUNK));
        state.produced += CHUNK;
      },
      cancel(reason) {
        state.cancelled = reason ?? true;
      },
    },
    { highWaterMark: 0 },
  );
  return { state, stream, size: chunks * CHUNK };
}

function created(filename: string, size: number): Response {
  const upload = {
    id: 'upl_00000000000000000000000000',
    title: filename,
    original_filename: filename,
    status: 'processing',
    progress: 0,
    size_bytes: size,
  };
  return Response.json(upload, { status: 201 });
}

/** The server's receiver over the request: the file's name, type and bytes. */
async function received(request: Request) {
  const parts: Buffer[] = [];
  const file = await receiveMultipartFile(request, {
    field: 'file',
    maxBytes: 1 << 30,
    sink: async (incoming) => {
      for await (const chunk of incoming.stream) parts.push(chunk as Buffer);
      return { filename: incoming.filename, mimeType: incoming.mimeType };
    },
  });
  return { ...file, bytes: Buffer.concat(parts) };
}

async function caught(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

describe('uploads.create', () => {
  it('sends a multipart body the server parses: the file field, its name and type, every byte, the Content-Length and the token', async () => {
    const bytes = new Uint8Array(300_000).map((_, i) => i % 251);
    let seen:
      | (Awaited<ReturnType<typeof received>> & { url: string; auth: string | null; length: string | null; type: string | null })
      | undefined;
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      token: 'djc_test',
      fetch: async (request) => {
        const meta = {
          url: request.url,
          auth: request.headers.get('authorization'),
          length: request.headers.get('content-length'),
          type: request.headers.get('content-type'),
        };
        seen = { ...meta, ...(await received(request)) };
        return created('x', bytes.length);
      },
    });
    const file = new File([bytes], 'Friday "Set".mp3', { type: 'audio/mpeg' });
    await client.uploads.create(file, { title: 'Friday set' });
    expect(seen!.url).toBe('http://djcast.test/v1/uploads/audio?title=Friday%20set');
    expect(seen!.auth).toBe('Bearer djc_test');
    expect(seen!.type).toMatch(/^multipart\/form-data; boundary=----djcast[0-9a-f]{32}$/);
    expect(seen!.filename).toBe('Friday _Set_.mp3');
    expect(seen!.mimeType).toBe('audio/mpeg');
    expect(Buffer.compare(seen!.bytes, Buffer.from(bytes))).toBe(0);
    const boundary = seen!.type!.split('boundary=')[1]!;
    const overhead =
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="Friday _Set_.mp3"\r\nContent-Type: audio/mpeg\r\n\r\n\r\n--${boundary}--\r\n`
        .length;
    expect(Number(seen!.length)).toBe(bytes.length + overhead);
  });

  it('names a stream by its name (without any path) and sends no Content-Length when the size is unknown', async () => {
    const names: string[] = [];
    let length: string | null = 'unset';
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      fetch: async (request) => {
        length = request.headers.get('content-length');
        names.push((await received(request)).filename);
        return created('x', 1);
      },
    });
    async function* chunks() {
      yield new Uint8Array([1, 2, 3]);
    }
    await client.uploads.create({ stream: chunks(), name: '/home/dj/sets/friday.mp3' });
    expect(length).toBeNull();
    await client.uploads.create(new Blob([new Uint8Array([1])]), { filename: 'C:\\sets\\blob.mp3' });
    await client.uploads.create(new Blob([new Uint8Array([1])]));
    expect(names).toEqual(['friday.mp3', 'blob.mp3', 'upload.mp3']);
  });

  it('reads the file only as the connection takes it, never ahead, and reports progress up to the size', async () => {
    const file = lazyFile(160); // 10 MiB
    const progress: number[] = [];
    let maxAhead = 0;
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      // A slow connection: reads the body a chunk at a time and checks how far the file has been read past it.
      fetch: async (request) => {
        const reader = request.body!.getReader();
        let consumed = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          consumed += value.byteLength;
          maxAhead = Math.max(maxAhead, file.state.produced - consumed);
          await new Promise((resolve) => setImmediate(resolve));
        }
        return created('x', file.size);
      },
    });
    await client.uploads.create(
      { stream: file.stream, size: file.size, name: 'big.mp3' },
      {
        onProgress: (sent, total) => {
          expect(total).toBe(file.size);
          progress.push(sent);
        },
      },
    );
    expect(maxAhead).toBeLessThanOrEqual(CHUNK);
    expect(progress).toHaveLength(160);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.at(-1)).toBe(file.size);
  });

  it('retries a refused connection when none of the file was read yet', async () => {
    const file = lazyFile(2);
    const retries: RetryInfo[] = [];
    let calls = 0;
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      sleep: async () => {},
      onRetry: (info) => void retries.push(info),
      fetch: async (request) => {
        calls += 1;
        if (calls === 1)
          throw new TypeError('fetch failed', {
            cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
          });
        const { bytes } = await received(request);
        return created('x', bytes.length);
      },
    });
    const upload = await client.uploads.create({ stream: file.stream, size: file.size, name: 'a.mp3' });
    expect(upload.id).toMatch(/^upl_/);
    expect(calls).toBe(2);
    expect(retries).toMatchObject([{ attempt: 1, reason: 'network_error', method: 'POST' }]);
  });

  it('does not retry once the file was being read: DjcastConnectionError, and the source is closed', async () => {
    const file = lazyFile(8);
    let calls = 0;
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      sleep: async () => {},
      fetch: async (request) => {
        calls += 1;
        const reader = request.body!.getReader();
        await reader.read();
        await reader.read(); // the head, then the first chunk of the file
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
      },
    });
    const error = (await caught(
      client.uploads.create({ stream: file.stream, size: file.size, name: 'a.mp3' }),
    )) as DjcastConnectionError;
    expect(error).toBeInstanceOf(DjcastConnectionError);
    expect(error.reason).toBe('ECONNRESET');
    expect(error.message).toBe(
      'The connection to the djcast API at http://djcast.test broke while the file was being sent (ECONNRESET); uploads are not retried once sending began. ' +
        'If the file is large, the server may have refused it for its size.',
    );
    expect(error.attempts).toBe(1);
    expect(calls).toBe(1);
    expect(file.state.cancelled).not.toBe(false);
  });

  it('against a closed port: retries, then DjcastConnectionError, and closes the unread stream', async () => {
    const port = await closedPort();
    const file = lazyFile(2);
    const client = createDjcastClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'djc_x', sleep: async () => {}, retries: 1 });
    const error = (await caught(client.uploads.create({ stream: file.stream, name: 'a.mp3' }))) as DjcastConnectionError;
    expect(error).toBeInstanceOf(DjcastConnectionError);
    expect(error.reason).toBe('ECONNREFUSED');
    expect(error.attempts).toBe(2);
    expect(file.state.produced).toBe(0);
    expect(file.state.cancelled).not.toBe(false);
  });

  it('fails with a clear error when a stream yields fewer or more bytes than its size, or something other than bytes', async () => {
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      fetch: async (request) => (await received(request), created('x', 1)),
    });
    const short = lazyFile(1);
    const tooShort = await caught(client.uploads.create({ stream: short.stream, size: CHUNK + 1, name: 'a.mp3' }));
    expect(tooShort).toBeInstanceOf(RangeError);
    expect(tooShort.message).toBe(`The upload stream ended after ${CHUNK} bytes, but its size was given as ${CHUNK + 1}.`);
    const long = lazyFile(2);
    const tooLong = await caught(client.uploads.create({ stream: long.stream, size: CHUNK, name: 'a.mp3' }));
    expect(tooLong.message).toBe(`The upload stream yielded more than the ${CHUNK} bytes its size was given as.`);
    expect(long.state.cancelled).not.toBe(false);
    async function* text() {
      yield 'not bytes' as unknown as Uint8Array;
    }
    const notBytes = await caught(client.uploads.create({ stream: text(), name: 'a.mp3' }));
    expect(notBytes).toBeInstanceOf(TypeError);
    expect(notBytes.message).toMatch(/yielded a string, not bytes/);
    expect(await caught(client.uploads.create({ name: 'a.mp3' } as unknown as UploadInput))).toBeInstanceOf(TypeError);
  });

  it('stops on abort with the signal’s reason and closes the source; a throwing onProgress stops it with that error', async () => {
    const file = lazyFile(50);
    const controller = new AbortController();
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      fetch: async (request) => {
        const reader = request.body!.getReader();
        for (;;) {
          await reader.read();
          if (request.signal.aborted) throw request.signal.reason;
        }
      },
    });
    const aborted = await caught(
      client.uploads.create(
        { stream: file.stream, name: 'a.mp3' },
        { signal: controller.signal, onProgress: (sent) => sent >= 3 * CHUNK && controller.abort() },
      ),
    );
    expect(aborted.name).toBe('AbortError');
    expect(file.state.cancelled).not.toBe(false);

    const other = lazyFile(50);
    const boom = await caught(
      client.uploads.create(
        { stream: other.stream, name: 'a.mp3' },
        {
          onProgress: () => {
            throw new Error('progress bar broke');
          },
        },
      ),
    );
    expect(boom.message).toBe('progress bar broke');
    expect(other.state.cancelled).not.toBe(false);
  });

  it('turns an early refusal into DjcastApiError with limitBytes, and closes the file it did not need', async () => {
    const file = lazyFile(50);
    const client = createDjcastClient({
      baseUrl: 'http://djcast.test',
      fetch: async () =>
        Response.json(
          {
            type: 'https://djcast.dev/problems/payload_too_large',
            title: 'The upload is too large',
            status: 413,
            detail: 'Uploads are limited to 1024 bytes; nothing was kept.',
            code: 'payload_too_large',
            request_id: 'req_x',
            limit_bytes: 1024,
          },
          { status: 413, headers: { 'content-type': 'application/problem+json' } },
        ),
    });
    const error = (await caught(
      client.uploads.create({ stream: file.stream, size: file.size, name: 'a.mp3' }),
    )) as DjcastApiError;
    expect(error).toBeInstanceOf(DjcastApiError);
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large', limitBytes: 1024 });
    // With a size, the file waits a moment after the headers for such an answer: none of it was read.
    expect(file.state.produced).toBe(0);
    expect(file.state.cancelled).not.toBe(false);
  });
});

describe('playlistStreamUrls', () => {
  it('adds a playback token to both URLs and a start time to the MP3 stream', () => {
    const playlist = {
      stream_m3u8_url: 'http://djcast.test/playlists/pls_x/stream.m3u8',
      stream_mp3_url: 'http://djcast.test/playlists/pls_x/stream.mp3',
    };
    expect(playlistStreamUrls(playlist)).toEqual({ hls: playlist.stream_m3u8_url, mp3: playlist.stream_mp3_url });
    expect(playlistStreamUrls(playlist, { token: 'a b', startSeconds: 90.5 })).toEqual({
      hls: 'http://djcast.test/playlists/pls_x/stream.m3u8?token=a+b',
      mp3: 'http://djcast.test/playlists/pls_x/stream.mp3?token=a+b&start=90.5',
    });
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
