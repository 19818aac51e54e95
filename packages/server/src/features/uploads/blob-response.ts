// Turning blob-store objects and Node streams into HTTP responses for the
// playback routes, with backpressure all the way to the socket.

import type { Readable } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import { playbackCaching } from '../../http/playback-policy.js';

const WRITE_BYTES = 16 * 1024;

/**
 * A web ReadableStream that pulls from a Node Readable only when the HTTP
 * layer asks for more (queue of zero), so a slow listener holds at most the
 * Readable's own buffer. Cancelling (the listener left) destroys the source.
 *
 * With `idle`, a listener that stops asking for more (its socket is full:
 * it has not read) for `idle.ms` is cut: the source is destroyed and
 * `onIdle` drops the connection (false: there is none). Waiting on the source does not count.
 */
export function toWebStream(readable: Readable, options: SendOptions = {}): ReadableStream<Uint8Array> {
  const { onError, idle } = options;
  let failure: Error | null = null;
  let idleTimer: NodeJS.Timeout | undefined;
  const stopIdleTimer = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  readable.on('error', (error) => {
    failure = error;
    onError?.(error);
  });
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        stopIdleTimer();
        return new Promise<void>((resolve) => {
          const attempt = () => {
            if (failure) {
              controller.error(failure);
              return resolve();
            }
            // Small pieces: what sits in a slow listener's socket buffer stays small too.
            const chunk = (readable.read(Math.min(WRITE_BYTES, readable.readableLength)) ?? readable.read()) as Buffer | null;
            if (chunk !== null) {
              controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
              if (idle) {
                idleTimer = setTimeout(() => {
                  idleTimer = undefined;
                  readable.destroy();
                  // Dropping the connection cancels this stream; without one to drop, end it in error.
                  if (!idle.onIdle()) controller.error(new Error(`the listener took nothing for ${idle.ms} ms`));
                }, idle.ms);
              }
              return resolve();
            }
            if (readable.readableEnded) {
              controller.close();
              return resolve();
            }
            if (readable.destroyed) {
              controller.error(new Error('the source closed before it ended'));
              return resolve();
            }
            const again = () => {
              readable.off('readable', again);
              readable.off('end', again);
              readable.off('error', again);
              readable.off('close', again);
              attempt();
            };
            readable.on('readable', again);
            readable.on('end', again);
            readable.on('error', again);
            readable.on('close', again);
          };
          attempt();
        });
      },
      cancel() {
        stopIdleTimer();
        readable.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * What a playback service answers, before it is an HTTP response: the route
 * turns it into one with `sendMedia`. A Readable body streams with
 * backpressure; a string is sent as is.
 */
export interface MediaAnswer {
  status: 200 | 206 | 302 | 304;
  headers: Record<string, string>;
  body: string | Readable | null;
}

/**
 * One stored object: a redirect to a presigned URL when the store can give
 * one (S3: the bytes never pass through the API), else the bytes with
 * `cacheControl`. Null when the object does not exist.
 */
export async function serveBlob(store: BlobStore, key: string, cacheControl: string, head = false): Promise<MediaAnswer | null> {
  const presigned = await store.presignedGetUrl(key, PRESIGN_SECONDS);
  if (presigned)
    return { status: 302, headers: { Location: presigned, 'Cache-Control': playbackCaching.presignedRedirect() }, body: null };
  if (head) {
    const meta = await store.head(key);
    if (!meta) return null;
    return {
      status: 200,
      headers: { ...typeOf(meta), 'Content-Length': String(meta.size), 'Cache-Control': cacheControl },
      body: null,
    };
  }
  const object = await store.get(key);
  if (!object) return null;
  return {
    status: 200,
    headers: { ...typeOf(object.head), 'Content-Length': String(object.head.size), 'Cache-Control': cacheControl },
    body: object.body,
  };
}

function typeOf(head: { contentType?: string | undefined }): Record<string, string> {
  return head.contentType ? { 'Content-Type': head.contentType } : {};
}

/** How long a presigned media URL stays valid (the redirect to it is never cached). */
const PRESIGN_SECONDS = 60 * 60;

export interface SendOptions {
  /** Disconnect a listener whose connection has taken nothing for this long (stream.mp3). */
  idle?: { ms: number; onIdle: () => boolean };
  onError?: (error: Error) => void;
}

/** The HTTP response for a MediaAnswer. */
export function sendMedia(answer: MediaAnswer, options: SendOptions = {}): Response {
  const body = answer.body === null || typeof answer.body === 'string' ? answer.body : toWebStream(answer.body, options);
  return new Response(body, { status: answer.status, headers: answer.headers });
}
