// Shared helpers for the upload and playlist tests: multipart bodies (whole
// or streamed without a length), a loopback HTTP server around the app,
// a loopback "external" audio host, and waiting for background jobs.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { TestApp } from './harness.js';
import { waitFor } from '../src/testing/index.js';

export const BOUNDARY = '----djcastTestBoundary7MA4YWxkTrZu0gW';

export function multipartHead(filename: string, field = 'file', contentType = 'audio/mpeg'): Buffer {
  return Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
  );
}

export const multipartTail = () => Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

export function multipartBody(file: Uint8Array, filename = 'set.mp3', field = 'file'): Buffer {
  return Buffer.concat([multipartHead(filename, field), file, multipartTail()]);
}

/** POSTs a file to /v1/uploads/audio through the app (whole body, with Content-Length). */
export async function postUpload(
  t: TestApp,
  token: string,
  file: Uint8Array,
  opts: { filename?: string; title?: string } = {},
): Promise<Response> {
  const body = multipartBody(file, opts.filename ?? 'set.mp3');
  const query = opts.title ? `?title=${encodeURIComponent(opts.title)}` : '';
  return t.app.request(`/v1/uploads/audio${query}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': String(body.length),
    },
    body,
  });
}

/** The same, as a stream of `chunkBytes` pieces with no Content-Length (chunked). */
export async function postUploadStreamed(t: TestApp, token: string, file: Uint8Array, chunkBytes = 16 * 1024): Promise<Response> {
  const whole = multipartBody(file);
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= whole.length) return controller.close();
      controller.enqueue(whole.subarray(at, at + chunkBytes));
      at += chunkBytes;
    },
  });
  return t.app.request('/v1/uploads/audio', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    body,
    duplex: 'half',
  } as RequestInit);
}

export { waitFor };

export interface UploadJson {
  id: string;
  status: string;
  progress: number;
  reason: string | null;
  hls_url: string | null;
  duration_seconds: number | null;
  bitrate_kbps: number | null;
  sample_rate: number | null;
  size_bytes: number;
}

export async function getUpload(t: TestApp, token: string, id: string): Promise<UploadJson> {
  const res = await t.request('GET', `/v1/uploads/audio/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET upload ${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as UploadJson;
}

/** Polls an upload until it leaves `processing`; returns every progress value seen on the way. */
export async function waitForUpload(t: TestApp, token: string, id: string, timeoutMs = 90_000) {
  const progress: number[] = [];
  const final = await waitFor(
    `upload ${id} to finish`,
    async () => {
      const u = await getUpload(t, token, id);
      if (progress.at(-1) !== u.progress) progress.push(u.progress);
      return u.status === 'processing' ? null : u;
    },
    timeoutMs,
    50,
  );
  return { upload: final, progress };
}

/** Serves the app on a loopback port (real sockets: chunked encoding, backpressure, disconnects). */
export async function listen(t: TestApp): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as Server)) as Server;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
}

/** A loopback HTTP server for "external" tracks; `handler` answers, every request is recorded. */
export async function externalHost(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers like a static file host: HEAD, GET and single byte ranges. */
export function serveBytes(res: ServerResponse, req: IncomingMessage, bytes: Uint8Array, contentType = 'audio/mpeg'): void {
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  const headers: Record<string, string | number> = { 'content-type': contentType, 'accept-ranges': 'bytes' };
  if (range) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), bytes.length - 1) : bytes.length - 1;
    res.writeHead(206, {
      ...headers,
      'content-range': `bytes ${start}-${end}/${bytes.length}`,
      'content-length': end - start + 1,
    });
    res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': bytes.length });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/**
 * An ID3v2.3 tag with one PRIV frame holding `payload`: a valid tag any
 * player skips, used to smuggle the EICAR test string into a real MP3.
 */
export function id3WithPrivateFrame(payload: Uint8Array): Buffer {
  const owner = Buffer.from('djcast-test\0', 'latin1');
  const frameBody = Buffer.concat([owner, payload]);
  const frameHeader = Buffer.alloc(10);
  frameHeader.write('PRIV', 0, 'latin1');
  frameHeader.writeUInt32BE(frameBody.length, 4);
  const size = frameHeader.length + frameBody.length;
  const synchsafe = Buffer.from([(size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
  return Buffer.concat([Buffer.from('ID3\x03\x00\x00', 'latin1'), synchsafe, frameHeader, frameBody]);
}

/**
 * Records a ready upload straight in the database (with a made-up MP3 map and
 * HLS segment list), for tests about playlists and permissions that need no
 * media. `audio` optionally stores bytes as its original.mp3.
 */
export async function insertReadyUpload(
  t: TestApp,
  ownerId: string,
  opts: { audio?: Uint8Array; audioStart?: number; seconds?: number; segments?: { uri: string; duration: number }[] } = {},
): Promise<string> {
  const { newId } = await import('../src/core/ids.js');
  const id = newId('upl');
  const now = new Date().toISOString();
  const audio = opts.audio ?? new Uint8Array(4000);
  const audioStart = opts.audioStart ?? 0;
  const seconds = opts.seconds ?? 12;
  await t.container.blobs.put(`uploads/audio/${id}/original.mp3`, audio, { contentType: 'audio/mpeg' });
  const audioLength = audio.length - audioStart;
  const perSecond = Math.floor(audioLength / seconds);
  await t.container.db.kysely
    .insertInto('uploads')
    .values({
      id,
      owner_id: ownerId,
      title: 'Inserted',
      original_filename: 'inserted.mp3',
      status: 'ready',
      status_reason: null,
      progress: 100,
      size_bytes: audio.length,
      duration_seconds: seconds,
      bitrate_kbps: 128,
      sample_rate: 44100,
      channels: 2,
      audio_start: audioStart,
      audio_end: audio.length,
      seek_index: JSON.stringify(Array.from({ length: seconds }, (_, s) => s * perSecond)),
      hls_segments: JSON.stringify(
        opts.segments ?? [
          { uri: 'segment_00000.ts', duration: 6 },
          { uri: 'segment_00001.ts', duration: 6 },
        ],
      ),
      hls_target_duration: 6,
      created_at: now,
      updated_at: now,
      ready_at: now,
    })
    .execute();
  return id;
}
